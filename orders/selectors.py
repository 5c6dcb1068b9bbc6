"""Reads of orders for other apps (risk holds today)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum


from .models import Order

PAID_STATES = (Order.Status.PAID, Order.Status.COMPLETED, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDED)


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
