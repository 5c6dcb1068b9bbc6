"""Admin base classes that keep tenant staff inside their tenant (domain rules section 1).

Staff with a StaffMembership see and edit only their tenant's rows: querysets, foreign-key
choices and saves are all scoped, and the `tenant` field is hidden and filled in. Superusers see
every tenant, with a tenant filter and column.
"""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Tenant


def staff_tenant_id(request) -> int | None:
    membership = getattr(request.user, "tenant_membership", None)
    return membership.tenant_id if membership is not None else None


class TenantScopedAdminMixin:
    def get_queryset(self, request):
        qs = self.model.unscoped.get_queryset()
        ordering = self.get_ordering(request)
        if ordering:
            qs = qs.order_by(*ordering)
        if request.user.is_superuser:
            return qs
        tenant_id = staff_tenant_id(request)
        return qs.filter(tenant_id=tenant_id) if tenant_id else qs.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        remote = db_field.remote_field.model
        if remote is Tenant and not request.user.is_superuser:
            kwargs["queryset"] = Tenant.objects.filter(pk=staff_tenant_id(request))
        elif hasattr(remote, "unscoped"):
            qs = remote.unscoped.all()
            if not request.user.is_superuser:
                qs = qs.filter(tenant_id=staff_tenant_id(request))
            kwargs["queryset"] = qs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        """For tenant staff the hidden tenant is set before validation, so unique constraints led by
        the tenant (external_id, invite_code, ...) are checked as form errors, not database errors."""
        form = super().get_form(request, obj, **kwargs)
        tenant_id = None if request.user.is_superuser else staff_tenant_id(request)
        if tenant_id is None or not hasattr(form, "_post_clean"):
            return form

        class ScopedForm(form):
            def _post_clean(self):
                self.instance.tenant_id = tenant_id
                super()._post_clean()

            def _get_validation_exclusions(self):
                exclusions = super()._get_validation_exclusions()
                exclusions.discard("tenant")
                return exclusions

        return ScopedForm

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        return fields if request.user.is_superuser else [f for f in fields if f != "tenant"]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser:
            exclude.append("tenant")
        return exclude


class TenantScopedAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        return (["tenant", *filters]) if request.user.is_superuser else filters

    def get_list_display(self, request):
        cols = list(super().get_list_display(request))
        return ([*cols, "tenant"]) if request.user.is_superuser else cols

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.tenant_id = staff_tenant_id(request)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for inst in instances:
            if getattr(inst, "tenant_id", None) is None:
                inst.tenant_id = form.instance.tenant_id
            inst.save()
        formset.save_m2m()


class TenantScopedInline(TenantScopedAdminMixin):
    pass


class TenantScopedHistoryAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    """A scoped admin whose "History" page shows the audit trail: who, when, before and after."""


class ReadOnlyTenantScopedAdmin(TenantScopedAdmin):
    """Journals and records: browsed, never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def apply_per_object(modeladmin, request, queryset, act, label: str, describe=str) -> None:
    """Run `act(obj)` for each selected object inside its tenant; report successes and, one by one,
    the refusals (409/400 from the service) as admin messages."""
    from django.contrib import messages
    from rest_framework.exceptions import APIException

    from .context import tenant_context

    done, refused = 0, []
    for obj in queryset.order_by("pk"):
        try:
            with tenant_context(obj.tenant_id):
                act(obj)
            done += 1
        except APIException as exc:
            refused.append(f"{describe(obj)}: {exc.detail}")
    if done:
        modeladmin.message_user(request, f"{label}: {done}.", messages.SUCCESS)
    if refused:
        modeladmin.message_user(request, "Refused — " + "; ".join(refused), messages.ERROR)
