"""Money and rate columns (CONVENTIONS: money; domain rules, preamble).

Every money column is a `MoneyField`: a decimal with MAX_PLACES places (the most an ISO 4217
currency has), holding a whole number of minor units of the currency it names. Where that
currency is comes with the field: `currency="currency"` (a column of the same row), a path such
as `"order.currency"`, or `TENANT` (the tenant's currency: commissions, the ledger, balances).
Serializers, the admin and exports write each amount with exactly its currency's places
(fenxiao.amounts.amount_str): "123.40" CNY, "123" JPY, "1.250" KWD.

This module is below every model (tenants.models uses it), so it reads no tenant: finding an
amount's currency, which may be the tenant's in context, is fenxiao.amounts.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, ngettext

from fenxiao.currencies import MAX_PLACES

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


