"""An amount's currency and its text (CONVENTIONS: money): where a money column's currency is
(`currency_of`, the tenant's in context for `TENANT` columns) and the amount written with exactly
that currency's places (`amount_str`: "123.40" CNY, "123" JPY, "1.250" KWD).

Kept apart from fenxiao.money (the column types, which every model and tenants.models import)
because it reads the tenant in context: tenants.context -> tenants.models -> fenxiao.money must
not lead back here.
"""
from __future__ import annotations

from fenxiao.currencies import money_str
from fenxiao.money import TENANT
from tenants.context import current_tenant, peek_current_tenant_id


def currency_of(instance, currency: str) -> str:
    """The currency code that `currency` (a MoneyField's `currency`: an attribute path or TENANT)
    names on `instance`. TENANT reads the tenant in context when it is the row's tenant (no
    query: views and services put the credential's Tenant row there), else the row's tenant."""
    if currency == TENANT:
        tenant_id = getattr(instance, "tenant_id", None)
        if tenant_id is not None and peek_current_tenant_id() != tenant_id:
            return instance.tenant.currency
        return current_tenant().currency
    value = instance
    for part in currency.split("."):
        value = getattr(value, part)
    return value


def amount_str(instance, name: str) -> str | None:
    """The amount in column `name` of `instance`, written with its currency's places (None stays None)."""
    field = instance._meta.get_field(name)
    value = getattr(instance, name)
    return None if value is None else money_str(value, currency_of(instance, field.currency))
