"""My team and my standing: the downlines of each of my 3 levels with what each brought me this
month, the contests I can see with my rank, a contest's board (other people's names masked), the
rankings when the brand shows them, my targets with their progress, and my invite link with its
QR code (domain rules sections 2 and 8). The reads are the API's: distributors.selectors,
relations.selectors, incentives.selectors / services / measures."""
from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.utils import timezone

from .base import page, portal_page

TEAM_PAGE = 20
BOARD_ROWS = 50


def _month_first(tenant):
    return timezone.now().astimezone(ZoneInfo(tenant.timezone)).date().replace(day=1)


@portal_page
def team(request):
    """One level (?level=1, 2 or 3; default 1) of my downlines, TEAM_PAGE a page (?page=), each
    with its personal sales (distributors.selectors.personal_sales, as /me/downlines/) and what its
    orders of this month earned me (relations.selectors.downline_contribution, as
    /me/downlines/contribution/); the counts of every level above."""
    from distributors.selectors import DownlinePage, personal_sales, team_counts
    from relations.selectors import downline_contribution

    me = request.distributor
    level = request.GET.get("level", "1")
    level = level if level in ("1", "2", "3") else "1"
    counts = team_counts(distributor=me)
    paginator = Paginator(DownlinePage(distributor=me, level=int(level), count=counts[level]), TEAM_PAGE)
    current = paginator.get_page(request.GET.get("page"))
    rows = list(current.object_list)
    sales = personal_sales(distributor_ids=[r[0] for r in rows])
    contribution = downline_contribution(me, _month_first(request.tenant))
    brought: dict[int, Decimal] = {}
    for c in contribution["rows"]:
        brought[c.distributor_id] = brought.get(c.distributor_id, Decimal(0)) + c.amount
    people = [{"external_id": r[1], "name": r[2], "status": r[3], "grade": r[4], "joined_at": r[6],
               "sales": sales.get(r[0]), "brought": brought.get(r[0])} for r in rows]
    return page(request, "portal/team.html", {
        "level": level, "counts": counts, "people": people, "page_obj": current,
        "contribution": contribution, "levels": ("1", "2", "3"),
    }, tab="team")


# --- contests, rankings, targets ---------------------------------------------------------------

def _score(measure, value, currency) -> str:
    """A measure's value for people: money in the language's format with the currency's places
    ("1,000.00"), counts whole ("3")."""
    from fenxiao.admin_money import money_display
    from incentives.models import MONEY_MEASURES

    if value is None:
        return "-"
    return money_display(value, currency) if measure in MONEY_MEASURES else str(int(value))


@portal_page
def contests(request):
    """The contests I can see (incentives.selectors.visible_contests), each with where I stand
    (incentives.services.contest_standing_of: rank, score, prize)."""
    from incentives.console import SHORT_MEASURE_LABELS, STATUS_LABELS, window_str
    from incentives.selectors import visible_contests
    from incentives.services import contest_standing_of

    me, tenant = request.distributor, request.tenant
    now = timezone.now()
    rows = []
    for c in visible_contests(me, now)[:20]:
        rank, score, prize = contest_standing_of(contest=c, distributor_id=me.pk)
        rows.append({"contest": c, "status": c.status_at(now), "status_label": STATUS_LABELS.get(c.status_at(now), ""),
                     "measure": SHORT_MEASURE_LABELS.get(c.measure, c.measure),
                     "window": window_str(c.starts_at, c.ends_at, tenant.timezone), "rank": rank,
                     "score": _score(c.measure, score, tenant.currency), "prize": prize,
                     "prizes": [Decimal(p) for p in c.prizes]})
    return page(request, "portal/contests.html", {"rows": rows, "show_rankings": tenant.show_rankings}, tab="team")


@portal_page
def contest(request, public_id):
    """A contest's board (incentives.services.contest_leaderboard: live, or frozen once
    finalized), other people's names masked (incentives.rules.masked), my row marked, and my own
    standing even outside the top. A contest I cannot see: 404."""
    from distributors.selectors import names_of
    from fenxiao.exceptions import NotFound
    from incentives.console import SHORT_MEASURE_LABELS, STATUS_LABELS, window_str
    from incentives.rules import masked
    from incentives.selectors import visible_contest
    from incentives.services import contest_leaderboard, contest_standing_of

    me, tenant = request.distributor, request.tenant
    now = timezone.now()
    found = visible_contest(me, public_id, now)
    if found is None:
        raise NotFound()
    who: dict = {}
    ranked = contest_leaderboard(contest=found, limit=BOARD_ROWS, people=who)
    missing = [r.distributor_id for r, _p in ranked if r.distributor_id not in who]
    if missing:
        who.update(names_of(missing))
    rows = masked([{"rank": r.rank, "distributor_id": r.distributor_id, "name": who[r.distributor_id][1],
                    "score": _score(found.measure, r.score, tenant.currency), "prize": prize}
                   for r, prize in ranked], me.pk)
    rank, score, prize = contest_standing_of(contest=found, distributor_id=me.pk)
    return page(request, "portal/contest.html", {
        "contest": found, "rows": rows, "status_label": STATUS_LABELS.get(found.status_at(now), ""),
        "measure": SHORT_MEASURE_LABELS.get(found.measure, found.measure),
        "window": window_str(found.starts_at, found.ends_at, tenant.timezone),
        "mine": {"rank": rank, "score": _score(found.measure, score, tenant.currency), "prize": prize},
    }, tab="team")


RANKING_MEASURES = ("direct_sales", "team_sales", "order_count", "new_direct_recruits")


@portal_page
def rankings(request):
    """This month's ranking by a measure (?measure=, as /me/rankings/: the top 20 by the tie
    rule, names masked, mine marked, my own rank). When the brand does not show rankings
    (`show_rankings` off): a page saying so (403)."""
    from distributors.selectors import names_of
    from incentives import measures
    from incentives.console import SHORT_MEASURE_LABELS
    from incentives.rules import masked
    from incentives.services import month_window

    me, tenant = request.distributor, request.tenant
    if not tenant.show_rankings:
        return page(request, "portal/rankings.html", {"hidden": True}, status=403, tab="team")
    measure = request.GET.get("measure", "direct_sales")
    measure = measure if measure in RANKING_MEASURES else "direct_sales"
    window = month_window(_month_first(tenant))
    ranked, (rank, mine) = measures.ranking(measure, window, limit=20, distributor_id=me.pk)
    who = names_of([r.distributor_id for r in ranked])
    rows = masked([{"rank": r.rank, "distributor_id": r.distributor_id, "name": who[r.distributor_id][1],
                    "score": _score(measure, r.score, tenant.currency)} for r in ranked], me.pk)
    return page(request, "portal/rankings.html", {
        "rows": rows, "measure": measure, "mine": {"rank": rank, "score": _score(measure, mine.score, tenant.currency)},
        "measures": [(m, SHORT_MEASURE_LABELS[m]) for m in RANKING_MEASURES], "month": _month_first(tenant),
    }, tab="team")


@portal_page
def targets(request):
    """My targets and my team's (incentives.selectors.targets_of) with their progress now
    (incentives.services.target_progress: value, progress, expected pace, status)."""
    from incentives.console import SHORT_MEASURE_LABELS, TARGET_STATUS_LABELS, window_str
    from incentives.selectors import targets_of
    from incentives.services import target_progress

    tenant = request.tenant
    now = timezone.now()
    rows = []
    for t in targets_of(request.distributor)[:20]:
        p = target_progress(t, now)
        rows.append({"target": t, "measure": SHORT_MEASURE_LABELS.get(t.measure, t.measure),
                     "window": window_str(t.starts_at, t.ends_at, tenant.timezone),
                     "value": _score(t.measure, p.value, tenant.currency), "goal": _score(t.measure, p.goal, tenant.currency),
                     "percent": min(p.progress * 100, Decimal(100)), "progress": p.progress * 100,
                     "expected": p.expected * 100, "status": p.status,
                     "status_label": TARGET_STATUS_LABELS.get(p.status, p.status)})
    return page(request, "portal/targets.html", {"rows": rows}, tab="team")


# --- invite ------------------------------------------------------------------------------------

@portal_page
def invite(request):
    """My invite code and link (relations.selectors.invite_url, as /me/invite/), its QR code, and
    the posters I may download (each with my QR code and name drawn on it)."""
    from relations.models import Material
    from relations.selectors import invite_url, materials_for

    me = request.distributor
    posters = list(materials_for(me).filter(kind=Material.Kind.POSTER)[:20])
    return page(request, "portal/invite.html", {"invite_url": invite_url(me), "posters": posters}, tab="promote")


@portal_page
def invite_qr(request):
    """My invite link as a QR code PNG (relations.services.invite_qr_png, as /me/invite/qr.png)."""
    from relations.services import invite_qr_png

    response = HttpResponse(invite_qr_png(distributor=request.distributor), content_type="image/png")
    response["Content-Disposition"] = 'inline; filename="invite.png"'
    return response
