"""Portal: earnings, ledger, withdrawals. Staff: withdrawal decisions and the payout export."""
import json

from django.http import HttpResponse
from django.utils.translation import gettext
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from fenxiao.api.idempotency import idempotent, key_of
from fenxiao.api.base import PortalAPIView, PortalGenericView, StaffAPIView, StaffGenericView, body_or_empty
from fenxiao.api.pagination import CursorPagination
from fenxiao.currencies import money_str
from fenxiao.exceptions import NotFound
from orders.services import content_hash

from .. import selectors, services
from ..exports import payout_csv
from ..models import LedgerEntry, Withdrawal
from .serializers import (
    LedgerEntrySerializer, NoBodySerializer, WithdrawalPaySerializer, WithdrawalRejectSerializer, WithdrawalRequestSerializer,
    WithdrawalSerializer,
)

MONEY = serializers.DecimalField(max_digits=20, decimal_places=4, help_text="with the currency's places")


class MyEarningsView(PortalAPIView):
    @extend_schema(responses=inline_serializer("Earnings", {
        "currency": serializers.CharField(), "frozen": MONEY, "available": MONEY, "held": MONEY,
        "withdrawn": MONEY, "fees": MONEY, "total_earned": MONEY,
        "by_level": serializers.DictField(child=MONEY),
    }))
    def get(self, request):
        """My money (domain rules section 7), tenant currency: frozen (not yet settled), available
        (withdrawable; negative after a clawback), held (withdrawals in progress), withdrawn (paid
        out, net of fees), fees, total_earned (net commission ever earned), and net commission
        by_level. One indexed query (the Balance row keeps the per-level totals with the ledger)."""
        bal, by_level = selectors.earnings_of(distributor_id=request.user.pk)
        currency = request.user.tenant.currency
        body = {"currency": currency, **{k: money_str(v, currency) for k, v in bal.items()}}
        body["by_level"] = {k: money_str(v, currency) for k, v in by_level.items()}
        return Response(body)


class MyLedgerView(PortalGenericView):
    serializer_class = LedgerEntrySerializer
    pagination_class = CursorPagination  # newest first; a tampered cursor is a 400 (fenxiao.api.pagination)
    cursor_ordering = "-id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LedgerEntry.unscoped.none()
        return LedgerEntry.objects.filter(distributor=self.request.user).select_related("record__order", "refund", "withdrawal")

    @extend_schema(responses=LedgerEntrySerializer(many=True))
    def get(self, request):
        """My ledger entries, newest first, cursor-paginated (`next` / `previous` links)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LedgerEntrySerializer(page, many=True).data)


class MyWithdrawalsView(PortalGenericView):
    serializer_class = WithdrawalSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Withdrawal.unscoped.none()
        return selectors.withdrawals_of(distributor=self.request.user)

    @extend_schema(responses=WithdrawalSerializer(many=True))
    def get(self, request):
        """My withdrawals, newest first."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WithdrawalSerializer(page, many=True).data)

    @extend_schema(request=WithdrawalRequestSerializer, responses={201: WithdrawalSerializer})
    @idempotent
    def post(self, request):
        """Ask to withdraw `amount` of my available money to bank / alipay / wechat `account`.
        201 `requested` (money held). The same Idempotency-Key with the same body answers the same
        withdrawal (fenxiao.api.idempotency; the key is also kept on the withdrawal, as before);
        with another body 409. 400: amount not positive, finer than the currency's minor unit, below the
        tenant's minimum or above available; unknown method; missing account; a key over 255 characters."""
        s = WithdrawalRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        key = key_of(request) or ""
        digest = content_hash(json.loads(json.dumps(s.validated_data, default=str))) if key else ""
        w, _ = services.withdrawal_request(distributor=request.user, idempotency_key=key, request_hash=digest,
                                           **s.validated_data)
        return Response(WithdrawalSerializer(w).data, status=201)


class MyWithdrawalDetailView(PortalAPIView):
    @extend_schema(responses=WithdrawalSerializer)
    def get(self, request, public_id):
        """One of my withdrawals (`wd_...`); another distributor's (or tenant's) answers 404."""
        w = selectors.withdrawal_of(distributor=request.user, public_id=public_id)
        return Response(WithdrawalSerializer(w).data)


class MyWithdrawalCancelView(PortalAPIView):
    @extend_schema(request=NoBodySerializer, responses=WithdrawalSerializer)
    @idempotent  # a retried cancel answers the cancellation again, not 409
    def post(self, request, public_id):
        """Cancel my withdrawal while it is `requested`: the held money returns to available (a
        `withdrawal_return` ledger entry). 409 `invalid_state` once approved, paid, rejected or
        cancelled; 404 for another distributor's (or tenant's) withdrawal."""
        w = selectors.withdrawal_of(distributor=request.user, public_id=public_id)
        NoBodySerializer(data=body_or_empty(request)).is_valid(raise_exception=True)
        w = services.withdrawal_cancel(withdrawal=w, distributor=request.user)
        return Response(WithdrawalSerializer(w).data)


# --- staff ----------------------------------------------------------------------------------------

class WithdrawalFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Withdrawal.Status.choices)
    distributor = filters.CharFilter(field_name="distributor__external_id")
    method = filters.ChoiceFilter(choices=Withdrawal.Method.choices)

    class Meta:
        model = Withdrawal
        fields = ["status", "distributor", "method"]


def staff_withdrawals():
    return Withdrawal.objects.select_related("distributor").order_by("-id")


def get_withdrawal(public_id: str) -> Withdrawal:
    """The tenant's withdrawal with this public id (wd_...), or 404 (also for another tenant's)."""
    found = staff_withdrawals().filter(public_id=public_id).first()
    if found is None:
        raise NotFound(gettext("No withdrawal with this id."))
    return found


class StaffWithdrawalListView(StaffGenericView):
    staff_perms = {"GET": ["ledger.view_withdrawal"]}
    serializer_class = WithdrawalSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = WithdrawalFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Withdrawal.unscoped.none()
        return staff_withdrawals()

    @extend_schema(responses=WithdrawalSerializer(many=True))
    def get(self, request):
        """The tenant's withdrawals; filters status, distributor (external_id), method."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(WithdrawalSerializer(page, many=True).data)


class _StaffWithdrawalAction(StaffAPIView):
    staff_perms = {"POST": ["ledger.change_withdrawal"]}
    body_serializer = NoBodySerializer
    service = None

    @idempotent
    def post(self, request, public_id):
        w = get_withdrawal(public_id)
        s = self.body_serializer(data=body_or_empty(request))
        s.is_valid(raise_exception=True)
        w = type(self).service(withdrawal=w, actor=request.user.get_username(), **s.validated_data)
        return Response(WithdrawalSerializer(w).data)


@extend_schema(request=None, responses=WithdrawalSerializer,
               description="requested -> approved (money stays held). 409 from any other status.")
class StaffWithdrawalApproveView(_StaffWithdrawalAction):
    service = services.withdrawal_approve


@extend_schema(request=WithdrawalRejectSerializer, responses=WithdrawalSerializer,
               description="requested/approved -> rejected; the money returns to available. 409 otherwise.")
class StaffWithdrawalRejectView(_StaffWithdrawalAction):
    body_serializer = WithdrawalRejectSerializer
    service = services.withdrawal_reject


@extend_schema(request=WithdrawalPaySerializer, responses=WithdrawalSerializer,
               description="approved -> paid (transfer and fee leave the held money). 409 otherwise; never twice.")
class StaffWithdrawalPayView(_StaffWithdrawalAction):
    body_serializer = WithdrawalPaySerializer
    service = services.withdrawal_pay


class StaffPayoutExportView(StaffAPIView):
    staff_perms = {"GET": ["ledger.view_withdrawal"]}
    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request):
        """CSV payout file of every approved (not yet paid) withdrawal."""
        rows = staff_withdrawals().filter(status=Withdrawal.Status.APPROVED).order_by("id")
        response = HttpResponse(payout_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="payouts.csv"'
        return response


