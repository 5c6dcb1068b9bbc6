from django.contrib import admin, messages
from import_export.admin import ImportExportMixin
from django.utils.html import format_html_join

from commissions.models import GradeLevelOverride
from tenants.admin_scoping import (
    ReadOnlyTenantScopedAdmin, ScopedImportExportMixin, TenantScopedAdmin, TenantScopedHistoryAdmin, TenantScopedInline,
    apply_per_object,
)

from . import selectors
from .models import Customer, Distributor, DistributorMove, Grade
from .resources import DistributorResource


class GradeOverrideInline(TenantScopedInline, admin.TabularInline):
    model = GradeLevelOverride
    extra = 0


@admin.register(Grade)
class GradeAdmin(TenantScopedHistoryAdmin):
    list_display = ["code", "name", "rank"]
    inlines = [GradeOverrideInline]


#: The admin's report of a status step ("Frozen distributor(s): 2.").
STEP_DONE = {"approve": "Approved", "reject": "Rejected", "freeze": "Frozen", "unfreeze": "Unfrozen", "disable": "Disabled"}


@admin.register(Distributor)
class DistributorAdmin(ScopedImportExportMixin, ImportExportMixin, TenantScopedHistoryAdmin):
    list_display = ["external_id", "name", "status", "grade", "parent", "depth", "invite_code", "joined_at"]
    resource_classes = [DistributorResource]

    def has_import_permission(self, request):
        # an import needs one tenant: tenant staff import into theirs
        return not request.user.is_superuser and request.user.has_perm("distributors.add_distributor")

    def get_export_queryset(self, request):
        return self.get_queryset(request).select_related("parent", "grade")
    list_filter = ["status", "grade", "depth"]
    search_fields = ["external_id", "name", "phone", "invite_code"]
    list_select_related = ["grade", "parent"]
    readonly_fields = ["parent", "ancestor_2", "ancestor_3", "depth", "ancestor_path", "upline_chain",
                       "downline_counts", "invite_code", "password", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # an existing distributor's status changes only through the actions (approve, freeze, ...),
        # which follow the state machine
        fixed = ["status"] if obj is not None else []
        return [*super().get_readonly_fields(request, obj), *fixed]
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

    actions = ["approve", "reject", "freeze", "unfreeze", "disable"]

    def _step(self, request, queryset, action):
        from .services import distributor_status_step

        apply_per_object(self, request, queryset, lambda d: distributor_status_step(
            distributor=d, action=action, reason="admin", actor=request.user.get_username()),
            f"{STEP_DONE[action]} distributor(s)", describe=lambda d: d.external_id)

    @admin.action(description="Approve selected applications", permissions=["change"])
    def approve(self, request, queryset):
        self._step(request, queryset, "approve")

    @admin.action(description="Reject selected applications", permissions=["change"])
    def reject(self, request, queryset):
        self._step(request, queryset, "reject")

    @admin.action(description="Freeze selected", permissions=["change"])
    def freeze(self, request, queryset):
        self._step(request, queryset, "freeze")

    @admin.action(description="Unfreeze selected", permissions=["change"])
    def unfreeze(self, request, queryset):
        self._step(request, queryset, "unfreeze")

    @admin.action(description="Disable selected", permissions=["change"])
    def disable(self, request, queryset):
        self._step(request, queryset, "disable")

    def delete_model(self, request, obj):
        """Refused with a message for a distributor with downlines, customers or money (disable it)."""
        from tenants.context import tenant_context

        from .services import distributor_delete

        with tenant_context(obj.tenant_id):
            distributor_delete(distributor=obj)

    def delete_view(self, request, object_id, extra_context=None):
        from fenxiao.exceptions import InvalidState

        try:
            return super().delete_view(request, object_id, extra_context)
        except InvalidState as exc:
            from django.http import HttpResponseRedirect

            self.message_user(request, f"Not deleted: {exc.detail}", messages.ERROR)
            return HttpResponseRedirect(request.path.rsplit("/delete/", 1)[0] + "/change/")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through the refusal rules above
        return actions


@admin.register(Customer)
class CustomerAdmin(TenantScopedAdmin):
    list_display = ["external_id", "referrer", "bound_at"]
    search_fields = ["external_id"]
    list_select_related = ["referrer"]
    raw_id_fields = ["referrer"]


@admin.register(DistributorMove)
class DistributorMoveAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["distributor", "old_parent", "new_parent", "reason", "actor", "created_at"]
