"""Staff endpoints of the incentives (domain rules section 8): sales contests with their leaderboard
and finalization, tier bonus schemes with their evaluation and awards, sales targets with progress,
rankings, grade evaluation and grade history. Each view names the Django model permissions it needs
(`staff_perms`), the same ones the console checks (tenants.roles). Writes go through
incentives.services; another tenant's id is a 404 like a missing one; a refused body writes nothing."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from distributors.api.lookups import grades_of
from distributors.api.serializers import GradeChangeSerializer
from distributors.models import Distributor, GradeChange
from distributors.selectors import grade_history
from fenxiao.api.idempotency import idempotent
from fenxiao.api.base import StaffAPIView, StaffGenericView, body_or_empty
from fenxiao.api.fields import StrictSerializer
from fenxiao.api.plain import renderer
from fenxiao.exceptions import NotFound, invalid
from tenants.context import current_tenant

from .. import measures, rules, selectors, services
from ..models import DISTRIBUTOR_MEASURES, Contest, Target, TierAward, TierBonusScheme, TierEvaluation
from .common import PageLimit, get_contest, get_scheme, get_target, query_params, ranked_rows
from .serializers import (
    ContestPatchSerializer, ContestSerializer, ContestWriteSerializer, EvaluateSerializer, EvaluationSerializer,
    StaffLeaderboardSerializer, StaffRankingSerializer, TargetPatchSerializer, TargetSerializer, TargetWriteSerializer,
    TierAwardSerializer, TierSchemePatchSerializer, TierSchemeSerializer, TierSchemeWriteSerializer, money,
)


class NoBodySerializer(StrictSerializer):
    """An empty body ({}); any field is refused (unknown_field)."""


def contest_changes(data: dict) -> dict:
    """Validated body -> keyword arguments of contest_create / contest_update."""
    out = dict(data)
    if "grades" in out:
        out["grades"] = grades_of(out["grades"])
    return out


def contest_body(public_id: str) -> dict:
    return ContestSerializer(get_contest(public_id)).data


# --- contests ----------------------------------------------------------------------------------

class ContestListView(StaffGenericView):
    staff_perms = {"GET": ["incentives.view_contest"], "POST": ["incentives.add_contest"]}
    serializer_class = ContestSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contest.unscoped.none()
        return Contest.objects.prefetch_related("grades").order_by("-starts_at", "-id")

    @extend_schema(responses=ContestSerializer(many=True))
    def get(self, request):
        """The tenant's sales contests (销售竞赛), latest window first, paginated: window (tenant
        time), measure, eligibility, prizes, status (scheduled, running, ended, finalized)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ContestSerializer(page, many=True).data)

    @extend_schema(request=ContestWriteSerializer, responses={201: ContestSerializer})
    @idempotent
    def post(self, request):
        """Create a sales contest (domain rules section 8). `starts_at` / `ends_at`: local midnights of
        the tenant (a date "2026-03-01" or RFC 3339 with an offset), end after start (400
        `invalid_window`, `not_local_midnight`), local days from 1970-01-01 to 9899-12-31
        (`out_of_range`); `measure` direct_sales, team_sales, order_count or
        new_direct_recruits; `prizes` decimal strings per rank, each >= 0 (`min_value`), in the
        currency's minor units (`max_decimal_places`), never more than the rank above
        (`not_decreasing`); `grades` codes of eligible grades (`unknown_grade`). Nothing is written on
        a 400."""
        s = ContestWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        contest = services.contest_create(tenant=request.tenant, **contest_changes(s.validated_data))
        return Response(contest_body(contest.public_id), status=201)


class ContestDetailView(StaffAPIView):
    staff_perms = {"GET": ["incentives.view_contest"], "PATCH": ["incentives.change_contest"]}

    @extend_schema(responses=ContestSerializer)
    def get(self, request, public_id):
        """One contest with its status; 404 when the tenant has no contest with this id."""
        return Response(contest_body(public_id))

    @extend_schema(request=ContestPatchSerializer, responses=ContestSerializer)
    def patch(self, request, public_id):
        """Change a contest's fields (those of POST, each optional and checked the same way, merged
        with the stored ones). A finalized contest cannot change: 409 `invalid_state`, nothing
        written."""
        contest = get_contest(public_id)
        s = ContestPatchSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        services.contest_update(contest=contest, **contest_changes(s.validated_data))
        return Response(contest_body(public_id))


class LeaderboardQuery(serializers.Serializer):
    limit = PageLimit(default=100, most=1000)
    offset = serializers.IntegerField(min_value=0, max_value=100_000, required=False, default=0,
                                      help_text="rows to skip (ranks offset+1 ... offset+limit)")


class ContestLeaderboardView(StaffAPIView):
    staff_perms = {"GET": ["incentives.view_contest"]}
    query_serializer = LeaderboardQuery

    @extend_schema(parameters=[LeaderboardQuery], responses=StaffLeaderboardSerializer)
    def get(self, request, public_id):
        """A contest's leaderboard, ranks offset+1 to offset+limit: live while it is not finalized
        (active distributors of its eligible grades with a score above 0 and at least min_score: a
        frozen or disabled one is not listed and wins nothing; ranked by the tie rule:
        higher score, then whoever reached it first, then the lower id), frozen once finalized.
        Rows `rank, distributor_external_id, name, score, reached_at, prize`. A fixed number of
        queries whatever the tenant's size."""
        contest = selectors.contest_to_read(public_id)
        if contest is None:
            raise NotFound(gettext("No contest with this id."))
        q = query_params(LeaderboardQuery, request)
        who: dict = {}
        ranked = services.contest_leaderboard(contest=contest, limit=q["offset"] + q["limit"], people=who)[q["offset"]:]
        return Response(renderer(StaffLeaderboardSerializer)({
            "contest_id": contest.public_id, "measure": contest.measure, "status": contest.status_at(timezone.now()),
            "final": contest.finalized_at is not None, "currency": request.tenant.currency,
            "offset": q["offset"], "limit": q["limit"], "results": ranked_rows(contest.measure, ranked, who)}))


class ContestFinalizeView(StaffAPIView):
    staff_perms = {"POST": ["incentives.change_contest"]}

    @extend_schema(request=NoBodySerializer, responses=ContestSerializer)
    @idempotent
    def post(self, request, public_id):
        """Finalize an ended contest (domain rules section 8): freeze its ranking and credit each
        prize to its winner's ledger as one `bonus` entry (available at once); event
        `contest.finalized`. Idempotent: calling it again, or at once from two places, credits
        nothing more and answers the same contest (200). 409 `invalid_state` before the window ends."""
        contest = get_contest(public_id)
        NoBodySerializer(data=body_or_empty(request)).is_valid(raise_exception=True)
        services.contest_finalize(contest=contest, actor=request.user.get_username())
        return Response(contest_body(public_id))


# --- tier bonuses ------------------------------------------------------------------------------

def tiers_in(data: list[dict]) -> list[dict]:
    """Validated tier rows without the keys left out (the service wants amount or rate, not both)."""
    return [{k: v for k, v in t.items() if v is not None} for t in data]


class TierSchemeListView(StaffGenericView):
    staff_perms = {"GET": ["incentives.view_tierbonusscheme"], "POST": ["incentives.add_tierbonusscheme"]}
    serializer_class = TierSchemeSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TierBonusScheme.unscoped.none()
        return TierBonusScheme.objects.order_by("-id")

    @extend_schema(responses=TierSchemeSerializer(many=True))
    def get(self, request):
        """The tenant's tier bonus schemes (阶梯奖励), newest first, paginated, with their tiers."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TierSchemeSerializer(page, many=True).data)

    @extend_schema(request=TierSchemeWriteSerializer, responses={201: TierSchemeSerializer})
    @idempotent
    def post(self, request):
        """Create a tier bonus scheme (domain rules section 8): `measure` direct_sales or team_sales
        per local month; `tiers` [{"threshold", "amount"} or {"threshold", "rate"}], thresholds
        above 0 and strictly increasing (400 `not_increasing`), amounts >= 0 in the currency's minor
        units, rates above 0 and at most 1 (`invalid_rate`). The highest tier reached pays. Nothing is
        written on a 400."""
        s = TierSchemeWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        scheme = services.tier_scheme_create(tenant=request.tenant, name=d["name"], measure=d["measure"],
                                             tiers=tiers_in(d["tiers"]), is_active=d["is_active"])
        return Response(TierSchemeSerializer(scheme).data, status=201)


class TierSchemeDetailView(StaffAPIView):
    staff_perms = {"GET": ["incentives.view_tierbonusscheme"], "PATCH": ["incentives.change_tierbonusscheme"]}

    @extend_schema(responses=TierSchemeSerializer)
    def get(self, request, public_id):
        """One tier bonus scheme; 404 when the tenant has none with this id."""
        return Response(TierSchemeSerializer(get_scheme(public_id)).data)

    @extend_schema(request=TierSchemePatchSerializer, responses=TierSchemeSerializer)
    def patch(self, request, public_id):
        """Change a scheme's name, measure, tiers or is_active (checked as on creation). Months
        already evaluated keep their awards; later evaluations use the new tiers."""
        scheme = get_scheme(public_id)
        s = TierSchemePatchSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = dict(s.validated_data)
        if "tiers" in d:
            d["tiers"] = tiers_in(d["tiers"])
        return Response(TierSchemeSerializer(services.tier_scheme_update(scheme=scheme, **d)).data)


def evaluation_body(scheme: TierBonusScheme, evaluation: TierEvaluation, awards: list[TierAward]) -> dict:
    total = sum((a.amount for a in awards), Decimal(0))
    return {"scheme_id": scheme.public_id, "period": f"{evaluation.period:%Y-%m}",
            "evaluated_at": evaluation.evaluated_at, "evaluated_by": evaluation.evaluated_by,
            "awards": len(awards), "total": money(total), "currency": current_tenant().currency}


class TierSchemeEvaluateView(StaffAPIView):
    staff_perms = {"POST": ["incentives.change_tierbonusscheme"]}

    @extend_schema(request=EvaluateSerializer, responses=EvaluationSerializer)
    @idempotent
    def post(self, request, public_id):
        """Evaluate a scheme for a closed local month `period` ("YYYY-MM"): each distributor whose
        measure reaches a threshold (inclusive) is credited the highest tier reached as one `bonus`
        ledger entry (event `bonus.credited`). Idempotent: once per (scheme, distributor, month);
        another call, or a concurrent one, answers the same evaluation and credits nothing. 400
        `period_not_closed` for a month that has not ended, `invalid` for a malformed period,
        `out_of_range` for a year outside 1970..9899."""
        scheme = get_scheme(public_id)
        s = EvaluateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        period = services.month_of(s.validated_data["period"])
        evaluation, awards, _ = services.tier_bonus_evaluate(scheme=scheme, period=period,
                                                             actor=request.user.get_username())
        return Response(EvaluationSerializer(evaluation_body(scheme, evaluation, awards)).data)


class AwardsQuery(serializers.Serializer):
    period = serializers.CharField(required=False, max_length=7, help_text="only this local month (YYYY-MM)")


class TierAwardListView(StaffGenericView):
    staff_perms = {"GET": ["incentives.view_tieraward"]}
    serializer_class = TierAwardSerializer
    query_serializer = AwardsQuery

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TierAward.unscoped.none()
        return TierAward.objects.select_related("distributor").order_by("-period", "-amount", "id")

    @extend_schema(parameters=[AwardsQuery], responses=TierAwardSerializer(many=True))
    def get(self, request, public_id):
        """A scheme's awards, paginated, latest month first then largest first: `distributor_external_id,
        name, period, measure_value, threshold, rate, amount`; `?period=YYYY-MM` for one month."""
        scheme = get_scheme(public_id)
        q = query_params(AwardsQuery, request)
        qs = self.get_queryset().filter(scheme=scheme)
        if q.get("period"):
            qs = qs.filter(period=services.month_of(q["period"]))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(TierAwardSerializer(page, many=True).data)


# --- targets -----------------------------------------------------------------------------------

def distributor_of(external_id: str | None, attr: str = "distributor_external_id"):
    """The tenant's distributor with this external id (None for None); 400 `unknown_distributor`."""
    if external_id is None:
        return None
    found = Distributor.objects.filter(external_id=external_id).first()
    if found is None:
        raise invalid(attr, gettext("No distributor with the external_id %(id)r.") % {"id": external_id}, "unknown_distributor")
    return found


def target_changes(data: dict) -> dict:
    out = dict(data)
    if "distributor_external_id" in out:
        out["distributor"] = distributor_of(out.pop("distributor_external_id"))
    return out


def target_write(service, **kwargs):
    """Call target_create / target_update; a 400 about the service's `distributor` names the body's
    field, `distributor_external_id`."""
    from rest_framework.exceptions import ValidationError

    try:
        return service(**kwargs)
    except ValidationError as exc:
        if isinstance(exc.detail, dict) and "distributor" in exc.detail:
            exc.detail = {("distributor_external_id" if k == "distributor" else k): v for k, v in exc.detail.items()}
        raise


def targets_body(targets, *, many: bool):
    """Targets with their progress now: one measure query per target."""
    now = timezone.now()
    items = targets if many else [targets]
    progress = {t.pk: services.target_progress(t, now) for t in items}
    return TargetSerializer(targets, many=many, context={"progress": progress}).data


class TargetListView(StaffGenericView):
    staff_perms = {"GET": ["incentives.view_target"], "POST": ["incentives.add_target"]}
    serializer_class = TargetSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Target.unscoped.none()
        return Target.objects.select_related("distributor").order_by("-starts_at", "-id")

    @extend_schema(responses=TargetSerializer(many=True))
    def get(self, request):
        """The tenant's sales targets and KPIs (销售目标), latest period first, paginated, each with
        its progress now: value, progress (value / goal), expected (elapsed fraction of the
        period), status (met, ahead, on_track, behind). One measure query per target on the page."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(targets_body(page, many=True))

    @extend_schema(request=TargetWriteSerializer, responses={201: TargetSerializer})
    @idempotent
    def post(self, request):
        """Create a target (domain rules section 8): `scope` tenant (no distributor), distributor or
        team (`distributor_external_id`: the team's head, its levels 1-3), a `measure` that applies
        to the scope, a `period` (month, quarter or year from `starts_on`, its first day; custom
        `starts_on`..`ends_on`, local days inclusive) and a `goal` above 0 (money in the currency's
        minor units, counts whole). 400 otherwise; nothing written."""
        s = TargetWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        target = target_write(services.target_create, tenant=request.tenant, **target_changes(s.validated_data))
        return Response(targets_body(get_target(target.public_id), many=False), status=201)


class TargetDetailView(StaffAPIView):
    staff_perms = {"GET": ["incentives.view_target"], "PATCH": ["incentives.change_target"]}

    @extend_schema(responses=TargetSerializer)
    def get(self, request, public_id):
        """One target with its progress now (value, progress, expected pace, status): a fixed number
        of queries whatever the tenant's size; 404 when the tenant has no target with this id."""
        return Response(targets_body(get_target(public_id), many=False))

    @extend_schema(request=TargetPatchSerializer, responses=TargetSerializer)
    def patch(self, request, public_id):
        """Change a target's fields (those of POST, each optional, checked the same way against the
        stored ones)."""
        target = get_target(public_id)
        s = TargetPatchSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        target_write(services.target_update, target=target, **target_changes(s.validated_data))
        return Response(targets_body(get_target(public_id), many=False))


# --- rankings ----------------------------------------------------------------------------------

STAFF_RANKING_MEASURES = tuple(m.value for m in DISTRIBUTOR_MEASURES)

#: ?measure=&from=&to=&limit= (type() because "from" is a Python keyword).
RankingQuery = type("RankingQuery", (serializers.Serializer,), {
    "measure": serializers.ChoiceField(choices=STAFF_RANKING_MEASURES,
                                       help_text="direct_sales, team_sales, order_count, new_direct_recruits, commission"),
    "from": serializers.DateField(help_text="the first local day (tenant time), e.g. 2026-03-01"),
    "to": serializers.DateField(help_text="the last local day, INCLUSIVE: from=2026-03-01&to=2026-03-31 is March"),
    "limit": PageLimit(default=100, most=1000),
})


class RankingView(StaffAPIView):
    staff_perms = {"GET": ["distributors.view_distributor", "orders.view_order"]}
    query_serializer = RankingQuery

    @extend_schema(parameters=[RankingQuery], responses=StaffRankingSerializer)
    def get(self, request):
        """Rankings (排行榜): the top `limit` distributors under `measure` over the local days
        `from`..`to` (both inclusive, tenant time zone; at most 366 days), ranked by the tie rule
        (higher score; equal scores: whoever reached it first; then the lower id). Rows `rank,
        distributor_external_id, name, score, reached_at`; distributors with no score are not
        listed. 400 for an unknown measure, `to` before `from` or a day outside 1970-01-01 ..
        9899-12-31 (`out_of_range`). A whole local month that has begun, under a measure other
        than new_direct_recruits, reads the month's kept ranking (incentives.measures.ranking):
        three queries whatever the tenant's size; other windows two, growing with their figures."""
        q = query_params(RankingQuery, request)
        first, last = q["from"], q["to"]
        for attr, day in (("from", first), ("to", last)):
            if not rules.day_in_range(day):
                raise invalid(attr, gettext(rules.DAY_RANGE_MESSAGE), "out_of_range")
        if last < first:
            raise invalid("to", gettext("The last day comes before the first."), "invalid_window")
        if (last - first).days >= 366:
            raise invalid("to", gettext("A ranking covers at most 366 days."), "invalid_window")
        window = measures.Window(first, last + timedelta(days=1))
        who: dict = {}
        ranked = measures.ranking(q["measure"], window, limit=q["limit"], people=who)[0]
        rows = ranked_rows(q["measure"], [(r, None) for r in ranked], who)
        return Response(renderer(StaffRankingSerializer)({"measure": q["measure"], "from": first, "to": last,
                                                          "currency": request.tenant.currency, "results": rows}))


# --- grades ------------------------------------------------------------------------------------

class GradeEvaluateView(StaffAPIView):
    staff_perms = {"POST": ["distributors.change_distributor", "distributors.view_grade"]}

    @extend_schema(request=NoBodySerializer, responses=inline_serializer("GradeEvaluation", {
        "upgraded": serializers.IntegerField(help_text="distributors moved to a higher grade by this run")}))
    @idempotent
    def post(self, request):
        """Evaluate every distributor's grade now (domain rules section 8; also done after each
        settlement run for the distributors whose money settled): each moves to the highest grade
        whose upgrade conditions all hold, never down; each upgrade is in its grade history and
        queues `distributor.upgraded`. Running it again upgrades nobody more."""
        NoBodySerializer(data=body_or_empty(request)).is_valid(raise_exception=True)
        return Response({"upgraded": services.grades_evaluate_all()})


#: A staff view of one grade change: the public fields and who made it.
StaffGradeChangeSerializer = type("StaffGradeChangeSerializer", (GradeChangeSerializer,), {
    "__doc__": "One step of a distributor's grade history, with who made it.",
    "actor": serializers.CharField(help_text="the staff user of a manual change; empty for automatic ones"),
})


class GradeHistoryView(StaffGenericView):
    staff_perms = {"GET": ["distributors.view_distributor", "distributors.view_gradechange"]}
    serializer_class = StaffGradeChangeSerializer

    def get_queryset(self):  # the schema's only: the rows come from distributors.selectors.grade_history
        return GradeChange.unscoped.none()

    @extend_schema(responses=StaffGradeChangeSerializer(many=True))
    def get(self, request, external_id):
        """A distributor's grade history, newest first, paginated: `when, from, to` (grade codes),
        `kind` (upgrade, manual, registration), `reason`, `actor`. 404 for another tenant's or a
        missing distributor."""
        d = Distributor.objects.filter(external_id=external_id).first()
        if d is None:
            raise NotFound(gettext("No distributor with this external_id."))
        page = self.paginate_queryset(grade_history(distributor_id=d.pk))
        return self.get_paginated_response(StaffGradeChangeSerializer(page, many=True).data)

