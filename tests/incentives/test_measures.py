"""The measures of domain rules section 8 with worked values, through the public intake (both
paths): local-day windows (the Shanghai midnight boundary), refunds recorded so far, the tie rule's
"reached first", skip and compress, recruits, totals. The figures behind them are checked against a
recomputation from the orders after every test (check_measures, tests/conftest.py)."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from distributors.services import distributor_update
from incentives import measures as m
from incentives.models import DailyFigure, Measure
from tests.factories import chain, distributor, order_json

pytestmark = pytest.mark.usefixtures("both_intake_paths")

CST = timezone(timedelta(hours=8))
APRIL = m.Window(date(2026, 4, 1), date(2026, 5, 1))
MARCH = m.Window(date(2026, 3, 1), date(2026, 4, 1))


def post(partner, external_id, paid_at, amount, referrer="C2", **kw):
    body = order_json(external_id, placed_at=paid_at.isoformat(), status="paid", paid_at=paid_at.isoformat(),
                      lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": amount}], **kw)
    if referrer:
        body["referrer_external_id"] = referrer
    r = partner.post("/api/v1/orders/", body, format="json")
    assert r.status_code == 201, r.json()
    return r.json()


def scores(measure, window, **kw):
    from distributors.models import Distributor

    ext = dict(Distributor.objects.values_list("pk", "external_id"))
    return [(x.rank, ext[x.distributor_id], str(x.score)) for x in m.leaderboard(measure, window, **kw)]


def test_orders_count_on_the_local_day_they_were_paid(partner, in_tenant):
    """23:59:59 and 00:00:00 Shanghai time are 16 seconds apart on one UTC day, in two local months."""
    chain(in_tenant, 3)
    post(partner, "MAR", datetime(2026, 3, 31, 23, 59, 59, tzinfo=CST), "100.00")
    post(partner, "APR", datetime(2026, 4, 1, 0, 0, 0, tzinfo=CST), "250.00")
    post(partner, "MAY", datetime(2026, 5, 1, 0, 0, 0, tzinfo=CST), "999.00")     # the day after the window
    assert scores(Measure.DIRECT_SALES, MARCH) == [(1, "C2", "100.00")]
    assert scores(Measure.DIRECT_SALES, APRIL) == [(1, "C2", "250.00")]
    # team: every recorded beneficiary; C0 is level 3 of each
    assert scores(Measure.TEAM_SALES, APRIL) == [(1, "C0", "250.00"), (2, "C1", "250.00"), (3, "C2", "250.00")]
    assert scores(Measure.COMMISSION, APRIL) == [(1, "C2", "25.00"), (2, "C1", "12.50"), (3, "C0", "5.00")]
    assert scores(Measure.ORDER_COUNT, m.Window(date(2026, 3, 1), date(2026, 6, 1))) == [(1, "C2", "3")]
    assert DailyFigure.objects.filter(day=date(2026, 3, 31)).count() == 3


def test_refunds_recorded_so_far_count_and_a_refunded_order_stops_counting(partner, in_tenant):
    chain(in_tenant, 3)
    post(partner, "O1", datetime(2026, 4, 3, 9, 0, tzinfo=CST), "300.00")
    post(partner, "O2", datetime(2026, 4, 5, 9, 0, tzinfo=CST), "200.00")
    assert partner.post("/api/v1/orders/O1/refunds/", {"external_id": "R1", "amount": "120.00"}, format="json").status_code == 201
    assert str(m.score_of(Measure.DIRECT_SALES, APRIL, _pk("C2")).score) == "380.00"        # 180 + 200
    assert str(m.score_of(Measure.COMMISSION, APRIL, _pk("C1")).score) == "19.00"           # 5% of 380
    s = m.score_of(Measure.ORDER_COUNT, APRIL, _pk("C2"))
    assert (s.score, s.reached_at) == (D(2), datetime(2026, 4, 5, 1, 0, tzinfo=timezone.utc))
    # O2 refunded in full: it counts 0 and no more as an order; "reached" falls back to O1
    assert partner.post("/api/v1/orders/O2/refunds/", {"external_id": "R2", "amount": "200.00"}, format="json").status_code == 201
    s = m.score_of(Measure.DIRECT_SALES, APRIL, _pk("C2"))
    assert (str(s.score), s.reached_at) == ("180.00", datetime(2026, 4, 3, 1, 0, tzinfo=timezone.utc))
    assert m.score_of(Measure.ORDER_COUNT, APRIL, _pk("C2")).score == D(1)
    assert str(m.total(Measure.NET_SALES, APRIL)) == "180.00"
    assert m.total(Measure.ACTIVE_DISTRIBUTORS, APRIL) == D(1)


def test_pending_and_cancelled_orders_never_count_and_a_paid_one_counts_on_its_paid_day(partner, in_tenant):
    """Section 8: an order belongs to P when its paid_at falls in P; pending and cancelled orders never
    count. O1 was placed in March and paid 2026-04-01 00:00:00 local (an April order); O2 stays
    pending; O3 is cancelled."""
    chain(in_tenant, 3)
    for ext in ("O1", "O2", "O3"):
        r = partner.post("/api/v1/orders/", order_json(ext, referrer_external_id="C2", status="pending",
                                                       placed_at="2026-03-30T10:00:00+08:00",
                                                       lines=[{"line_id": "1", "sku": "S", "quantity": 1,
                                                               "unit_price": "400.00"}]), format="json")
        assert r.status_code == 201, r.json()
    assert partner.post("/api/v1/orders/O3/cancel/", {}, format="json").status_code == 200
    for measure in (Measure.DIRECT_SALES, Measure.TEAM_SALES, Measure.ORDER_COUNT, Measure.COMMISSION):
        assert scores(measure, m.Window(date(2026, 3, 1), date(2026, 5, 1))) == [], measure
    assert m.total(Measure.NET_SALES, m.Window(date(2026, 3, 1), date(2026, 5, 1))) == D("0.00")
    assert partner.post("/api/v1/orders/O1/pay/", {"paid_at": "2026-04-01T00:00:00+08:00"},
                        format="json").status_code == 200
    assert scores(Measure.DIRECT_SALES, MARCH) == []
    assert scores(Measure.DIRECT_SALES, APRIL) == [(1, "C2", "400.00")]
    assert scores(Measure.ORDER_COUNT, APRIL) == [(1, "C2", "1")]
    assert scores(Measure.COMMISSION, APRIL) == [(1, "C2", "40.00"), (2, "C1", "20.00"), (3, "C0", "8.00")]
    assert (str(m.total(Measure.NET_SALES, APRIL)), m.total(Measure.ACTIVE_DISTRIBUTORS, APRIL)) == ("400.00", D(1))


def _pk(external_id):
    from distributors.models import Distributor

    return Distributor.objects.get(external_id=external_id).pk


def test_tie_goes_to_whoever_reached_the_score_first(partner, in_tenant):
    """Equal scores: the earlier last counted order wins; then the lower id."""
    root = distributor(in_tenant, external_id="R")
    a = distributor(in_tenant, root, external_id="A")
    b = distributor(in_tenant, root, external_id="B")
    post(partner, "A1", datetime(2026, 4, 10, 12, 0, tzinfo=CST), "100.00", referrer="A")
    post(partner, "B1", datetime(2026, 4, 2, 12, 0, tzinfo=CST), "60.00", referrer="B")
    post(partner, "B2", datetime(2026, 4, 9, 12, 0, tzinfo=CST), "40.00", referrer="B")
    # both 100.00; B reached it on April 9, A on April 10
    assert scores(Measure.DIRECT_SALES, APRIL) == [(1, "B", "100.00"), (2, "A", "100.00")]
    assert m.rank_of(Measure.DIRECT_SALES, APRIL, a.pk)[0] == 2 and m.rank_of(Measure.DIRECT_SALES, APRIL, b.pk)[0] == 1
    assert scores(Measure.DIRECT_SALES, APRIL, min_score=D("100.01")) == []
    assert scores(Measure.DIRECT_SALES, APRIL, limit=1) == [(1, "B", "100.00")]
    # the same day and time: the lower id first
    post(partner, "A2", datetime(2026, 4, 20, 12, 0, tzinfo=CST), "10.00", referrer="A")
    post(partner, "B3", datetime(2026, 4, 20, 12, 0, tzinfo=CST), "10.00", referrer="B")
    assert scores(Measure.DIRECT_SALES, APRIL)[:2] == [(1, "A", "110.00"), (2, "B", "110.00")] and a.pk < b.pk


def test_inactive_uplines_under_skip_and_compress(make_tenant, partner_for):
    from tenants.context import tenant_context

    for policy, direct, team in (("skip", [], ["C0", "C1"]), ("compress", ["C1"], ["C0", "C1"])):
        t = make_tenant(slug=f"p-{policy}", inactive_upline_policy=policy)
        with tenant_context(t):
            c0, c1, c2 = chain(t, 3)
            distributor_update(distributor=c2, status="frozen")
            post(partner_for(t), "O1", datetime(2026, 4, 3, 9, 0, tzinfo=CST), "100.00")
            assert [e for _, e, _ in scores(Measure.DIRECT_SALES, APRIL)] == direct, policy
            assert sorted(e for _, e, _ in scores(Measure.TEAM_SALES, APRIL)) == team, policy
            assert str(m.total(Measure.NET_SALES, APRIL)) == "100.00"


def test_new_direct_recruits_are_active_and_joined_in_the_window(in_tenant):
    from distributors.services import DistributorInput, distributor_register

    root = distributor(in_tenant, external_id="ROOT")
    other = distributor(in_tenant, external_id="OTHER")

    def join(ext, parent, at):
        d, _ = distributor_register(tenant=in_tenant, data=DistributorInput(
            external_id=ext, name=ext, parent_external_id=parent, joined_at=at))
        return d

    join("J1", "ROOT", datetime(2026, 3, 31, 23, 59, tzinfo=CST))       # March, local
    join("J2", "ROOT", datetime(2026, 4, 1, 0, 0, tzinfo=CST))
    join("J3", "ROOT", datetime(2026, 4, 15, 8, 0, tzinfo=CST))
    j4 = join("J4", "ROOT", datetime(2026, 4, 16, 8, 0, tzinfo=CST))
    join("J5", "OTHER", datetime(2026, 4, 2, 8, 0, tzinfo=CST))
    distributor_update(distributor=j4, status="frozen")                   # not active: not counted
    s = m.score_of(Measure.NEW_DIRECT_RECRUITS, APRIL, root.pk)
    assert (s.score, s.reached_at) == (D(2), datetime(2026, 4, 15, 0, 0, tzinfo=timezone.utc))
    assert scores(Measure.NEW_DIRECT_RECRUITS, APRIL) == [(1, "ROOT", "2"), (2, "OTHER", "1")]
    assert m.total(Measure.NEW_DIRECT_RECRUITS, APRIL) == D(3)
    assert m.total(Measure.NEW_DIRECT_RECRUITS, APRIL, members=m.team_of(other.pk)) == D(1)


def test_team_totals_and_refusals(partner, in_tenant):
    c0, c1, c2 = chain(in_tenant, 3)
    side = distributor(in_tenant, c0, external_id="SIDE")
    post(partner, "O1", datetime(2026, 4, 3, 9, 0, tzinfo=CST), "100.00")                 # C2 level 1
    post(partner, "O2", datetime(2026, 4, 4, 9, 0, tzinfo=CST), "50.00", referrer="SIDE")
    post(partner, "O3", datetime(2026, 4, 5, 9, 0, tzinfo=CST), "70.00", referrer=None)    # no beneficiary
    team = m.team_of(c1.pk)                                                                  # C1, C2
    assert str(m.total(Measure.DIRECT_SALES, APRIL, members=team)) == "100.00"
    assert str(m.total(Measure.DIRECT_SALES, APRIL, members=m.team_of(c0.pk))) == "150.00"
    assert str(m.total(Measure.DIRECT_SALES, APRIL)) == "150.00"
    assert str(m.total(Measure.NET_SALES, APRIL)) == "220.00"                               # every paid order
    assert m.total(Measure.ACTIVE_DISTRIBUTORS, APRIL) == D(2)
    assert m.total(Measure.ORDER_COUNT, APRIL, members=m.team_of(c0.pk)) == D(2)
    with pytest.raises(m.MeasureError):
        m.total(Measure.TEAM_SALES, APRIL)
    with pytest.raises(m.MeasureError):
        m.total(Measure.NET_SALES, APRIL, members=team)
    assert side.pk


def test_window_of_local_midnights():
    w = m.Window.between(datetime(2026, 3, 31, 16, 0, tzinfo=timezone.utc), datetime(2026, 4, 30, 16, 0, tzinfo=timezone.utc),
                         "Asia/Shanghai")
    assert w == m.Window(date(2026, 4, 1), date(2026, 5, 1))
    with pytest.raises(ValueError):
        m.Window.between(datetime(2026, 4, 1, tzinfo=timezone.utc), datetime(2026, 5, 1, tzinfo=timezone.utc), "Asia/Shanghai")


def test_leaderboard_and_rank_are_constant_queries(partner, in_tenant, django_assert_num_queries):
    root = distributor(in_tenant, external_id="ROOT")
    for i in range(12):
        distributor(in_tenant, root, external_id=f"D{i}")
        post(partner, f"O{i}", datetime(2026, 4, 3 + i, 9, 0, tzinfo=CST), f"{100 + i}.00", referrer=f"D{i}")
    from tenants.context import current_tenant

    current_tenant()
    with django_assert_num_queries(1):
        assert len(m.leaderboard(Measure.DIRECT_SALES, APRIL, limit=5)) == 5
    d3 = _pk("D3")
    with django_assert_num_queries(2):
        assert m.rank_of(Measure.DIRECT_SALES, APRIL, d3)[0] == 9
