"""Reads of orders that other apps need (CONVENTIONS: selectors; reports/ reads orders only here).

Sales figures (domain rules sections 8 and 9): an order counts in the tenant-local day it was paid
(pending and cancelled orders never count); `sales` is its commission base (goods after
discounts, in the tenant currency) as recorded, `net_sales` what it keeps after the refunds
recorded so far; `gmv` adds its shipping and tax (converted to the tenant currency at the order's
stored rate, half-up to one minor unit per order), gross and net of their refunds. A fully refunded
order keeps its gross figures and is not counted in `orders` (the measures' order count: net above 0).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate

from fenxiao.currencies import exact_sum, minor_units
from tenants.context import current_tenant

from .models import Order

#: The statuses of an order that was paid (its sales count; refunded ones count net of refunds).
PAID_STATES = (Order.Status.PAID, Order.Status.COMPLETED, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDED)
ZERO = Decimal(0)


def _converted(amount: Decimal, rate: Decimal, places: int) -> Decimal:
    from commissions.arithmetic import quantize_money

    return quantize_money(amount * rate, "half_up", places)


def sales_by_day(*, start: datetime, end: datetime, channel: str | None = None, by_channel: bool = False
                 ) -> dict[tuple[date, str | None], dict]:
    """The sales figures of the orders of the tenant in context paid in [start, end) (aware
    instants), per tenant-local day of payment (and per channel with `by_channel`; "" = none):
    {(day, channel or None): {"orders": int, "sales", "net_sales", "gmv", "net_gmv": Decimal}}
    in the tenant currency, exact in its minor units; days without orders are absent. `channel`
    keeps only the orders of that channel. Two queries whatever the number of orders: the sums
    per day, and the shipping and tax of the orders in another currency that have any (each
    converted on its own)."""
    tenant = current_tenant()
    tz, currency = ZoneInfo(tenant.timezone), tenant.currency
    places = minor_units(currency)
    paid = Order.objects.filter(status__in=PAID_STATES, paid_at__gte=start, paid_at__lt=end)
    if channel:
        paid = paid.filter(channel=channel)
    keys = ["day", "channel"] if by_channel else ["day"]
    own = Q(currency=currency)
    out: dict = {}
    rows = (paid.annotate(day=TruncDate("paid_at", tzinfo=tz)).values(*keys).order_by(*keys)
            .annotate(n=Count("id", filter=Q(net_base__gt=0)), sales=Sum("commission_base"), net=Sum("net_base"),
                      extras=Sum(F("shipping") + F("tax"), filter=own),
                      refunded=Sum(F("refunded_shipping") + F("refunded_tax"), filter=own)))
    for r in rows:
        sales, net = exact_sum(r["sales"], currency), exact_sum(r["net"], currency)
        extras, refunded = exact_sum(r["extras"], currency), exact_sum(r["refunded"], currency)
        out[(r["day"], r["channel"] if by_channel else None)] = {
            "orders": r["n"], "sales": sales, "net_sales": net, "gmv": sales + extras, "net_gmv": net + extras - refunded}
    foreign = (paid.exclude(own).filter(Q(shipping__gt=0) | Q(tax__gt=0))
               .values_list("paid_at", "channel", "exchange_rate", "shipping", "tax", "refunded_shipping", "refunded_tax"))
    for paid_at, ch, rate, shipping, tax, r_shipping, r_tax in foreign:
        extras = _converted(shipping + tax, rate, places)
        kept = extras - _converted(r_shipping + r_tax, rate, places)
        row = out[(paid_at.astimezone(tz).date(), ch if by_channel else None)]
        row["gmv"] += extras
        row["net_gmv"] += kept
    return out


def accrual_backlog() -> bool:
    """Whether the tenant in context has paid orders whose commissions are not computed yet
    (commission_state `due`: the accrual is behind). One query on the partial index of due orders."""
    return Order.objects.filter(commission_state=Order.CommissionState.DUE).exists()


def channel_known(channel: str) -> bool:
    """Has the tenant in context ever recorded an order with this channel? One indexed query."""
    return Order.objects.filter(channel=channel).exists()


def channels_seen() -> list[str]:
    """The channel codes of the tenant's orders, sorted (one query on the channel index)."""
    return list(Order.objects.exclude(channel="").order_by("channel").values_list("channel", flat=True).distinct())


__all__ = ["PAID_STATES", "channel_known", "channels_seen", "sales_by_day"]


def attributed_paid_times(*, distributor_ids, since: datetime, until: datetime) -> dict[int, list[datetime]]:
    """{distributor id: [paid_at, ...]} of the paid orders attributed to each (orders.attributed_to,
    the level-1 candidate) paid in [since, until], tenant in context: one query on the
    (tenant, attributed_to, paid_at) index."""
    out: dict[int, list[datetime]] = defaultdict(list)
    ids = sorted(set(distributor_ids))
    if not ids:
        return {}
    for d, paid_at in (Order.objects.filter(attributed_to_id__in=ids, paid_at__gte=since, paid_at__lte=until,
                                            status__in=PAID_STATES).values_list("attributed_to_id", "paid_at")):
        out[d].append(paid_at)
    return dict(out)


def attributed_refund_figures(*, distributor_ids, since: datetime) -> dict[int, tuple[int, Decimal, Decimal]]:
    """{distributor id: (orders, sales, net sales)} over the paid orders attributed to each and
    paid since `since`, tenant in context, money in the tenant currency: sales = the commission
    base recorded, net = the base kept after refunds. One query."""
    ids = sorted(set(distributor_ids))
    if not ids:
        return {}
    rows = (Order.objects.filter(attributed_to_id__in=ids, paid_at__gte=since, status__in=PAID_STATES)
            .values("attributed_to_id").annotate(n=Count("id"), gross=Sum("commission_base"), net=Sum("net_base")))
    places = Decimal("0.0001")  # the columns' places (SQLite sums are floats)
    return {r["attributed_to_id"]: (r["n"], Decimal(str(r["gross"] or 0)).quantize(places),
                                    Decimal(str(r["net"] or 0)).quantize(places)) for r in rows}
