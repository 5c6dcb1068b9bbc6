"""Money and rate columns (CONVENTIONS: money; domain rules, preamble).

Every money column is a `MoneyField`: a decimal with MAX_PLACES places (the most an ISO 4217
currency has), holding a whole number of minor units of the currency it names. Where that
currency is comes with the field: `currency="currency"` (a column of the same row), a path such
as `"order.currency"`, or `TENANT` (the tenant's currency: commissions, the ledger, balances).
Serializers, the admin and exports write each amount with exactly its currency's places
(`amount_str`): "123.40" CNY, "123" JPY, "1.250" KWD.
"""
from __future__ import annotations


from django.conf import settings
from django.db import models
from django.utils.translation import gettext, ngettext

from fenxiao.currencies import MAX_PLACES, money_str

MONEY_KW = {"max_digits": settings.MONEY_MAX_DIGITS, "decimal_places": MAX_PLACES}
RATE_KW = {"max_digits": 9, "decimal_places": settings.RATE_DECIMAL_PLACES}
FX_KW = {"max_digits": 18, "decimal_places": 8}

#: `MoneyField(currency=TENANT)`: the amount is in the tenant's currency.
TENANT = "tenant"


class MoneyField(models.DecimalField):
    """A money column: MONEY_KW digits, and `currency` telling where its currency code is (an
    attribute path on the row, or TENANT). The currency is not part of the schema (migrations
    do not record it)."""

    def __init__(self, *args, currency: str = "currency", **kwargs):
        for key, value in MONEY_KW.items():
            kwargs.setdefault(key, value)
        self.currency = currency
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


def currency_of(instance, currency: str) -> str:
    """The currency code that `currency` (a MoneyField's `currency`: an attribute path or TENANT)
    names on `instance`. TENANT reads the tenant in context when it is the row's tenant (no
    query: views and services put the credential's Tenant row there), else the row's tenant."""
    if currency == TENANT:
        from tenants.context import current_tenant, peek_current_tenant_id

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


def places_message(currency: str, places: int) -> str:
    """The message (in the active language) saying how many decimal places `currency`'s amounts
    have: "JPY amounts have no decimal places.", "KWD amounts have at most 3 decimal places."."""
    if places == 0:
        return gettext("%(currency)s amounts have no decimal places.") % {"currency": currency}
    return ngettext("%(currency)s amounts have at most %(places)d decimal place.",
                    "%(currency)s amounts have at most %(places)d decimal places.", places) % {
        "currency": currency, "places": places}


def money_fields(model) -> dict[str, MoneyField]:
    """{name: field} of a model's money columns."""
    return {f.name: f for f in model._meta.concrete_fields if isinstance(f, MoneyField)}


