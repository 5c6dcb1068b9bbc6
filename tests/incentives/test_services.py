"""Grades, contests, tier bonuses and targets (domain rules section 8) with worked values, through
the public intake and the services; money through the ledger (check_ledger runs after each test)."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
import time_machine

from commissions.services import grade_override_set
from distributors.models import Distributor, Grade, GradeChange
from fenxiao.exceptions import InvalidState
from incentives import services as s
from incentives.models import ContestResult, Measure, Target, TierAward
from ledger.models import LedgerEntry, OutboxEvent
from ledger.services import settle_due
from tests.factories import chain, distributor, order_json

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 6, 20, 12, 0, tzinfo=CST)


def post(partner, external_id, paid_at, amount, referrer="C2"):
    body = order_json(external_id, placed_at=paid_at.isoformat(), status="paid", paid_at=paid_at.isoformat(),
                      referrer_external_id=referrer,
                      lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": amount}])
    r = partner.post("/api/v1/orders/", body, format="json")
    assert r.status_code == 201, r.json()


def local(y, mo, d, h=0, mi=0, sec=0):
    return datetime(y, mo, d, h, mi, sec, tzinfo=CST)


def bonuses(external_id):
    return sorted(LedgerEntry.objects.filter(kind="bonus", distributor__external_id=external_id)
                  .values_list("amount", flat=True))


def errors(exc):
    return [(k, e.code) for k, v in exc.value.detail.items() for e in v]


# --- grades ------------------------------------------------------------------------------------

def test_a_grade_upgrade_after_settlement_changes_the_next_order_only(partner, in_tenant):
    """Silver: 150.00 of settled direct sales and 1 active direct downline; its level-1 override is
    12%. The order paid before the upgrade keeps 10%; the next one pays 12%."""
    silver = Grade.objects.create(tenant=in_tenant, code="silver", name="Silver", rank=10,
                                  min_direct_sales=D("150.00"), min_direct_downlines=1)
    Grade.objects.create(tenant=in_tenant, code="gold", name="Gold", rank=20, min_direct_sales=D("10000.00"))
    grade_override_set(grade=silver, level=1, kind="percent", value=D("0.1200"))
    c0, c1, c2 = chain(in_tenant, 3)
    distributor(in_tenant, c2, external_id="C3")          # C2's active direct downline
    with time_machine.travel(local(2026, 4, 1, 10), tick=False) as clock:
        post(partner, "O1", local(2026, 4, 1, 10), "100.00")
        assert partner.post("/api/v1/orders/O1/complete/", {"completed_at": local(2026, 4, 1, 12).isoformat()},
                            format="json").status_code == 200
        clock.move_to(local(2026, 4, 2, 12))
        post(partner, "O2", local(2026, 4, 2, 10), "60.00")
        assert partner.post("/api/v1/orders/O2/complete/", {"completed_at": local(2026, 4, 2, 12).isoformat()},
                            format="json").status_code == 200
        clock.move_to(local(2026, 4, 8, 13))            # O1 settled (100.00 < 150.00): no upgrade
        settle_due(tenant=in_tenant)
        assert Distributor.objects.get(pk=c2.pk).grade_id is None
        post(partner, "O3", local(2026, 4, 8, 14), "100.00")
        clock.move_to(local(2026, 4, 9, 13))            # O2 settled too: 160.00 >= 150.00 -> silver
        settle_due(tenant=in_tenant)
        assert Distributor.objects.get(pk=c2.pk).grade.code == "silver"
        post(partner, "O4", local(2026, 4, 9, 14), "100.00")
    amounts = dict((o, a) for o, a in __import__("commissions.models", fromlist=["x"]).CommissionRecord.objects
                   .filter(level=1).values_list("order__external_id", "amount"))
    assert (amounts["O3"], amounts["O4"]) == (D("10.00"), D("12.00"))   # recorded before / after the upgrade
    change = GradeChange.objects.get(distributor=c2)
    assert (change.kind, change.from_grade, change.to_grade.code) == ("upgrade", None, "silver")
    assert change.reason == "settled direct sales 160.00, team sales 160.00, active direct downlines 1 meet silver"
    event = OutboxEvent.objects.get(type="distributor.upgraded")
    assert event.payload == {"distributor_external_id": "C2", "from_grade": None, "to_grade": "silver",
                             "kind": "upgrade", "reason": change.reason}
    # never down automatically; staff may set a grade by hand (audited in the history)
    from distributors.services import distributor_update

    distributor_update(distributor=Distributor.objects.get(pk=c2.pk), grade=None, reason="audit", actor="pm")
    s.grades_evaluate(distributor_ids=[c2.pk])   # conditions still hold: up again
    assert list(GradeChange.objects.filter(distributor=c2).order_by("id").values_list("kind", flat=True)) == [
        "upgrade", "manual", "upgrade"]


def test_team_sales_conditions_and_the_highest_grade_that_holds(partner, in_tenant):
    """Bronze: 100.00 of settled team sales; silver: 250.00 and 2 active direct downlines; gold:
    700.00. C0 <- C1 <- C2, and X under C0. O1 and O2 (150.00 each, C2 referring) settle; O3
    (500.00) is paid but not settled, so it counts for nobody yet. C0 (team 300.00, 2 downlines)
    goes straight to silver, past bronze; not gold (800.00 only with O3). C1 (team 300.00, 1
    downline) gets bronze; C2 (direct 300.00, no downline) bronze too."""
    for code, rank, team, downlines in (("bronze", 10, "100.00", None), ("silver", 20, "250.00", 2),
                                        ("gold", 30, "700.00", None)):
        Grade.objects.create(tenant=in_tenant, code=code, name=code, rank=rank, min_team_sales=D(team),
                             min_direct_downlines=downlines)
    c0, c1, c2 = chain(in_tenant, 3)
    distributor(in_tenant, c0, external_id="X")
    with time_machine.travel(local(2026, 4, 1, 10), tick=False) as clock:
        for ext in ("O1", "O2"):
            post(partner, ext, local(2026, 4, 1, 10), "150.00")
            assert partner.post(f"/api/v1/orders/{ext}/complete/", {"completed_at": local(2026, 4, 1, 12).isoformat()},
                                format="json").status_code == 200
        post(partner, "O3", local(2026, 4, 5, 10), "500.00")
        clock.move_to(local(2026, 4, 8, 13))
        settle_due(tenant=in_tenant)
    grades = dict(Distributor.objects.values_list("external_id", "grade__code"))
    assert (grades["C0"], grades["C1"], grades["C2"], grades["X"]) == ("silver", "bronze", "bronze", None)
    assert GradeChange.objects.get(distributor=c0).reason == (
        "settled direct sales 0.00, team sales 300.00, active direct downlines 2 meet silver")
    assert GradeChange.objects.get(distributor=c2).reason == (
        "settled direct sales 300.00, team sales 300.00, active direct downlines 0 meet bronze")
    assert c1.pk and OutboxEvent.objects.filter(type="distributor.upgraded").count() == 3


def test_a_risk_held_commission_counts_towards_no_upgrade_until_it_settles(partner, in_tenant):
    """Silver: 150.00 of settled direct sales. C2's O1 (50.00) settles before C2 is held; O2
    (100.00) is paid while C2's hold is open, so C2's level-1 commission on it is held while C1's
    level-2 and C0's level-3 ones settle. C2's settled direct sales stay 50.00 (no grade) until the hold is released
    and O2's held commission settles: then 150.00, silver (domain rules sections 8 and 11)."""
    from incentives.models import Standing
    from risk.models import RiskHold
    from risk.services import risk_hold_place, risk_hold_release

    Grade.objects.create(tenant=in_tenant, code="silver", name="Silver", rank=10, min_direct_sales=D("150.00"))
    c0, c1, c2 = chain(in_tenant, 3)
    with time_machine.travel(local(2026, 4, 1, 10), tick=False) as clock:
        post(partner, "O1", local(2026, 4, 1, 10), "50.00")
        assert partner.post("/api/v1/orders/O1/complete/", {"completed_at": local(2026, 4, 1, 12).isoformat()},
                            format="json").status_code == 200
        clock.move_to(local(2026, 4, 8, 13))
        settle_due(tenant=in_tenant)
        hold = risk_hold_place(tenant=in_tenant, distributor_id=c2.pk, reason=RiskHold.Reason.VELOCITY, figures={})
        post(partner, "O2", local(2026, 4, 8, 14), "100.00")
        assert partner.post("/api/v1/orders/O2/complete/", {"completed_at": local(2026, 4, 8, 15).isoformat()},
                            format="json").status_code == 200
        clock.move_to(local(2026, 4, 16, 13))
        assert settle_due(tenant=in_tenant) == 2          # C1's level 2 and C0's level 3 on O2; C2's held
        assert Standing.objects.get(distributor=c2).settled_direct_sales == 5000
        assert Standing.objects.get(distributor=c1).settled_team_sales == 15000
        assert Distributor.objects.get(pk=c2.pk).grade_id is None
        risk_hold_release(hold=hold, reason="checked", actor="pm")
        assert settle_due(tenant=in_tenant) == 1
    assert Standing.objects.get(distributor=c2).settled_direct_sales == 15000
    assert Distributor.objects.get(pk=c2.pk).grade.code == "silver"
    assert GradeChange.objects.get(distributor=c2).reason == (
        "settled direct sales 150.00, team sales 150.00, active direct downlines 0 meet silver")


def test_refunds_after_settlement_lower_the_settled_sales(partner, in_tenant):
    from incentives.models import Standing

    chain(in_tenant, 3)
    with time_machine.travel(local(2026, 4, 1, 10), tick=False) as clock:
        post(partner, "O1", local(2026, 4, 1, 10), "100.00")
        clock.move_to(local(2026, 4, 30))
        settle_due(tenant=in_tenant)
        partner.post("/api/v1/orders/O1/refunds/", {"external_id": "R1", "amount": "30.00"}, format="json")
    st = Standing.objects.get(distributor__external_id="C2")
    assert (st.settled_direct_sales, st.settled_team_sales) == (7000, 7000)   # 70.00 in fen
    assert Standing.objects.get(distributor__external_id="C0").settled_direct_sales == 0


# --- contests ----------------------------------------------------------------------------------

def contest(tenant, **kw):
    values = dict(name="April sprint", starts_at=local(2026, 4, 1), ends_at=local(2026, 5, 1),
                  measure=Measure.DIRECT_SALES, prizes=["500.00", "300.00"])
    values.update(kw)
    return s.contest_create(tenant=tenant, **values)


def test_contest_boundary_tie_refund_and_finalize_once(partner, in_tenant):
    root = distributor(in_tenant, external_id="R")
    for x in ("A", "B", "C"):
        distributor(in_tenant, root, external_id=x)
    c = contest(in_tenant)
    assert c.finalize_at == local(2026, 5, 8)                      # ends_at + settle_after_days (7)
    post(partner, "A0", local(2026, 3, 31, 23, 59, 59), "900.00", referrer="A")   # before the window
    post(partner, "A1", local(2026, 4, 1, 0, 0, 0), "100.00", referrer="A")       # first second of it
    post(partner, "A2", local(2026, 4, 20, 9), "100.00", referrer="A")
    post(partner, "B1", local(2026, 4, 18, 9), "200.00", referrer="B")            # B reached 200.00 first
    post(partner, "C1", local(2026, 4, 30, 23, 59, 59), "150.00", referrer="C")   # last second
    post(partner, "C2x", local(2026, 5, 1, 0, 0, 0), "999.00", referrer="C")      # after it
    board = [(r.rank, r.distributor_id, str(r.score), str(p) if p else None) for r, p in s.contest_leaderboard(contest=c)]
    ids = {d.external_id: d.pk for d in Distributor.objects.all()}
    assert board == [(1, ids["B"], "200.00", "500.00"), (2, ids["A"], "200.00", "300.00"), (3, ids["C"], "150.00", None)]
    with pytest.raises(InvalidState):
        s.contest_finalize(contest=c, now=local(2026, 4, 30, 23))   # not over yet
    # a refund between the window's end and finalization is counted: B drops to 150.00, then C
    # (150.00, reached Apr 30) ranks after B (150.00, reached Apr 18)
    assert partner.post("/api/v1/orders/B1/refunds/", {"external_id": "RB", "amount": "50.00"}, format="json").status_code == 201
    assert s.contests_finalize_due(now=local(2026, 5, 7, 23)) == 0   # before finalize_at
    assert s.contests_finalize_due(now=local(2026, 5, 8)) == 1
    c.refresh_from_db()
    assert c.finalized_at == local(2026, 5, 8) and c.finalized_by == "schedule"
    assert list(ContestResult.objects.filter(contest=c).values_list("rank", "distributor__external_id", "score", "prize")) == [
        (1, "A", D("200.0000"), D("500.0000")), (2, "B", D("150.0000"), D("300.0000")), (3, "C", D("150.0000"), D("0"))]
    assert (bonuses("A"), bonuses("B"), bonuses("C")) == ([D("500.00")], [D("300.00")], [])
    # twice: nothing more; a refund after finalization changes no prize
    assert s.contest_finalize(contest=c, now=local(2026, 6, 1))[1] is False
    assert partner.post("/api/v1/orders/A2/refunds/", {"external_id": "RA", "amount": "100.00"}, format="json").status_code == 201
    assert s.contest_standing_of(contest=c, distributor_id=ids["A"]) == (1, D("200.00"), D("500.00"))
    assert (bonuses("A"), bonuses("B")) == ([D("500.00")], [D("300.00")])
    finalized = OutboxEvent.objects.get(type="contest.finalized").payload
    assert finalized["winners"] == [{"rank": 1, "distributor_external_id": "A", "score": "200.00", "prize": "500.00"},
                                    {"rank": 2, "distributor_external_id": "B", "score": "150.00", "prize": "300.00"}]
    assert OutboxEvent.objects.filter(type="bonus.credited").count() == 2
    with pytest.raises(InvalidState):
        s.contest_update(contest=c, name="renamed")


def test_contest_eligibility_by_grade_and_minimum(partner, in_tenant):
    gold = Grade.objects.create(tenant=in_tenant, code="gold", name="Gold", rank=1)
    root = distributor(in_tenant, external_id="R")
    distributor(in_tenant, root, external_id="A", grade="gold")
    distributor(in_tenant, root, external_id="B")
    post(partner, "A1", local(2026, 4, 2), "80.00", referrer="A")
    post(partner, "B1", local(2026, 4, 2), "500.00", referrer="B")
    c = contest(in_tenant, grades=[gold], min_score="100.00")
    assert s.contest_leaderboard(contest=c) == []                 # B is not gold; A is below 100.00
    post(partner, "A2", local(2026, 4, 3), "20.00", referrer="A")
    (row, prize), = s.contest_leaderboard(contest=c)
    assert (row.rank, str(row.score), prize) == (1, "100.00", D("500.00"))
    ids = {d.external_id: d.pk for d in Distributor.objects.all()}
    assert s.contest_standing_of(contest=c, distributor_id=ids["B"]) == (None, D("500.00"), None)


def test_frozen_or_disabled_distributors_win_no_prize_and_no_bonus(partner, in_tenant):
    """Only active distributors take part (a frozen or disabled one earns no commission either,
    section 6): the live board, my rank and the finalized ranking skip them and the next one takes
    the prize; a tier bonus is not paid to them. Before, A (frozen) was ranked 1st and credited
    500.00 and the tier bonus paid D (disabled) 50.00."""
    from distributors.services import distributor_update

    root = distributor(in_tenant, external_id="R")
    for x in "ABCD":
        distributor(in_tenant, root, external_id=x)
    for x, amount in (("A", "300.00"), ("B", "200.00"), ("C", "150.00"), ("D", "1000.00")):
        post(partner, f"{x}1", local(2026, 4, 10), amount, referrer=x)
    ids = {d.external_id: d.pk for d in Distributor.objects.all()}
    c = contest(in_tenant, prizes=["500.00", "300.00"])
    distributor_update(distributor=Distributor.objects.get(external_id="D"), status="disabled", reason="left")
    distributor_update(distributor=Distributor.objects.get(external_id="A"), status="frozen", reason="review")
    board = [(r.rank, r.distributor_id, str(r.score), str(p) if p else None) for r, p in s.contest_leaderboard(contest=c)]
    assert board == [(1, ids["B"], "200.00", "500.00"), (2, ids["C"], "150.00", "300.00")]
    assert s.contest_standing_of(contest=c, distributor_id=ids["A"]) == (None, D("300.00"), None)
    assert s.contest_standing_of(contest=c, distributor_id=ids["C"]) == (2, D("150.00"), D("300.00"))
    floor = contest(in_tenant, name="with a minimum", min_score="160.00")
    assert [(r.rank, r.distributor_id) for r, _ in s.contest_leaderboard(contest=floor)] == [(1, ids["B"])]
    assert s.contest_standing_of(contest=floor, distributor_id=ids["B"]) == (1, D("200.00"), D("500.00"))
    assert s.contest_standing_of(contest=floor, distributor_id=ids["C"]) == (None, D("150.00"), None)
    late = contest(in_tenant, name="by grade and status", grades=[Grade.objects.create(tenant=in_tenant, code="g", name="G",
                                                                                        rank=1)])
    assert s.contest_leaderboard(contest=late) == []
    assert s.contest_finalize(contest=c, now=local(2026, 5, 9))[1] is True
    assert list(ContestResult.objects.filter(contest=c).values_list("rank", "distributor__external_id", "prize")) == [
        (1, "B", D("500.00")), (2, "C", D("300.00"))]
    assert (bonuses("A"), bonuses("B"), bonuses("C"), bonuses("D")) == ([], [D("500.00")], [D("300.00")], [])
    distributor_update(distributor=Distributor.objects.get(external_id="A"), status="active", reason="cleared")
    c.refresh_from_db()
    assert s.contest_standing_of(contest=c, distributor_id=ids["A"]) == (None, D("300.00"), None)   # frozen ranking
    scheme = s.tier_scheme_create(tenant=in_tenant, name="Monthly", measure=Measure.DIRECT_SALES,
                                  tiers=[{"threshold": "150.00", "amount": "50.00"}])
    distributor_update(distributor=Distributor.objects.get(external_id="C"), status="frozen", reason="review")
    _, awards, _ = s.tier_bonus_evaluate(scheme=scheme, period=date(2026, 4, 1), now=NOW)
    assert sorted((a.distributor.external_id, a.amount) for a in awards) == [("A", D("50.00")), ("B", D("50.00"))]


def test_a_frozen_upline_wins_no_recruits_contest(in_tenant):
    """new_direct_recruits (computed from the distributors, not kept scores): the frozen upline with
    more recruits is not ranked."""
    from distributors.services import distributor_update

    r, q = distributor(in_tenant, external_id="R"), distributor(in_tenant, external_id="Q")
    for x in ("A", "B"):
        distributor(in_tenant, r, external_id=x)
    distributor(in_tenant, q, external_id="C")
    today = datetime.now(CST).date()
    c = contest(in_tenant, measure=Measure.NEW_DIRECT_RECRUITS, starts_at=local(today.year, today.month, today.day),
                ends_at=local(today.year, today.month, today.day) + timedelta(days=1), prizes=["10.00"])
    assert [(x.rank, x.distributor_id, x.score) for x, _ in s.contest_leaderboard(contest=c)] == [
        (1, r.pk, D(2)), (2, q.pk, D(1))]
    distributor_update(distributor=r, status="frozen", reason="review")
    assert [(x.rank, x.distributor_id, x.score) for x, _ in s.contest_leaderboard(contest=c)] == [(1, q.pk, D(1))]
    assert s.contest_standing_of(contest=c, distributor_id=r.pk) == (None, D(2), None)
    assert s.contest_standing_of(contest=c, distributor_id=q.pk) == (1, D(1), D("10.00"))


@pytest.mark.parametrize("changes,attr,code", [
    ({"ends_at": local(2026, 4, 1)}, "ends_at", "invalid_window"),
    ({"ends_at": local(2026, 3, 1)}, "ends_at", "invalid_window"),
    ({"starts_at": local(2026, 4, 1, 10)}, "starts_at", "not_local_midnight"),
    ({"prizes": ["-1.00"]}, "prizes.0", "min_value"),
    ({"prizes": ["100.00", "300.00"]}, "prizes.1", "not_decreasing"),
    ({"prizes": ["100.001"]}, "prizes.0", "max_decimal_places"),
    ({"measure": "gmv"}, "measure", "invalid_choice"),
    ({"measure": "commission"}, "measure", "invalid_choice"),
    ({"name": " "}, "name", "required"),
    ({"min_score": "-5"}, "min_score", "invalid"),
    ({"finalize_at": local(2026, 4, 30)}, "finalize_at", "invalid_window"),
])
def test_contest_bad_input_writes_nothing(in_tenant, changes, attr, code):
    from rest_framework.exceptions import ValidationError

    from incentives.models import Contest

    with pytest.raises(ValidationError) as exc:
        contest(in_tenant, **changes)
    assert errors(exc) == [(attr, code)]
    assert not Contest.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_finalizes_credit_each_prize_once(make_tenant, partner_for):
    import threading

    from django.db import connection

    from tenants.context import tenant_context

    t = make_tenant(slug="race")
    partner = partner_for(t)
    with tenant_context(t):
        root = distributor(t, external_id="R")
        for x in "ABCDE":
            distributor(t, root, external_id=x)
        for i, x in enumerate("ABCDE"):
            post(partner, f"{x}1", local(2026, 4, 2 + i), f"{100 + 10 * i}.00", referrer=x)
        c = contest(t, prizes=["50.00", "30.00", "20.00"])
    barrier, outcomes = threading.Barrier(4), []

    def finalize():
        try:
            with tenant_context(t):
                barrier.wait()
                outcomes.append(s.contest_finalize(contest=c, now=local(2026, 5, 9))[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=finalize) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes) == [False, False, False, True]
    with tenant_context(t):
        assert (bonuses("E"), bonuses("D"), bonuses("C"), bonuses("B")) == ([D("50.00")], [D("30.00")], [D("20.00")], [])
        assert ContestResult.objects.count() == 5


# --- tier bonuses ------------------------------------------------------------------------------

TIERS = [{"threshold": "1000.00", "amount": "50.00"}, {"threshold": "5000.00", "rate": "0.0200"}]


def test_tier_bonus_exactly_at_a_threshold_the_highest_tier_once(partner, in_tenant):
    root = distributor(in_tenant, external_id="R")
    for x in ("A", "B", "C", "D"):
        distributor(in_tenant, root, external_id=x)
    post(partner, "A1", local(2026, 4, 30, 23, 59, 59), "1000.00", referrer="A")   # exactly 1000.00, in April
    post(partner, "B1", local(2026, 4, 10), "7777.77", referrer="B")               # 2% = 155.5554 -> 155.55
    post(partner, "C1", local(2026, 4, 10), "999.99", referrer="C")                # under the first tier
    post(partner, "D1", local(2026, 5, 1, 0, 0, 0), "6000.00", referrer="D")       # May, local
    scheme = s.tier_scheme_create(tenant=in_tenant, name="Monthly", measure=Measure.DIRECT_SALES, tiers=TIERS)
    evaluation, awards, created = s.tier_bonus_evaluate(scheme=scheme, period=date(2026, 4, 1), actor="pm", now=NOW)
    assert created and evaluation.awards == 2
    assert sorted((a.distributor.external_id, str(a.measure_value), a.threshold, a.rate, a.amount) for a in awards) == [
        ("A", "1000.00", D("1000.00"), None, D("50.00")), ("B", "7777.77", D("5000.00"), D("0.0200"), D("155.55"))]
    assert (bonuses("A"), bonuses("B"), bonuses("C"), bonuses("D")) == ([D("50.00")], [D("155.55")], [], [])
    # again, or by the schedule: nothing more
    assert s.tier_bonus_evaluate(scheme=scheme, period=date(2026, 4, 1), now=NOW)[2] is False
    assert TierAward.objects.count() == 2
    events = OutboxEvent.objects.filter(type="bonus.credited").order_by("id")
    assert [e.payload["amount"] for e in events] == ["50.00", "155.55"] or [e.payload["amount"] for e in events] == ["155.55", "50.00"]


def test_the_schedule_evaluates_closed_months_after_settle_after_days(partner, in_tenant):
    root = distributor(in_tenant, external_id="R")
    distributor(in_tenant, root, external_id="A")
    with time_machine.travel(local(2026, 3, 15), tick=False):
        scheme = s.tier_scheme_create(tenant=in_tenant, name="Monthly", measure=Measure.DIRECT_SALES, tiers=TIERS)
    post(partner, "A1", local(2026, 3, 20), "1500.00", referrer="A")
    post(partner, "A2", local(2026, 4, 20), "1200.00", referrer="A")
    assert s.tier_bonuses_evaluate_due(now=local(2026, 4, 7, 23)) == 0      # March ended 7 days ago: not yet
    assert s.tier_bonuses_evaluate_due(now=local(2026, 4, 8)) == 1          # March
    assert s.tier_bonuses_evaluate_due(now=local(2026, 5, 9)) == 1          # April
    assert s.tier_bonuses_evaluate_due(now=local(2026, 5, 9)) == 0
    assert bonuses("A") == [D("50.00"), D("50.00")]
    assert scheme.pk


@pytest.mark.parametrize("tiers,attr,code", [
    ([{"threshold": "1000.00", "amount": "5"}, {"threshold": "900.00", "amount": "9"}], "tiers.1.threshold", "not_increasing"),
    ([{"threshold": "1000.00", "rate": "1.5"}], "tiers.0.rate", "invalid_rate"),
    ([{"threshold": "1000.00"}], "tiers.0", "amount_or_rate"),
    ([{"threshold": "1000.00", "amount": "1.001"}], "tiers.0.amount", "invalid_amount"),
    ([], "tiers", "required"),
    ([{"threshold": "x", "amount": "1"}], "tiers.0.threshold", "invalid"),
])
def test_tier_scheme_bad_input(in_tenant, tiers, attr, code):
    from rest_framework.exceptions import ValidationError

    from incentives.models import TierBonusScheme

    with pytest.raises(ValidationError) as exc:
        s.tier_scheme_create(tenant=in_tenant, name="x", measure=Measure.DIRECT_SALES, tiers=tiers)
    assert errors(exc) == [(attr, code)]
    assert not TierBonusScheme.objects.exists()


def test_a_month_not_ended_is_not_evaluated(in_tenant):
    from rest_framework.exceptions import ValidationError

    scheme = s.tier_scheme_create(tenant=in_tenant, name="Monthly", measure=Measure.TEAM_SALES, tiers=TIERS)
    with pytest.raises(ValidationError) as exc:
        s.tier_bonus_evaluate(scheme=scheme, period=date(2026, 6, 1), now=NOW)
    assert errors(exc) == [("period", "period_not_closed")]
    with pytest.raises(ValidationError):
        s.month_of("2026-13")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_award_once(make_tenant, partner_for):
    import threading

    from django.db import connection

    from tenants.context import tenant_context

    t = make_tenant(slug="tiers")
    partner = partner_for(t)
    with tenant_context(t):
        root = distributor(t, external_id="R")
        distributor(t, root, external_id="A")
        post(partner, "A1", local(2026, 4, 2), "5000.00", referrer="A")
        scheme = s.tier_scheme_create(tenant=t, name="Monthly", measure=Measure.DIRECT_SALES, tiers=TIERS)
    barrier, outcomes = threading.Barrier(4), []

    def evaluate():
        try:
            with tenant_context(t):
                barrier.wait()
                outcomes.append(s.tier_bonus_evaluate(scheme=scheme, period=date(2026, 4, 1), now=NOW)[2])
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes) == [False, False, False, True]
    with tenant_context(t):
        assert bonuses("A") == [D("100.00")]


# --- targets -----------------------------------------------------------------------------------

def test_targets_progress_pace_and_status(partner, in_tenant):
    c0, c1, c2 = chain(in_tenant, 3)
    post(partner, "O1", local(2026, 6, 2), "300.00")
    post(partner, "O2", local(2026, 6, 10), "200.00", referrer="C1")
    post(partner, "O3", local(2026, 6, 12), "100.00", referrer=None)
    month = dict(period="month", starts_on=date(2026, 6, 1))
    brand = s.target_create(tenant=in_tenant, name="June", scope="tenant", measure="net_sales", goal="1000.00", **month)
    mine = s.target_create(tenant=in_tenant, name="C2 June", scope="distributor", distributor=c2,
                           measure="direct_sales", goal="600.00", **month)
    team = s.target_create(tenant=in_tenant, name="C1 team", scope="team", distributor=c1,
                           measure="direct_sales", goal="400.00", **month)
    q = s.target_create(tenant=in_tenant, name="Q2 recruits", scope="team", distributor=c0,
                        measure="new_direct_recruits", goal="5", period="quarter", starts_on=date(2026, 4, 1))
    # June 20 12:00 local: 19.5 of 30 days = 0.65
    p = s.target_progress(brand, now=NOW)
    assert (p.value, p.progress, p.expected, p.status) == (D("600.00"), D("0.6000"), D("0.6500"), "on_track")
    p = s.target_progress(mine, now=NOW)
    assert (p.value, p.progress, p.status) == (D("300.00"), D("0.5000"), "behind")
    p = s.target_progress(team, now=NOW)
    assert (p.value, p.progress, p.status) == (D("500.00"), D("1.2500"), "met")
    assert s.target_progress(q, now=NOW).value == D(0)
    assert (brand.starts_at, brand.ends_at) == (local(2026, 6, 1), local(2026, 7, 1))
    assert (q.starts_at, q.ends_at) == (local(2026, 4, 1), local(2026, 7, 1))


@pytest.mark.parametrize("changes,attr,code", [
    ({"scope": "team", "measure": "team_sales"}, "measure", "invalid_choice"),
    ({"scope": "tenant", "measure": "team_sales", "distributor": None}, "measure", "invalid_choice"),
    ({"measure": "net_sales"}, "measure", "invalid_choice"),
    ({"scope": "tenant"}, "distributor", "invalid"),
    ({"goal": "0"}, "goal", "invalid"),
    ({"goal": "10.001"}, "goal", "invalid"),
    ({"starts_on": date(2026, 6, 2)}, "starts_on", "invalid"),
    ({"period": "custom", "ends_on": date(2026, 5, 31)}, "ends_on", "invalid_window"),
    ({"period": "week"}, "period", "invalid_choice"),
])
def test_target_bad_input(in_tenant, changes, attr, code):
    from rest_framework.exceptions import ValidationError

    (c0,) = chain(in_tenant, 1)
    values = dict(name="x", scope="distributor", distributor=c0, measure="direct_sales", period="month",
                  starts_on=date(2026, 6, 1), goal="100.00")
    values.update(changes)
    with pytest.raises(ValidationError) as exc:
        s.target_create(tenant=in_tenant, **values)
    assert errors(exc) == [(attr, code)]
    assert not Target.objects.exists()


def test_each_tenant_gets_an_incentives_schedule_and_the_task_runs_due_jobs(make_tenant, partner_for):
    """incentives:<slug> every 15 minutes: finalizes contests whose finalize_at came and evaluates
    closed months; running it again does nothing more."""
    import json

    from django_celery_beat.models import PeriodicTask

    from incentives.tasks import incentives_tenant
    from tenants.context import tenant_context

    t = make_tenant(slug="inc")
    task = PeriodicTask.objects.get(name="incentives:inc")
    assert (task.task, json.loads(task.kwargs), task.interval.every, task.interval.period) == (
        "incentives.tasks.incentives_tenant", {"tenant_id": t.pk}, 15, "minutes")
    partner = partner_for(t)
    with tenant_context(t):
        root = distributor(t, external_id="R")
        distributor(t, root, external_id="A")
        post(partner, "A1", local(2026, 3, 10), "1500.00", referrer="A")
        contest(t, starts_at=local(2026, 3, 1), ends_at=local(2026, 4, 1), prizes=["88.00"])
        with time_machine.travel(local(2026, 3, 2), tick=False):
            s.tier_scheme_create(tenant=t, name="Monthly", measure=Measure.DIRECT_SALES, tiers=TIERS)
    with time_machine.travel(local(2026, 4, 9), tick=False):
        assert incentives_tenant.delay(tenant_id=t.pk).get() == {"contests": 1, "months": 1}
        assert incentives_tenant.delay(tenant_id=t.pk).get() == {"contests": 0, "months": 0}
    with tenant_context(t):
        assert bonuses("A") == [D("50.00"), D("88.00")]


@pytest.mark.parametrize("measure", ["direct_sales", "team_sales", "order_count"])
def test_kept_contest_scores_equal_the_measures_whatever_the_order_of_events(partner, in_tenant, measure,
                                                                              django_assert_num_queries):
    """A contest created before its orders (scores kept as they come) and one created after them
    (scores rebuilt from the day figures) rank exactly as the measure does; moving the window
    rebuilds; refunds move both; the board is one query whatever the number of distributors."""
    from incentives import measures

    root = distributor(in_tenant, external_id="R")
    for x in "ABCD":
        distributor(in_tenant, root, external_id=x)
    early = contest(in_tenant, measure=measure, starts_at=local(2026, 4, 1), ends_at=local(2026, 5, 1))
    for i, (who, day, amount) in enumerate([("A", 2, "100.00"), ("B", 3, "250.00"), ("C", 30, "80.00"),
                                            ("A", 15, "150.00"), ("D", 1, "40.00"), ("B", 20, "10.00")]):
        post(partner, f"O{i}", local(2026, 4, day, 9), amount, referrer=who)
    post(partner, "MAY", local(2026, 5, 1, 0, 0, 0), "999.00", referrer="C")
    late = contest(in_tenant, measure=measure, starts_at=local(2026, 4, 1), ends_at=local(2026, 5, 1))
    partner.post("/api/v1/orders/O1/refunds/", {"external_id": "R1", "amount": "250.00"}, format="json")   # B's 250 out
    want = measures.leaderboard(measure, measures.Window(date(2026, 4, 1), date(2026, 5, 1)))
    assert len(want) >= 4
    with django_assert_num_queries(1):
        assert measures.contest_board(early) == want
    assert measures.contest_board(late) == want
    for r in want:
        assert measures.contest_rank(early, r.distributor_id)[0] == r.rank
    s.contest_update(contest=early, ends_at=local(2026, 5, 2))       # May 1st joins the window
    assert measures.contest_board(early) == measures.leaderboard(measure, measures.Window(date(2026, 4, 1), date(2026, 5, 2)))


@pytest.mark.parametrize("measure", ["direct_sales", "team_sales", "order_count"])
def test_a_rank_from_the_snapshot_equals_the_count_of_everyone_ahead_whatever_changed_since(
        partner, in_tenant, measure, django_assert_num_queries):
    """contest_rank answers from the rank snapshot plus the rows written since: after every step
    (new orders, equal scores broken by the earlier order, refunds that drop a score to 0, a
    snapshot taken or not) each distributor's rank is its place on the live board (the tie rule),
    in one query."""
    import random

    from incentives import measures
    from incentives.models import ContestScore

    rnd = random.Random(7)
    root = distributor(in_tenant, external_id="R")
    names = [f"P{i}" for i in range(9)]
    for i, x in enumerate(names):
        distributor(in_tenant, root if i < 3 else Distributor.objects.get(external_id=names[i % 3]), external_id=x)
    c = contest(in_tenant, measure=measure, starts_at=local(2026, 4, 1), ends_at=local(2026, 5, 1))
    ids = {x: Distributor.objects.get(external_id=x).pk for x in ["R", *names]}
    n = 0
    for step in range(8):
        for _ in range(4):
            who = rnd.choice(names)
            amount = rnd.choice(["50.00", "50.00", "120.00", "75.50"])   # equal scores: the tie rule decides
            post(partner, f"S{n}", local(2026, 4, 1 + n % 28, 9, n % 60), amount, referrer=who)
            n += 1
        if step % 3 == 2:   # a full refund: that order counts 0 (and no longer in order_count)
            r = partner.post(f"/api/v1/orders/S{n - 2}/refunds/", {"external_id": f"RF{n}",
                             "amount": order_base(f"S{n - 2}")}, format="json")
            assert r.status_code == 201, r.content
        if step in (1, 4):
            measures.contest_ranks_refresh(c)
            assert not ContestScore.objects.filter(contest=c, dirty=True).exists()
        board = {r.distributor_id: r.rank for r in measures.contest_board(c)}
        assert board, step
        for x, pk in ids.items():
            with django_assert_num_queries(1):
                got = measures.contest_rank(c, pk)[0]
            assert got == board.get(pk), (step, x, got, board.get(pk))
    assert ContestScore.objects.filter(contest=c, dirty=True).exists()       # the last steps ran after a snapshot
    # a frozen distributor leaves the prize ranking (active only): everyone behind moves up one
    Distributor.objects.filter(external_id=next(x for x, pk in ids.items() if board.get(pk) == 1)).update(status="frozen")
    active = {r.distributor_id: r.rank for r in measures.contest_board(c, active_only=True)}
    assert len(active) == len(board) - 1
    for pk in ids.values():
        assert measures.contest_rank(c, pk, active_only=True)[0] == active.get(pk)
    assert measures.contest_ranks_refresh(c) > 0
    for pk in ids.values():
        assert measures.contest_rank(c, pk, active_only=True)[0] == active.get(pk)


def order_base(external_id):
    from orders.models import Order

    return str(Order.objects.get(external_id=external_id).commission_base)


def test_the_rank_snapshots_are_taken_every_minute_by_the_beat(make_tenant, partner_for):
    """`ranks:<slug>` runs contest_ranks_tenant every minute: it snapshots the running contests
    with rows written since (and answers how many), then nothing while nothing changes."""
    import json

    from django_celery_beat.models import PeriodicTask

    from incentives.tasks import contest_ranks_tenant
    from tenants.context import tenant_context

    t = make_tenant(slug="rk")
    task = PeriodicTask.objects.get(name="ranks:rk")
    assert (task.task, json.loads(task.kwargs), task.interval.every, task.interval.period) == (
        "incentives.tasks.contest_ranks_tenant", {"tenant_id": t.pk}, 1, "minutes")
    partner = partner_for(t)
    with tenant_context(t):
        root = distributor(t, external_id="R")
        distributor(t, root, external_id="A")
        distributor(t, root, external_id="B")
        contest(t, starts_at=local(2026, 3, 1), ends_at=local(2026, 4, 1))
        assert contest_ranks_tenant.delay(tenant_id=t.pk).get() == {"contests": 0, "rankings": 0, "rows": 0}
        post(partner, "A1", local(2026, 3, 10), "150.00", referrer="A")
        post(partner, "B1", local(2026, 3, 11), "150.00", referrer="B")
    assert contest_ranks_tenant.delay(tenant_id=t.pk).get() == {"contests": 1, "rankings": 0, "rows": 2}
    assert contest_ranks_tenant.delay(tenant_id=t.pk).get() == {"contests": 0, "rankings": 0, "rows": 0}
