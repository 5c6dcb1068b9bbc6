"""The reports (domain rules section 9): the tenant summary, sales by channel, a distributor's
monthly statement (对账单) and a distributor's months. Each function is a plain read for the tenant
in context that returns the JSON the API serves (dicts of strings, ints and None; money as decimal
strings with the tenant currency's places), so the API, the CSV and PDF exports and the console's
dashboard share one query path. Bad arguments raise the API's 400s (fenxiao.exceptions.invalid).

This module reads other apps only through their selectors (orders, ledger, distributors,
incentives). Its figures have two clocks, each the one its source keeps:

- sales figures (`orders`, `sales`, `refunded_sales`, `net_sales`, `gmv`, `refunded_gmv`,
  `net_gmv`, `active_distributors`) follow the measures of section 8: an order belongs to the
  tenant-local day it was PAID and counts with what it keeps after the refunds recorded so far;
  a refund in a later month lowers the net of the order's own month (and shows as its
  `refunded_sales`). `orders` counts the paid orders with a net above 0 (a fully refunded order is
  not counted), `active_distributors` the distributors with such an order as level 1.
- money figures (`commission_by_level`, `commission`, `commission_settled`, `bonuses`,
  `withdrawals_paid`, `withdrawal_fees`) are the ledger's (section 7): an entry belongs to the
  tenant-local day it was journalled. A refund in a later month shows as that month's `reversed`
  (reversal before settlement and clawback after, together). So they equal the ledger, and the
  sum over a month of every distributor's statement.
- `new_distributors`: distributors who joined that day (pending applicants not counted).

Buckets are the local days, the weeks (starting on Monday) or the calendar months of the tenant's
time zone that meet [from, to), the first and last cut at the range's ends, so they add up to the
whole range: every figure of `total` is the sum of the buckets' except `active_distributors`,
which counts each distributor once over the whole range. With a `channel`, the figures no order
carries (`bonuses`, `new_distributors`, `withdrawals_paid`, `withdrawal_fees`) are null.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from distributors import selectors as distributor_selectors
from fenxiao.currencies import money_str
from fenxiao.exceptions import invalid
from fenxiao.validators import channel_message, channel_ok
from incentives import selectors as incentive_selectors
from ledger import selectors as ledger_selectors
from orders import selectors as order_selectors
from tenants.context import current_tenant

INTERVALS = ("day", "week", "month")
#: The most buckets one summary answers (366 days of day buckets).
MAX_BUCKETS = 366
LEVELS = ("1", "2", "3")
ZERO = Decimal(0)
#: The earliest and latest local days a report may name.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)
BUCKETS = ("frozen", "available", "held", "withdrawn", "fees", "total_earned")


# --- periods ---------------------------------------------------------------------------------------

def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The start of a local day as an aware instant."""
    return datetime.combine(day, time.min, tz)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _next_start(day: date, interval: str) -> date:
    if interval == "day":
        return day + timedelta(days=1)
    if interval == "week":
        return day + timedelta(days=7 - day.weekday())  # the next Monday
    return next_month(day)


def report_buckets(first_day: date, end_day: date, interval: str) -> list[tuple[date, date]]:
    """The buckets [(first local day, end day)] of [first_day, end_day) by `interval`: days, weeks
    from Monday, or calendar months, the first and last cut at the range's ends. 400 for an
    unknown interval (`invalid_choice`), end_day <= first_day (`invalid_range`), days outside
    1970..9998 (`invalid_range`) or more than MAX_BUCKETS buckets (`too_many_buckets`)."""
    if interval not in INTERVALS:
        raise invalid("interval", _("Unknown interval %(interval)r; use day, week or month.") % {"interval": interval},
                      "invalid_choice")
    if not (FIRST_DAY <= first_day <= LAST_DAY and FIRST_DAY <= end_day <= LAST_DAY):
        raise invalid("from", _("Reports cover the days from 1970-01-01 to 9998-12-31."), "invalid_range")
    if end_day <= first_day:
        raise invalid("to", _("'to' must be a later day than 'from' (the range is [from, to): 'to' is not included)."),
                      "invalid_range")
    out, start = [], first_day
    while start < end_day:
        if len(out) == MAX_BUCKETS:
            raise invalid("to", _("A summary has at most %(n)d buckets: choose a shorter range or a longer interval.")
                          % {"n": MAX_BUCKETS}, "too_many_buckets")
        end = min(_next_start(start, interval), end_day)
        out.append((start, end))
        start = end
    return out


def report_channel(channel: str | None) -> str | None:
    """The `channel` filter: None or "" for none; 400 `invalid_channel` for a malformed code
    (fenxiao.validators.channel_ok) and `unknown_channel` for a code no order of the tenant ever
    carried (a typo would otherwise read as a channel without sales)."""
    if not channel:
        return None
    if not channel_ok(channel):
        raise invalid("channel", channel_message(), "invalid_channel")
    if not order_selectors.channel_known(channel):
        raise invalid("channel", _("No order of this tenant has the channel %(channel)r.") % {"channel": channel},
                      "unknown_channel")
    return channel


MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_month(text: str, attr: str = "month") -> date:
    """"YYYY-MM" -> the first day of that month; 400 `invalid_month` otherwise."""
    found = MONTH.fullmatch(str(text))
    if found is None or not 1 <= int(found.group(2)) <= 12 or not FIRST_DAY.year <= int(found.group(1)) <= LAST_DAY.year:
        raise invalid(attr, _("Give the month as YYYY-MM, e.g. 2026-03."), "invalid_month")
    return date(int(found.group(1)), int(found.group(2)), 1)


# --- figures ---------------------------------------------------------------------------------------

def _levels() -> dict:
    return {level: {"accrued": ZERO, "reversed": ZERO} for level in LEVELS}


@dataclass
class Figures:
    """The figures of one bucket (or a total) while they are added up: exact Decimals."""

    orders: int = 0
    sales: Decimal = ZERO
    net_sales: Decimal = ZERO
    gmv: Decimal = ZERO
    net_gmv: Decimal = ZERO
    levels: dict = field(default_factory=_levels)
    settled: Decimal = ZERO
    bonuses: Decimal = ZERO
    withdrawals_paid: Decimal = ZERO
    withdrawal_fees: Decimal = ZERO
    new_distributors: int = 0
    active_distributors: int = 0

    def add_sales(self, row: dict) -> None:
        self.orders += row["orders"]
        self.sales += row["sales"]
        self.net_sales += row["net_sales"]
        self.gmv += row["gmv"]
        self.net_gmv += row["net_gmv"]

    def add_movement(self, row: dict) -> None:
        """A ledger row of `ledger.selectors.movements_by_day`."""
        kind, amount = row["kind"], row["amount"]
        if kind == "accrual":
            self.levels[str(row["level"])]["accrued"] += amount
        elif kind in ("reversal", "clawback"):
            self.levels[str(row["level"])]["reversed"] += amount
        elif kind == "settlement":
            self.settled += amount
        elif kind == "bonus":
            self.bonuses += amount
        elif kind in ("withdrawal_paid", "fee"):
            self.withdrawals_paid += amount
            if kind == "fee":
                self.withdrawal_fees += amount

    def add(self, other: "Figures") -> None:
        for name in ("orders", "sales", "net_sales", "gmv", "net_gmv", "settled", "bonuses", "withdrawals_paid",
                     "withdrawal_fees", "new_distributors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for level in LEVELS:
            for k in ("accrued", "reversed"):
                self.levels[level][k] += other.levels[level][k]

    def as_json(self, currency: str, *, tenant_wide: bool = True) -> dict:
        def m(value: Decimal) -> str:
            return money_str(value, currency)

        accrued = sum((v["accrued"] for v in self.levels.values()), ZERO)
        reversed_ = sum((v["reversed"] for v in self.levels.values()), ZERO)
        return {
            "orders": self.orders,
            "sales": m(self.sales), "refunded_sales": m(self.sales - self.net_sales), "net_sales": m(self.net_sales),
            "gmv": m(self.gmv), "refunded_gmv": m(self.gmv - self.net_gmv), "net_gmv": m(self.net_gmv),
            "commission_by_level": {level: {"accrued": m(v["accrued"]), "reversed": m(v["reversed"]),
                                            "net": m(v["accrued"] - v["reversed"])} for level, v in self.levels.items()},
            "commission": {"accrued": m(accrued), "reversed": m(reversed_), "net": m(accrued - reversed_)},
            "commission_settled": m(self.settled),
            "bonuses": m(self.bonuses) if tenant_wide else None,
            "new_distributors": self.new_distributors if tenant_wide else None,
            "active_distributors": self.active_distributors,
            "withdrawals_paid": m(self.withdrawals_paid) if tenant_wide else None,
            "withdrawal_fees": m(self.withdrawal_fees) if tenant_wide else None,
        }


def summary(*, first_day: date, end_day: date, interval: str = "month", channel: str | None = None) -> dict:
    """The tenant summary of the local days [first_day, end_day) by `interval` (day, week or
    month), for the tenant in context; `channel` keeps the orders of one channel (see the module
    docstring for every figure and its clock). Returns

        {"currency", "timezone", "from", "to" (ISO dates, `to` excluded), "interval", "channel",
         "buckets": [{"start", "end", "orders", "sales", "refunded_sales", "net_sales", "gmv",
                      "refunded_gmv", "net_gmv",
                      "commission_by_level": {"1": {"accrued", "reversed", "net"}, "2": ..., "3": ...},
                      "commission": {"accrued", "reversed", "net"}, "commission_settled", "bonuses",
                      "new_distributors", "active_distributors", "withdrawals_paid", "withdrawal_fees"}],
         "total": {"start", "end", ...the same figures for the whole range}}

    money as strings with the tenant currency's places, counts as ints. 400s: see
    `report_buckets` and `report_channel`. Six queries whatever the tenant's size and the range
    (sales per day and the shipping and tax of orders in other currencies, ledger per day, joins
    per day, active distributors per bucket and overall); with a channel, the check that it is
    known instead of the joins. Domain rules section 9."""
    tenant = current_tenant()
    buckets = report_buckets(first_day, end_day, interval)
    channel = report_channel(channel)
    tz = ZoneInfo(tenant.timezone)
    start, end = local_midnight(first_day, tz), local_midnight(end_day, tz)
    starts = [b[0] for b in buckets]
    figures = [Figures() for _bucket in buckets]

    def of(day: date) -> Figures:
        return figures[bisect.bisect_right(starts, day) - 1]

    for (day, _ch), row in order_selectors.sales_by_day(start=start, end=end, channel=channel).items():
        of(day).add_sales(row)
    for row in ledger_selectors.movements_by_day(start=start, end=end, channel=channel):
        if channel and row["level"] is None:
            continue  # only commission entries carry an order (and its channel)
        of(row["day"]).add_movement(row)
    if not channel:
        for day, n in distributor_selectors.joined_by_day(start=start, end=end).items():
            of(day).new_distributors += n
    active, active_overall = incentive_selectors.active_distributors(buckets=buckets, channel=channel)
    total = Figures()
    for f, n in zip(figures, active):
        f.active_distributors = n
        total.add(f)
    total.active_distributors = active_overall
    currency = tenant.currency
    return {
        "currency": currency, "timezone": tenant.timezone, "from": first_day.isoformat(), "to": end_day.isoformat(),
        "interval": interval, "channel": channel,
        "buckets": [{"start": b[0].isoformat(), "end": b[1].isoformat(), **f.as_json(currency, tenant_wide=not channel)}
                    for b, f in zip(buckets, figures)],
        "total": {"start": first_day.isoformat(), "end": end_day.isoformat(),
                  **total.as_json(currency, tenant_wide=not channel)},
    }


def channels(*, first_day: date, end_day: date) -> dict:
    """Sales per channel (domain rules section 9) of the orders paid on the local days
    [first_day, end_day), for the tenant in context, with the commission the ledger journalled on
    those days for each channel's orders:

        {"currency", "timezone", "from", "to",
         "results": [{"channel" (null: orders without one), "orders", "sales", "refunded_sales",
                      "net_sales", "gmv", "refunded_gmv", "net_gmv", "commission": {"accrued",
                      "reversed", "net"}, "share" (of the net sales, 4 places, null when there are none)}],
         "total": {the same figures over every channel}}

    largest net sales first, then by channel code. The figures of the channels add up to the
    total. 400 `invalid_range` for to <= from. Three queries."""
    tenant = current_tenant()
    if interval_days(first_day, end_day) is None:
        raise invalid("to", _("'to' must be a later day than 'from' (the range is [from, to): 'to' is not included)."),
                      "invalid_range")
    tz = ZoneInfo(tenant.timezone)
    start, end = local_midnight(first_day, tz), local_midnight(end_day, tz)
    per: dict[str, Figures] = {}
    for (_day, ch), row in order_selectors.sales_by_day(start=start, end=end, by_channel=True).items():
        per.setdefault(ch, Figures()).add_sales(row)
    for row in ledger_selectors.movements_by_day(start=start, end=end, by_channel=True):
        if row["level"] is not None and row["kind"] in ("accrual", "reversal", "clawback"):
            per.setdefault(row["channel"] or "", Figures()).add_movement(row)
    total = Figures()
    for f in per.values():
        total.add(f)
    currency = tenant.currency

    def body(f: Figures) -> dict:
        full = f.as_json(currency)
        out = {k: full[k] for k in ("orders", "sales", "refunded_sales", "net_sales", "gmv", "refunded_gmv", "net_gmv",
                                    "commission")}
        out["share"] = (f"{(f.net_sales / total.net_sales).quantize(Decimal('0.0001'))}"
                        if total.net_sales > 0 else None)
        return out

    rows = sorted(per.items(), key=lambda kv: (-kv[1].net_sales, kv[0]))
    return {"currency": currency, "timezone": tenant.timezone, "from": first_day.isoformat(), "to": end_day.isoformat(),
            "results": [{"channel": ch or None, **body(f)} for ch, f in rows],
            "total": body(total)}


def interval_days(first_day: date, end_day: date) -> int | None:
    """Days in [first_day, end_day), None when it is empty or outside the days reports may name."""
    if not (FIRST_DAY <= first_day <= LAST_DAY and FIRST_DAY <= end_day <= LAST_DAY) or end_day <= first_day:
        return None
    return (end_day - first_day).days


# --- a distributor's statement ---------------------------------------------------------------------

#: The movements of a statement, by ledger entry kind (amounts >= 0; their effect on the buckets
#: is the entries' deltas: see `statement`).
MOVEMENTS = {
    "accrual": "commission_accrued", "reversal": "commission_reversed", "clawback": "commission_clawed_back",
    "settlement": "commission_settled", "bonus": "bonuses", "withdrawal_hold": "withdrawals_requested",
    "withdrawal_return": "withdrawals_returned", "withdrawal_paid": "withdrawals_paid", "fee": "withdrawal_fees",
}


def statement(*, distributor, month: date, now: datetime | None = None) -> dict:
    """A distributor's monthly statement (对账单, domain rules section 9) for the local month
    starting `month` (a first day), from the ledger (section 7), for the tenant in context:

        {"distributor_external_id", "name", "month" ("YYYY-MM"), "currency", "timezone",
         "from", "to" (the month's bounds, RFC 3339 with the tenant's offset), "closed" (the month
         has ended; else the statement runs to now),
         "opening": {"frozen", "available", "held", "withdrawn", "fees", "total_earned"},
         "movements": {"commission_accrued", "commission_reversed" (before settlement, from
                       frozen), "commission_clawed_back" (after settlement, from available),
                       "commission_settled", "bonuses", "withdrawals_requested",
                       "withdrawals_returned" (rejected), "withdrawals_paid" (transferred, net of
                       fees), "withdrawal_fees", "adjustments": {bucket: delta}},
         "commission_by_level": {"1": {"accrued", "reversed" (reversed and clawed back), "net"}, ...},
         "closing": {the buckets of "opening"},
         "entries": [{"at", "kind", "amount", "level", "order_external_id", "refund_external_id",
                      "withdrawal_id", "memo"}]}

    Opening = the entries journalled before the month; closing = opening + the month's entries,
    so closing is the ledger at the end of the month (now, for the month running) and:
    frozen + accrued - reversed - settled, available + settled - clawed back + bonuses -
    requested + returned, held + requested - returned - paid - fees, withdrawn + paid, fees +
    fees, total_earned + accrued - reversed - clawed back + bonuses (each + its adjustments).
    400 `month_not_begun` for a month that starts after `now`. Two queries."""
    tenant = current_tenant()
    tz = ZoneInfo(tenant.timezone)
    now = now or timezone.now()
    start, end = local_midnight(month, tz), local_midnight(next_month(month), tz)
    if start > now:
        raise invalid("month", _("%(month)s has not begun yet.") % {"month": f"{month:%Y-%m}"}, "month_not_begun")
    opening = ledger_selectors.balances_before(distributor_id=distributor.pk, at=start)
    entries = ledger_selectors.entries_between(distributor_id=distributor.pk, start=start, end=end)
    closing = dict(opening)
    moved = {name: ZERO for name in MOVEMENTS.values()}
    adjustments = {b: ZERO for b in BUCKETS}
    levels = _levels()
    for e in entries:
        for b in BUCKETS:
            closing[b] += e["deltas"][b]
        if e["kind"] in MOVEMENTS:
            moved[MOVEMENTS[e["kind"]]] += e["amount"]
        else:
            for b in BUCKETS:
                adjustments[b] += e["deltas"][b]
        if e["kind"] == "accrual":
            levels[str(e["level"])]["accrued"] += e["amount"]
        elif e["kind"] in ("reversal", "clawback"):
            levels[str(e["level"])]["reversed"] += e["amount"]
    currency = tenant.currency

    def m(value: Decimal) -> str:
        return money_str(value, currency)

    return {
        "distributor_external_id": distributor.external_id, "name": distributor.name, "month": f"{month:%Y-%m}",
        "currency": currency, "timezone": tenant.timezone, "from": start.isoformat(), "to": end.isoformat(),
        "closed": end <= now,
        "opening": {b: m(v) for b, v in opening.items()},
        "movements": {**{k: m(v) for k, v in moved.items()}, "adjustments": {b: m(v) for b, v in adjustments.items()}},
        "commission_by_level": {level: {"accrued": m(v["accrued"]), "reversed": m(v["reversed"]),
                                        "net": m(v["accrued"] - v["reversed"])} for level, v in levels.items()},
        "closing": {b: m(v) for b, v in closing.items()},
        "entries": [{"at": e["at"].astimezone(tz).isoformat(), "kind": e["kind"], "amount": m(e["amount"]),
                     "level": e["level"], "order_external_id": e["order_external_id"],
                     "refund_external_id": e["refund_external_id"], "withdrawal_id": e["withdrawal_id"],
                     "memo": e["memo"]} for e in entries],
    }


# --- a distributor's months ------------------------------------------------------------------------

MY_MONEY = ("direct_sales", "team_sales", "commission", "commission_accrued", "commission_reversed",
            "commission_settled", "bonuses", "withdrawals_paid", "withdrawal_fees")
#: the ledger's entry kinds counted in a distributor's figures, by figure (withdrawals_paid holds
#: the transfer and its fee: what left the distributor's balance)
MY_LEDGER_KINDS = {"accrual": "commission_accrued", "reversal": "commission_reversed",
                   "clawback": "commission_reversed", "settlement": "commission_settled", "bonus": "bonuses",
                   "withdrawal_paid": "withdrawals_paid", "fee": "withdrawals_paid"}


def _my_figures(distributor, tz: ZoneInfo, first: date, end_day: date, bucket_of) -> dict:
    """{bucket: {figure: Decimal, "orders": int}} of a distributor over the local days [first,
    end_day), each day's figures added to `bucket_of(day)`'s (the month's first day for
    `my_months`, the day itself for `my_day`). Two queries: the day figures of the measures and
    the ledger's movements per day."""
    per: dict = {}

    def bucket(day: date) -> dict:
        key = bucket_of(day)
        if key not in per:
            per[key] = {**{k: ZERO for k in MY_MONEY}, "orders": 0}
        return per[key]

    for row in incentive_selectors.distributor_days(distributor_id=distributor.pk, first_day=first, end_day=end_day):
        mine = bucket(row["day"])
        mine["direct_sales"] += row["direct_sales"]
        mine["team_sales"] += row["team_sales"]
        mine["commission"] += row["commission"]
        mine["orders"] += row["direct_orders"]
    for row in ledger_selectors.movements_by_day(start=local_midnight(first, tz), end=local_midnight(end_day, tz),
                                                 distributor_id=distributor.pk):
        mine, kind, amount = bucket(row["day"]), row["kind"], row["amount"]
        key = MY_LEDGER_KINDS.get(kind)
        if key:
            mine[key] += amount
        if kind == "fee":
            mine["withdrawal_fees"] += amount
    return per


def _my_body(f: dict | None, currency: str) -> dict:
    """The figures of `_my_figures` as the API writes them, with `earned` (accrued - reversed +
    bonuses); zeros for a period without any."""
    f = f or {**{k: ZERO for k in MY_MONEY}, "orders": 0}
    out = {k: money_str(f[k], currency) for k in MY_MONEY}
    out["orders"] = f["orders"]
    out["earned"] = money_str(f["commission_accrued"] - f["commission_reversed"] + f["bonuses"], currency)
    return out


def my_months(*, distributor, year: int | None = None, now: datetime | None = None) -> dict:
    """A distributor's sales and earnings per local month of `year` (default: the current local
    year), up to the current month, for the tenant in context (domain rules sections 8 and 9):

        {"year", "currency", "timezone",
         "months": [{"month" ("YYYY-MM"), "direct_sales", "team_sales", "orders" (counted direct
                     orders), "commission" (net commission of the orders paid that month, the
                     measure), "commission_accrued", "commission_reversed", "commission_settled",
                     "bonuses", "earned" (accrued - reversed + bonuses), "withdrawals_paid"
                     (transferred and fees), "withdrawal_fees"}],
         "total": {the same figures over the months listed}}

    Sales and `commission` by the month the orders were paid, net of refunds recorded so far (the
    measures); the other money by the month the ledger journalled it (like the statements: a
    month's `earned` is its statement's accrued - reversed - clawed back + bonuses). 400
    `invalid_year` outside 1970..9998, `year_not_begun` for a year after the current one. Two
    queries."""
    tenant = current_tenant()
    tz = ZoneInfo(tenant.timezone)
    now = now or timezone.now()
    today = now.astimezone(tz).date()
    if year is None:
        year = today.year
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise invalid("year", _("Give a year from 1970 to 9998."), "invalid_year")
    if year > today.year:
        raise invalid("year", _("%(year)d has not begun yet.") % {"year": year}, "year_not_begun")
    months = [date(year, m, 1) for m in range(1, 13 if year < today.year else today.month + 1)]
    per = _my_figures(distributor, tz, months[0], next_month(months[-1]), lambda day: day.replace(day=1))
    zero = {**{k: ZERO for k in MY_MONEY}, "orders": 0}
    total = {k: sum((per.get(m, zero)[k] for m in months), ZERO if k != "orders" else 0) for k in zero}
    currency = tenant.currency
    return {"year": year, "currency": currency, "timezone": tenant.timezone,
            "months": [{"month": f"{m:%Y-%m}", **_my_body(per.get(m), currency)} for m in months],
            "total": _my_body(total, currency)}


def my_day(*, distributor, now: datetime | None = None) -> dict:
    """A distributor's figures of the current local day (the portal's "today"), the same as one
    month of `my_months` (domain rules sections 8 and 9): {"day" ("YYYY-MM-DD"), "currency",
    "direct_sales", "team_sales", "orders", "commission", "commission_accrued",
    "commission_reversed", "commission_settled", "bonuses", "earned", "withdrawals_paid",
    "withdrawal_fees"}: sales of the orders paid today, money the ledger journalled today. Two
    queries."""
    tenant = current_tenant()
    tz = ZoneInfo(tenant.timezone)
    today = (now or timezone.now()).astimezone(tz).date()
    per = _my_figures(distributor, tz, today, today + timedelta(days=1), lambda day: day)
    return {"day": today.isoformat(), "currency": tenant.currency, **_my_body(per.get(today), tenant.currency)}


# --- rankings for the dashboard --------------------------------------------------------------------

RANKING_MEASURES = ("direct_sales", "team_sales", "order_count", "new_direct_recruits", "commission")


def top_distributors(*, first_day: date, end_day: date, measure: str = "direct_sales", limit: int = 10) -> dict:
    """The top `limit` (1..100) distributors of the tenant in context under `measure` (domain rules
    section 8: direct_sales, team_sales, order_count, new_direct_recruits, commission) over the
    local days [first_day, end_day), ranked by the tie rule (incentives.measures.leaderboard):

        {"measure", "from", "to", "currency",
         "results": [{"rank", "distributor_external_id", "name", "score"}]}

    money scores as strings with the currency's places, counts as ints. 400 for an unknown measure
    (`invalid_choice`), a limit outside 1..100 (`invalid`) or a bad range (`invalid_range`). Two
    queries (the leaderboard, the names); a whole local month that has begun reads its kept
    ranking (incentives.measures.ranking: the board, its top with the names)."""
    from incentives import measures

    if measure not in RANKING_MEASURES:
        raise invalid("measure", _("Unknown measure %(measure)r.") % {"measure": measure}, "invalid_choice")
    if not 1 <= limit <= 100:
        raise invalid("limit", _("Give a limit from 1 to 100."), "invalid")
    if interval_days(first_day, end_day) is None:
        raise invalid("to", _("'to' must be a later day than 'from' (the range is [from, to): 'to' is not included)."),
                      "invalid_range")
    currency = current_tenant().currency
    who: dict = {}
    ranked = measures.ranking(measure, measures.Window(first_day, end_day), limit=limit, people=who)[0]
    if any(r.distributor_id not in who for r in ranked):
        who = distributor_selectors.names_of([r.distributor_id for r in ranked])
    money_measure = measure in ("direct_sales", "team_sales", "commission")
    return {"measure": measure, "from": first_day.isoformat(), "to": end_day.isoformat(), "currency": currency,
            "results": [{"rank": r.rank, "distributor_external_id": who[r.distributor_id][0],
                         "name": who[r.distributor_id][1],
                         "score": money_str(r.score, currency) if money_measure else int(r.score)} for r in ranked]}


__all__ = ["INTERVALS", "MAX_BUCKETS", "RANKING_MEASURES", "channels", "my_day", "my_months", "parse_month", "report_buckets",
           "report_channel", "statement", "summary", "top_distributors"]
