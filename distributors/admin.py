from django.contrib import admin
from django.utils.html import format_html_join

from commissions.models import GradeLevelOverride
from tenants.admin_scoping import TenantScopedAdmin, TenantScopedHistoryAdmin, TenantScopedInline

from . import selectors
from .models import Customer, Distributor, DistributorMove, Grade


class GradeOverrideInline(TenantScopedInline, admin.TabularInline):
    model = GradeLevelOverride
    extra = 0


@admin.register(Grade)
class GradeAdmin(TenantScopedHistoryAdmin):
    list_display = ["code", "name", "rank"]
    inlines = [GradeOverrideInline]


@admin.register(Distributor)
class DistributorAdmin(TenantScopedHistoryAdmin):
    list_display = ["external_id", "name", "status", "grade", "parent", "depth", "invite_code", "joined_at"]
    list_filter = ["status", "grade", "depth"]
    search_fields = ["external_id", "name", "phone", "invite_code"]
    list_select_related = ["grade", "parent"]
    readonly_fields = ["parent", "ancestor_2", "ancestor_3", "depth", "ancestor_path", "upline_chain",
                       "downline_counts", "invite_code", "password", "created_at"]
    fields = ["tenant", "external_id", "name", "phone", "status", "grade", "invite_code", "username", "joined_at",
              "upline_chain", "downline_counts", "parent", "ancestor_2", "ancestor_3", "depth", "ancestor_path", "created_at"]

    @admin.display(description="upline chain (level 1 first)")
    def upline_chain(self, obj):
        if obj.pk is None:
            return "-"
        ups = Distributor.unscoped.filter(pk__in=obj.ancestor_ids).order_by("-depth")
        return format_html_join(" ← ", "{} ({})", ((d.external_id, d.status) for d in ups)) or "(root)"

    @admin.display(description="downlines per level")
    def downline_counts(self, obj):
        if obj.pk is None:
            return "-"
        from tenants.context import tenant_context

        with tenant_context(obj.tenant_id):
            counts = selectors.team_counts(distributor=obj)
        return ", ".join(f"L{k}: {v}" for k, v in counts.items())

    def has_delete_permission(self, request, obj=None):
        return False  # disable instead (domain rules section 2); deleting is refused


@admin.register(Customer)
class CustomerAdmin(TenantScopedAdmin):
    list_display = ["external_id", "referrer", "bound_at"]
    search_fields = ["external_id"]
    list_select_related = ["referrer"]
    raw_id_fields = ["referrer"]


@admin.register(DistributorMove)
class DistributorMoveAdmin(TenantScopedAdmin):
    list_display = ["distributor", "old_parent", "new_parent", "reason", "actor", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
