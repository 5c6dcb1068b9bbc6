"""Every tenant-owned table leads each index and unique constraint with `tenant` (Citus-ready), and
carries no single-column foreign-key index that would not."""
from django.apps import apps
from django.db import connection

from tenants.managers import TenantOwned

OWNED = [m for m in apps.get_models() if issubclass(m, TenantOwned)]


def test_there_are_tenant_owned_models():
    names = {m.__name__ for m in OWNED}
    assert {"Distributor", "Customer", "Order", "OrderLine", "Refund", "CommissionRecord", "CommissionReversal",
            "CommissionPlan", "CommissionRule", "Grade", "GradeLevelOverride"} <= names


def test_indexes_and_constraints_lead_with_tenant(db):
    offenders = []
    with connection.cursor() as cursor:
        for model in OWNED:
            table = model._meta.db_table
            for name, info in connection.introspection.get_constraints(cursor, table).items():
                if info["primary_key"] or info["foreign_key"] or info.get("check"):
                    continue
                if info["index"] or info["unique"]:
                    if not info["columns"] or info["columns"][0] != "tenant_id":
                        offenders.append((table, name, info["columns"]))
    assert offenders == []
