"""Pure rules of the incentives (domain rules section 8): no ORM, no I/O, exact Decimals only.

- `Score`, `rank`             the tie rule: higher score first, then whoever reached it first (the
                              earlier time of the last counted event), then the lower distributor id.
- `mask_name`                 names shown to other distributors: the first (and, from three characters, the last) kept.
- `Tier`, `tier_award`        tier bonuses: the highest tier whose threshold is reached (inclusive)
                              pays its fixed amount or its rate of the measure, rounded by the
                              tenant's mode to the currency's minor unit.
- `prize_for`                 a contest's prize for a rank.
- `Progress`, `progress_of`   a target's progress, expected pace and status.
- `month_window`, `quarter_window`, `year_window`, `local_window`
                              periods in the tenant's time zone as UTC instants [start, end).

Validation of what staff configure (tiers, prizes, windows) is in `tiers_problems`,
`prizes_problems`: each returns the first problem as (attr, code, message), or None.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from commissions.arithmetic import Text, gettext_noop, quantize_money

#: The local days an incentive window, target period, ranking or evaluated month may cover: far
#: enough from the ends of Python's dates (year 1 .. 9999) that a window's instants in any time
#: zone, and a contest's finalize_at up to settle_after_days (at most 3650) after its end, exist.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9899, 12, 31)
DAY_RANGE_MESSAGE = gettext_noop("Give a day from 1970-01-01 to 9899-12-31.")  # translated where raised

#: Status of a target (domain rules section 8, sales targets).
MET, AHEAD, ON_TRACK, BEHIND = "met", "ahead", "on_track", "behind"
#: Progress within this fraction of the expected pace either way is "on track" (10%: a target
#: expecting 50% by now is on track anywhere from 45% to 55% done).
PACE_TOLERANCE = Decimal("0.10")


@dataclass(frozen=True)
class Score:
    """A distributor's score under a measure, and when it reached it (the time of the last event
    counted: paid_at of the last counted order, joined_at of the last counted recruit)."""

    distributor_id: int
    score: Decimal
    reached_at: datetime | None


@dataclass(frozen=True)
class Ranked:
    rank: int
    distributor_id: int
    score: Decimal
    reached_at: datetime | None


def tie_key(s: Score) -> tuple:
    """Sort key of the tie rule: higher score first; equal scores: the earlier reached_at first (a
    score never reached, None, last); then the lower distributor id."""
    return (-s.score, s.reached_at is None, s.reached_at or datetime.min, s.distributor_id)


def rank(scores: Iterable[Score]) -> list[Ranked]:
    """Scores in the tie rule's order with ranks 1, 2, 3, ... (the rule leaves no ties)."""
    return [Ranked(i, s.distributor_id, s.score, s.reached_at) for i, s in enumerate(sorted(scores, key=tie_key), start=1)]


def mask_name(name: str) -> str:
    """Another distributor's name as a distributor sees it (domain rules section 8, rankings): the
    first character kept and, from three characters on, the last; the rest starred. A two-character
    name keeps only its first ("张三" -> "张*": keeping both would show it whole), "王小明" -> "王*明",
    "欧阳娜娜" -> "欧**娜", "Alice" -> "A***e"; one character or none -> "*"."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def masked(rows: list[dict], me_id: int) -> list[dict]:
    """Leaderboard rows ({"rank", "distributor_id", "name", "score"[, "prize"]}) as the distributor
    `me_id` sees them: other people's names masked (`mask_name`), mine as it is and marked `me`,
    no ids (domain rules section 8, rankings)."""
    return [{"rank": r["rank"], "name": r["name"] if r["distributor_id"] == me_id else mask_name(r["name"]),
             "score": r["score"], **({"prize": r["prize"]} if "prize" in r else {}), "me": r["distributor_id"] == me_id}
            for r in rows]


@dataclass(frozen=True)
class Tier:
    """A tier: reaching `threshold` (inclusive) pays `amount`, or `rate` x the measure."""

    threshold: Decimal
    amount: Decimal | None = None
    rate: Decimal | None = None


def tier_award(value: Decimal, tiers: Sequence[Tier], *, rounding: str, places: int) -> tuple[Tier | None, Decimal]:
    """(the highest tier whose threshold `value` reaches, the award) with the tiers in increasing
    threshold order; (None, 0) below the first. A rate tier pays value x rate rounded by
    `rounding` to `places` places; an amount tier pays its amount. Only the highest tier pays."""
    reached = None
    for tier in tiers:
        if value >= tier.threshold:
            reached = tier
    zero = quantize_money(Decimal(0), rounding, places)
    if reached is None:
        return None, zero
    if reached.rate is not None:
        return reached, quantize_money(value * reached.rate, rounding, places)
    return reached, quantize_money(reached.amount, rounding, places)


def _fits(value: Decimal, places: int) -> bool:
    return value == value.quantize(Decimal(1).scaleb(-places))


def tiers_problems(tiers: Sequence[Tier], *, places: int) -> tuple[str, str, str] | None:
    """The first problem of a tier list, as (attr, code, message), or None when it is valid: at least
    one tier; thresholds > 0 and strictly increasing; each tier either an amount (>= 0, whole minor
    units) or a rate (0 < rate <= 1, at most 4 places), not both."""
    if not tiers:
        return "tiers", "required", Text(gettext_noop("Give at least one tier."))
    previous = None
    for i, t in enumerate(tiers):
        where = f"tiers.{i}"
        if t.threshold <= 0:
            return f"{where}.threshold", "min_value", Text(gettext_noop("A threshold must be above 0."))
        if previous is not None and t.threshold <= previous:
            return f"{where}.threshold", "not_increasing", Text(gettext_noop("Thresholds must increase from one tier to the next."))
        previous = t.threshold
        if (t.amount is None) == (t.rate is None):
            return where, "amount_or_rate", Text(gettext_noop("Give each tier either an amount or a rate."))
        if t.amount is not None and (t.amount < 0 or not _fits(t.amount, places)):
            return f"{where}.amount", "invalid_amount", Text(gettext_noop("An amount is >= 0 with at most %(places)s decimal places."),
                                                             places=places)
        if t.rate is not None and not (0 < t.rate <= 1 and _fits(t.rate, 4)):
            return f"{where}.rate", "invalid_rate", Text(gettext_noop(
                "A rate is a fraction above 0 and at most 1 (1.0000 = 100%), 4 places."))
    return None


def prizes_problems(prizes: Sequence[Decimal], *, places: int) -> tuple[str, str, str] | None:
    """The first problem of a contest's prizes (1st, 2nd, ...), or None: each >= 0 with at most
    `places` places, and never more than the prize of the rank above."""
    for i, p in enumerate(prizes):
        if p < 0:
            return f"prizes.{i}", "min_value", Text(gettext_noop("A prize cannot be negative."))
        if not _fits(p, places):
            return f"prizes.{i}", "max_decimal_places", Text(gettext_noop("A prize has at most %(places)s decimal places."),
                                                             places=places)
        if i and p > prizes[i - 1]:
            return f"prizes.{i}", "not_decreasing", Text(gettext_noop(
                "A prize cannot be more than the prize of the rank above it."))
    return None


def prize_for(rank_: int, prizes: Sequence[Decimal]) -> Decimal | None:
    """The prize of rank `rank_` (1-based), or None past the last prize."""
    return prizes[rank_ - 1] if 1 <= rank_ <= len(prizes) else None


@dataclass(frozen=True)
class Progress:
    value: Decimal
    goal: Decimal
    progress: Decimal      # value / goal, 4 places (down)
    expected: Decimal      # elapsed fraction of the period, 4 places (down), 0..1
    status: str


def progress_of(value: Decimal, goal: Decimal, *, start: datetime, end: datetime, now: datetime) -> Progress:
    """A target's progress (domain rules section 8): progress = value / goal; expected = the
    elapsed fraction of [start, end) at `now` (0 before, 1 after); status `met` once value >=
    goal, else `ahead` when progress > expected x (1 + PACE_TOLERANCE), `behind` when progress <
    expected x (1 - PACE_TOLERANCE), else `on_track` (before the period starts: on track; once it
    has ended without the goal: behind)."""
    four = Decimal("0.0001")
    progress = (value / goal).quantize(four, rounding="ROUND_DOWN") if goal > 0 else Decimal("1.0000")
    span = (end - start).total_seconds()
    elapsed = min(max((now - start).total_seconds(), 0), span)
    expected = (Decimal(elapsed) / Decimal(span)).quantize(four, rounding="ROUND_DOWN") if span > 0 else Decimal("1.0000")
    exact = value / goal if goal > 0 else Decimal(1)
    if value >= goal:
        status = MET
    elif now >= end:
        status = BEHIND  # the period is over and the goal was missed
    elif exact > expected * (1 + PACE_TOLERANCE):
        status = AHEAD
    elif exact < expected * (1 - PACE_TOLERANCE):
        status = BEHIND
    else:
        status = ON_TRACK
    return Progress(value, goal, progress, expected, status)


def day_in_range(day: date) -> bool:
    """Is `day` one incentives may cover (FIRST_DAY .. LAST_DAY)?"""
    return FIRST_DAY <= day <= LAST_DAY


def local_window(tz_name: str, first_day: date, end_day: date) -> tuple[datetime, datetime]:
    """[first_day 00:00, end_day 00:00) in the tenant's time zone (end exclusive), as aware datetimes."""
    tz = ZoneInfo(tz_name)
    return datetime.combine(first_day, time.min, tz), datetime.combine(end_day, time.min, tz)


def month_window(tz_name: str, year: int, month: int) -> tuple[datetime, datetime]:
    """A local month [1st 00:00, next 1st 00:00)."""
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return local_window(tz_name, date(year, month, 1), nxt)


def quarter_window(tz_name: str, year: int, quarter: int) -> tuple[datetime, datetime]:
    """A local quarter (1..4)."""
    first = date(year, 3 * (quarter - 1) + 1, 1)
    return local_window(tz_name, first, date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1))


def year_window(tz_name: str, year: int) -> tuple[datetime, datetime]:
    """A local calendar year."""
    return local_window(tz_name, date(year, 1, 1), date(year + 1, 1, 1))


def local_day(instant: datetime, tz_name: str) -> date:
    """The tenant-local calendar day an instant falls on (domain rules section 9)."""
    return instant.astimezone(ZoneInfo(tz_name)).date()


def days_after(end: datetime, days: int, tz_name: str) -> datetime:
    """`days` whole days after `end` on the tenant's calendar and clock (finalize_at of a contest,
    the evaluation of a closed month): the same local time of day `days` dates later, whatever
    daylight saving time does in between (a day across a DST change is 23 or 25 hours long).
    The result is in the tenant's zone. Domain rules sections 8 and 9."""
    return end.astimezone(ZoneInfo(tz_name)) + timedelta(days=days)
