"""Month rankings kept with the day figures (domain rules section 8, rankings and the tie rule):
a local month's ranking under direct_sales, team_sales, order_count or commission is a board
(RankingBoard / RankingScore) made the first time it is asked for and kept by every accrual and
refund after it, so `/me/rankings/` and `/admin/rankings/` over a month cost the same at any
tenant size. Worked values: the programme of tests.incentives.apidata (the clock at 2026-04-20
12:00 in Shanghai)."""
import random
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from distributors.models import Distributor
from incentives import measures
from incentives.models import RankingBoard, RankingScore
from tenants.context import tenant_context
from tests.factories import distributor
from tests.incentives.apidata import clock, post_order, programme, sellers, staff  # noqa: F401 (fixtures)

CST = timezone(timedelta(hours=8))


def show_rankings(tenant):
    from tenants.services import tenant_update

    with tenant_context(tenant):
        tenant_update(tenant=tenant, show_rankings=True)


def table(body):
    return [(r["rank"], r["name"], r["score"], r["me"]) for r in body["results"]]


def test_a_month_ranking_is_made_once_and_stays_live(clock, staff, programme, partner, portal_for):
    """March's direct sales: B 300.00, A 200.00, C 150.00, D 100.00. The first request makes the
    board; orders and refunds after it move it at once: D's order in the last second of March
    (23:59:59 +08:00) counts, C's at April 1st 00:00 does not; A reaching 250.00 at 10:00 on the
    31st ranks before D reaching 250.00 at 23:59:59 (the tie rule); B's full refund takes B off."""
    tenant = programme["A"].tenant
    show_rankings(tenant)
    d = portal_for(programme["D"])
    body = d.get("/api/v1/me/rankings/?period=2026-03").json()
    assert table(body) == [(1, "A***e", "300.00", False), (2, "张*", "200.00", False),
                           (3, "王*明", "150.00", False), (4, "Dave", "100.00", True)]
    with tenant_context(tenant):
        assert list(RankingBoard.objects.values_list("measure", "month")) == [("direct_sales", date(2026, 3, 1))]
        assert RankingScore.objects.count() == 4
    post_order(partner, "OD2", "D", "150.00", "2026-03-31T23:59:59+08:00")   # D 250.00, reached 23:59:59
    post_order(partner, "OC9", "C", "900.00", "2026-04-01T00:00:00+08:00")   # April's
    body = d.get("/api/v1/me/rankings/?period=2026-03").json()
    assert table(body) == [(1, "A***e", "300.00", False), (2, "Dave", "250.00", True),
                           (3, "张*", "200.00", False), (4, "王*明", "150.00", False)]
    assert body["mine"] == {"rank": 2, "score": "250.00"}
    post_order(partner, "OA3", "A", "50.00", "2026-03-31T10:00:00+08:00")    # A 250.00, reached first
    assert d.get("/api/v1/me/rankings/?period=2026-03").json()["mine"] == {"rank": 3, "score": "250.00"}
    r = partner.post("/api/v1/orders/OB1/refunds/", {"external_id": "RB1", "amount": "300.00"}, format="json")
    assert r.status_code == 201, r.json()
    body = d.get("/api/v1/me/rankings/?period=2026-03").json()
    assert table(body) == [(1, "张*", "250.00", False), (2, "Dave", "250.00", True), (3, "王*明", "150.00", False)]
    b = portal_for(programme["B"]).get("/api/v1/me/rankings/?period=2026-03").json()
    assert b["mine"] == {"rank": None, "score": "0.00"}
    # the staff ranking over the same month reads the same board; a window that is not a whole
    # month computes (through April 1st: C's 900.00 and 500.00 of OC2 count)
    r = staff.get("/api/v1/admin/rankings/?measure=direct_sales&from=2026-03-01&to=2026-03-31").json()
    assert [(x["rank"], x["distributor_external_id"], x["score"], x["reached_at"]) for x in r["results"]] == [
        (1, "A", "250.00", "2026-03-31T10:00:00+08:00"), (2, "D", "250.00", "2026-03-31T23:59:59+08:00"),
        (3, "C", "150.00", "2026-03-20T10:00:00+08:00")]
    r = staff.get("/api/v1/admin/rankings/?measure=direct_sales&from=2026-03-01&to=2026-04-01&limit=1").json()
    assert [(x["distributor_external_id"], x["score"]) for x in r["results"]] == [("C", "1550.00")]
    with tenant_context(tenant):
        assert RankingBoard.objects.count() == 1                       # asked for again: not made again
        assert measures.ranks_refresh(measures.ranking_scoreboard(RankingBoard.objects.get())) > 0
        from incentives.selectors import contest_scores_drift

        assert contest_scores_drift() == []


def test_team_sales_and_commission_boards_and_a_month_not_begun(clock, staff, programme, partner, portal_for):
    """March team sales: A 300.00 (its own 200.00 and D's 100.00 at level 2; last 03-15) and
    B 300.00 (last 03-05): B first. Commission (10% / 5%): B 30.00, A 25.00, C 15.00, D 10.00.
    May has not begun on April 20th: its ranking is computed (empty) and makes no board."""
    tenant = programme["A"].tenant
    show_rankings(tenant)
    a = portal_for(programme["A"])
    body = a.get("/api/v1/me/rankings/?measure=team_sales&period=2026-03").json()
    assert table(body)[:2] == [(1, "A***e", "300.00", False), (2, "张三", "300.00", True)]
    post_order(partner, "OD2", "D", "0.01", "2026-03-02T10:00:00+08:00")     # A's team 300.01
    body = a.get("/api/v1/me/rankings/?measure=team_sales&period=2026-03").json()
    assert table(body)[:2] == [(1, "张三", "300.01", True), (2, "A***e", "300.00", False)]
    r = staff.get("/api/v1/admin/rankings/?measure=commission&from=2026-03-01&to=2026-03-31").json()
    assert [(x["distributor_external_id"], x["score"]) for x in r["results"]] == [
        ("B", "30.00"), ("A", "25.00"), ("C", "15.00"), ("D", "10.00")]   # 0.01 pays 0.00 to D, 0.00 to A
    body = a.get("/api/v1/me/rankings/?period=2026-05").json()
    assert (body["results"], body["mine"]) == ([], {"rank": None, "score": "0.00"})
    with tenant_context(tenant):
        assert sorted(RankingBoard.objects.values_list("measure", "month")) == [
            ("commission", date(2026, 3, 1)), ("team_sales", date(2026, 3, 1))]


def test_recruits_rankings_are_computed(clock, staff, programme, portal_for):
    """new_direct_recruits has no day figures: its ranking is computed and makes no board."""
    show_rankings(programme["A"].tenant)
    body = portal_for(programme["A"]).get("/api/v1/me/rankings/?measure=new_direct_recruits&period=2026-04").json()
    assert body["measure"] == "new_direct_recruits"
    with tenant_context(programme["A"].tenant):
        assert not RankingBoard.objects.exists()


def april_post(partner, external_id, day, minute, amount, referrer):
    post_order(partner, external_id, referrer, amount, datetime(2026, 4, day, 9, minute, tzinfo=CST).isoformat())


@pytest.mark.parametrize("measure", list(measures.RANKED))
def test_a_board_equals_the_computed_ranking_whatever_happened_since_it_was_made(
        partner, in_tenant, measure, django_assert_num_queries):
    """Boards made before any order and halfway through, after every step (orders with equal
    amounts, full refunds that stop counting an order, snapshots taken or not): the board's top and
    every distributor's rank are exactly the computed leaderboard and rank_of, the top in one
    query and a rank in one query."""
    rnd = random.Random(11)
    root = distributor(in_tenant, external_id="R")
    names = [f"P{i}" for i in range(9)]
    for i, x in enumerate(names):
        distributor(in_tenant, root if i < 3 else Distributor.objects.get(external_id=names[i % 3]), external_id=x)
    ids = [Distributor.objects.get(external_id=x).pk for x in ["R", *names]]
    april = measures.Window(date(2026, 4, 1), date(2026, 5, 1))
    early = measures.ranking_scoreboard(measures.ranking_board(measure, date(2026, 4, 1)))
    late = None
    n = 0
    for step in range(8):
        for _ in range(4):
            april_post(partner, f"S{n}", 1 + n % 29, n % 60, rnd.choice(["50.00", "50.00", "120.00", "75.50"]),
                       rnd.choice(names))
            n += 1
        if step % 3 == 2:
            from orders.models import Order

            base = Order.objects.get(external_id=f"S{n - 2}").commission_base
            r = partner.post(f"/api/v1/orders/S{n - 2}/refunds/", {"external_id": f"RF{n}", "amount": str(base)},
                             format="json")
            assert r.status_code == 201, r.content
        if step == 3:
            RankingBoard.objects.filter(measure=measure).delete()
            late = measures.ranking_scoreboard(measures.ranking_board(measure, date(2026, 4, 1)))
            early = late
        if step in (1, 5):
            measures.ranks_refresh(early)
        want = measures.leaderboard(measure, april)
        assert len(want) >= 3, step
        with django_assert_num_queries(1):
            assert measures.board_read(early) == want, step
        for pk in ids:
            with django_assert_num_queries(1):
                got = measures.board_rank(early, pk)
            assert got == measures.rank_of(measure, april, pk), (step, pk)
    assert late is not None


@pytest.mark.ledger_drift_expected
def test_check_measures_reports_a_board_that_disagrees(clock, programme, portal_for):
    from io import StringIO

    from django.core.management import CommandError, call_command

    tenant = programme["A"].tenant
    show_rankings(tenant)
    portal_for(programme["A"]).get("/api/v1/me/rankings/?period=2026-03")
    call_command("check_measures", stdout=StringIO())
    with tenant_context(tenant):
        RankingScore.objects.filter(distributor=programme["C"]).update(score=15001)   # someone edits a score
    err = StringIO()
    with pytest.raises(CommandError, match="2 disagreement"):
        call_command("check_measures", stdout=StringIO(), stderr=err)
    c = programme["C"].pk
    assert f"ranking direct_sales 2026-03 score of distributor {c}: stored (15001, " in err.getvalue()
    # and its snapshot: the row is not marked changed, yet its score is not the one snapped
    assert f"ranking direct_sales 2026-03 distributor {c}: not dirty but snapped (-15000, " in err.getvalue()


def test_the_minute_task_snapshots_ranking_boards(clock, programme, partner, portal_for):
    from incentives.tasks import contest_ranks_tenant

    tenant = programme["A"].tenant
    show_rankings(tenant)
    portal_for(programme["A"]).get("/api/v1/me/rankings/?period=2026-03")   # made with its snapshot
    assert contest_ranks_tenant.delay(tenant_id=tenant.pk).get() == {"contests": 0, "rankings": 0, "rows": 0}
    post_order(partner, "OD2", "D", "250.00", "2026-03-31T10:00:00+08:00")  # D 350.00: first
    assert contest_ranks_tenant.delay(tenant_id=tenant.pk).get() == {"contests": 0, "rankings": 1, "rows": 4}
    assert contest_ranks_tenant.delay(tenant_id=tenant.pk).get() == {"contests": 0, "rankings": 0, "rows": 0}


# --- made while day figures are written, on PostgreSQL ----------------------------------------

def _day_row(**values):
    from incentives.figures import _zero_day

    row = _zero_day()
    row.update(values)
    return row


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.ledger_drift_expected   # the figures are written directly: there are no orders behind them
@pytest.mark.parametrize("first", ["writer", "maker"])
def test_a_board_made_while_figures_are_written_counts_them_once(make_tenant, first):
    """A writer of day figures (an accrual) and the request making the month's board run at once:
    whichever takes the boards' lock first, the other waits for its commit, and the board holds
    the writer's figures exactly once (neither missed nor added twice)."""
    from django.db import connection, transaction

    from incentives import figures
    from incentives.selectors import contest_scores_drift

    t = make_tenant(slug="board-race")
    with tenant_context(t):
        d = distributor(t, external_id="W")
        figures._days_add(t, {(d.pk, date(2026, 3, 2)): _day_row(direct_sales=10000, direct_orders=1,
                                                                 direct_last_at=datetime(2026, 3, 2, 1, tzinfo=CST))})
    holding, release, done = threading.Event(), threading.Event(), {}
    real_refresh = measures.ranks_refresh

    def writer():
        try:
            with tenant_context(t), transaction.atomic():
                if first == "maker":
                    holding.wait(10)
                figures._days_add(t, {(d.pk, date(2026, 3, 9)): _day_row(
                    direct_sales=2550, direct_orders=1, direct_last_at=datetime(2026, 3, 9, 1, tzinfo=CST))})
                if first == "writer":
                    holding.set()
                    release.wait(10)
            done["writer"] = time.monotonic()
        finally:
            connection.close()

    def maker():
        def refresh_then_hold(board):   # inside the maker's transaction, the lock held
            out = real_refresh(board)
            if first == "maker":
                holding.set()
                release.wait(10)
            return out

        try:
            if first == "writer":
                holding.wait(10)
            measures.ranks_refresh = refresh_then_hold
            with tenant_context(t):
                measures.ranking_board("direct_sales", date(2026, 3, 1))
            done["maker"] = time.monotonic()
        finally:
            connection.close()

    threads = [threading.Thread(target=writer), threading.Thread(target=maker)]
    try:
        for th in threads:
            th.start()
        assert holding.wait(10)
        time.sleep(0.5)
        assert done == {}          # the one that came second waits for the first one's commit
        released = time.monotonic()
        release.set()
        for th in threads:
            th.join(30)
    finally:
        measures.ranks_refresh = real_refresh
        release.set()
    assert set(done) == {"writer", "maker"} and min(done.values()) >= released
    with tenant_context(t):
        assert list(RankingScore.objects.values_list("score", "reached_at")) == [
            (12550, datetime(2026, 3, 9, 1, tzinfo=CST))]
        board = measures.ranking_scoreboard(RankingBoard.objects.get())
        assert measures.board_read(board)[0].score == D("125.50")
        assert [x for x in contest_scores_drift() if "ranking" in x] == []
