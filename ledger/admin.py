from django.contrib import admin, messages
from django.http import HttpResponse

from fenxiao.exceptions import Conflict
from tenants.admin_scoping import TenantScopedAdmin, TenantScopedHistoryAdmin
from tenants.context import tenant_context

from . import services
from .api.views import payout_csv
from .models import Balance, LedgerEntry, OutboxEvent, Withdrawal


class ReadOnlyAdmin(TenantScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ["distributor", "currency", "frozen", "available", "held", "withdrawn", "fees", "total_earned", "updated_at"]
    search_fields = ["distributor__external_id", "distributor__name"]
    list_select_related = ["distributor"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "distributor", "kind", "amount", "d_frozen", "d_available", "d_held", "d_withdrawn", "record",
                    "refund", "withdrawal", "created_at"]
    list_filter = ["kind"]
    search_fields = ["distributor__external_id"]
    list_select_related = ["distributor", "record", "refund", "withdrawal"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "created_at", "dispatched_at"]
    list_filter = ["type"]


def _decide(modeladmin, request, queryset, service, label, **kwargs):
    done, refused = 0, []
    for w in queryset.order_by("pk"):
        try:
            with tenant_context(w.tenant_id):
                service(withdrawal=w, actor=request.user.get_username(), **kwargs)
            done += 1
        except Conflict as exc:
            refused.append(f"#{w.pk}: {exc.detail}")
    if done:
        modeladmin.message_user(request, f"{label}: {done} withdrawal(s).", messages.SUCCESS)
    if refused:
        modeladmin.message_user(request, "Refused — " + "; ".join(refused), messages.ERROR)


@admin.register(Withdrawal)
class WithdrawalAdmin(TenantScopedHistoryAdmin):
    list_display = ["id", "distributor", "amount", "fee", "transfer_amount", "method", "account", "status",
                    "requested_at", "decided_by", "paid_at"]
    list_filter = ["status", "method"]
    search_fields = ["distributor__external_id", "account"]
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
