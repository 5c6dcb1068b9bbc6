"""Staff endpoints for risk holds (domain rules section 11; spec/api.md: GET
/api/v1/admin/risk/holds/, POST .../{distributor_external_id}/release/)."""
from django.utils.translation import gettext, gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from commissions.selectors import held_totals
from distributors.api.views import get_distributor
from fenxiao.api.base import StaffAPIView, StaffGenericView
from fenxiao.api.idempotency import idempotent
from fenxiao.api.fields import StrictSerializer
from fenxiao.currencies import money_str
from fenxiao.exceptions import NotFound

from .. import selectors, services
from ..models import RiskHold


class HoldSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    distributor_external_id = serializers.CharField(source="distributor.external_id")
    distributor_name = serializers.CharField(source="distributor.name")
    reason = serializers.ChoiceField(choices=RiskHold.Reason.choices)
    figures = serializers.DictField(help_text="what tripped the rule: velocity {orders_in_hour, limit, from, to}; "
                                              "refund_rate {orders, sales, refunded, rate, limit, since}")
    held_commissions = serializers.SerializerMethodField(help_text="{count, amount}: the frozen commissions it holds")
    created_at = serializers.DateTimeField()
    released_at = serializers.DateTimeField(allow_null=True)
    released_by = serializers.CharField()
    release_reason = serializers.CharField()

    def get_held_commissions(self, obj) -> dict:
        count, amount = self.context["held"].get(obj.pk, (0, 0))
        return {"count": count, "amount": money_str(amount, self.context["currency"])}


class HoldQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=["open", "released", "all"], default="open", required=False)


class ReleaseSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, help_text=_("why the hold is released (kept, audited)"))


def _body(holds, request):
    held = held_totals(hold_ids=[h.pk for h in holds])
    return HoldSerializer(holds, many=True, context={"held": held, "currency": request.tenant.currency}).data


class RiskHoldListView(StaffGenericView):
    staff_perms = {"GET": ["risk.view_riskhold"]}
    serializer_class = HoldSerializer
    query_serializer = HoldQuery

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RiskHold.unscoped.none()
        q = HoldQuery(data=self.request.query_params)
        q.is_valid(raise_exception=True)
        return selectors.holds(status=q.validated_data["status"])

    @extend_schema(parameters=[HoldQuery], responses=HoldSerializer(many=True))
    def get(self, request):
        """Risk holds, newest first (`status`: open (default), released or all), each with the
        distributor, the rule that tripped (`velocity` or `refund_rate`) and its figures, the
        frozen commissions it holds, and its release (who, when, why)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(_body(page, request))


class RiskHoldReleaseView(StaffAPIView):
    staff_perms = {"POST": ["risk.change_riskhold"]}

    @extend_schema(request=ReleaseSerializer, responses=HoldSerializer)
    @idempotent  # a retry with the key answers the release again (not a 404: no open hold)
    def post(self, request, distributor_external_id):
        """Release the distributor's open hold with a reason (required, kept with the hold and in
        its audit history); its commissions settle at the next settlement run once due. 404 when
        the distributor (of this tenant) has no open hold."""
        d = get_distributor(distributor_external_id)
        s = ReleaseSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        hold = selectors.holds(status="open").filter(distributor=d).first()
        if hold is None:
            raise NotFound(gettext("This distributor has no open risk hold."))
        hold = services.risk_hold_release(hold=hold, reason=s.validated_data["reason"], actor=request.user.get_username())
        return Response(_body([hold], request)[0])
