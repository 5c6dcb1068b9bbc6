"""Partner endpoints for distributors and customers; portal endpoints for a distributor's tree."""
import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from fenxiao.api.base import PartnerAPIView, PartnerGenericView, PortalAPIView, PortalGenericView
from fenxiao.api.filters import UpdatedAfterFilter
from fenxiao.api.pagination import CursorPagination
from fenxiao.exceptions import NotFound, invalid

from .. import selectors, services
from ..models import Customer, Distributor
from .serializers import (
    CustomerCreateSerializer, CustomerSerializer, DistributorCreateSerializer, DistributorSerializer,
    DistributorUpdateSerializer, DownlineSerializer, MeSerializer, downline_bodies,
)


def get_distributor(external_id: str) -> Distributor:
    """The current tenant's distributor, or 404 (also for another tenant's id)."""
    found = Distributor.objects.select_related("grade", "parent").filter(external_id=external_id).first()
    if found is None:
        raise NotFound(gettext("No distributor with this external_id."))
    return found


class PartnerDistributorFilter(django_filters.FilterSet):
    updated_after = UpdatedAfterFilter()

    class Meta:
        model = Distributor
        fields = ["updated_after"]


class DistributorListCreateView(PartnerGenericView):
    serializer_class = DistributorSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = PartnerDistributorFilter
    pagination_class = CursorPagination  # oldest first; a walk answers each distributor once (fenxiao.api.pagination)
    cursor_ordering = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Distributor.unscoped.none()
        return Distributor.objects.select_related("grade", "parent").order_by("id")

    @extend_schema(responses=DistributorSerializer(many=True))
    def get(self, request):
        """The tenant's distributors, oldest first, cursor-paginated (`next`, `previous`,
        `results`; `page_size` up to 200): walking every page answers each distributor that
        existed when the walk began exactly once, while others register or change. `updated_after`
        (RFC 3339): only those registered or changed since (name, status, grade, upline or depth),
        for incremental sync. 400 for an unknown query parameter (staff filters such as `parent`
        are on /admin/distributors/), a malformed time or a cursor that is not this list's."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DistributorSerializer(page, many=True).data)

    @extend_schema(request=DistributorCreateSerializer, responses={201: DistributorSerializer, 200: DistributorSerializer})
    def post(self, request):
        """Register a distributor (domain rules section 2). 201 new; 200 same body again (or a
        re-bind allowed by bind_mode); 409 conflicting; 400 unknown invite code/parent/grade."""
        s = DistributorCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        distributor, created = services.distributor_register(
            tenant=request.tenant, data=services.DistributorInput(**s.validated_data)
        )
        distributor = get_distributor(distributor.external_id)
        return Response(DistributorSerializer(distributor).data, status=201 if created else 200)


class DistributorDetailView(PartnerAPIView):
    @extend_schema(responses=DistributorSerializer)
    def get(self, request, external_id):
        """One distributor, with its upline and depth."""
        return Response(DistributorSerializer(get_distributor(external_id)).data)

    @extend_schema(request=DistributorUpdateSerializer, responses=DistributorSerializer)
    def patch(self, request, external_id):
        """Change status, grade, or upline (a move; 400 with code `cycle` if it would make a cycle)."""
        distributor = get_distributor(external_id)
        s = DistributorUpdateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        kwargs = {"reason": d.get("reason", ""), "actor": str(request.user)}
        if "status" in d:
            kwargs["status"] = d["status"]
        if "grade" in d:
            kwargs["grade"] = services.grade_by_code(code=d["grade"]) if d["grade"] else None
        if "parent_external_id" in d:
            pid = d["parent_external_id"]
            kwargs["move_to"] = services.distributor_by_external_id(external_id=pid, attr="parent_external_id") if pid else None
        services.distributor_update(distributor=distributor, **kwargs)
        return Response(DistributorSerializer(get_distributor(external_id)).data)


class CustomerCreateView(PartnerAPIView):
    @extend_schema(request=CustomerCreateSerializer, responses={201: CustomerSerializer, 200: CustomerSerializer})
    def post(self, request):
        """Bind a customer to a referrer per the tenant's bind_mode (201 new, 200 existing)."""
        s = CustomerCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        if d.get("invite_code"):
            referrer = services.distributor_by_invite_code(invite_code=d["invite_code"])
        else:
            referrer = services.distributor_by_external_id(external_id=d["referrer_external_id"], attr="referrer_external_id")
        customer, created, _ = services.customer_bind(tenant=request.tenant, external_id=d["external_id"], referrer=referrer)
        customer = Customer.objects.select_related("referrer").get(pk=customer.pk)
        return Response(CustomerSerializer(customer).data, status=201 if created else 200)


class CustomerDetailView(PartnerAPIView):
    @extend_schema(responses=CustomerSerializer)
    def get(self, request, external_id):
        """A customer and the referrer it is bound to (domain rules section 2), with the time of
        the binding; 404 when the tenant has no customer with this external_id."""
        customer = Customer.objects.select_related("referrer").filter(external_id=external_id).first()
        if customer is None:
            raise NotFound(gettext("No customer with this external_id."))
        return Response(CustomerSerializer(customer).data)


class MeView(PortalAPIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        """The logged-in distributor: profile, grade, invite code and URL, upline."""
        return Response(MeSerializer(request.user).data)


class MyDownlinesView(PortalGenericView):
    serializer_class = DownlineSerializer
    query_params_extra = ("level",)
    queryset = Distributor.unscoped.none()  # schema only; rows come from selectors.downlines

    @extend_schema(parameters=[OpenApiParameter("level", int, enum=[1, 2, 3], required=False, default=1)],
                   responses=DownlineSerializer(many=True))
    def get(self, request):
        """Downlines exactly `level` (1, 2 or 3) below me, paginated, each with personal_sales
        (net paid sales attributed to them, tenant currency). Constant queries per page, whatever
        the team's size: the count is kept on my row, the page is an (upline, id) index range."""
        level = request.query_params.get("level", "1")
        if level not in ("1", "2", "3"):
            raise invalid("level", gettext("level must be 1, 2 or 3."), "invalid_choice")
        count = selectors.team_counts(distributor=request.user)[level]
        rows = selectors.DownlinePage(distributor=request.user, level=int(level), count=count)
        page = self.paginator.paginate_known_count(rows, count, request, view=self)
        sales = selectors.personal_sales(distributor_ids=[r[0] for r in page])
        return self.get_paginated_response(downline_bodies(page, sales))


class MyTeamSummaryView(PortalAPIView):
    @extend_schema(responses=inline_serializer("TeamSummary", {
        "counts": serializers.DictField(child=serializers.IntegerField()),
        "total": serializers.IntegerField(),
        "currency": serializers.CharField(),
        "month_start": serializers.DateTimeField(),
        "team_sales_this_month": serializers.DecimalField(max_digits=20, decimal_places=4, help_text="with the currency's places"),
        "direct_sales_this_month": serializers.DecimalField(max_digits=20, decimal_places=4, help_text="with the currency's places"),
    }))
    def get(self, request):
        """Downline counts per level (kept on my row) and this month's sales, the month in the
        tenant's time zone: `team_sales_this_month` is the team_sales measure (net value of the
        orders paid this month where I am a recorded beneficiary at any level, after refunds so
        far), `direct_sales_this_month` the direct_sales measure (those where I am level 1).
        Read from my day figures of the month (incentives.measures.own_sales, one query): constant
        time at any team size.
        Domain rules sections 8 and 9."""
        from incentives import measures

        me = request.user
        counts = selectors.team_counts(distributor=me)
        start = selectors.month_start(tz_name=me.tenant.timezone)
        first = start.date()
        window = measures.Window(first, first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1))
        team, direct = measures.own_sales(me.pk, window)
        return Response({
            "counts": counts,
            "total": sum(counts.values()),
            "currency": me.tenant.currency,
            "month_start": start.isoformat(),
            "team_sales_this_month": str(team),
            "direct_sales_this_month": str(direct),
        })


