from django.contrib import admin
from django.http import HttpResponse

from tenants.admin_scoping import ReadOnlyTenantScopedAdmin, TenantScopedHistoryAdmin, apply_per_object

from . import services
from .api.views import payout_csv
from .models import Balance, LedgerEntry, OutboxEvent, Withdrawal


@admin.register(Balance)
class BalanceAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["distributor", "currency", "frozen", "available", "held", "withdrawn", "fees", "total_earned", "updated_at"]
    search_fields = ["distributor__external_id", "distributor__name"]
    list_select_related = ["distributor"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["id", "distributor", "kind", "amount", "d_frozen", "d_available", "d_held", "d_withdrawn", "record",
                    "refund", "withdrawal", "created_at"]
    list_filter = ["kind"]
    search_fields = ["distributor__external_id"]
    list_select_related = ["distributor", "record", "refund", "withdrawal"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["id", "type", "created_at", "dispatched_at"]
    list_filter = ["type"]


def _decide(modeladmin, request, queryset, service, label, **kwargs):
    apply_per_object(modeladmin, request, queryset,
                     lambda w: service(withdrawal=w, actor=request.user.get_username(), **kwargs),
                     f"{label} withdrawal(s)", describe=lambda w: w.public_id)


@admin.register(Withdrawal)
class WithdrawalAdmin(TenantScopedHistoryAdmin):
    list_display = ["public_id", "distributor", "amount", "fee", "transfer_amount", "method", "account", "status",
                    "requested_at", "decided_by", "paid_at"]
    list_filter = ["status", "method"]
    search_fields = ["public_id", "distributor__external_id", "account"]
    list_select_related = ["distributor"]
    actions = ["approve", "reject", "mark_paid", "export_payouts"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # decisions go through the actions, which keep the ledger in step

    def has_decide_permission(self, request):
        return request.user.has_perm("ledger.change_withdrawal")

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Approve selected requested withdrawals", permissions=["decide"])
    def approve(self, request, queryset):
        _decide(self, request, queryset, services.withdrawal_approve, "Approved")

    @admin.action(description="Reject selected withdrawals (money returns to available)", permissions=["decide"])
    def reject(self, request, queryset):
        _decide(self, request, queryset, services.withdrawal_reject, "Rejected", reason="rejected in admin")

    @admin.action(description="Mark selected approved withdrawals as paid", permissions=["decide"])
    def mark_paid(self, request, queryset):
        _decide(self, request, queryset, services.withdrawal_pay, "Paid")

    @admin.action(description="Export payout CSV of the selected approved withdrawals")
    def export_payouts(self, request, queryset):
        rows = queryset.filter(status=Withdrawal.Status.APPROVED).select_related("distributor").order_by("pk")
        response = HttpResponse(payout_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="payouts.csv"'
        return response
