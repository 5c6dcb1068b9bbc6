from django.contrib import admin

from tenants.admin_scoping import TenantScopedAdmin, TenantScopedHistoryAdmin, TenantScopedInline

from .models import CommissionPlan, CommissionRecord, CommissionReversal, CommissionRule


class RuleInline(TenantScopedInline, admin.TabularInline):
    model = CommissionRule
    extra = 0

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.status == CommissionPlan.Status.DRAFT

    has_add_permission = has_delete_permission = has_change_permission


@admin.register(CommissionPlan)
class CommissionPlanAdmin(TenantScopedHistoryAdmin):
    list_display = ["version", "name", "status", "effective_from", "created_at"]
    list_filter = ["status"]
    inlines = [RuleInline]


class ReversalInline(TenantScopedInline, admin.TabularInline):
    model = CommissionReversal
    extra = 0
    can_delete = False
    readonly_fields = ["refund", "amount", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CommissionRecord)
class CommissionRecordAdmin(TenantScopedAdmin):
    list_display = ["order", "beneficiary", "level", "rate", "amount", "reversed_amount", "status", "created_at"]
    list_filter = ["level", "status"]
    search_fields = ["order__external_id", "beneficiary__external_id"]
    list_select_related = ["order", "beneficiary"]
    inlines = [ReversalInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
