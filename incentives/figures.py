"""The figures behind every measure, written in the transactions of the facts they sum
(CONVENTIONS: incentives and reports; domain rules section 8, measures).

- `figures_on_accrual`     the accrual of paid orders: one SalesCredit per recorded beneficiary,
                           added to its DailyFigure; every order to its TenantDay.
- `figures_on_refunds`     refunds: the orders' credits keep their new net value and their levels'
                           commissions net of the reversals; the day figures move by the difference
                           (an order refunded in full stops being counted).
- `figures_on_settlement`  orders whose commissions settled: their credits count towards the
                           beneficiaries' lifetime settled sales (Standing, for grade upgrades).

Day figures are changed with one INSERT ... ON CONFLICT DO UPDATE adding deltas, rows in key order,
so concurrent accruals of one distributor add up and never deadlock. A day's "last counted event"
(the tie rule) is the latest paid_at among its counted credits; when a refund stops counting one,
it is read again from that day's credits. `incentives.selectors.figures_drift` recomputes all of it
from the orders and records (`manage.py check_measures`).

Arguments are plain values (ids, Decimals in the tenant currency, aware datetimes) so the services
of orders, commissions and the ledger can call these without importing their models; the figures
keep money as whole minor units (integers).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Max, Q

from commissions.arithmetic import to_minor
from fenxiao.bulk import bulk_insert, instance, pg_array, update_rows
from fenxiao.currencies import minor_units

from .models import DailyFigure, SalesCredit, Standing, TenantDay

ZERO = 0


@dataclass(frozen=True)
class AccruedOrder:
    """What the figures need of an order being accrued: its id, when it was paid, its commission
    base (tenant currency), its snapshot chain [(level, distributor_id)] and each level's
    commission ({level: amount}, levels without a record absent)."""

    order_id: int
    paid_at: datetime
    base: Decimal
    chain: tuple[tuple[int, int], ...]
    commissions: dict


#: Rows per INSERT ... ON CONFLICT statement (SQLite allows 32,766 parameters per statement).
UPSERT_ROWS = 1000
DAY_FIELDS = ("direct_sales", "direct_orders", "team_sales", "team_orders", "commission")
LAST_FIELDS = {"direct_last_at": "direct_orders", "team_last_at": "team_orders", "commission_last_at": None}


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def _credit_deltas(level: int, value: Decimal, commission: Decimal, sign: int = 1) -> dict:
    """What one credit adds to its DailyFigure (sign -1: what it takes away)."""
    counted = 1 if value > 0 else 0
    return {
        "direct_sales": sign * value if level == 1 else ZERO,
        "direct_orders": sign * counted if level == 1 else 0,
        "team_sales": sign * value,
        "team_orders": sign * counted,
        "commission": sign * commission,
    }


def figures_on_accrual(*, tenant, orders: list[AccruedOrder]) -> None:
    """Credits, day figures and tenant days for orders just accrued (in the accrual's transaction).
    Orders with a base of 0 count nowhere. A fixed number of queries whatever the number of orders."""
    tz, places = ZoneInfo(tenant.timezone), minor_units(tenant.currency)
    credits, days, tenant_days = [], defaultdict(_zero_day), defaultdict(lambda: [ZERO, 0])
    for o in orders:
        if o.base <= 0:
            continue
        day = local_day(o.paid_at, tz)
        base = to_minor(o.base, places)
        tenant_days[day][0] += base
        tenant_days[day][1] += 1
        for level, distributor_id in o.chain:
            commission = to_minor(o.commissions.get(level, Decimal(0)), places)
            credits.append(instance(SalesCredit, tenant_id=tenant.pk, order_id=o.order_id, distributor_id=distributor_id,
                                    level=level, day=day, paid_at=o.paid_at, value=base, commission=commission,
                                    settled=False))
            row = days[(distributor_id, day)]
            for k, v in _credit_deltas(level, base, commission).items():
                row[k] += v
            row["direct_last_at"] = _later(row["direct_last_at"], o.paid_at if level == 1 else None)
            row["team_last_at"] = _later(row["team_last_at"], o.paid_at)
            row["commission_last_at"] = _later(row["commission_last_at"], o.paid_at if commission > 0 else None)
    if credits:
        bulk_insert(SalesCredit, credits)
    _days_add(tenant, days)
    _tenant_days_add(tenant, tenant_days)


def _zero_day() -> dict:
    return {**{k: 0 for k in DAY_FIELDS}, **{k: None for k in LAST_FIELDS}}


def _later(a, b):
    if a is None:
        return b
    return a if b is None or a >= b else b


@dataclass(frozen=True)
class RefundedOrder:
    """A refund as the figures see it: the order, when it was paid, its commission base kept before
    and after (tenant currency) and what each level's commission lost ({level: amount})."""

    order_id: int
    paid_at: datetime
    old_value: Decimal
    new_value: Decimal
    reversed_by_level: dict


def figures_on_refund(*, tenant, order_id: int, paid_at: datetime, old_value: Decimal, new_value: Decimal,
                      reversed_by_level: dict) -> None:
    """`figures_on_refunds` of one refund."""
    figures_on_refunds(tenant=tenant, refunds=[RefundedOrder(order_id, paid_at, old_value, new_value, reversed_by_level)])


def figures_on_refunds(*, tenant, refunds: list[RefundedOrder]) -> None:
    """Orders' figures after refunds, applied in the order given (several may refund one order,
    each from what the previous left): each order's credits take its new commission base kept
    and their levels' commissions less the reversals; the day figures and the tenant days move by
    the differences; a credit whose value (or commission) reaches 0 stops being counted and its
    day's last counted event is read again; credits that settled move their beneficiaries'
    lifetime settled sales too. Call inside the refunds' transaction, the orders locked. A fixed
    number of queries whatever the number of refunds."""
    refunds = [r for r in refunds if r.old_value != r.new_value or any(r.reversed_by_level.values())]
    if not refunds:
        return
    tz, places = ZoneInfo(tenant.timezone), minor_units(tenant.currency)
    credits_of: dict[int, list[SalesCredit]] = defaultdict(list)
    for c in SalesCredit.objects.select_for_update().filter(order_id__in=sorted({r.order_id for r in refunds})).order_by("pk"):
        credits_of[c.order_id].append(c)
    days: dict = defaultdict(_zero_day)
    recount: set[tuple[int, date]] = set()
    standing: dict[int, list[int]] = defaultdict(lambda: [ZERO, ZERO])
    tenant_days: dict = defaultdict(lambda: [ZERO, 0])
    changed: dict[int, SalesCredit] = {}
    for r in refunds:
        old_value, new_value = to_minor(r.old_value, places), to_minor(r.new_value, places)
        for c in credits_of[r.order_id]:
            new_commission = c.commission - to_minor(r.reversed_by_level.get(c.level, Decimal(0)), places)
            minus = _credit_deltas(c.level, c.value, c.commission, -1)
            plus = _credit_deltas(c.level, new_value, new_commission)
            row = days[(c.distributor_id, c.day)]
            for k in DAY_FIELDS:
                row[k] += minus[k] + plus[k]
            if c.value > 0 >= new_value or c.commission > 0 >= new_commission:
                recount.add((c.distributor_id, c.day))
            if c.settled:
                standing[c.distributor_id][1] += new_value - c.value
                if c.level == 1:
                    standing[c.distributor_id][0] += new_value - c.value
            c.value, c.commission = new_value, new_commission
            changed[c.pk] = c
        if old_value > 0:
            day = tenant_days[local_day(r.paid_at, tz)]
            day[0] += new_value - old_value
            day[1] -= 1 if new_value <= 0 else 0
    update_rows(SalesCredit, fields=("value", "commission"), keys=("id", "tenant_id"),
                rows=[(c.value, c.commission, pk, tenant.pk) for pk, c in sorted(changed.items())])
    boards = _days_add(tenant, days)
    _recount_last(tenant, recount, boards)
    if standing:
        _standing_add(tenant, standing)
    _tenant_days_add(tenant, tenant_days)


def _recount_last(tenant, recount, boards: list) -> None:
    """Read again the last counted events (direct, team, commission) of the distributors' days where
    a refund stopped counting a credit: one grouped read, one update, whatever their number."""
    if not recount:
        return
    keys = sorted(recount)
    wanted = set(keys)  # read the days of those distributors (a superset), keep the wanted ones
    latest = {}
    for row in (SalesCredit.objects.filter(distributor_id__in={k[0] for k in keys}, day__in={k[1] for k in keys})
                .values("distributor_id", "day")
                .annotate(direct=Max("paid_at", filter=Q(level=1, value__gt=0)), team=Max("paid_at", filter=Q(value__gt=0)),
                          commission=Max("paid_at", filter=Q(commission__gt=0)))):
        if (row["distributor_id"], row["day"]) in wanted:
            latest[(row["distributor_id"], row["day"])] = (row["direct"], row["team"], row["commission"])
    update_rows(DailyFigure, fields=("direct_last_at", "team_last_at", "commission_last_at"),
                keys=("distributor_id", "day", "tenant_id"),
                rows=[(*latest.get(k, (None, None, None)), *k, tenant.pk) for k in keys])
    _board_reached_recount(tenant, keys, boards)


# --- kept scores: running contests and month rankings (incentives.measures.Board) ----------------

def _running_boards(tenant, days) -> list:
    """The boards whose window holds any of `days`: the tenant's running tracked contests and its
    month rankings of those days' months. Takes the boards' lock (shared) first, so a board made
    concurrently is either filled with these figures or read here (measures.boards_lock)."""
    from .measures import TRACKED, Window, boards_lock, contest_scoreboard, ranking_scoreboard
    from .models import Contest, RankingBoard

    if not days:
        return []
    first, last = min(days), max(days)
    boards_lock(tenant.pk, shared=True)
    out = []
    for c in Contest.objects.filter(finalized_at__isnull=True, measure__in=list(TRACKED)).only(
            "pk", "tenant_id", "measure", "starts_at", "ends_at", "finalized_at"):
        window = Window.between(c.starts_at, c.ends_at, tenant.timezone)
        if window.first_day <= last and first < window.end_day:
            out.append(contest_scoreboard(c))
    months = sorted({d.replace(day=1) for d in days})
    out += [ranking_scoreboard(r) for r in RankingBoard.objects.filter(month__in=months).order_by("pk")]
    return out


def _board_scores_add(tenant, days: dict) -> list:
    """Add the day figures' deltas to the scores of the boards whose window holds the days (one
    upsert per such board; none when there is none). Returns those boards."""
    boards = _running_boards(tenant, {day for _, day in days})
    q = connection.ops.quote_name
    for board in boards:
        col, last = board.columns
        table, key = q(board.table), board.key_col
        per: dict[int, list] = {}
        for (distributor_id, day), row in days.items():
            if board.window.first_day <= day < board.window.end_day and (row[col] or row[last]):
                mine = per.setdefault(distributor_id, [0, None])
                mine[0] += row[col]
                mine[1] = _later(mine[1], row[last])
        if not per:
            continue
        rows = sorted(per.items())
        on_conflict = (f" ON CONFLICT (tenant_id, {key}, distributor_id) DO UPDATE SET score = {table}.score + "
                       f"excluded.score, reached_at = {_greatest(f'{table}.reached_at', 'excluded.reached_at')}, "
                       "dirty = TRUE")
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # one statement text whatever the rows (see _day_rows_add)
                cursor.execute(
                    f"INSERT INTO {table} (tenant_id, {key}, distributor_id, score, reached_at) "
                    "SELECT %s, %s, * FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[])" + on_conflict,
                    [tenant.pk, board.key, pg_array(d for d, _ in rows), pg_array(v[0] for _, v in rows),
                     _pg_column([v[1] for _, v in rows])])
                continue
            for start in range(0, len(rows), UPSERT_ROWS):
                part = rows[start:start + UPSERT_ROWS]
                cursor.execute(
                    f"INSERT INTO {table} (tenant_id, {key}, distributor_id, score, reached_at) VALUES "
                    + ", ".join(["(%s, %s, %s, %s, %s)"] * len(part)) + on_conflict,
                    [v for d, (score, reached) in part for v in (tenant.pk, board.key, d, score, _stored(reached))],
                )
    return boards


def _board_reached_recount(tenant, keys, boards: list) -> None:
    """After the last counted events of some distributors' days were read again, read again when
    those distributors reached their scores on the boards holding those days (`boards`: those of
    the days just added, which hold these)."""
    for board in boards:
        window, last = board.window, board.columns[1]
        ids = sorted({d for d, day in keys if window.first_day <= day < window.end_day})
        if not ids:
            continue
        reached = dict(DailyFigure.objects.filter(distributor_id__in=ids, day__gte=window.first_day, day__lt=window.end_day)
                       .values_list("distributor_id").annotate(m=Max(last)))
        update_rows(board.model, fields=("reached_at", "dirty"), keys=(board.key_col, "distributor_id", "tenant_id"),
                    rows=[(reached.get(d), True, board.key, d, tenant.pk) for d in ids])


def figures_on_settlement(*, tenant, order_ids: list[int]) -> set[int]:
    """Mark the credits of orders whose commissions just settled and add them to their
    beneficiaries' lifetime settled sales (direct: level 1; team: every level). A credit whose own
    level's commission is still frozen (held by a risk hold, domain rules section 11) waits: it
    counts when that commission settles, after the hold's release, never before. Returns the ids
    of the distributors whose standing changed (the grade evaluation's candidates). Idempotent: a
    credit is counted once (settled flips under the row lock). Two queries and an update."""
    from commissions.models import CommissionRecord

    credits = list(SalesCredit.objects.select_for_update().filter(order_id__in=order_ids, settled=False).order_by("pk"))
    if not credits:
        return set()
    waiting = set(CommissionRecord.objects.filter(order_id__in=order_ids, status=CommissionRecord.Status.FROZEN)
                  .values_list("order_id", "level"))
    credits = [c for c in credits if (c.order_id, c.level) not in waiting]
    if not credits:
        return set()
    standing: dict[int, list[int]] = defaultdict(lambda: [ZERO, ZERO])
    for c in credits:
        standing[c.distributor_id][1] += c.value
        if c.level == 1:
            standing[c.distributor_id][0] += c.value
    SalesCredit.objects.filter(pk__in=[c.pk for c in credits]).update(settled=True)
    _standing_add(tenant, standing)
    return set(standing)


# --- upserts -----------------------------------------------------------------------------------

def _greatest(a: str, b: str) -> str:
    """The later of two nullable timestamps in SQL (PostgreSQL's GREATEST skips NULLs; SQLite's
    two-argument max() does not, hence the COALESCEs)."""
    fn = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    return f"{fn}(COALESCE({a}, {b}), COALESCE({b}, {a}))"


def _days_add(tenant, days: dict) -> list:
    """Add deltas to DailyFigure rows (inserted when missing), in (distributor, day) order, and to
    the scores of the boards whose window holds those days; returns those boards."""
    if not days:
        return []
    _day_rows_add(tenant, days)
    return _board_scores_add(tenant, days)


def _day_rows_add(tenant, days: dict) -> None:
    q = connection.ops.quote_name
    table = q(DailyFigure._meta.db_table)
    cols = [*DAY_FIELDS, *LAST_FIELDS]
    rows = sorted(days.items())
    updates = [f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" for c in DAY_FIELDS]
    updates += [f"{q(c)} = {_greatest(f'{table}.{q(c)}', f'excluded.{q(c)}')}" for c in LAST_FIELDS]
    if connection.vendor == "postgresql":
        # one statement text whatever the number of rows (planned once per connection), its rows as
        # one array literal per column
        types = {c: ("bigint" if c in DAY_FIELDS else "timestamptz") for c in cols}
        arrays = [pg_array(d for (d, _), _ in rows), "{" + ",".join(day.isoformat() for (_, day), _ in rows) + "}"]
        arrays += [_pg_column([row[c] for _, row in rows]) for c in cols]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (tenant_id, distributor_id, day, {', '.join(q(c) for c in cols)}) "
                f"SELECT %s, * FROM unnest(%s::bigint[], %s::date[], "
                + ", ".join(f"%s::{types[c]}[]" for c in cols) + ") "
                f"ON CONFLICT (tenant_id, distributor_id, day) DO UPDATE SET {', '.join(updates)}",
                [tenant.pk, *arrays],
            )
        return
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):
            part = rows[start:start + UPSERT_ROWS]
            placeholders = ", ".join(["(" + ", ".join(["%s"] * (3 + len(cols))) + ")"] * len(part))
            params = []
            for (distributor_id, day), row in part:
                params += [tenant.pk, distributor_id, day, *(_stored(row[c]) for c in cols)]
            cursor.execute(
                f"INSERT INTO {table} (tenant_id, distributor_id, day, {', '.join(q(c) for c in cols)}) VALUES {placeholders} "
                f"ON CONFLICT (tenant_id, distributor_id, day) DO UPDATE SET {', '.join(updates)}",
                params,
            )


def _stored(value):
    """A value for raw SQL outside PostgreSQL as the ORM stores it (a datetime as SQLite's naive
    UTC text: the sqlite3 module's own adapter would append "+00:00", and text of two shapes does
    not compare as the times do)."""
    return connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value


def _pg_column(values) -> str:
    """A PostgreSQL array literal of integers or timestamps (NULL for None)."""
    return "{" + ",".join("NULL" if v is None else (f'"{v.isoformat()}"' if isinstance(v, datetime) else str(v))
                          for v in values) + "}"


def _tenant_days_add(tenant, days: dict) -> None:
    if not days:
        return
    q = connection.ops.quote_name
    table = q(TenantDay._meta.db_table)
    rows = sorted(days.items())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, day, net_sales, orders) VALUES "
            + ", ".join(["(%s, %s, %s, %s)"] * len(rows))
            + f" ON CONFLICT (tenant_id, day) DO UPDATE SET net_sales = {table}.net_sales + excluded.net_sales, "
              f"orders = {table}.orders + excluded.orders",
            [v for day, (amount, n) in rows for v in (tenant.pk, day, amount, n)],
        )


def _standing_add(tenant, standing: dict) -> None:
    q = connection.ops.quote_name
    table = q(Standing._meta.db_table)
    rows = sorted(standing.items())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, distributor_id, settled_direct_sales, settled_team_sales) VALUES "
            + ", ".join(["(%s, %s, %s, %s)"] * len(rows))
            + f" ON CONFLICT (tenant_id, distributor_id) DO UPDATE SET "
              f"settled_direct_sales = {table}.settled_direct_sales + excluded.settled_direct_sales, "
              f"settled_team_sales = {table}.settled_team_sales + excluded.settled_team_sales",
            [v for d, (direct, team) in rows for v in (tenant.pk, d, direct, team)],
        )
