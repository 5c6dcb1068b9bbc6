"""The measures of domain rules section 8, defined once: contests, tier bonuses, targets, rankings,
grade upgrades and reports read them here and nowhere else.

A window is whole tenant-local days [first_day, end_day) (`Window`); an order belongs to it when
it was paid on one of those days, and counts with its commission base kept after the refunds
recorded so far. The order figures come from the day figures kept with the accrual and refunds
(incentives.figures); the recruits from the distributors' rows (indexed by join time), so every
function here is a fixed number of queries whatever the tenant's size.

- direct_sales(D)          orders whose recorded level-1 beneficiary is D
- team_sales(D)            orders where D is a recorded beneficiary at any level
- order_count(D)           orders counted in direct_sales with a value above 0
- new_direct_recruits(D)   active distributors whose upline is D, joined in the window
- commission(D)            D's commissions net of reversals on orders of the window
- active_distributors      distributors with a counted direct order in the window (a total)
- net_sales                the tenant's net sales: every paid order (a total)

Money is in the tenant currency, exact in its minor units; counts are integers (as Decimals).
Ties are broken by incentives.rules.tie_key (the time the score was reached, then the id).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone as dt_timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Max, Q, Sum

from distributors.models import Distributor
from fenxiao.currencies import minor_units
from tenants.context import current_tenant

from .models import DailyFigure, Measure, TenantDay
from .rules import Ranked, Score

#: The day-figure columns (score, time it was reached) of each order measure.
DAY_COLUMNS = {
    Measure.DIRECT_SALES: ("direct_sales", "direct_last_at"),
    Measure.ORDER_COUNT: ("direct_orders", "direct_last_at"),
    Measure.TEAM_SALES: ("team_sales", "team_last_at"),
    Measure.COMMISSION: ("commission", "commission_last_at"),
}
MONEY = {Measure.DIRECT_SALES, Measure.TEAM_SALES, Measure.COMMISSION, Measure.NET_SALES}


class MeasureError(ValueError):
    """A measure that does not apply (e.g. team_sales summed over a team would count orders twice)."""


@dataclass(frozen=True)
class Window:
    """Whole tenant-local days [first_day, end_day)."""

    first_day: date
    end_day: date

    def bounds(self, tz_name: str) -> tuple[datetime, datetime]:
        """The window as aware instants [start, end) in the tenant's time zone."""
        tz = ZoneInfo(tz_name)
        return datetime.combine(self.first_day, time.min, tz), datetime.combine(self.end_day, time.min, tz)

    @classmethod
    def between(cls, start: datetime, end: datetime, tz_name: str) -> "Window":
        """The window of [start, end) when both are the starts of local days, as `bounds` writes
        them (else ValueError). A day's start is its 00:00, or, where a daylight-saving change skips
        midnight (America/Santiago, 2026-09-06: 00:00 -> 01:00), the instant 00:00 stands for."""
        tz = ZoneInfo(tz_name)
        days = []
        for t in (start, end):
            day = t.astimezone(tz).date()
            if datetime.combine(day, time.min, tz).astimezone(dt_timezone.utc) != t.astimezone(dt_timezone.utc):
                raise ValueError(f"{t.astimezone(tz).isoformat()} is not a local midnight in {tz_name}")
            days.append(day)
        return cls(*days)


def _value(measure: str, raw) -> Decimal:
    """A figure as the measure's value: money from whole minor units (Decimal with the tenant
    currency's places), counts as whole Decimals."""
    if measure in MONEY:
        return Decimal(int(raw or 0)).scaleb(-minor_units(current_tenant().currency))
    return Decimal(int(raw or 0))


def _valuer(measure: str):
    """`_value` of one measure for many figures: the tenant currency's places read once."""
    if measure in MONEY:
        places = -minor_units(current_tenant().currency)
        return lambda raw: Decimal(int(raw or 0)).scaleb(places)
    return lambda raw: Decimal(int(raw or 0))


def _raw(measure: str, value: Decimal) -> int:
    """The figure behind a measure's value (minor units for money)."""
    if measure in MONEY:
        return int(value.scaleb(minor_units(current_tenant().currency)))
    return int(value)


def _distributor_rows(measure: str, window: Window, *, grade_ids=None, members: Q | None = None, only: int | None = None,
                      active_only: bool = False):
    """(distributor id, score, reached) rows grouped per distributor, scores above 0 only (`only`:
    one distributor's row; `active_only`: active distributors only)."""
    if measure in DAY_COLUMNS:
        col, last = DAY_COLUMNS[measure]
        qs = DailyFigure.objects.filter(day__gte=window.first_day, day__lt=window.end_day)
        if only is not None:
            qs = qs.filter(distributor_id=only)
        if grade_ids:
            qs = qs.filter(distributor__grade_id__in=grade_ids)
        if active_only:
            qs = qs.filter(distributor__status=Distributor.Status.ACTIVE)
        if members is not None:
            qs = qs.filter(distributor__in=Distributor.objects.filter(members).values("pk"))
        return (qs.values(did=F("distributor_id")).annotate(score=Sum(col), reached=Max(last))
                .filter(score__gt=0))
    if measure == Measure.NEW_DIRECT_RECRUITS:
        start, end = window.bounds(current_tenant().timezone)
        qs = Distributor.objects.filter(parent__isnull=False, status=Distributor.Status.ACTIVE,
                                        joined_at__gte=start, joined_at__lt=end)
        if only is not None:
            qs = qs.filter(parent_id=only)
        if grade_ids:
            qs = qs.filter(parent__grade_id__in=grade_ids)
        if active_only:
            qs = qs.filter(parent__status=Distributor.Status.ACTIVE)
        if members is not None:
            qs = qs.filter(parent__in=Distributor.objects.filter(members).values("pk"))
        return qs.values(did=F("parent_id")).annotate(score=Count("id"), reached=Max("joined_at"))
    raise MeasureError(f"{measure!r} is not a measure of one distributor")


def _ordered(rows):
    return rows.order_by("-score", F("reached").asc(nulls_last=True), "did")


def leaderboard(measure: str, window: Window, *, limit: int | None = None, grade_ids=None,
                min_score: Decimal | None = None, members: Q | None = None, active_only: bool = False) -> list[Ranked]:
    """The distributors with a score above 0 (and at least `min_score`) under `measure` in
    `window`, ranked by the tie rule, best first; only grades `grade_ids` when given, only the
    distributors matching `members` (a Q on Distributor) when given, only active distributors
    when `active_only` (who may win a prize or a bonus). One query."""
    rows = _distributor_rows(measure, window, grade_ids=grade_ids, members=members, active_only=active_only)
    if min_score is not None:
        rows = rows.filter(score__gte=_raw(measure, min_score))
    rows = _ordered(rows)
    if limit is not None:
        rows = rows[:limit]
    value = _valuer(measure)
    return [Ranked(i, r["did"], value(r["score"]), r["reached"]) for i, r in enumerate(rows, start=1)]


def score_of(measure: str, window: Window, distributor_id: int) -> Score:
    """One distributor's score and when it reached it (0 and None without any). One query."""
    rows = list(_distributor_rows(measure, window, only=distributor_id))
    if not rows:
        return Score(distributor_id, _value(measure, 0), None)
    return Score(distributor_id, _value(measure, rows[0]["score"]), rows[0]["reached"])


def own_sales(distributor_id: int, window: Window) -> tuple[Decimal, Decimal]:
    """(team_sales, direct_sales) of one distributor in `window`: what score_of gives for each of
    the two measures, from its day figures in one raw statement (the portal's team summary, a hot
    read: compiling the two querysets cost more than running them)."""
    from django.db import connection

    from fenxiao.bulk import query
    from tenants.context import single_tenant_id

    adapt = connection.ops.adapt_datefield_value
    (team, direct), = query(
        f"SELECT SUM(team_sales), SUM(direct_sales) FROM {DailyFigure._meta.db_table}"
        " WHERE tenant_id = %s AND distributor_id = %s AND day >= %s AND day < %s",
        [single_tenant_id(), distributor_id, adapt(window.first_day), adapt(window.end_day)])
    value = _valuer(Measure.TEAM_SALES)  # both money; a sum not above 0 scores 0, as score_of's does
    return value(team if team and team > 0 else 0), value(direct if direct and direct > 0 else 0)


def rank_of(measure: str, window: Window, distributor_id: int, *, grade_ids=None,
            min_score: Decimal | None = None, active_only: bool = False) -> tuple[int | None, Score]:
    """(my rank, my score) on the leaderboard of `measure` in `window`: the number of distributors
    ranked before me by the tie rule, plus one; None when I am not on it (no score, under the
    minimum, not of an eligible grade, not active when `active_only`). Two queries whatever the
    tenant's size, three with `grade_ids` or `active_only`."""
    mine = score_of(measure, window, distributor_id)
    if mine.score <= 0 or (min_score is not None and mine.score < min_score):
        return None, mine
    if grade_ids or active_only:
        me = Distributor.objects.filter(pk=distributor_id)
        if grade_ids:
            me = me.filter(grade_id__in=grade_ids)
        if active_only:
            me = me.filter(status=Distributor.Status.ACTIVE)
        if not me.exists():
            return None, mine
    rows = _distributor_rows(measure, window, grade_ids=grade_ids, active_only=active_only)
    if min_score is not None:
        rows = rows.filter(score__gte=_raw(measure, min_score))
    raw = _raw(measure, mine.score)
    better = Q(score__gt=raw) | Q(score=raw, reached__lt=mine.reached_at) | Q(score=raw, reached=mine.reached_at,
                                                                              did__lt=distributor_id)
    return rows.filter(better).count() + 1, mine


def team_of(distributor_id: int) -> Q:
    """A distributor's team: itself and its downlines at levels 1-3 (as /me/team/summary/)."""
    return Q(pk=distributor_id) | Q(parent_id=distributor_id) | Q(ancestor_2_id=distributor_id) | Q(ancestor_3_id=distributor_id)


def total(measure: str, window: Window, *, members: Q | None = None) -> Decimal:
    """A measure summed over the tenant (`members` None) or over the distributors `members`
    selects (a team): direct sales, orders, recruits and commission add up; active_distributors
    counts the distributors with a counted direct order; net_sales is the tenant's (every paid
    order, with or without a beneficiary: the tenant only). team_sales has no total (an order
    would count once per beneficiary): MeasureError. One query."""
    if measure == Measure.NET_SALES:
        if members is not None:
            raise MeasureError("net_sales is the tenant's whole net sales")
        raw = TenantDay.objects.filter(day__gte=window.first_day, day__lt=window.end_day).aggregate(t=Sum("net_sales"))["t"]
        return _value(measure, raw)
    if measure == Measure.TEAM_SALES:
        raise MeasureError("team_sales has no total: an order counts for each of its beneficiaries")
    in_window = Q(day__gte=window.first_day, day__lt=window.end_day)
    figures = DailyFigure.objects.filter(in_window)
    if members is not None:
        figures = figures.filter(distributor__in=Distributor.objects.filter(members).values("pk"))
    if measure == Measure.ACTIVE_DISTRIBUTORS:
        return Decimal(figures.filter(direct_orders__gt=0).values("distributor_id").distinct().count())
    if measure in DAY_COLUMNS:
        return _value(measure, figures.aggregate(t=Sum(DAY_COLUMNS[measure][0]))["t"])
    if measure == Measure.NEW_DIRECT_RECRUITS:
        start, end = window.bounds(current_tenant().timezone)
        qs = Distributor.objects.filter(parent__isnull=False, status=Distributor.Status.ACTIVE,
                                        joined_at__gte=start, joined_at__lt=end)
        if members is not None:
            qs = qs.filter(parent__in=Distributor.objects.filter(members).values("pk"))
        return Decimal(qs.count())
    raise MeasureError(f"unknown measure {measure!r}")


# --- contests: scores kept with the day figures ------------------------------------------------

#: The measures whose contests keep their scores (ContestScore) with the day figures.
TRACKED = {m: DAY_COLUMNS[m] for m in (Measure.DIRECT_SALES, Measure.ORDER_COUNT, Measure.TEAM_SALES)}


def contest_window(contest) -> Window:
    return Window.between(contest.starts_at, contest.ends_at, current_tenant().timezone)


def is_tracked(contest) -> bool:
    """Does this contest keep its scores with the day figures (a running contest measured by sales or orders)?"""
    return contest.measure in TRACKED and contest.finalized_at is None


@dataclass(frozen=True)
class Board:
    """Scores kept with the day figures for one measure over one window: a running tracked
    contest's (ContestScore rows of `contest_id`) or a month ranking's (RankingScore rows of
    `board_id`). The functions below read and write either the same way."""

    model: type
    key_col: str
    key: int
    tenant_id: int
    measure: str
    window: Window

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def columns(self) -> tuple[str, str]:
        """The day-figure columns (score, last counted event) the board sums."""
        return DAY_COLUMNS[self.measure]


def contest_scoreboard(contest) -> Board:
    """The Board of a tracked contest (see is_tracked)."""
    from .models import ContestScore

    return Board(ContestScore, "contest_id", contest.pk, contest.tenant_id, contest.measure, contest_window(contest))


def ranking_scoreboard(ranking) -> Board:
    """The Board of a RankingBoard (its local month)."""
    from .models import RankingScore

    first = ranking.month
    end = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return Board(RankingScore, "board_id", ranking.pk, ranking.tenant_id, ranking.measure, Window(first, end))


#: The measures a month ranking keeps on a board (every measure with a day-figure column).
RANKED = tuple(DAY_COLUMNS)

#: The advisory lock (first key; the second is the tenant id) between making a board and the
#: accruals and refunds that add to boards (incentives.figures): a board is filled from the day
#: figures committed when its lock is granted, and every later change of a day figure reads the
#: board list after that commit (so it adds to the new board). PostgreSQL only; elsewhere writes
#: are serial.
BOARDS_LOCK = 0x6678_6231  # "fxb1"


def boards_lock(tenant_id: int, *, shared: bool) -> None:
    """Take the boards' advisory lock for the rest of the transaction: shared by the writers of
    day figures (they never wait for one another), exclusive while a board is made."""
    from django.db import connection

    if not _pg():
        return
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {fn}(%s, %s)", [BOARDS_LOCK, tenant_id])


def scores_fill(board: Board) -> None:
    """Fill an empty board from the day figures of its window (one INSERT ... SELECT), then take
    its rank snapshot. Call with the boards' lock held exclusively (boards_lock)."""
    from django.db import connection

    col, last = board.columns
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(board.table)} (tenant_id, {board.key_col}, distributor_id, score, reached_at) "
            f"SELECT tenant_id, %s, distributor_id, SUM({q(col)}), MAX({q(last)}) FROM {q(DailyFigure._meta.db_table)} "
            "WHERE tenant_id = %s AND day >= %s AND day < %s GROUP BY tenant_id, distributor_id "
            f"HAVING SUM({q(col)}) <> 0 OR MAX({q(last)}) IS NOT NULL",
            [board.key, board.tenant_id, board.window.first_day, board.window.end_day],
        )
    ranks_refresh(board)


def contest_scores_rebuild(contest) -> None:
    """Recompute a tracked contest's scores from the day figures of its window (creation, or a
    change of its window or measure): one DELETE and one INSERT ... SELECT, under the boards'
    lock (a concurrent accrual adds to the scores after it or is read by it, never neither)."""
    from .models import ContestScore

    boards_lock(contest.tenant_id, shared=False)  # before the DELETE: writers lock score rows after taking it shared
    ContestScore.objects.filter(contest=contest).delete()
    if is_tracked(contest):
        scores_fill(contest_scoreboard(contest))


def ranking_board(measure: str, first_day: date, *, make: bool = True):
    """The RankingBoard of `measure` (one of RANKED) for the local month starting `first_day`,
    made and filled the first time it is asked for when `make` (in its own transaction, under
    the boards' lock, racing requests making it once). None when it does not exist and `make`
    is false. One query when it exists."""
    from django.db import IntegrityError, transaction

    from tenants.context import single_tenant_id

    from .models import RankingBoard

    tenant_id = single_tenant_id()
    found = RankingBoard.objects.filter(measure=measure, month=first_day).first()
    if found is not None or not make:
        return found
    try:
        with transaction.atomic():
            boards_lock(tenant_id, shared=False)
            found = RankingBoard.objects.filter(measure=measure, month=first_day).first()
            if found is not None:  # made while this one waited for the lock
                return found
            ranking = RankingBoard.objects.create(tenant_id=tenant_id, measure=measure, month=first_day)
            scores_fill(ranking_scoreboard(ranking))
            return ranking
    except IntegrityError:  # made concurrently outside PostgreSQL's lock
        return RankingBoard.objects.get(measure=measure, month=first_day)


def contest_board(contest, *, limit: int | None = None, grade_ids=None, min_score: Decimal | None = None,
                  active_only: bool = False, people: dict | None = None) -> list[Ranked]:
    """The live leaderboard of a contest (`leaderboard` of its measure and window): from its kept
    scores when it is tracked (board_read), else computed."""
    if not is_tracked(contest):
        return leaderboard(contest.measure, contest_window(contest), limit=limit, grade_ids=grade_ids, min_score=min_score,
                           active_only=active_only)
    return board_read(contest_scoreboard(contest), limit=limit, grade_ids=grade_ids, min_score=min_score,
                      active_only=active_only, people=people)


def board_read(board: Board, *, limit: int | None = None, grade_ids=None, min_score: Decimal | None = None,
               active_only: bool = False, people: dict | None = None) -> list[Ranked]:
    """A board's ranking (what `leaderboard` computes for its measure and window): an index scan
    of its kept scores, joined to the distributors for grades and status, one query. Given a dict
    `people`, also fills it with {distributor id: (external_id, name)} of its rows in the same
    query (a leaderboard page is a hot read)."""
    from fenxiao.bulk import query, row_converter

    sql, params = _board_sql(board, grade_ids, min_score, active_only=active_only)
    select = "s.distributor_id, s.score, s.reached_at"
    if people is not None:
        select += ", d.external_id, d.name"
        if not (grade_ids or active_only):
            sql = sql.replace(" WHERE ", f" JOIN {Distributor._meta.db_table} d ON d.id = s.distributor_id WHERE ", 1)
    sql += " ORDER BY s.score DESC, s.reached_at ASC NULLS LAST, s.distributor_id" if _pg() else \
        " ORDER BY s.score DESC, s.reached_at IS NULL, s.reached_at, s.distributor_id"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    rows = query(f"SELECT {select} {sql}", [board.tenant_id, *params])
    convert = row_converter(board.model, ("distributor_id", "score", "reached_at"))
    value = _valuer(board.measure)
    out = []
    for i, row in enumerate(rows, start=1):
        d, score, reached = convert(row[:3])
        if people is not None:
            people[d] = (row[3], row[4])
        out.append(Ranked(i, d, value(score), reached))
    return out


def _pg() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _board_sql(board: Board, grade_ids, min_score, *, active_only: bool = False) -> tuple[str, list]:
    """FROM/WHERE of a board's ranking (raw: a leaderboard page is a hot read), params after the
    tenant id. Joined to the distributors when `grade_ids` or `active_only` asks."""
    sql = f" FROM {board.table} s"
    where = ["s.tenant_id = %s", f"s.{board.key_col} = %s", "s.score > 0"]
    params: list = [board.key]
    if grade_ids or active_only:
        sql += f" JOIN {Distributor._meta.db_table} d ON d.id = s.distributor_id"
    if grade_ids:
        where.append(f"d.grade_id IN ({', '.join(['%s'] * len(grade_ids))})")
        params += list(grade_ids)
    if active_only:
        where.append("d.status = %s")
        params.append(Distributor.Status.ACTIVE.value)
    if min_score is not None:
        where.append("s.score >= %s")
        params.append(_raw(board.measure, min_score))
    return sql + " WHERE " + " AND ".join(where), params



#: snap_reached of a row without a counted event: after every real time (the tie rule's NULLS LAST).
RANK_NEVER = datetime(9999, 12, 31, tzinfo=dt_timezone.utc)


def contest_ranks_refresh(contest) -> int:
    """ranks_refresh of a tracked contest (0 for any other)."""
    if not is_tracked(contest):
        return 0
    return ranks_refresh(contest_scoreboard(contest))


def ranks_refresh(board: Board) -> int:
    """Take a board's rank snapshot: every kept score's key (snap_neg = -score,
    snap_reached = reached_at or RANK_NEVER) and its rank among the scores above 0 by the tie rule
    (domain rules section 8), in one UPDATE ... FROM over a window function; `dirty` is cleared
    where the row still holds the values the snapshot read (a score written concurrently stays
    dirty: the SET compares with the row's newest version). Rows whose snapshot did not change are
    not written. Returns the rows written. Run every minute by the `ranks:<slug>` task and after a
    fill; board_rank is exact whenever it ran (a fresh snapshot only makes it cheaper)."""
    from django.db import connection

    t = connection.ops.quote_name(board.table)
    never = connection.ops.adapt_datetimefield_value(RANK_NEVER)
    differs = "IS DISTINCT FROM" if _pg() else "IS NOT"
    order = "score DESC, reached_at ASC NULLS LAST, distributor_id" if _pg() else \
        "score DESC, reached_at IS NULL, reached_at, distributor_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {t} SET snap_neg = -r.score, snap_reached = COALESCE(r.reached_at, %s), snap_rank = r.rk, "
            f"dirty = ({t}.score <> r.score OR {t}.reached_at {differs} r.reached_at) "
            f"FROM (SELECT id, score, reached_at, CASE WHEN score > 0 THEN ROW_NUMBER() OVER ("
            f"PARTITION BY score > 0 ORDER BY {order}) END AS rk FROM {t} WHERE tenant_id = %s AND {board.key_col} = %s) AS r "
            f"WHERE {t}.id = r.id AND ({t}.dirty OR {t}.snap_rank {differs} r.rk)",
            [never, board.tenant_id, board.key])
        return cursor.rowcount


#: The statuses that take no part in a contest when it asks for active distributors only.
INACTIVE = [s.value for s in Distributor.Status if s != Distributor.Status.ACTIVE]


def contest_rank(contest, distributor_id: int, *, grade_ids=None, min_score: Decimal | None = None,
                 active_only: bool = False) -> tuple[int | None, Score]:
    """`rank_of` for a contest (domain rules section 8, the tie rule): board_rank of a tracked
    contest; untracked contests compute."""
    if not is_tracked(contest):
        return rank_of(contest.measure, contest_window(contest), distributor_id, grade_ids=grade_ids, min_score=min_score,
                       active_only=active_only)
    return board_rank(contest_scoreboard(contest), distributor_id, grade_ids=grade_ids, min_score=min_score,
                      active_only=active_only)


def board_rank(board: Board, distributor_id: int, *, grade_ids=None, min_score: Decimal | None = None,
               active_only: bool = False) -> tuple[int | None, Score]:
    """`rank_of` on a board. Without eligible grades it answers from the rank snapshot whatever
    the board's size, in one query (my score with my grade and status, and the rank from my row's
    key): 1 + the snapshot's rank of the last row ahead of mine (one index probe) + a correction
    over the rows written since the snapshot (those now ahead of me minus those that were), less,
    with `active_only`, the inactive distributors' rows ahead of mine (the tenant's few, found by
    their status index). A minimum score never changes who is ahead of an eligible score. With
    eligible grades (a grade change is no score change) it counts the eligible scores ahead of
    mine (a second query)."""
    from django.db import connection

    from fenxiao.bulk import query, row_converter

    scores, people, key = board.table, Distributor._meta.db_table, board.key_col
    tenant_id = board.tenant_id
    select, params = "SELECT s.score, s.reached_at, d.grade_id, d.status", []
    if not grade_ids:  # the rank from the snapshot, in the same statement (my key from my row)
        never = connection.ops.adapt_datetimefield_value(RANK_NEVER)
        mine_key = "(-s.score, COALESCE(s.reached_at, %s), s.distributor_id)"
        select += (
            f", (SELECT x.snap_rank FROM {scores} x WHERE x.tenant_id = %s AND x.{key} = %s AND x.snap_rank IS NOT NULL"
            f" AND (x.snap_neg, x.snap_reached, x.distributor_id) < {mine_key}"
            " ORDER BY x.snap_neg DESC, x.snap_reached DESC, x.distributor_id DESC LIMIT 1),"
            f" (SELECT SUM(CASE WHEN x.score > 0 AND (-x.score, COALESCE(x.reached_at, %s), x.distributor_id) < {mine_key}"
            f" THEN 1 ELSE 0 END - CASE WHEN x.snap_rank IS NOT NULL AND (x.snap_neg, x.snap_reached, x.distributor_id)"
            f" < {mine_key} THEN 1 ELSE 0 END) FROM {scores} x WHERE x.tenant_id = %s AND x.{key} = %s AND x.dirty)")
        params += [tenant_id, board.key, never, never, never, never, tenant_id, board.key]
        if active_only:
            marks = ", ".join(["%s"] * len(INACTIVE))
            select += (f", (SELECT COUNT(*) FROM {people} i JOIN {scores} x ON x.tenant_id = i.tenant_id"
                       f" AND x.{key} = %s AND x.distributor_id = i.id WHERE i.tenant_id = %s AND i.status IN ({marks})"
                       f" AND x.score > 0 AND (-x.score, COALESCE(x.reached_at, %s), x.distributor_id) < {mine_key})")
            params += [board.key, tenant_id, *INACTIVE, never, never]
        else:
            select += ", 0"
    found = query(f"{select} FROM {scores} s JOIN {people} d ON d.id = s.distributor_id"
                  f" WHERE s.tenant_id = %s AND s.{key} = %s AND s.distributor_id = %s",
                  [*params, tenant_id, board.key, distributor_id])
    row = row_converter(board.model, ("score", "reached_at"))(found[0][:2]) if found else None
    mine = Score(distributor_id, _value(board.measure, row[0] if row else 0), row[1] if row else None)
    if mine.score <= 0 or (min_score is not None and mine.score < min_score):
        return None, mine
    grade_id, status = found[0][2:4]
    if (grade_ids and grade_id not in grade_ids) or (active_only and status != Distributor.Status.ACTIVE):
        return None, mine
    raw = row[0]
    if not grade_ids:
        ahead, moved, inactive = found[0][4:]
        return 1 + (ahead or 0) + (moved or 0) - (inactive or 0), mine
    better = (" AND (s.score > %s OR (s.score = %s AND (s.reached_at < %s"
              " OR (s.reached_at = %s AND s.distributor_id < %s))))")
    reached = connection.ops.adapt_datetimefield_value(mine.reached_at)  # as the column stores it
    sql, params = _board_sql(board, grade_ids, min_score, active_only=active_only)
    (n,), = query(f"SELECT COUNT(*) {sql}{better}", [tenant_id, *params, raw, raw, reached, reached, distributor_id])
    return n + 1, mine


def whole_month(window: Window) -> date | None:
    """The first day of the local month `window` is exactly, else None."""
    first = window.first_day
    if first.day != 1:
        return None
    return first if window.end_day == date(first.year + (first.month == 12), first.month % 12 + 1, 1) else None


def ranking(measure: str, window: Window, *, limit: int, distributor_id: int | None = None,
            people: dict | None = None) -> tuple[list[Ranked], tuple[int | None, Score] | None]:
    """A ranking (domain rules section 8, 排行榜): the top `limit` under `measure` in `window` by
    the tie rule, and (rank, score) of `distributor_id` when given (None otherwise): what
    `leaderboard` and `rank_of` compute. A whole local month that has begun, under a measure of
    RANKED, reads its month board (made the first time: ranking_board), so the answer costs the
    same whatever the tenant's size: the board (1 query), its top (1, with the names when
    `people` is given) and my rank (1). Other windows and measures compute (a fixed number of
    queries growing with the window's figures)."""
    from django.utils import timezone

    first = whole_month(window) if measure in RANKED else None
    if first is not None:
        today = timezone.localtime(timezone.now(), ZoneInfo(current_tenant().timezone)).date()
        if first <= today:
            board = ranking_scoreboard(ranking_board(measure, first))
            return (board_read(board, limit=limit, people=people),
                    board_rank(board, distributor_id) if distributor_id is not None else None)
    ranked = leaderboard(measure, window, limit=limit)
    return ranked, (rank_of(measure, window, distributor_id) if distributor_id is not None else None)
