"""Admin base classes that keep tenant staff inside their tenant (domain rules section 1).

Staff with a StaffMembership see and edit only their tenant's rows: querysets, foreign-key
choices and saves are all scoped, and the `tenant` field is hidden and filled in. Superusers see
every tenant, with a tenant filter and column.

Every view a ModelAdmin serves looks its object up through the scoped `get_queryset`, so another
tenant's object answers 404 exactly like a missing one: Django's change, delete and history
pages; django-simple-history's history list and version page with its Revert form
(`ScopedHistoryAdminMixin`); django-import-export's export (`ScopedImportExportMixin`);
autocomplete and the changelist actions (both start from `get_queryset`). A ModelAdmin that is not
a `TenantAwareAdmin` is for superusers only: `fenxiao.admin_site.FenxiaoAdminSite.register` wraps
it in `SuperuserOnlyAdminMixin` (auth users and groups, django-celery-beat, the base API key model,
and any package installed later). tests/tenants/test_admin_walk.py walks every URL of every
registered model as another tenant's staff.
"""
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin

from .models import Tenant


def staff_tenant_id(request) -> int | None:
    membership = getattr(request.user, "tenant_membership", None)
    return membership.tenant_id if membership is not None else None


class TenantAwareAdmin:
    """Marker and base of every ModelAdmin that scopes its rows to the staff's tenant (the admin
    site makes every other ModelAdmin superuser-only). A missing object, and another tenant's,
    is a 404 (Django's default is a redirect to the index with a message)."""

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(gettext("No %(name)s with this id.") % {"name": opts.verbose_name})

    def get_changeform_initial_data(self, request):
        """Django's add page takes initial values from the query string as they are; a time there
        (`?bound_at=...`) reached the split date/time widget as text and failed (500). Times are
        parsed, and dropped when they are not times."""
        from django.core.exceptions import FieldDoesNotExist
        from django.db import models
        from django.utils.dateparse import parse_datetime

        initial = super().get_changeform_initial_data(request)
        for name, value in list(initial.items()):
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if isinstance(field, models.DateTimeField) and isinstance(value, str):
                try:
                    parsed = parse_datetime(value)
                except ValueError:
                    parsed = None
                if parsed is None:
                    del initial[name]
                else:
                    initial[name] = parsed
        return initial


class SuperuserOnlyAdminMixin:
    """For ModelAdmins of models that belong to no tenant (users, groups, periodic tasks, ...):
    only superusers see the module, its rows and its pages; everyone else gets 403 whatever Django
    permissions they hold (a tenant's staff could otherwise edit other tenants' users or their
    settlement schedules). The queryset is empty for them too, for autocomplete and lookups."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs):
        return request.user.is_superuser and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.none()

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django looks the object up before it checks the permission on some pages (history)
        if not request.user.is_superuser:
            raise PermissionDenied
        raise Http404(gettext("No %(name)s with this id.") % {"name": opts.verbose_name})


def superuser_only(admin_class: type) -> type:
    """`admin_class` restricted to superusers (see SuperuserOnlyAdminMixin)."""
    return type(f"SuperuserOnly{admin_class.__name__}", (SuperuserOnlyAdminMixin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__})


class ScopedHistoryAdminMixin:
    """django-simple-history's pages, scoped: the history list shows only the staff's tenant's
    records; an object of another tenant (or a deleted one whose records are another tenant's) is
    a 404 on the history list and on the version page; the Revert form is refused (403) wherever
    the object's own change page is (no change permission for it: a withdrawal, a published plan).

    `history_scope(request)` gives the filter on the history table (None: every record, for
    superusers); by default the records' `tenant_id`."""

    def history_scope(self, request) -> Q | None:
        if request.user.is_superuser:
            return None
        tenant_id = staff_tenant_id(request)
        return Q(tenant_id=tenant_id) if tenant_id else Q(pk__in=[])

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        qs = super().get_history_queryset(request, history_manager, pk_name, object_id)
        scope = self.history_scope(request)
        return qs if scope is None else qs.filter(scope)

    def _history_manager(self):
        return getattr(self.model, self.model._meta.simple_history_manager_attribute)

    def _scoped_records(self, request, object_id):
        """The object's history records the user may see, or None for an id that is no id."""
        pk_field = self.model._meta.pk
        try:
            pk = pk_field.to_python(unquote(object_id))
        except ValidationError:
            return None
        return self.get_history_queryset(request, self._history_manager(), pk_field.attname, pk)

    def history_view(self, request, object_id, extra_context=None):
        records = self._scoped_records(request, object_id)
        if self.get_object(request, unquote(object_id)) is None and (records is None or not records.exists()):
            raise Http404("No such object.")
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        records = self._scoped_records(request, object_id)
        try:
            version = int(version_id)
        except (TypeError, ValueError):
            raise Http404("No such version.") from None
        record = records.filter(history_id=version).first() if records is not None else None
        if record is None:
            raise Http404("No such version.")
        current = self.get_object(request, unquote(object_id))
        if current is None and self.model._base_manager.filter(pk=record.instance.pk).exists():
            raise Http404("No such object.")   # it exists, but not for this user
        allowed = self.has_change_permission(request, current if current is not None else record.instance)
        if request.method == "POST" and not allowed:
            raise PermissionDenied
        extra_context = {**(extra_context or {}), **({} if allowed else {"revert_disabled": True})}
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return super().revert_disabled(request, obj) or not self.has_change_permission(request, obj)


class ScopedImportExportMixin:
    """django-import-export's export, scoped: the rows an export may name (export_items) are the
    staff's tenant's (the package's default lists every row of the table)."""

    def get_valid_export_item_pks(self, request):
        return self.get_queryset(request).values_list("pk", flat=True)

    def get_export_formats(self):
        """Spreadsheet formats only: CSV, and XLSX when openpyxl is installed. Every export is
        neutralised (fenxiao.csvsafe: a cell a spreadsheet would run as a formula gets a leading
        apostrophe, domain rules 9); the package's other defaults (TSV, JSON, YAML, HTML) would
        carry that apostrophe into files no finance team opens, so they are not offered."""
        from import_export.formats.base_formats import CSV, XLSX

        return [f for f in (CSV, XLSX) if f.is_available() and f().can_export()]

    def export_action(self, request):
        """Unknown filters in the query string go back to the list with Django's "invalid
        lookup" flag, as the changelist does (the package let them fail with a 500)."""
        from django.contrib.admin.options import IncorrectLookupParameters
        from django.http import HttpResponseRedirect
        from django.urls import reverse

        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist") + "?e=1")


class TenantScopedAdminMixin(TenantAwareAdmin):
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


class TenantScopedHistoryAdmin(ScopedHistoryAdminMixin, TenantScopedAdmin, SimpleHistoryAdmin):
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
        modeladmin.message_user(request, gettext("Refused — %(refusals)s") % {"refusals": "; ".join(refused)}, messages.ERROR)
