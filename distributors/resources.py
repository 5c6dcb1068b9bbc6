"""CSV import/export of distributors for the admin (django-import-export).

Import goes through `distributor_register` (the same service as the API: upline by parent
external id, idempotent on external_id, conflicts refused), row by row, with the errors of each
row reported; with any error nothing is imported (one transaction). Export writes the tree
position too.
"""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from import_export import fields, resources
from rest_framework.exceptions import APIException

from fenxiao.csvsafe import SafeExportResource
from fenxiao.validators import EXTERNAL_ID_MESSAGE, external_id_ok
from tenants.context import get_current_tenant_id

from .models import Distributor

IMPORT_COLUMNS = ("external_id", "name", "phone", "parent_external_id", "grade")
ID_COLUMNS = ("external_id", "parent_external_id")   # checked as the API checks them (external_id_ok)



class DistributorResource(SafeExportResource, resources.ModelResource):
    parent_external_id = fields.Field(attribute="parent__external_id", column_name="parent_external_id")
    grade = fields.Field(attribute="grade__code", column_name="grade")

    class Meta:
        model = Distributor
        import_id_fields = ("external_id",)
        fields = ("external_id", "name", "phone", "parent_external_id", "grade", "status", "invite_code", "depth", "joined_at")
        export_order = fields
        use_transactions = True
        skip_unchanged = False

    def get_queryset(self):
        return Distributor.objects.select_related("parent", "grade")

    def import_data(self, dataset, *args, **kwargs):
        """All or nothing: any invalid row rolls the whole import back (its errors are reported)."""
        from django.db import transaction

        with transaction.atomic():
            result = super().import_data(dataset, *args, **kwargs)
            if result.has_errors() or result.has_validation_errors():
                transaction.set_rollback(True)
        return result

    def import_instance(self, instance, row, **kwargs):
        instance._import_row = row  # fields are applied by the service in save_instance

    def save_instance(self, instance, is_create, row, **kwargs):
        from tenants.models import Tenant

        from .services import DistributorInput, distributor_register

        tenant = Tenant.objects.get(pk=get_current_tenant_id())
        clean = {k: (str(row.get(k) or "").strip(" " if k in ID_COLUMNS else None)) for k in IMPORT_COLUMNS}
        if not clean["external_id"] or not clean["name"]:
            raise ValidationError(gettext("external_id and name are required."))
        for k in ID_COLUMNS:
            if not external_id_ok(clean[k]):
                raise ValidationError(f"{k}: {EXTERNAL_ID_MESSAGE}")
        try:
            saved, _ = distributor_register(tenant=tenant, data=DistributorInput(
                external_id=clean["external_id"], name=clean["name"], phone=clean["phone"],
                parent_external_id=clean["parent_external_id"] or None, grade=clean["grade"] or None))
        except APIException as exc:
            detail = exc.detail
            if isinstance(detail, dict):
                detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in detail.items())
            raise ValidationError(str(detail)) from None
        instance.pk = saved.pk

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        return None  # nothing is set on the instance directly

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        return None  # the service validates


__all__ = ["DistributorResource"]
