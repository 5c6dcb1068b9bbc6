from django.contrib import admin
from django.db.models import Q
from rest_framework_api_key.admin import APIKeyModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from .admin_scoping import ScopedHistoryAdminMixin, TenantAwareAdmin, staff_tenant_id
from .models import StaffMembership, Tenant, TenantApiKey


@admin.register(Tenant)
class TenantAdmin(TenantAwareAdmin, ScopedHistoryAdminMixin, SimpleHistoryAdmin):
    """Superusers: every tenant. Tenant staff: their own tenant's settings (slug, currency and
    is_active read-only) and its history; another tenant is a 404 like a missing one."""

    list_display = ["slug", "name", "currency", "timezone", "levels", "rounding", "bind_mode", "enrollment", "is_active"]
    search_fields = ["slug", "name"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(pk=staff_tenant_id(request))

    def history_scope(self, request):
        return None if request.user.is_superuser else Q(id=staff_tenant_id(request))

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["slug", "is_active", "currency"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            return form

        class Checked(form):
            def clean(self):
                """The same rules as the staff API: levels / max_total_rate never below the plan in
                force, currency fixed once orders exist, time zone once orders, contests or targets exist."""
                from rest_framework.exceptions import ValidationError as DRFValidationError

                from .services import tenant_settings_check

                import copy

                data = super().clean()
                candidate = copy.copy(obj)
                for key, value in data.items():
                    setattr(candidate, key, value)
                try:
                    tenant_settings_check(tenant=obj, candidate=candidate, changed=set(self.changed_data))
                except DRFValidationError as exc:
                    for field, messages in exc.detail.items():
                        self.add_error(field if field in self.fields else None, " ".join(map(str, messages)))
                return data

        return Checked

    def save_model(self, request, obj, form, change):
        from ledger.services import settlement_schedule_ensure

        super().save_model(request, obj, form, change)
        settlement_schedule_ensure(tenant=obj)


@admin.register(TenantApiKey)
class TenantApiKeyAdmin(TenantAwareAdmin, APIKeyModelAdmin):
    """Partner keys: tenant staff see and create their own tenant's keys only."""

    list_display = [*APIKeyModelAdmin.list_display, "tenant"]

    def get_list_filter(self, request):
        base = list(APIKeyModelAdmin.list_filter)
        return ["tenant", *base] if request.user.is_superuser else base

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(tenant_id=staff_tenant_id(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "tenant" and not request.user.is_superuser:
            kwargs["queryset"] = Tenant.objects.filter(pk=staff_tenant_id(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    """Who is staff of which tenant: superusers only (also enforced by the admin site, as for every
    admin that does not scope by tenant)."""

    list_display = ["user", "tenant"]
    list_filter = ["tenant"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission
