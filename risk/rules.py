"""Risk rules as plain arithmetic (domain rules section 11): no ORM, tested directly."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

HOUR = timedelta(hours=1)
REFUND_WINDOW = timedelta(days=30)
REFUND_MIN_ORDERS = 10


@dataclass(frozen=True)
class Busiest:
    """The busiest hour found: `count` orders paid in (`start`, `end`]."""

    count: int
    start: datetime
    end: datetime


def busiest_hour(times: list[datetime], new: list[datetime]) -> Busiest | None:
    """The hour (q - 1h, q] holding the most of `times` among the hours that hold at least one of
    `new` (the orders being accrued; they are in `times` too), q running over `times`. Ties: the
    earliest such hour. None when `new` is empty. O(len(times)) after sorting."""
    if not new:
        return None
    times = sorted(times)
    new_sorted = sorted(new)
    best: Busiest | None = None
    lo = 0
    for q in times:
        while times[lo] <= q - HOUR:
            lo += 1
        start = q - HOUR
        # does (start, q] hold a new order?
        if not any(start < t <= q for t in _near(new_sorted, start, q)):
            continue
        count = bisect_right(times, q) - lo
        if best is None or count > best.count:
            best = Busiest(count, start, q)
    return best


def _near(sorted_times: list[datetime], start: datetime, end: datetime) -> list[datetime]:
    return sorted_times[bisect_right(sorted_times, start):bisect_right(sorted_times, end)]


def velocity_exceeded(times: list[datetime], new: list[datetime], limit: int | None) -> Busiest | None:
    """The first hour (q - 1h, q], q running over `times` in order, that holds one of `new` and
    MORE than `limit` orders (domain 11: "more than risk_max_orders_per_hour orders ... within an
    hour"), else None; None when the rule is off. Its end q is the moment the rule tripped: the
    commissions of orders paid from then on are held, whichever path (one order or a batch)
    brought them."""
    if not limit or not new:
        return None
    times = sorted(times)
    new_sorted = sorted(new)
    lo = 0
    for q in times:
        while times[lo] <= q - HOUR:
            lo += 1
        count = bisect_right(times, q) - lo
        if count > limit and _near(new_sorted, q - HOUR, q):
            return Busiest(count, q - HOUR, q)
    return None


def refund_rate(gross: Decimal, net: Decimal) -> Decimal:
    """Refunded share of the sales: (gross - net) / gross, 4 places (half up); 0 when gross is 0."""
    if gross <= 0:
        return Decimal("0.0000")
    return ((gross - net) / gross).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def refund_rate_exceeded(orders: int, gross: Decimal, net: Decimal, limit: Decimal | None) -> Decimal | None:
    """The refund rate when the rule trips (at least REFUND_MIN_ORDERS orders and a rate strictly
    above `limit`), else None; None when the rule is off. The rate is compared unrounded."""
    if limit is None or orders < REFUND_MIN_ORDERS or gross <= 0:
        return None
    return refund_rate(gross, net) if (gross - net) / gross > limit else None
