"""Writes of the incentives (domain rules section 8): grade upgrades, sales contests, tier bonuses
and sales targets. Every figure comes from incentives.measures; every rule of arithmetic and
ranking from incentives.rules; money is credited through the ledger (`bonus` entries).

Idempotency (CONVENTIONS: periodic jobs): a contest is finalized once (its row is locked and
`finalized_at` set in the transaction that credits the prizes; results are unique per contest and
rank, and per contest and distributor); a tier scheme's month is evaluated once (the scheme row is
locked, then a TierEvaluation unique per scheme and month is written with the awards, which are
unique per scheme, distributor and month). Running either twice, or at once, credits nothing more.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from commissions.arithmetic import quantize_money
from distributors.models import Distributor, Grade, GradeChange
from fenxiao.currencies import minor_units, money_str
from fenxiao.exceptions import InvalidState, invalid, translated
from tenants.context import current_tenant

from . import measures, rules
from .models import (
    DISTRIBUTOR_MEASURES, Contest, ContestResult, Measure, Standing, Target, TierAward, TierBonusScheme, TierEvaluation,
)

CONTEST_MEASURES = tuple(m.value for m in DISTRIBUTOR_MEASURES if m != Measure.COMMISSION)
SCHEME_MEASURES = (Measure.DIRECT_SALES.value, Measure.TEAM_SALES.value)


# --- grades ------------------------------------------------------------------------------------

def grade_conditions_hold(grade: Grade, *, settled_direct: Decimal, settled_team: Decimal, active_downlines: int) -> bool:
    """All the upgrade conditions `grade` sets hold (a grade without any never does: it is given
    by hand). Pure. Domain rules section 8."""
    if not grade.has_conditions:
        return False
    return ((grade.min_direct_sales is None or settled_direct >= grade.min_direct_sales)
            and (grade.min_team_sales is None or settled_team >= grade.min_team_sales)
            and (grade.min_direct_downlines is None or active_downlines >= grade.min_direct_downlines))


@transaction.atomic
def grades_evaluate(*, distributor_ids, at: datetime | None = None) -> list[GradeChange]:
    """Move each of `distributor_ids` (tenant in context) to the highest-ranked grade whose
    conditions hold, when it ranks above its current grade: never down (domain rules section 8).
    The figures are lifetime direct and team sales of settled orders (incentives Standing) and the
    number of active level-1 downlines. Each upgrade is in the grade history with its reason and
    queues `distributor.upgraded`; it applies to orders recorded from now on. A fixed number of
    queries plus one write per upgrade. Returns the grade changes made."""
    from distributors.services import distributor_grade_set

    ids = sorted(set(distributor_ids))
    grades = sorted((g for g in Grade.objects.all() if g.has_conditions), key=lambda g: (-g.rank, g.pk))
    if not ids or not grades:
        return []
    places = minor_units(current_tenant().currency)
    standing = {s.distributor_id: s for s in Standing.objects.filter(distributor_id__in=ids)}
    downlines = dict(Distributor.objects.filter(parent_id__in=ids, status=Distributor.Status.ACTIVE)
                     .values_list("parent_id").annotate(n=Count("id")))
    changes = []
    for d in Distributor.objects.select_related("grade", "tenant").filter(pk__in=ids).order_by("pk"):
        s = standing.get(d.pk)
        direct = Decimal(s.settled_direct_sales if s else 0).scaleb(-places)
        team = Decimal(s.settled_team_sales if s else 0).scaleb(-places)
        n = downlines.get(d.pk, 0)
        for g in grades:
            if d.grade is not None and g.rank <= d.grade.rank:
                break
            if grade_conditions_hold(g, settled_direct=direct, settled_team=team, active_downlines=n):
                reason = (f"settled direct sales {direct}, team sales {team}, active direct downlines {n} "
                          f"meet {g.code}")
                distributor_grade_set(distributor=d, grade=g, kind=GradeChange.Kind.UPGRADE, reason=reason, at=at)
                changes.append(GradeChange.objects.filter(distributor=d).order_by("-id").first())
                break
    return changes


def grades_evaluate_all(*, at: datetime | None = None, chunk: int = 1000) -> int:
    """Evaluate every distributor of the tenant in context (the staff's "evaluate now"), in chunks.
    Returns how many were upgraded."""
    upgraded, last = 0, 0
    while True:
        ids = list(Distributor.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            return upgraded
        upgraded += len(grades_evaluate(distributor_ids=ids, at=at))
        last = ids[-1]


# --- validation helpers ------------------------------------------------------------------------

def _decimal(value, attr: str) -> Decimal:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise invalid(attr, gettext("Not a number."), "invalid") from None
    if not d.is_finite():
        raise invalid(attr, gettext("Not a number."), "invalid")
    return d


def _day_checked(day: date, attr: str) -> date:
    """`day` when incentives may cover it (rules.FIRST_DAY .. rules.LAST_DAY), else 400 `out_of_range`."""
    if not rules.day_in_range(day):
        raise invalid(attr, gettext(rules.DAY_RANGE_MESSAGE), "out_of_range")
    return day


def _instant_checked(instant: datetime, attr: str) -> datetime:
    """`instant` when its tenant-local day is in range (400 `out_of_range` otherwise, also for an
    instant whose local or UTC time falls outside Python's dates)."""
    from datetime import timezone as dt_timezone
    from zoneinfo import ZoneInfo

    try:
        instant.astimezone(dt_timezone.utc)
        day = instant.astimezone(ZoneInfo(current_tenant().timezone)).date()
    except OverflowError:
        raise invalid(attr, gettext(rules.DAY_RANGE_MESSAGE), "out_of_range") from None
    _day_checked(day, attr)
    return instant


def _window(starts_at: datetime, ends_at: datetime) -> measures.Window:
    """400 unless [starts_at, ends_at) is whole local days of the tenant, end after start, both in
    range (`out_of_range`)."""
    tz = current_tenant().timezone
    _instant_checked(starts_at, "starts_at")
    _instant_checked(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise invalid("ends_at", gettext("The window must end after it starts."), "invalid_window")
    try:
        return measures.Window.between(starts_at, ends_at, tz)
    except ValueError:
        raise invalid("starts_at", gettext("A window starts and ends at local midnight (00:00 %(tz)s): whole days of the "
                                           "tenant's time zone.") % {"tz": tz}, "not_local_midnight") from None


def _problem(found):
    if found is not None:
        attr, code, message = found
        raise invalid(attr, translated(message), code)


def _score_limit(measure: str, value, places: int, attr: str) -> Decimal | None:
    if value is None:
        return None
    d = _decimal(value, attr)
    allowed = places if measure in measures.MONEY else 0
    if d < 0 or d != d.quantize(Decimal(1).scaleb(-allowed)):
        raise invalid(attr, gettext("Give a number >= 0 with at most %(places)s decimal places.") % {"places": allowed},
                      "invalid")
    return d


# --- contests ----------------------------------------------------------------------------------

CONTEST_FIELDS = ("name", "starts_at", "ends_at", "measure", "min_score", "grades", "prizes", "finalize_at")


def _contest_values(tenant, values: dict, current: Contest | None) -> dict:
    """Validate a contest's fields (all of them, merged over `current`): 400 with the field as attr."""
    v = {f: getattr(current, f) for f in CONTEST_FIELDS if f != "grades"} if current else {}
    if current:
        v["grades"] = list(current.grades.all())
    v.update(values)
    if not str(v.get("name") or "").strip():
        raise invalid("name", gettext("A contest needs a name."), "required")
    for f in ("starts_at", "ends_at"):
        if not isinstance(v.get(f), datetime):
            raise invalid(f, gettext("Give the time with an offset (RFC 3339)."), "required")
    _window(v["starts_at"], v["ends_at"])
    if v.get("measure") not in CONTEST_MEASURES:
        raise invalid("measure", gettext("Unknown measure %(measure)r; use one of %(measures)s.") % {
            "measure": v.get("measure"), "measures": ", ".join(CONTEST_MEASURES)},
                      "invalid_choice")
    places = minor_units(tenant.currency)
    prizes = [_decimal(p, f"prizes.{i}") for i, p in enumerate(v.get("prizes") or [])]
    _problem(rules.prizes_problems(prizes, places=places))
    v["prizes"] = [money_str(quantize_money(p, "down", places), tenant.currency) for p in prizes]
    v["min_score"] = _score_limit(v["measure"], v.get("min_score"), places, "min_score")
    if v.get("finalize_at") is not None and "finalize_at" in values:
        _instant_checked(v["finalize_at"], "finalize_at")
    def default(end):   # window end + settle_after_days days, on the tenant's calendar
        return rules.days_after(end, tenant.settle_after_days, tenant.timezone)

    if v.get("finalize_at") is None or ("ends_at" in values and "finalize_at" not in values and current
                                        and current.finalize_at == default(current.ends_at)):
        v["finalize_at"] = default(v["ends_at"])
    if v["finalize_at"] < v["ends_at"]:
        raise invalid("finalize_at", gettext("A contest is finalized after it ends."), "invalid_window")
    return v


@transaction.atomic
def contest_create(*, tenant, name: str, starts_at: datetime, ends_at: datetime, measure: str, prizes: list,
                   min_score=None, grades: list[Grade] | None = None, finalize_at: datetime | None = None) -> Contest:
    """A sales contest (domain rules section 8). The window is whole local days [starts_at,
    ends_at); `measure` one of direct_sales, team_sales, new_direct_recruits, order_count;
    `prizes` an amount per rank (1st, 2nd, ...), each >= 0, never more than the rank above and in
    the tenant currency's minor units; `min_score` >= 0; `grades` the eligible grades (none:
    everyone); `finalize_at` defaults to ends_at + settle_after_days (refunds of the window's
    orders count until then). 400 on any of these."""
    v = _contest_values(tenant, {"name": name, "starts_at": starts_at, "ends_at": ends_at, "measure": measure,
                                 "prizes": prizes, "min_score": min_score, "grades": grades or [],
                                 "finalize_at": finalize_at}, None)
    grades_ = v.pop("grades")
    contest = Contest.objects.create(tenant=tenant, **v)
    contest.grades.set(grades_)
    measures.contest_scores_rebuild(contest)
    return contest


@transaction.atomic
def contest_update(*, contest: Contest, **changes) -> Contest:
    """Change a contest's fields (those of `contest_create`); validated the same way (400). A
    finalized contest cannot change (409): its ranking is frozen and its prizes paid."""
    locked = Contest.objects.select_for_update().get(pk=contest.pk)
    if locked.finalized_at is not None:
        raise InvalidState(gettext("A finalized contest cannot be changed."))
    unknown = set(changes) - set(CONTEST_FIELDS)
    if unknown:
        raise invalid(sorted(unknown)[0], gettext("Unknown field."), "unknown_field")
    v = _contest_values(current_tenant(), changes, locked)
    grades_ = v.pop("grades")
    rebuild = any(getattr(locked, f) != v[f] for f in ("starts_at", "ends_at", "measure"))
    for f, value in v.items():
        setattr(locked, f, value)
    locked.save()
    locked.grades.set(grades_)
    if rebuild:
        measures.contest_scores_rebuild(locked)
    return locked


def contest_window(contest: Contest) -> measures.Window:
    return measures.Window.between(contest.starts_at, contest.ends_at, current_tenant().timezone)


def _eligibility(contest: Contest) -> dict:
    """Who takes part in a contest: active distributors (a frozen, disabled or pending one wins no
    prize, as it earns no commission: domain rules section 6), of its eligible grades (none:
    every grade), with at least its minimum score."""
    grade_ids = getattr(contest, "eligible_grade_ids", None)  # read with the row (selectors.contest_to_read)
    if grade_ids is None:
        grade_ids = [g.pk for g in contest.grades.all()]
    return {"grade_ids": grade_ids or None, "min_score": contest.min_score, "active_only": True}


def contest_leaderboard(*, contest: Contest, limit: int | None = None, people: dict | None = None
                        ) -> list[tuple[rules.Ranked, Decimal | None]]:
    """[(ranked, prize or None)] best first: the frozen ranking of a finalized contest, else the live
    one (eligible distributors, `_eligibility`, with a score above 0, by the tie rule). A dict
    `people` may be filled with {distributor id: (external_id, name)} of the rows (see
    measures.contest_board); callers must not rely on it being filled."""
    prizes = [Decimal(p) for p in contest.prizes]
    if contest.finalized_at is not None:
        qs = ContestResult.objects.filter(contest=contest).order_by("rank")
        if limit is not None:
            qs = qs[:limit]
        return [(rules.Ranked(r.rank, r.distributor_id, _stored_score(contest.measure, r.score), r.reached_at),
                 r.prize if r.rank <= len(prizes) else None) for r in qs]
    ranked = measures.contest_board(contest, limit=limit, people=people, **_eligibility(contest))
    return [(r, rules.prize_for(r.rank, prizes)) for r in ranked]


def _stored_score(measure: str, score: Decimal) -> Decimal:
    """A frozen score (stored with 4 places) as the measure writes it: money with the tenant
    currency's places, counts whole."""
    if measure in measures.MONEY:
        return score.quantize(Decimal(1).scaleb(-minor_units(current_tenant().currency)))
    return Decimal(int(score))


def contest_standing_of(*, contest: Contest, distributor_id: int) -> tuple[int | None, Decimal, Decimal | None]:
    """(rank or None, score, prize or None) of one distributor in a contest (frozen once finalized)."""
    prizes = [Decimal(p) for p in contest.prizes]
    if contest.finalized_at is not None:
        r = ContestResult.objects.filter(contest=contest, distributor_id=distributor_id).first()
        if r is None:
            return None, measures.score_of(contest.measure, contest_window(contest), distributor_id).score, None
        return r.rank, _stored_score(contest.measure, r.score), rules.prize_for(r.rank, prizes)
    rank, score = measures.contest_rank(contest, distributor_id, **_eligibility(contest))
    return rank, score.score, rules.prize_for(rank, prizes) if rank else None


@transaction.atomic
def contest_finalize(*, contest: Contest, actor: str = "", now: datetime | None = None) -> tuple[Contest, bool]:
    """Finalize a contest once (domain rules section 8): freeze its ranking (ContestResult per ranked
    distributor: the eligible ones, `_eligibility`, as they stand now: a distributor frozen or
    disabled by then is not ranked and the next one takes its place) and credit each prize above 0
    to its winner's ledger as one `bonus` entry
    (available at once); queue `contest.finalized` and a `bonus.credited` per prize. Returns
    (contest, True) when this call finalized it, (contest, False) when it already was (nothing
    more is credited, however often or concurrently it runs). 409 before the contest ends."""
    from ledger.postings import bonus_entry, entries_post, event_record

    now = now or timezone.now()
    locked = Contest.objects.select_for_update().get(pk=contest.pk)
    if locked.finalized_at is not None:
        return locked, False
    if now < locked.ends_at:
        raise InvalidState(gettext("A contest is finalized once it has ended."))
    tenant = current_tenant()
    prizes = [Decimal(p) for p in locked.prizes]
    ranked = measures.contest_board(locked, **_eligibility(locked))
    results = [ContestResult(tenant=tenant, contest=locked, rank=r.rank, distributor_id=r.distributor_id, score=r.score,
                             reached_at=r.reached_at, prize=rules.prize_for(r.rank, prizes) or Decimal(0))
               for r in ranked]
    winners = [r for r in results if r.prize > 0]
    entries = [bonus_entry(tenant_id=tenant.pk, distributor_id=r.distributor_id, amount=r.prize, at=now,
                           memo=f"contest {locked.public_id} {locked.name}: rank {r.rank}") for r in winners]
    entries_post(tenant=tenant, entries=entries)
    for r, e in zip(winners, entries):
        r.entry = e
    ContestResult.objects.bulk_create(results, batch_size=2000)
    locked.finalized_at, locked.finalized_by = now, actor[:150]
    locked.save(update_fields=["finalized_at", "finalized_by"])
    measures.contest_scores_rebuild(locked)  # frozen now: its kept scores go (ContestResult holds the ranking)
    externals = dict(Distributor.objects.filter(pk__in=[r.distributor_id for r in winners]).values_list("pk", "external_id"))
    event_record(tenant=tenant, type="contest.finalized", payload={
        "contest_id": locked.public_id, "name": locked.name, "measure": locked.measure, "currency": tenant.currency,
        "winners": [{"rank": r.rank, "distributor_external_id": externals[r.distributor_id],
                     "score": str(r.score), "prize": money_str(r.prize, tenant.currency)} for r in winners],
    })
    for r in winners:
        event_record(tenant=tenant, type="bonus.credited", payload={
            "source": "contest", "contest_id": locked.public_id, "distributor_external_id": externals[r.distributor_id],
            "amount": money_str(r.prize, tenant.currency), "currency": tenant.currency})
    return locked, True


def contests_finalize_due(*, now: datetime | None = None) -> int:
    """Finalize every contest of the tenant in context whose finalize_at has come (beat). Each in
    its own transaction; returns how many this run finalized."""
    now = now or timezone.now()
    done = 0
    for pk in Contest.objects.filter(finalized_at__isnull=True, finalize_at__lte=now).order_by("finalize_at", "pk") \
            .values_list("pk", flat=True):
        _, finalized = contest_finalize(contest=Contest.objects.get(pk=pk), actor="schedule", now=now)
        done += finalized
    return done


def contest_ranks_refresh_due() -> dict:
    """Take the rank snapshot (measures.ranks_refresh) of every running tracked contest and every
    month ranking board of the tenant in context with scores written since its last one. Each
    board in its own transaction. Returns {"contests": n contests refreshed, "rankings": n
    ranking boards refreshed, "rows": n written}."""
    from .models import ContestScore, RankingBoard, RankingScore

    done = {"contests": 0, "rankings": 0, "rows": 0}
    for contest in Contest.objects.filter(finalized_at__isnull=True, measure__in=list(measures.TRACKED)).order_by("pk"):
        if ContestScore.objects.filter(contest=contest, dirty=True).exists():
            with transaction.atomic():
                done["rows"] += measures.contest_ranks_refresh(contest)
            done["contests"] += 1
    for ranking in RankingBoard.objects.order_by("pk"):
        if RankingScore.objects.filter(board=ranking, dirty=True).exists():
            with transaction.atomic():
                done["rows"] += measures.ranks_refresh(measures.ranking_scoreboard(ranking))
            done["rankings"] += 1
    return done


# --- tier bonuses ------------------------------------------------------------------------------

def _tiers(raw, places: int) -> list[rules.Tier]:
    """Tiers from [{"threshold", "amount" | "rate"}], validated (400, attr "tiers.<i>...")."""
    if not isinstance(raw, list):
        raise invalid("tiers", gettext("Give a list of tiers."), "invalid")
    tiers = []
    for i, t in enumerate(raw):
        if not isinstance(t, dict) or not set(t) <= {"threshold", "amount", "rate"} or "threshold" not in t:
            raise invalid(f"tiers.{i}", gettext('A tier is {"threshold", "amount"} or {"threshold", "rate"}.'), "invalid")
        tiers.append(rules.Tier(
            threshold=_decimal(t["threshold"], f"tiers.{i}.threshold"),
            amount=_decimal(t["amount"], f"tiers.{i}.amount") if t.get("amount") is not None else None,
            rate=_decimal(t["rate"], f"tiers.{i}.rate") if t.get("rate") is not None else None))
    _problem(rules.tiers_problems(tiers, places=places))
    for i, t in enumerate(tiers):  # on update too: tiers_json would otherwise cut "100.005" to 100.00
        if t.threshold != t.threshold.quantize(Decimal(1).scaleb(-places)):
            raise invalid(f"tiers.{i}.threshold", gettext("A threshold is an amount in the tenant currency's minor units."), "invalid")
    return tiers


def tiers_json(tiers: list[rules.Tier], currency: str) -> list[dict]:
    """The stored form of tiers: thresholds and amounts with the currency's places, rates with 4."""
    out = []
    for t in tiers:
        row = {"threshold": money_str(quantize_money(t.threshold, "down", minor_units(currency)), currency)}
        if t.amount is not None:
            row["amount"] = money_str(t.amount, currency)
        else:
            row["rate"] = str(t.rate.quantize(Decimal("0.0001")))
        out.append(row)
    return out


def scheme_tiers(scheme: TierBonusScheme) -> list[rules.Tier]:
    return [rules.Tier(Decimal(t["threshold"]), Decimal(t["amount"]) if "amount" in t else None,
                       Decimal(t["rate"]) if "rate" in t else None) for t in scheme.tiers]


@transaction.atomic
def tier_scheme_create(*, tenant, name: str, measure: str, tiers: list, is_active: bool = True) -> TierBonusScheme:
    """A tier bonus scheme (domain rules section 8): `measure` direct_sales or team_sales per local
    month; `tiers` [{"threshold", "amount"} | {"threshold", "rate"}] with thresholds > 0 strictly
    increasing (thresholds in the tenant currency's minor units), amounts >= 0 in its minor units,
    rates in (0, 1] with 4 places. 400 on any of these."""
    if not str(name or "").strip():
        raise invalid("name", gettext("A scheme needs a name."), "required")
    if measure not in SCHEME_MEASURES:
        raise invalid("measure", gettext("Unknown measure %(measure)r; use direct_sales or team_sales.") % {"measure": measure},
                      "invalid_choice")
    parsed = _tiers(tiers, minor_units(tenant.currency))
    for i, t in enumerate(parsed):
        if t.threshold != t.threshold.quantize(Decimal(1).scaleb(-minor_units(tenant.currency))):
            raise invalid(f"tiers.{i}.threshold", gettext("A threshold is an amount in the tenant currency's minor units."), "invalid")
    return TierBonusScheme.objects.create(tenant=tenant, name=name.strip(), measure=measure,
                                          tiers=tiers_json(parsed, tenant.currency), is_active=is_active)


@transaction.atomic
def tier_scheme_update(*, scheme: TierBonusScheme, **changes) -> TierBonusScheme:
    """Change a scheme's name, measure, tiers or is_active (validated as on creation). Months
    already evaluated keep their awards; later evaluations use the new tiers."""
    unknown = set(changes) - {"name", "measure", "tiers", "is_active"}
    if unknown:
        raise invalid(sorted(unknown)[0], gettext("Unknown field."), "unknown_field")
    locked = TierBonusScheme.objects.select_for_update().get(pk=scheme.pk)
    tenant = current_tenant()
    name = changes.get("name", locked.name)
    measure = changes.get("measure", locked.measure)
    if not str(name or "").strip():
        raise invalid("name", gettext("A scheme needs a name."), "required")
    if measure not in SCHEME_MEASURES:
        raise invalid("measure", gettext("Unknown measure %(measure)r; use direct_sales or team_sales.") % {"measure": measure},
                      "invalid_choice")
    if "tiers" in changes:
        locked.tiers = tiers_json(_tiers(changes["tiers"], minor_units(tenant.currency)), tenant.currency)
    locked.name, locked.measure = name.strip(), measure
    if "is_active" in changes:
        locked.is_active = bool(changes["is_active"])
    locked.save()
    return locked


_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def month_of(period: str) -> date:
    """"YYYY-MM" (ASCII digits, month 01..12) -> the first day of that month; 400 `invalid`
    otherwise ("2026-3", "+202-01", full-width digits), `out_of_range` outside rules.FIRST_DAY ..
    rules.LAST_DAY."""
    found = _MONTH.fullmatch(period) if isinstance(period, str) else None
    if found is None:
        raise invalid("period", gettext("Give the month as YYYY-MM."), "invalid")
    year = int(found.group(1))
    if not rules.FIRST_DAY.year <= year <= rules.LAST_DAY.year:
        raise invalid("period", gettext(rules.DAY_RANGE_MESSAGE), "out_of_range")
    return date(year, int(found.group(2)), 1)


def month_window(first: date) -> measures.Window:
    return measures.Window(first, date(first.year + (first.month == 12), first.month % 12 + 1, 1))


@transaction.atomic
def tier_bonus_evaluate(*, scheme: TierBonusScheme, period: date, actor: str = "", now: datetime | None = None
                        ) -> tuple[TierEvaluation, list[TierAward], bool]:
    """Evaluate a scheme for the local month starting `period` (domain rules section 8): each
    active distributor (a frozen, disabled or pending one is paid no bonus, as no commission)
    whose measure reaches a threshold (inclusive) gets the highest tier reached, an
    amount or its rate of the measure (rounded by the tenant's mode), as one `bonus` ledger entry
    and a `bonus.credited` event. Once per (scheme, month): a second or concurrent run returns the
    first evaluation and credits nothing (False). 400 when the month has not ended yet."""
    from ledger.postings import bonus_entry, entries_post, event_record

    now = now or timezone.now()
    tenant = current_tenant()
    window = month_window(period)
    if window.bounds(tenant.timezone)[1] > now:
        raise invalid("period", gettext("%(month)s has not ended yet; a month is evaluated once it is over.") % {
            "month": f"{period:%Y-%m}"}, "period_not_closed")
    locked = TierBonusScheme.objects.select_for_update().get(pk=scheme.pk)
    seen = TierEvaluation.objects.filter(scheme=locked, period=period).first()
    if seen is not None:
        return seen, list(TierAward.objects.filter(scheme=locked, period=period)), False
    places = minor_units(tenant.currency)
    tiers = scheme_tiers(locked)
    awards = []
    for r in measures.leaderboard(locked.measure, window, min_score=min(t.threshold for t in tiers), active_only=True):
        tier, amount = rules.tier_award(r.score, tiers, rounding=tenant.rounding, places=places)
        if tier is None or amount <= 0:
            continue
        awards.append(TierAward(tenant=tenant, scheme=locked, distributor_id=r.distributor_id, period=period,
                                measure_value=r.score, threshold=tier.threshold, rate=tier.rate, amount=amount))
    entries = [bonus_entry(tenant_id=tenant.pk, distributor_id=a.distributor_id, amount=a.amount, at=now,
                           memo=f"tier bonus {locked.public_id} {locked.name}: {period:%Y-%m}") for a in awards]
    entries_post(tenant=tenant, entries=entries)
    for a, e in zip(awards, entries):
        a.entry = e
    TierAward.objects.bulk_create(awards, batch_size=2000)
    evaluation = TierEvaluation.objects.create(tenant=tenant, scheme=locked, period=period, awards=len(awards),
                                               evaluated_by=actor[:150])
    externals = dict(Distributor.objects.filter(pk__in=[a.distributor_id for a in awards]).values_list("pk", "external_id"))
    for a in awards:
        event_record(tenant=tenant, type="bonus.credited", payload={
            "source": "tier_bonus", "scheme_id": locked.public_id, "period": f"{period:%Y-%m}",
            "distributor_external_id": externals[a.distributor_id], "measure_value": str(a.measure_value),
            "threshold": str(a.threshold), "amount": money_str(a.amount, tenant.currency), "currency": tenant.currency})
    return evaluation, awards, True


def tier_bonuses_evaluate_due(*, now: datetime | None = None) -> int:
    """Evaluate each active scheme of the tenant in context for every month that ended
    settle_after_days days ago or more, since the month the scheme was created in, and that is
    not evaluated yet (beat). Returns how many months this run evaluated."""
    now = now or timezone.now()
    tenant = current_tenant()
    done = 0
    for scheme in TierBonusScheme.objects.filter(is_active=True).order_by("pk"):
        evaluated = set(TierEvaluation.objects.filter(scheme=scheme).values_list("period", flat=True))
        created = timezone.localtime(scheme.created_at, timezone=_zone(tenant)).date()
        month = date(created.year, created.month, 1)
        while True:
            window = month_window(month)
            if rules.days_after(window.bounds(tenant.timezone)[1], tenant.settle_after_days, tenant.timezone) > now:
                break
            if month not in evaluated:
                done += tier_bonus_evaluate(scheme=scheme, period=month, actor="schedule", now=now)[2]
            month = window.end_day
    return done


def _zone(tenant):
    from zoneinfo import ZoneInfo

    return ZoneInfo(tenant.timezone)


# --- targets -----------------------------------------------------------------------------------

TARGET_MEASURES = {
    Target.Scope.TENANT: tuple(m.value for m in Measure if m != Measure.TEAM_SALES),
    Target.Scope.DISTRIBUTOR: tuple(m.value for m in DISTRIBUTOR_MEASURES),
    Target.Scope.TEAM: (Measure.DIRECT_SALES.value, Measure.ORDER_COUNT.value, Measure.NEW_DIRECT_RECRUITS.value,
                        Measure.COMMISSION.value, Measure.ACTIVE_DISTRIBUTORS.value),
}


def target_period(period: str, starts_on: date, ends_on: date | None) -> tuple[date, date]:
    """[first day, end day) of a target's period: a month, quarter or year starting `starts_on`
    (which must be its first day), or a custom range `starts_on`..`ends_on` inclusive (400)."""
    _day_checked(starts_on, "starts_on")
    if ends_on is not None and period == Target.Period.CUSTOM:
        _day_checked(ends_on, "ends_on")
    if period == Target.Period.MONTH:
        if starts_on.day != 1:
            raise invalid("starts_on", gettext("A month starts on its first day."), "invalid")
        return starts_on, month_window(starts_on).end_day
    if period == Target.Period.QUARTER:
        if starts_on.day != 1 or starts_on.month not in (1, 4, 7, 10):
            raise invalid("starts_on", gettext("A quarter starts on January, April, July or October 1."), "invalid")
        end = starts_on
        for _ in range(3):
            end = month_window(end).end_day
        return starts_on, end
    if period == Target.Period.YEAR:
        if (starts_on.month, starts_on.day) != (1, 1):
            raise invalid("starts_on", gettext("A year starts on January 1."), "invalid")
        return starts_on, date(starts_on.year + 1, 1, 1)
    if period == Target.Period.CUSTOM:
        if ends_on is None:
            raise invalid("ends_on", gettext("A custom period needs its last day."), "required")
        if ends_on < starts_on:
            raise invalid("ends_on", gettext("The period ends before it starts."), "invalid_window")
        from datetime import timedelta

        return starts_on, ends_on + timedelta(days=1)
    raise invalid("period", gettext("Unknown period %(period)r; use month, quarter, year or custom.") % {"period": period},
                  "invalid_choice")


@transaction.atomic
def target_create(*, tenant, name: str, scope: str, measure: str, period: str, starts_on: date, goal,
                  ends_on: date | None = None, distributor: Distributor | None = None) -> Target:
    """A sales target (domain rules section 8): scope `tenant` (no distributor), `distributor` or
    `team` (a distributor and its level 1-3 downlines) with a measure that applies to it, a
    period (month, quarter, year from its first day, or custom first..last day, local days) and
    a goal > 0 (money in the tenant currency's minor units, counts whole). 400 otherwise."""
    values = _target_values(tenant, {"name": name, "scope": scope, "measure": measure, "period": period,
                                     "starts_on": starts_on, "ends_on": ends_on, "goal": goal,
                                     "distributor": distributor})
    return Target.objects.create(tenant=tenant, **values)


def _target_values(tenant, v: dict) -> dict:
    if not str(v.get("name") or "").strip():
        raise invalid("name", gettext("A target needs a name."), "required")
    if v.get("scope") not in Target.Scope.values:
        raise invalid("scope", gettext("Use tenant, distributor or team."), "invalid_choice")
    if (v["scope"] == Target.Scope.TENANT) != (v.get("distributor") is None):
        raise invalid("distributor", gettext("A distributor or team target names its distributor; a tenant target none."),
                      "invalid")
    if v.get("measure") not in TARGET_MEASURES[v["scope"]]:
        raise invalid("measure", gettext("%(measure)r is not a measure of a %(scope)s target; use one of %(measures)s.") % {
            "measure": v.get("measure"), "scope": v["scope"], "measures": ", ".join(TARGET_MEASURES[v["scope"]])},
            "invalid_choice")
    first, end = target_period(v.get("period"), v["starts_on"], v.get("ends_on"))
    goal = _decimal(v.get("goal"), "goal")
    places = minor_units(tenant.currency) if v["measure"] in measures.MONEY else 0
    if goal <= 0 or goal != goal.quantize(Decimal(1).scaleb(-places)):
        raise invalid("goal", gettext("A goal is above 0 with at most %(places)s decimal places.") % {"places": places},
                      "invalid")
    start_at, end_at = measures.Window(first, end).bounds(tenant.timezone)
    return {"name": v["name"].strip(), "scope": v["scope"], "distributor": v.get("distributor"), "measure": v["measure"],
            "period": v["period"], "starts_at": start_at, "ends_at": end_at, "goal": goal}


@transaction.atomic
def target_update(*, target: Target, **changes) -> Target:
    """Change a target (fields of `target_create`), validated the same way."""
    unknown = set(changes) - {"name", "scope", "measure", "period", "starts_on", "ends_on", "goal", "distributor"}
    if unknown:
        raise invalid(sorted(unknown)[0], gettext("Unknown field."), "unknown_field")
    tenant = current_tenant()
    window = measures.Window.between(target.starts_at, target.ends_at, tenant.timezone)
    from datetime import timedelta

    current = {"name": target.name, "scope": target.scope, "measure": target.measure, "period": target.period,
               "starts_on": window.first_day, "ends_on": window.end_day - timedelta(days=1), "goal": target.goal,
               "distributor": target.distributor}
    values = _target_values(tenant, {**current, **changes})
    for f, value in values.items():
        setattr(target, f, value)
    target.save()
    return target


def target_value(target: Target) -> Decimal:
    """The target's measure so far (domain rules section 8): over the tenant, one distributor or
    its team, in the target's period. One query."""
    window = measures.Window.between(target.starts_at, target.ends_at, current_tenant().timezone)
    if target.scope == Target.Scope.TENANT:
        return measures.total(target.measure, window)
    if target.scope == Target.Scope.TEAM:
        return measures.total(target.measure, window, members=measures.team_of(target.distributor_id))
    if target.measure == Measure.ACTIVE_DISTRIBUTORS:
        return measures.total(target.measure, window, members=Q(pk=target.distributor_id))
    return measures.score_of(target.measure, window, target.distributor_id).score


def target_progress(target: Target, now: datetime | None = None) -> rules.Progress:
    """Progress, expected pace and status of a target at `now` (incentives.rules.progress_of)."""
    return rules.progress_of(target_value(target), target.goal, start=target.starts_at, end=target.ends_at,
                             now=now or timezone.now())
