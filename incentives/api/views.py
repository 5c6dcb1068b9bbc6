"""Portal endpoints of the incentives (domain rules section 8): where a distributor stands in the
contests it can see, the contests' leaderboards with other people's names masked, its own and its
team's targets, and the rankings when the brand shows them (`show_rankings`).

Decisions:
- Contests I can see: those that have started (running, ended or finalized) and are open to
  everyone, to my grade, or in whose frozen ranking I am (a later grade change never hides a
  prize I won). Scheduled contests are not shown. Any other contest id answers 404.
- Targets: the ones naming me (scope distributor) or my team (scope team, me as its head).
  Tenant-wide targets are the brand's own KPIs and are not shown to distributors.
- Rankings when the tenant's `show_rankings` is off: 403 `rankings_hidden` (the endpoint exists,
  the brand does not show it). Measures: direct_sales, team_sales, order_count,
  new_direct_recruits (not other people's commission).
- Other distributors appear by masked name only (incentives.rules.mask_name), never by id.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from fenxiao.api.base import PortalAPIView, PortalGenericView
from fenxiao.api.plain import renderer
from fenxiao.exceptions import NotFound

from .. import measures, selectors, services
from ..models import Contest, Measure, Target
from ..rules import masked
from ..selectors import targets_of, visible_contest
from .common import PageLimit, prize_str, query_params, ranked_rows
from .serializers import (
    MyContestSerializer, PortalLeaderboardSerializer, PortalRankingSerializer, TargetSerializer, measure_str,
)
from .staff import targets_body


def standing(contest: Contest, me) -> dict:
    """{rank, score, prize} of `me` in `contest` (live, or frozen once finalized)."""
    rank, score, prize = services.contest_standing_of(contest=contest, distributor_id=me.pk)
    return {"rank": rank, "score": measure_str(contest.measure, score), "prize": prize_str(prize)}


class MyContestsView(PortalGenericView):
    serializer_class = MyContestSerializer

    def get_queryset(self):  # the schema's only: the page comes from incentives.selectors.VisibleContests
        return Contest.unscoped.none()

    @extend_schema(responses=MyContestSerializer(many=True))
    def get(self, request):
        """The sales contests I can see, running and past (latest first, paginated), each with its
        window (tenant time), measure, prizes, status and where I stand: my score, rank (null when
        I am not ranked) and prize. A fixed number of queries per contest on the page, whatever the
        number of distributors and orders."""
        now = timezone.now()
        page = self.paginate_queryset(selectors.VisibleContests(request.user, now))
        body = renderer(MyContestSerializer)
        rows = [body({"id": c.public_id, "name": c.name, "measure": c.measure, "starts_at": c.starts_at,
                      "ends_at": c.ends_at, "status": c.status_at(now), "prizes": c.prizes,
                      "currency": request.tenant.currency, **standing(c, request.user)}) for c in page]
        return self.get_paginated_response(rows)


class PortalLeaderboardQuery(serializers.Serializer):
    limit = PageLimit(default=50, most=100)


class MyContestLeaderboardView(PortalAPIView):
    query_serializer = PortalLeaderboardQuery

    @extend_schema(parameters=[PortalLeaderboardQuery], responses=PortalLeaderboardSerializer)
    def get(self, request, public_id):
        """The top `limit` of a contest I can see (live, or frozen once finalized): rank, name
        (other people's masked: 张*, 王*明, A***e), score, prize, and `me: true` on my row; `mine` gives
        my own rank, score and prize even outside the top. 404 for a contest I cannot see. A fixed
        number of queries whatever the tenant's size."""
        contest = visible_contest(request.user, public_id, timezone.now())
        if contest is None:
            raise NotFound(gettext("No contest with this id."))
        q = query_params(PortalLeaderboardQuery, request)
        who: dict = {}
        rows = ranked_rows(contest.measure, services.contest_leaderboard(contest=contest, limit=q["limit"], people=who), who)
        me = request.user
        me_id = me.pk
        mine = next(({"rank": r["rank"], "score": r["score"], "prize": r["prize"]} for r in rows
                     if r["distributor_id"] == me_id), None) or standing(contest, me)
        return Response(renderer(PortalLeaderboardSerializer)({
            "contest_id": contest.public_id, "measure": contest.measure, "status": contest.status_at(timezone.now()),
            "final": contest.finalized_at is not None, "currency": request.tenant.currency,
            "results": masked(rows, me_id), "mine": mine}))


class MyTargetsView(PortalGenericView):
    serializer_class = TargetSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Target.unscoped.none()
        return targets_of(self.request.user)

    @extend_schema(responses=TargetSerializer(many=True))
    def get(self, request):
        """My targets and my team's (scope distributor or team naming me), latest period first,
        paginated, each with its progress now: value, progress (value / goal), expected pace and
        status (met, ahead, on_track, behind). The brand's tenant-wide KPIs are not shown."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(targets_body(page, many=True))


PORTAL_RANKING_MEASURES = (Measure.DIRECT_SALES.value, Measure.TEAM_SALES.value, Measure.ORDER_COUNT.value,
                           Measure.NEW_DIRECT_RECRUITS.value)


class PortalRankingQuery(serializers.Serializer):
    measure = serializers.ChoiceField(choices=PORTAL_RANKING_MEASURES, required=False, default="direct_sales",
                                      help_text="direct_sales (default), team_sales, order_count, new_direct_recruits")
    period = serializers.CharField(required=False, max_length=7, help_text="a local month YYYY-MM; default this month")
    limit = PageLimit(default=20, most=100)


class MyRankingsView(PortalAPIView):
    query_serializer = PortalRankingQuery

    @extend_schema(parameters=[PortalRankingQuery], responses=PortalRankingSerializer)
    def get(self, request):
        """The ranking of a local month when the brand shows rankings (tenant setting
        `show_rankings`; else 403 `rankings_hidden`): the top `limit` by the tie rule with other
        people's names masked, `me: true` on my row, and `mine` (my rank and score, also outside
        the top). 400 for an unknown measure or a malformed period. A month that has begun reads
        its kept ranking (incentives.measures.ranking: an index scan and one probe whatever the
        tenant's size); new_direct_recruits computes, in a fixed number of queries."""
        if not request.tenant.show_rankings:
            raise PermissionDenied(gettext("This programme does not show rankings to distributors."), code="rankings_hidden")
        q = query_params(PortalRankingQuery, request)
        if q.get("period"):
            first = services.month_of(q["period"])
        else:
            local = timezone.localtime(timezone.now(), timezone=ZoneInfo(request.tenant.timezone)).date()
            first = local.replace(day=1)
        window = services.month_window(first)
        measure = q["measure"]
        who: dict = {}
        ranked, (rank, mine) = measures.ranking(measure, window, limit=q["limit"], distributor_id=request.user.pk,
                                                people=who)
        rows = ranked_rows(measure, [(r, None) for r in ranked], who)
        return Response(renderer(PortalRankingSerializer)({
            "measure": measure, "period": f"{first:%Y-%m}", "currency": request.tenant.currency,
            "results": masked(rows, request.user.pk), "mine": {"rank": rank, "score": measure_str(measure, mine.score)},
        }))

