"""Staff endpoints for distributor management: list with filters, approve / reject / freeze /
unfreeze / disable, move with a reason (logged)."""
import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from fenxiao.api.idempotency import idempotent
from fenxiao.api.base import StaffAPIView, StaffGenericView, body_or_empty
from fenxiao.api.fields import ExternalIdField, StrictSerializer

from .. import selectors, services
from ..models import Distributor
from .serializers import DistributorSerializer
from .views import get_distributor


class DistributorFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Distributor.Status.choices)
    grade = django_filters.CharFilter(field_name="grade__code")
    parent = django_filters.CharFilter(field_name="parent__external_id")
    search = django_filters.CharFilter(method="search_filter")

    class Meta:
        model = Distributor
        fields = ["status", "grade", "parent", "search"]

    def search_filter(self, qs, name, value):
        return qs.filter(Q(external_id__icontains=value) | Q(name__icontains=value) | Q(phone__icontains=value))


class StaffDistributorSerializer(DistributorSerializer):
    uplines = serializers.SerializerMethodField()

    class Meta(DistributorSerializer.Meta):
        fields = [*DistributorSerializer.Meta.fields, "uplines"]
        read_only_fields = fields

    def get_uplines(self, obj) -> list[str]:
        known = self.context.get("upline_ids")
        if known is not None:  # a list page: every row's uplines were read in one query
            return [known[i] for i in (obj.parent_id, obj.ancestor_2_id, obj.ancestor_3_id) if i in known]
        return [d.external_id for d in selectors.uplines(distributor=obj)]


class StaffDistributorListView(StaffGenericView):
    staff_perms = {"GET": ["distributors.view_distributor"]}
    serializer_class = StaffDistributorSerializer
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]
    filterset_class = DistributorFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Distributor.unscoped.none()
        return Distributor.objects.select_related("grade", "parent").order_by("id")

    @extend_schema(responses=StaffDistributorSerializer(many=True))
    def get(self, request):
        """Distributors; filters status, grade (code), parent (external_id), search."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        ids = {i for d in page for i in (d.parent_id, d.ancestor_2_id, d.ancestor_3_id) if i}
        known = dict(Distributor.objects.filter(pk__in=ids).values_list("id", "external_id")) if ids else {}
        return self.get_paginated_response(StaffDistributorSerializer(page, many=True, context={"upline_ids": known}).data)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class MoveSerializer(StrictSerializer):
    parent_external_id = ExternalIdField(allow_null=True)
    reason = serializers.CharField(max_length=300)


class _StatusStep(StaffAPIView):
    staff_perms = {"POST": ["distributors.change_distributor"]}
    action_name = ""

    @extend_schema(request=ReasonSerializer, responses=StaffDistributorSerializer)
    @idempotent
    def post(self, request, external_id):
        d = get_distributor(external_id)
        s = ReasonSerializer(data=body_or_empty(request))
        s.is_valid(raise_exception=True)
        d = services.distributor_status_step(distributor=d, action=self.action_name, reason=s.validated_data["reason"],
                                             actor=request.user.get_username())
        return Response(StaffDistributorSerializer(d).data)


def step_view(name: str):
    return type(f"Staff{name.title()}View", (_StatusStep,), {"action_name": name, "__doc__": f"POST .../{name}/"})


class StaffMoveView(StaffAPIView):
    staff_perms = {"POST": ["distributors.change_distributor"]}
    @extend_schema(request=MoveSerializer, responses=StaffDistributorSerializer)
    @idempotent
    def post(self, request, external_id):
        """Move a distributor (and its subtree) under another upline (null: make it a root), with
        a reason; logged with the old and new upline. 400 `cycle` if it would make a cycle."""
        d = get_distributor(external_id)
        s = MoveSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        pid = s.validated_data["parent_external_id"]
        parent = services.distributor_by_external_id(external_id=pid, attr="parent_external_id") if pid else None
        services.distributor_move(distributor=d, new_parent=parent, reason=s.validated_data["reason"],
                                  actor=request.user.get_username())
        return Response(StaffDistributorSerializer(get_distributor(external_id)).data)
