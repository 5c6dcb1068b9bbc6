"""An order as posted, and its validation against the tenant (domain rules sections 3 and 4).

`OrderInput` / `LineInput` are an order as a partner posts it; `order_validate` checks one
against the tenant without writing anything and returns what recording it would store (referrer,
exchange rate, the arithmetic's lines and base). Order intake (orders.services.order_record and
the batch) and the commission preview (commissions.services.commission_preview) both call it:
one rule, one home, below both, so the engine does not import the intake nor the intake the
preview.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext, ngettext

from commissions import arithmetic as ar
from distributors.services import distributor_by_external_id
from fenxiao.currencies import fits, is_currency, minor_unit, minor_units
from fenxiao.exceptions import invalid
from fenxiao.validators import channel_message, channel_ok
from tenants.models import Tenant

from .models import Order

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LineInput:
    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    category: str = ""
    discount: Decimal = ZERO
    commissionable: bool = True


@dataclass(frozen=True)
class OrderInput:
    """An order as posted by a partner (amounts in `currency`, whole minor units of it; times aware)."""

    external_id: str
    currency: str
    placed_at: datetime
    lines: list[LineInput]
    status: str = Order.Status.PENDING
    paid_at: datetime | None = None
    referrer_external_id: str | None = None
    buyer_external_id: str = ""
    exchange_rate: Decimal | None = None
    discount: Decimal = ZERO
    shipping: Decimal = ZERO
    tax: Decimal = ZERO
    non_cash_amount: Decimal = ZERO
    channel: str = ""


ORDER_AMOUNTS = ("discount", "shipping", "tax", "non_cash_amount")
LINE_AMOUNTS = ("unit_price", "discount")


def places_error(attr: str, currency: str, places: int):
    values = {"currency": currency, "places": places, "unit": minor_unit(currency)}
    if places == 0:
        message = gettext("%(currency)s amounts have no decimal places (its minor unit is %(unit)s).") % values
    else:
        message = ngettext("%(currency)s amounts have at most %(places)d decimal place (its minor unit is %(unit)s).",
                           "%(currency)s amounts have at most %(places)d decimal places (its minor unit is %(unit)s).",
                           places) % values
    return invalid(attr, message, "max_decimal_places")


def places_check(data: OrderInput) -> None:
    """400 (`max_decimal_places`, attr e.g. "lines.0.unit_price") for an amount that is not a
    whole number of the order currency's minor units: "1234.50" in JPY, "1.005" in USD, "1.0005"
    in KWD (domain rules, preamble: amounts in the currency's minor units)."""
    if not is_currency(data.currency):
        raise invalid("currency", gettext("Unknown ISO 4217 currency code."), "invalid_currency")
    places = minor_units(data.currency)
    for name in ORDER_AMOUNTS:
        if not fits(getattr(data, name), places):
            raise places_error(name, data.currency, places)
    for i, line in enumerate(data.lines):
        for name in LINE_AMOUNTS:
            if not fits(getattr(line, name), places):
                raise places_error(f"lines.{i}.{name}", data.currency, places)


def order_validate(*, tenant: Tenant, data: OrderInput, referrers: dict | None = None):
    """Check an order against the tenant without writing anything; returns (referrer or None,
    exchange rate, arithmetic lines, Base). 400 on: amounts that are not whole minor units of the
    order currency (`places_check`), currency/exchange_rate mismatch, paid without
    paid_at (or paid_at without paid), paid_at before placed_at, unknown referrer, invalid lines or
    amounts (domain rules sections 3 and 4). `referrers` ({external_id: Distributor}, preloaded by
    the batch path) replaces the referrer query. 400 `invalid_channel` for a malformed channel
    (fenxiao.validators.channel_ok; empty: none)."""
    places_check(data)
    if data.channel and not channel_ok(data.channel):
        raise invalid("channel", channel_message(), "invalid_channel")
    if data.currency == tenant.currency:
        if data.exchange_rate not in (None, Decimal(1)):
            raise invalid("exchange_rate", gettext("exchange_rate must be 1 or absent for the tenant's own currency."),
                          "invalid_exchange_rate")
        rate = Decimal(1)
    else:
        if data.exchange_rate is None:
            raise invalid("exchange_rate", gettext("exchange_rate is required for %(currency)s orders (tenant currency "
                                                   "%(tenant_currency)s).") % {
                "currency": data.currency, "tenant_currency": tenant.currency}, "required")
        rate = data.exchange_rate
    if data.status == Order.Status.PAID and data.paid_at is None:
        raise invalid("paid_at", gettext("A paid order needs paid_at."), "required")
    if data.paid_at is not None and data.status != Order.Status.PAID:
        raise invalid("paid_at", gettext("paid_at is only accepted with status 'paid' (use the pay endpoint later)."), "invalid")
    if data.paid_at is not None and data.paid_at < data.placed_at:
        raise invalid("paid_at", gettext("paid_at is before placed_at."), "invalid")
    referrer = None
    if data.referrer_external_id:
        if referrers is None:
            referrer = distributor_by_external_id(external_id=data.referrer_external_id, attr="referrer_external_id")
        elif (referrer := referrers.get(data.referrer_external_id)) is None:
            raise invalid("referrer_external_id", gettext("Unknown distributor %(id)r.") % {"id": data.referrer_external_id},
                          "unknown_distributor")
    lines = [ar.Line(l.line_id, l.quantity, l.unit_price, l.discount, l.commissionable, l.sku, l.category) for l in data.lines]
    try:
        base = ar.order_base(lines, discount=data.discount, non_cash_amount=data.non_cash_amount, exchange_rate=rate,
                             places=minor_units(data.currency), base_places=minor_units(tenant.currency))
    except ar.ArithmeticError_ as exc:
        raise invalid("lines", gettext(exc.message) % exc.params if exc.params else gettext(exc.message),
                      "invalid_amounts") from exc
    return referrer, rate, lines, base


def order_input(d: dict) -> OrderInput:
    """An OrderInput from a validated order body ({"external_id", "currency", "lines": [{...}],
    ...}: orders.api.serializers.OrderCreateSerializer's validated_data); `d` loses its "lines"."""
    lines = [LineInput(**line) for line in d.pop("lines")]
    return OrderInput(lines=lines, **d)
