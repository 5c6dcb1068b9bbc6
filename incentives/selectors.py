"""Reads of the incentives app that other code needs; the audit behind `manage.py check_measures`.

What a distributor sees (the portal API under /me/ and the portal pages call the same ones):
    visible_contests(me, now)          the contests I can see, latest window first
    visible_contest(me, public_id, now)   one of them, or None
    targets_of(me)                     my targets and my team's

Decisions (domain rules section 8):
- Contests I can see: those that have started (running, ended or finalized) and are open to
  everyone, to my grade, or in whose frozen ranking I am (a later grade change never hides a
  prize I won). Scheduled contests are not shown.
- Targets: the ones naming me (scope distributor) or my team (scope team, me as its head).
  Tenant-wide targets are the brand's own KPIs and are not shown to distributors."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Exists, Max, OuterRef, QuerySet, Sum

from commissions.arithmetic import to_minor
from fenxiao.currencies import minor_units
from tenants.context import current_tenant

from .models import Contest, ContestResult, DailyFigure, SalesCredit, Standing, Target, TenantDay


def visible_contests(me, now) -> QuerySet:
    """Contests `me` (a distributor) can see at `now` (the module's decisions), latest window
    first, with their grades prefetched."""
    through = Contest.grades.through
    open_to_all = ~Exists(through.objects.filter(contest_id=OuterRef("pk")))
    my_grade = Exists(through.objects.filter(contest_id=OuterRef("pk"), grade_id=me.grade_id))
    ranked = Exists(ContestResult.objects.filter(contest_id=OuterRef("pk"), distributor_id=me.pk))
    return (Contest.objects.filter(starts_at__lte=now).filter(open_to_all | my_grade | ranked)
            .prefetch_related("grades").order_by("-starts_at", "-id"))


def visible_contest(me, public_id: str, now) -> Contest | None:
    """The contest `public_id` (contest_...) if `me` can see it at `now` (as visible_contests and
    VisibleContests decide), else None (another tenant's, a scheduled one, one of other grades):
    the contest with its grades' ids (`eligible_grade_ids`) and whether I am in its frozen ranking
    (`has_result_of`), in one query (contest_to_read)."""
    contest = contest_to_read(public_id, started_by=now, distributor_id=me.pk)
    if contest is None:
        return None
    grades = contest.eligible_grade_ids
    if not grades or me.grade_id in grades or contest.has_result_of:
        return contest
    return None


def targets_of(me) -> QuerySet:
    """My targets and my team's (scope distributor or team naming `me`), latest period first. The
    brand's tenant-wide KPIs are not a distributor's to see."""
    return (Target.objects.filter(distributor=me, scope__in=[Target.Scope.DISTRIBUTOR, Target.Scope.TEAM])
            .select_related("distributor").order_by("-starts_at", "-id"))


def figures_drift() -> list[str]:
    """Recompute, for the tenant in context, every figure from the orders and commission records
    and list what disagrees with the stored ones (empty: none). Expected: one credit per snapshot
    beneficiary of every accrued order with a base above 0, worth the order's base kept after
    refunds and its level's commission net of reversals, settled once any of the order's records
    settled and its own level's record (if any) is no longer frozen (a risk hold keeps it
    waiting); day figures and tenant days summed from them per tenant-local day of payment; the
    lifetime settled sales from the settled credits. Domain rules section 8 (measures)."""
    from commissions.models import CommissionRecord
    from orders.models import Order

    tenant = current_tenant()
    tz, places = ZoneInfo(tenant.timezone), minor_units(tenant.currency)
    records = defaultdict(dict)
    settled_orders, frozen = set(), set()
    for order_id, level, amount, reversed_, settled_at, status in CommissionRecord.objects.values_list(
            "order_id", "level", "amount", "reversed_amount", "settled_at", "status"):
        records[order_id][level] = to_minor(amount - reversed_, places)
        if settled_at is not None:
            settled_orders.add(order_id)
        if status == CommissionRecord.Status.FROZEN:
            frozen.add((order_id, level))
    expected_credits, tenant_days = {}, defaultdict(lambda: [0, 0])
    for pk, paid_at, base, net, attribution in Order.objects.filter(
            commission_state=Order.CommissionState.DONE, commission_base__gt=0).values_list(
            "pk", "paid_at", "commission_base", "net_base", "attribution"):
        day = paid_at.astimezone(tz).date()
        value = to_minor(net, places)
        tenant_days[day][0] += value
        tenant_days[day][1] += 1 if value > 0 else 0
        for entry in (attribution or {}).get("chain", []):
            expected_credits[(pk, entry["level"])] = (entry["distributor_id"], day, paid_at, value,
                                                      records[pk].get(entry["level"], 0),
                                                      pk in settled_orders and (pk, entry["level"]) not in frozen)
    out = []
    stored = {(c.order_id, c.level): (c.distributor_id, c.day, c.paid_at, c.value, c.commission, c.settled)
              for c in SalesCredit.objects.all()}
    for key in sorted(set(stored) | set(expected_credits)):
        if stored.get(key) != expected_credits.get(key):
            out.append(f"credit order {key[0]} level {key[1]}: stored {stored.get(key)}, expected {expected_credits.get(key)}")

    days = defaultdict(lambda: {"direct_sales": 0, "direct_orders": 0, "direct_last_at": None, "team_sales": 0,
                                "team_orders": 0, "team_last_at": None, "commission": 0, "commission_last_at": None})
    standing = defaultdict(lambda: [0, 0])
    for (_, level), (distributor_id, day, paid_at, value, commission, settled) in expected_credits.items():
        row = days[(distributor_id, day)]
        counted = value > 0
        if level == 1:
            row["direct_sales"] += value
            row["direct_orders"] += counted
            if counted:
                row["direct_last_at"] = max(filter(None, [row["direct_last_at"], paid_at]))
        row["team_sales"] += value
        row["team_orders"] += counted
        if counted:
            row["team_last_at"] = max(filter(None, [row["team_last_at"], paid_at]))
        row["commission"] += commission
        if commission > 0:
            row["commission_last_at"] = max(filter(None, [row["commission_last_at"], paid_at]))
        if settled:
            standing[distributor_id][1] += value
            if level == 1:
                standing[distributor_id][0] += value
    fields = ["direct_sales", "direct_orders", "direct_last_at", "team_sales", "team_orders", "team_last_at",
              "commission", "commission_last_at"]
    stored_days = {(r["distributor_id"], r["day"]): {f: r[f] for f in fields}
                   for r in DailyFigure.objects.values("distributor_id", "day", *fields)}
    empty = {f: (None if f.endswith("_at") else 0) for f in fields}
    for key in sorted(set(stored_days) | set(days)):
        want, have = dict(days.get(key, empty)), stored_days.get(key, empty)
        if want != have:
            out.append(f"day figures of distributor {key[0]} on {key[1]}: stored {have}, expected {want}")
    stored_tenant_days = {d: [n, c] for d, n, c in TenantDay.objects.values_list("day", "net_sales", "orders")}
    for day in sorted(set(stored_tenant_days) | set(tenant_days)):
        if stored_tenant_days.get(day, [0, 0]) != tenant_days.get(day, [0, 0]):
            out.append(f"tenant day {day}: stored {stored_tenant_days.get(day)}, expected {tenant_days.get(day)}")
    stored_standing = {d: [a, b] for d, a, b in Standing.objects.values_list(
        "distributor_id", "settled_direct_sales", "settled_team_sales")}
    for d in sorted(set(stored_standing) | set(standing)):
        if stored_standing.get(d, [0, 0]) != standing.get(d, [0, 0]):
            out.append(f"standing of distributor {d}: stored {stored_standing.get(d)}, expected {standing.get(d)}")
    out += contest_scores_drift()
    return out


def contest_scores_drift() -> list[str]:
    """The kept scores of the running tracked contests and of the month ranking boards against
    their day figures (as incentives.measures.scores_fill would write them), and their rank
    snapshots against themselves."""
    from .measures import TRACKED, contest_scoreboard, ranking_scoreboard
    from .models import Contest, RankingBoard

    out = []
    boards = [(f"contest {c.pk}", contest_scoreboard(c))
              for c in Contest.objects.filter(finalized_at__isnull=True, measure__in=list(TRACKED)).order_by("pk")]
    boards += [(f"ranking {r.measure} {r.month:%Y-%m}", ranking_scoreboard(r)) for r in RankingBoard.objects.order_by("pk")]
    for name, board in boards:
        col, last = board.columns
        window = board.window
        want = {}
        for d, score, reached in (DailyFigure.objects.filter(day__gte=window.first_day, day__lt=window.end_day)
                                  .values_list("distributor_id").annotate(s=Sum(col), r=Max(last))):
            if score or reached:
                want[d] = (score or 0, reached)
        rows = board.model.objects.filter(**{board.key_col: board.key})
        have = {d: (s, r) for d, s, r in rows.values_list("distributor_id", "score", "reached_at") if s or r}
        for d in sorted(set(want) | set(have)):
            if want.get(d) != have.get(d):
                out.append(f"{name} score of distributor {d}: stored {have.get(d)}, expected {want.get(d)}")
        out += _rank_snapshot_drift(name, rows)
    return out


def _rank_snapshot_drift(name: str, rows) -> list[str]:
    """A board's rank snapshot against itself: a row not dirty holds its key as snapped, and the
    snapped ranks are 1..n in the tie rule's order of the snapped keys of the scores above 0."""
    from .measures import RANK_NEVER

    out = []
    snapped = []
    for d, score, reached, neg, at, rank, dirty in rows.values_list(
            "distributor_id", "score", "reached_at", "snap_neg", "snap_reached", "snap_rank", "dirty"):
        if not dirty and (neg, at) != (-score, reached or RANK_NEVER):
            out.append(f"{name} distributor {d}: not dirty but snapped {(neg, at)} != {(-score, reached)}")
        if rank is not None:
            snapped.append(((neg, at, d), rank))
    if [rank for _, rank in sorted(snapped)] != list(range(1, len(snapped) + 1)):
        out.append(f"{name}: snapped ranks are not 1..{len(snapped)} in the snapped keys' order")
    return out


def active_distributors(*, buckets: list[tuple], channel: str | None = None) -> tuple[list[int], int]:
    """Domain rules sections 8 and 9, `active_distributors`: the distributors with a counted direct
    order (level 1, net value above 0) paid in each of `buckets` ([(first local day, end day)],
    consecutive, in order), and in all of them together: ([count per bucket], count over the whole
    range). A distributor active in two buckets counts in each and once in the whole. From the day
    figures (DailyFigure.direct_orders); with `channel`, from the credits of that channel's orders.
    Two queries whatever the tenant's size (the bucket of a day is a CASE over the bucket bounds)."""
    from django.db.models import Case, Count, IntegerField, Value, When

    if not buckets:
        return [], 0
    first, end = buckets[0][0], buckets[-1][1]
    if channel:
        rows = SalesCredit.objects.filter(level=1, value__gt=0, day__gte=first, day__lt=end, order__channel=channel)
    else:
        rows = DailyFigure.objects.filter(direct_orders__gt=0, day__gte=first, day__lt=end)
    bucket = Case(*(When(day__lt=b_end, then=Value(i)) for i, (_, b_end) in enumerate(buckets)),
                  output_field=IntegerField())
    per = dict(rows.annotate(bucket=bucket).values("bucket").order_by("bucket")
               .annotate(n=Count("distributor_id", distinct=True)).values_list("bucket", "n"))
    whole = rows.aggregate(n=Count("distributor_id", distinct=True))["n"]
    return [per.get(i, 0) for i in range(len(buckets))], whole


def distributor_days(*, distributor_id: int, first_day, end_day) -> list[dict]:
    """One distributor's day figures (domain rules section 8) on the local days [first_day,
    end_day): [{"day", "direct_sales", "direct_orders", "team_sales", "commission"}], money as
    Decimals in the tenant currency (the orders paid that day, net of refunds recorded so far;
    commission net of reversals). One query."""
    places = minor_units(current_tenant().currency)
    rows = (DailyFigure.objects.filter(distributor_id=distributor_id, day__gte=first_day, day__lt=end_day)
            .order_by("day").values("day", "direct_sales", "direct_orders", "team_sales", "commission"))
    return [{"day": r["day"], "direct_orders": r["direct_orders"],
             **{k: Decimal(int(r[k])).scaleb(-places) for k in ("direct_sales", "team_sales", "commission")}}
            for r in rows]


def targets_meeting(*, start, end, limit: int = 10) -> list:
    """The tenant's targets (销售目标) whose period meets [start, end) (aware instants), latest
    start first, at most `limit`, with their distributor loaded. One query."""
    from .models import Target

    return list(Target.objects.filter(starts_at__lt=end, ends_at__gt=start).select_related("distributor")
                .order_by("-starts_at", "-id")[:limit])



def contest_to_read(public_id: str, *, started_by=None, distributor_id: int | None = None):
    """The tenant's contest `public_id` (contest_...) as its leaderboard and standings read it, or
    None (no such contest in the tenant in context; with `started_by`, an aware instant, also one
    that has not started by then). The Contest row comes with `eligible_grade_ids` (its grades'
    ids in ascending order; [] = every grade) and `has_result_of` (whether `distributor_id` is in
    its frozen ranking; False without one). One statement whatever the tenant's size: compiling
    the queryset and its grades' prefetch cost more than running them on a leaderboard page
    (docs/performance.md)."""
    from django.db import connection

    from fenxiao.bulk import from_row, query, select_sql
    from tenants.context import single_tenant_id

    from .models import Contest, ContestResult

    grades = Contest.grades.field
    through = grades.remote_field.through._meta.db_table
    sql = (f"SELECT {select_sql(Contest, '', alias='c')}, g.{grades.m2m_reverse_name()},"
           f" EXISTS(SELECT 1 FROM {ContestResult._meta.db_table} r WHERE r.tenant_id = c.tenant_id"
           f" AND r.contest_id = c.id AND r.distributor_id = %s)"
           f" FROM {Contest._meta.db_table} c LEFT JOIN {through} g ON g.{grades.m2m_column_name()} = c.id"
           " WHERE c.tenant_id = %s AND c.public_id = %s")
    params = [distributor_id or 0, single_tenant_id(), public_id]
    if started_by is not None:
        sql += " AND c.starts_at <= %s"
        params.append(connection.ops.adapt_datetimefield_value(started_by))
    rows = query(sql, params)
    if not rows:
        return None
    n = len(Contest._meta.concrete_fields)
    contest = from_row(Contest, rows[0][:n])
    contest.eligible_grade_ids = sorted(r[n] for r in rows if r[n] is not None)
    contest.has_result_of = bool(rows[0][n + 1])
    return contest


class VisibleContests:
    """The contests a distributor can see at an instant (incentives.api.views: started, and open to
    every grade, to its grade, or with it in their frozen ranking), latest window first, as a
    sequence Django's Paginator pages through: `count()` is one query, a slice another (each
    contest with `eligible_grade_ids`), whatever the tenant's size. Raw statements: compiling the
    equivalent queryset (three EXISTS) twice and prefetching the grades cost more than running
    them on /me/contests/ (docs/performance.md)."""

    def __init__(self, me, now):
        from django.db import connection

        from .models import Contest, ContestResult

        grades = Contest.grades.field
        through = grades.remote_field.through._meta.db_table
        contest_col, grade_col = grades.m2m_column_name(), grades.m2m_reverse_name()
        self.where = (
            f" FROM {Contest._meta.db_table} c WHERE c.tenant_id = %s AND c.starts_at <= %s AND ("
            f"NOT EXISTS(SELECT 1 FROM {through} g WHERE g.{contest_col} = c.id)"
            f" OR EXISTS(SELECT 1 FROM {through} g WHERE g.{contest_col} = c.id AND g.{grade_col} = %s)"
            f" OR EXISTS(SELECT 1 FROM {ContestResult._meta.db_table} r WHERE r.tenant_id = c.tenant_id"
            " AND r.contest_id = c.id AND r.distributor_id = %s))")
        from tenants.context import single_tenant_id

        self.params = [single_tenant_id(), connection.ops.adapt_datetimefield_value(now), me.grade_id, me.pk]
        self.grades = (f"ARRAY(SELECT g.{grade_col} FROM {through} g WHERE g.{contest_col} = c.id)"
                       if connection.vendor == "postgresql" else
                       f"(SELECT group_concat(g.{grade_col}) FROM {through} g WHERE g.{contest_col} = c.id)")

    def count(self) -> int:
        from fenxiao.bulk import query

        return query(f"SELECT COUNT(*){self.where}", self.params)[0][0]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list:
        from fenxiao.bulk import from_row, query, select_sql

        from .models import Contest

        if not isinstance(page, slice) or page.step is not None:
            raise TypeError("VisibleContests answers slices (pages) only")
        start = page.start or 0
        sql = f"SELECT {select_sql(Contest, '', alias='c')}, {self.grades}{self.where} ORDER BY c.starts_at DESC, c.id DESC"
        if page.stop is None:
            raise TypeError("VisibleContests answers bounded slices (pages) only")
        sql += " LIMIT %s OFFSET %s"
        params = [*self.params, max(0, page.stop - start), start]
        n = len(Contest._meta.concrete_fields)
        out = []
        for row in query(sql, params):
            contest = from_row(Contest, row[:n])
            grades = row[n]
            if isinstance(grades, str):  # SQLite: "3,7"
                grades = [int(g) for g in grades.split(",")]
            contest.eligible_grade_ids = sorted(grades or [])
            out.append(contest)
        return out
