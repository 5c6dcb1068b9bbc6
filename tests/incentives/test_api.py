"""The incentives API (domain rules section 8; spec/api.md "Incentives, reports, relationship and
webhooks"): staff contests, tier bonuses, targets, rankings, grades; the portal's contests,
targets and rankings; /me/ grade history. Worked values from the programme of tests.incentives.apidata
(orders posted through the partner API, figures written by the accrual)."""
import pytest

from incentives.models import ContestResult, TierAward
from ledger.models import LedgerEntry, OutboxEvent
from tenants.context import tenant_context
from tests.incentives.apidata import clock, programme, sellers, staff, staff_client  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("clock")

MARCH = {"name": "March sprint", "starts_at": "2026-03-01", "ends_at": "2026-04-01", "measure": "direct_sales",
         "min_score": "120.00", "prizes": ["500.00", "300.00", "100.00"]}
TIERS = [{"threshold": "200.00", "amount": "20.00"}, {"threshold": "300.00", "rate": "0.1000"}]


def rows(body, *keys):
    return [tuple(r[k] for k in keys) for r in body["results"]]


# --- contests ----------------------------------------------------------------------------------

def test_contest_create_answers_the_window_in_tenant_time(staff, programme):
    r = staff.post("/api/v1/admin/contests/", MARCH, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert {k: v for k, v in body.items() if k not in ("id",)} == {
        "name": "March sprint", "measure": "direct_sales", "starts_at": "2026-03-01T00:00:00+08:00",
        "ends_at": "2026-04-01T00:00:00+08:00", "min_score": "120.00", "grades": [],
        "prizes": ["500.00", "300.00", "100.00"], "currency": "CNY",
        "finalize_at": "2026-04-08T00:00:00+08:00",   # ends_at + settle_after_days (7)
        "status": "ended", "finalized_at": None, "finalized_by": "", "created_at": "2026-04-20T12:00:00+08:00"}
    # RFC 3339 midnights in another offset are the same local midnights
    same = dict(MARCH, starts_at="2026-02-28T16:00:00Z", ends_at="2026-03-31T16:00:00+00:00")
    r2 = staff.post("/api/v1/admin/contests/", same, format="json").json()
    assert (r2["starts_at"], r2["ends_at"]) == (body["starts_at"], body["ends_at"])
    assert staff.get(f"/api/v1/admin/contests/{body['id']}/").json() == body
    listed = staff.get("/api/v1/admin/contests/").json()
    assert listed["count"] == 2 and [c["id"] for c in listed["results"]] == [r2["id"], body["id"]]


def test_contest_leaderboard_tie_rule_refund_before_finalize_and_prizes_once(staff, partner, programme, portal_for):
    cid = staff.post("/api/v1/admin/contests/", MARCH, format="json").json()["id"]
    live = staff.get(f"/api/v1/admin/contests/{cid}/leaderboard/").json()
    # OA1 at the local midnight that starts March counts, OC2 at the one that ends it and OC3 one
    # second before it do not; D (100.00) is under min_score 120.00
    assert (live["final"], live["status"]) == (False, "ended")
    assert rows(live, "rank", "distributor_external_id", "name", "score", "prize") == [
        (1, "B", "Alice", "300.00", "500.00"), (2, "A", "张三", "200.00", "300.00"), (3, "C", "王小明", "150.00", "100.00")]
    # a refund after the window ends and before finalization counts: B 300.00 - 150.00 = 150.00
    # ties with C (150.00) and ranks first: its last counted order (03-05) came before C's (03-20)
    assert partner.post("/api/v1/orders/OB1/refunds/", {"external_id": "R1", "amount": "150.00"},
                        format="json").status_code == 201
    live = staff.get(f"/api/v1/admin/contests/{cid}/leaderboard/").json()
    assert rows(live, "distributor_external_id", "score", "reached_at", "prize") == [
        ("A", "200.00", "2026-03-10T10:00:00+08:00", "500.00"), ("B", "150.00", "2026-03-05T10:00:00+08:00", "300.00"),
        ("C", "150.00", "2026-03-20T10:00:00+08:00", "100.00")]

    first = staff.post(f"/api/v1/admin/contests/{cid}/finalize/", {}, format="json")
    assert first.status_code == 200
    assert (first.json()["status"], first.json()["finalized_at"], first.json()["finalized_by"]) == (
        "finalized", "2026-04-20T12:00:00+08:00", "pm")
    again = staff.post(f"/api/v1/admin/contests/{cid}/finalize/", format="json")
    assert again.status_code == 200 and again.json() == first.json()
    with tenant_context(programme["A"].tenant):
        bonuses = sorted((e.distributor.external_id, str(e.amount)) for e in LedgerEntry.objects.filter(kind="bonus"))
        assert bonuses == [("A", "500.0000"), ("B", "300.0000"), ("C", "100.0000")]
        assert ContestResult.objects.count() == 3
        (event,) = OutboxEvent.objects.filter(type="contest.finalized")
        assert [(w["distributor_external_id"], w["prize"]) for w in event.payload["winners"]] == [
            ("A", "500.00"), ("B", "300.00"), ("C", "100.00")]
    assert portal_for(programme["A"]).get("/api/v1/me/earnings/").json()["available"] == "500.00"

    # a refund after finalization changes no prize and not the frozen ranking
    assert partner.post("/api/v1/orders/OA2/refunds/", {"external_id": "R2", "amount": "100.00"},
                        format="json").status_code == 201
    frozen = staff.get(f"/api/v1/admin/contests/{cid}/leaderboard/").json()
    assert frozen["final"] is True and frozen["status"] == "finalized"
    assert rows(frozen, "rank", "distributor_external_id", "score", "prize") == [
        (1, "A", "200.00", "500.00"), (2, "B", "150.00", "300.00"), (3, "C", "150.00", "100.00")]
    assert rows(staff.get(f"/api/v1/admin/contests/{cid}/leaderboard/?offset=1&limit=1").json(),
                "rank", "distributor_external_id") == [(2, "B")]
    with tenant_context(programme["A"].tenant):
        assert LedgerEntry.objects.filter(kind="bonus").count() == 3


def test_contest_patch_changes_then_finalized_contest_is_frozen(staff, programme):
    cid = staff.post("/api/v1/admin/contests/", MARCH, format="json").json()["id"]
    r = staff.patch(f"/api/v1/admin/contests/{cid}/", {"measure": "team_sales", "prizes": ["80.00"],
                                                        "ends_at": "2026-03-16"}, format="json")
    assert r.status_code == 200
    assert (r.json()["measure"], r.json()["prizes"], r.json()["ends_at"], r.json()["finalize_at"]) == (
        "team_sales", ["80.00"], "2026-03-16T00:00:00+08:00", "2026-03-23T00:00:00+08:00")
    # team sales March 1-15: A 200.00 (OA1, OA2) + D's OD1 at level 2 = 300.00 reached 03-15; B 300.00 at 03-05
    board = staff.get(f"/api/v1/admin/contests/{cid}/leaderboard/").json()
    assert rows(board, "distributor_external_id", "score", "prize") == [("B", "300.00", "80.00"), ("A", "300.00", None)]
    staff.post(f"/api/v1/admin/contests/{cid}/finalize/", {}, format="json")
    r = staff.patch(f"/api/v1/admin/contests/{cid}/", {"name": "renamed"}, format="json")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "invalid_state"
    assert staff.get(f"/api/v1/admin/contests/{cid}/").json()["name"] == "March sprint"


def test_finalize_before_the_end_is_refused(staff, programme):
    cid = staff.post("/api/v1/admin/contests/", dict(MARCH, starts_at="2026-04-01", ends_at="2026-05-01"),
                     format="json").json()["id"]
    r = staff.post(f"/api/v1/admin/contests/{cid}/finalize/", {}, format="json")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "invalid_state"
    assert staff.get(f"/api/v1/admin/contests/{cid}/").json()["status"] == "running"


def test_portal_contests_show_mine_with_masked_names(staff, programme, portal_for):
    from distributors.models import Grade

    tenant = programme["A"].tenant
    march = staff.post("/api/v1/admin/contests/", MARCH, format="json").json()["id"]
    april = staff.post("/api/v1/admin/contests/", {"name": "April orders", "starts_at": "2026-04-01",
                                                   "ends_at": "2026-05-01", "measure": "order_count",
                                                   "prizes": ["50.00"]}, format="json").json()["id"]
    may = staff.post("/api/v1/admin/contests/", dict(MARCH, name="May", starts_at="2026-05-01", ends_at="2026-06-01"),
                     format="json").json()["id"]
    with tenant_context(tenant):
        Grade.objects.create(tenant=tenant, code="gold", name="Gold", rank=1)
    gold = staff.post("/api/v1/admin/contests/", dict(MARCH, name="Gold only", grades=["gold"]), format="json").json()
    assert gold["grades"] == ["gold"]
    assert [c["status"] for c in staff.get("/api/v1/admin/contests/").json()["results"]] == [
        "scheduled", "running", "ended", "ended"]

    b, c = portal_for(programme["B"]), portal_for(programme["C"])
    mine = b.get("/api/v1/me/contests/").json()
    # started contests open to everyone; not May (scheduled) nor the gold one (B has no grade)
    assert [(x["id"], x["status"], x["rank"], x["score"], x["prize"]) for x in mine["results"]] == [
        (april, "running", None, "0", None), (march, "ended", 1, "300.00", "500.00")]
    assert mine["results"][1]["starts_at"] == "2026-03-01T00:00:00+08:00" and mine["results"][1]["currency"] == "CNY"
    assert [(x["id"], x["rank"], x["score"], x["prize"]) for x in c.get("/api/v1/me/contests/").json()["results"]] == [
        (april, 1, "1", "50.00"), (march, 3, "150.00", "100.00")]   # OC2 at 04-01 00:00 is April's order
    board = b.get(f"/api/v1/me/contests/{march}/leaderboard/").json()
    assert [(r["rank"], r["name"], r["score"], r["prize"], r["me"]) for r in board["results"]] == [
        (1, "Alice", "300.00", "500.00", True), (2, "张*", "200.00", "300.00", False),
        (3, "王*明", "150.00", "100.00", False)]
    assert "distributor_external_id" not in board["results"][1]
    assert board["mine"] == {"rank": 1, "score": "300.00", "prize": "500.00"}
    assert b.get(f"/api/v1/me/contests/{march}/leaderboard/?limit=1").json()["results"][0]["name"] == "Alice"
    # C, third, outside a top 2: `mine` still says where C stands
    top2 = c.get(f"/api/v1/me/contests/{march}/leaderboard/?limit=2").json()
    assert [r["me"] for r in top2["results"]] == [False, False] and top2["mine"]["rank"] == 3
    for hidden in (may, gold["id"]):
        r = b.get(f"/api/v1/me/contests/{hidden}/leaderboard/")
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "not_found"
    # B gets the gold grade: the gold contest shows (B ranks first there too)
    with tenant_context(tenant):
        from distributors.services import distributor_grade_set

        distributor_grade_set(distributor=programme["B"], grade=Grade.objects.get(code="gold"), kind="manual")
    assert [x["id"] for x in b.get("/api/v1/me/contests/").json()["results"]] == [april, gold["id"], march]


def test_a_finalized_prize_stays_visible_after_a_grade_change(staff, programme, portal_for):
    from distributors.models import Grade

    tenant = programme["A"].tenant
    with tenant_context(tenant):
        gold = Grade.objects.create(tenant=tenant, code="gold", name="Gold", rank=1)
        from distributors.services import distributor_grade_set

        distributor_grade_set(distributor=programme["B"], grade=gold, kind="manual")
    cid = staff.post("/api/v1/admin/contests/", dict(MARCH, grades=["gold"]), format="json").json()["id"]
    staff.post(f"/api/v1/admin/contests/{cid}/finalize/", {}, format="json")
    with tenant_context(tenant):
        distributor_grade_set(distributor=programme["B"], grade=None, kind="manual")
    b = portal_for(programme["B"])
    assert [(x["id"], x["rank"], x["prize"]) for x in b.get("/api/v1/me/contests/").json()["results"]] == [
        (cid, 1, "500.00")]
    assert portal_for(programme["A"]).get("/api/v1/me/contests/").json()["count"] == 0   # never gold, never ranked


def test_jpy_contest_money_has_no_places(make_tenant, partner_for):
    from tests.incentives.apidata import post_order
    from tests.factories import distributor

    yen = make_tenant(slug="yen", currency="JPY", timezone="Asia/Tokyo")
    with tenant_context(yen):
        distributor(yen, external_id="Y1", name="山田太郎")
    post_order(partner_for(yen), "YO1", "Y1", "1234", "2026-03-01T00:00:00+09:00", currency="JPY")
    staff = staff_client(yen, "yen-pm")
    r = staff.post("/api/v1/admin/contests/", {"name": "三月", "starts_at": "2026-03-01", "ends_at": "2026-04-01",
                                               "measure": "direct_sales", "min_score": "1000", "prizes": ["1000", "500"]},
                   format="json")
    assert r.status_code == 201 and (r.json()["prizes"], r.json()["min_score"], r.json()["starts_at"]) == (
        ["1000", "500"], "1000", "2026-03-01T00:00:00+09:00")
    board = staff.get(f"/api/v1/admin/contests/{r.json()['id']}/leaderboard/").json()
    assert rows(board, "distributor_external_id", "score", "prize") == [("Y1", "1234", "1000")]
    assert staff.post(f"/api/v1/admin/contests/{r.json()['id']}/finalize/", {}, format="json").status_code == 200
    with tenant_context(yen):
        assert [str(e.amount) for e in LedgerEntry.objects.filter(kind="bonus")] == ["1000.0000"]
    scheme = staff.post("/api/v1/admin/tier-bonuses/", {"name": "月", "measure": "direct_sales",
                                                        "tiers": [{"threshold": "1000", "rate": "0.0150"}]}, format="json")
    assert scheme.status_code == 201 and scheme.json()["tiers"] == [{"threshold": "1000", "rate": "0.0150"}]
    ev = staff.post(f"/api/v1/admin/tier-bonuses/{scheme.json()['id']}/evaluate/", {"period": "2026-03"}, format="json")
    # 1234 x 1.5% = 18.51 -> 18 JPY (rounding down to whole yen)
    assert (ev.json()["awards"], ev.json()["total"]) == (1, "18")
    award = staff.get(f"/api/v1/admin/tier-bonuses/{scheme.json()['id']}/awards/").json()["results"][0]
    assert (award["measure_value"], award["threshold"], award["amount"]) == ("1234", "1000", "18")
    ranking = staff.get("/api/v1/admin/rankings/?measure=direct_sales&from=2026-03-01&to=2026-03-31").json()
    assert (ranking["currency"], rows(ranking, "score")) == ("JPY", [("1234",)])


def test_a_day_whose_midnight_is_skipped_by_daylight_saving(make_tenant, partner_for):
    """America/Santiago moves from 00:00 -04:00 to 01:00 -03:00 on 2026-09-06: that day starts at
    01:00 local. A contest and a custom target starting that day are whole local days (the contest
    was refused as not_local_midnight and the target's progress answered 500); the order of 00:59:59
    -04:00 on the 5th is not theirs, the one of 01:00 -03:00 on the 6th is."""
    from tests.factories import distributor
    from tests.incentives.apidata import post_order

    cl = make_tenant(slug="cl", currency="CLP", timezone="America/Santiago")
    with tenant_context(cl):
        distributor(cl, external_id="S1", name="Sofía")
    partner = partner_for(cl)
    post_order(partner, "SO1", "S1", "1000", "2026-09-05T23:59:59-04:00", currency="CLP")
    post_order(partner, "SO2", "S1", "2500", "2026-09-06T01:00:00-03:00", currency="CLP")
    staff = staff_client(cl, "cl-pm")
    r = staff.post("/api/v1/admin/contests/", {"name": "Septiembre", "starts_at": "2026-09-06", "ends_at": "2026-10-01",
                                               "measure": "direct_sales", "prizes": ["5000"]}, format="json")
    assert r.status_code == 201, r.json()
    assert (r.json()["starts_at"], r.json()["ends_at"]) == ("2026-09-06T01:00:00-03:00", "2026-10-01T00:00:00-03:00")
    board = staff.get(f"/api/v1/admin/contests/{r.json()['id']}/leaderboard/").json()
    assert rows(board, "distributor_external_id", "score", "prize") == [("S1", "2500", "5000")]
    t = staff.post("/api/v1/admin/targets/", {"name": "S1", "scope": "distributor", "distributor_external_id": "S1",
                                              "measure": "direct_sales", "period": "custom", "starts_on": "2026-09-06",
                                              "ends_on": "2026-09-30", "goal": "10000"}, format="json")
    assert t.status_code == 201, t.json()
    got = staff.get(f"/api/v1/admin/targets/{t.json()['id']}/").json()
    assert (got["starts_on"], got["starts_at"], got["value"], got["progress"]) == (
        "2026-09-06", "2026-09-06T01:00:00-03:00", "2500", "0.2500")


# --- tier bonuses ------------------------------------------------------------------------------

def test_tier_scheme_evaluate_once_and_awards(staff, programme, portal_for):
    r = staff.post("/api/v1/admin/tier-bonuses/", {"name": "Monthly", "measure": "direct_sales", "tiers": TIERS},
                   format="json")
    assert r.status_code == 201
    sid = r.json()["id"]
    assert {k: v for k, v in r.json().items() if k != "id"} == {
        "name": "Monthly", "measure": "direct_sales", "tiers": TIERS, "is_active": True, "currency": "CNY",
        "created_at": "2026-04-20T12:00:00+08:00"}
    first = staff.post(f"/api/v1/admin/tier-bonuses/{sid}/evaluate/", {"period": "2026-03"}, format="json")
    # B 300.00 reaches the 300.00 tier exactly: 10% = 30.00; A 200.00 exactly the first: 20.00;
    # C 150.00 and D 100.00 reach none. Only the highest tier reached pays.
    assert first.status_code == 200 and first.json() == {
        "scheme_id": sid, "period": "2026-03", "evaluated_at": "2026-04-20T12:00:00+08:00", "evaluated_by": "pm",
        "awards": 2, "total": "50.00", "currency": "CNY"}
    again = staff.post(f"/api/v1/admin/tier-bonuses/{sid}/evaluate/", {"period": "2026-03"}, format="json")
    assert again.status_code == 200 and again.json() == first.json()
    awards = staff.get(f"/api/v1/admin/tier-bonuses/{sid}/awards/?period=2026-03").json()
    assert awards["count"] == 2 and rows(awards, "distributor_external_id", "period", "measure_value", "threshold",
                                         "rate", "amount") == [
        ("B", "2026-03", "300.00", "300.00", "0.1000", "30.00"), ("A", "2026-03", "200.00", "200.00", None, "20.00")]
    assert staff.get(f"/api/v1/admin/tier-bonuses/{sid}/awards/?period=2026-02").json()["count"] == 0
    with tenant_context(programme["A"].tenant):
        assert TierAward.objects.count() == 2
        assert sorted((e.distributor.external_id, str(e.amount)) for e in LedgerEntry.objects.filter(kind="bonus")) == [
            ("A", "20.0000"), ("B", "30.0000")]
        assert OutboxEvent.objects.filter(type="bonus.credited").count() == 2
    assert portal_for(programme["B"]).get("/api/v1/me/earnings/").json()["available"] == "30.00"
    # February: C's OC3 at 23:59:59 on the 28th is February's: 400.00 x 10% = 40.00
    feb = staff.post(f"/api/v1/admin/tier-bonuses/{sid}/evaluate/", {"period": "2026-02"}, format="json").json()
    assert (feb["awards"], feb["total"]) == (1, "40.00")
    assert staff.get(f"/api/v1/admin/tier-bonuses/{sid}/awards/").json()["count"] == 3


def test_tier_scheme_get_and_patch(staff, programme):
    sid = staff.post("/api/v1/admin/tier-bonuses/", {"name": "Monthly", "measure": "direct_sales", "tiers": TIERS},
                     format="json").json()["id"]
    r = staff.patch(f"/api/v1/admin/tier-bonuses/{sid}/", {"measure": "team_sales", "is_active": False,
                                                           "tiers": [{"threshold": "250", "amount": "25"}]}, format="json")
    assert r.status_code == 200
    assert (r.json()["measure"], r.json()["is_active"], r.json()["tiers"]) == (
        "team_sales", False, [{"threshold": "250.00", "amount": "25.00"}])
    assert staff.get(f"/api/v1/admin/tier-bonuses/{sid}/").json() == r.json()
    assert staff.get("/api/v1/admin/tier-bonuses/").json()["count"] == 1
    # team sales of March: A 300.00 and B 300.00 reach 250.00
    ev = staff.post(f"/api/v1/admin/tier-bonuses/{sid}/evaluate/", {"period": "2026-03"}, format="json").json()
    assert (ev["awards"], ev["total"]) == (2, "50.00")


# --- targets -----------------------------------------------------------------------------------

def target(staff, **body):
    r = staff.post("/api/v1/admin/targets/", {"name": "t", "period": "month", "starts_on": "2026-03-01", **body},
                   format="json")
    assert r.status_code == 201, r.json()
    return r.json()


def progress(t):
    return (t["value"], t["goal"], t["progress"], t["expected"], t["status"])


def test_targets_progress_for_tenant_distributor_and_team(staff, programme, portal_for):
    brand = target(staff, name="Brand March", scope="tenant", measure="net_sales", goal="1000.00")
    # every paid order of March: 100 + 100 + 300 + 150 + 100 = 750.00; March is over: expected 1, behind
    assert progress(brand) == ("750.00", "1000.00", "0.7500", "1.0000", "behind")
    assert (brand["starts_on"], brand["ends_on"], brand["starts_at"], brand["ends_at"], brand["distributor_external_id"]) == (
        "2026-03-01", "2026-03-31", "2026-03-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00", None)
    a_direct = target(staff, scope="distributor", distributor_external_id="A", measure="direct_sales", goal="200.00")
    assert progress(a_direct) == ("200.00", "200.00", "1.0000", "1.0000", "met")
    a_team = target(staff, scope="team", distributor_external_id="A", measure="direct_sales", goal="400.00")
    assert progress(a_team) == ("300.00", "400.00", "0.7500", "1.0000", "behind")   # A 200.00 + D 100.00
    active = target(staff, scope="tenant", measure="active_distributors", goal="5")
    assert progress(active) == ("4", "5", "0.8000", "1.0000", "behind")
    # April, 19.5 of 30 days elapsed: expected 0.6500; C's OC2 (04-01 00:00) 500.00 of 1000.00 is behind
    c_april = target(staff, scope="distributor", distributor_external_id="C", measure="direct_sales",
                     starts_on="2026-04-01", goal="1000.00")
    assert progress(c_april) == ("500.00", "1000.00", "0.5000", "0.6500", "behind")
    c_ahead = target(staff, scope="distributor", distributor_external_id="C", measure="direct_sales",
                     starts_on="2026-04-01", goal="700.00")
    assert progress(c_ahead) == ("500.00", "700.00", "0.7142", "0.6500", "on_track")   # within 10% of the pace
    q2 = target(staff, scope="distributor", distributor_external_id="C", measure="order_count", period="quarter",
                starts_on="2026-04-01", goal="1")
    assert progress(q2) == ("1", "1", "1.0000", "0.2142", "met")   # 19.5 of 91 days
    custom = target(staff, scope="distributor", distributor_external_id="C", measure="direct_sales", period="custom",
                    starts_on="2026-05-01", ends_on="2026-05-10", goal="10.00")
    assert progress(custom) == ("0.00", "10.00", "0.0000", "0.0000", "on_track")
    assert (custom["ends_on"], custom["ends_at"]) == ("2026-05-10", "2026-05-11T00:00:00+08:00")

    assert staff.get(f"/api/v1/admin/targets/{a_team['id']}/").json() == a_team
    listed = staff.get("/api/v1/admin/targets/").json()
    assert listed["count"] == 8 and listed["results"][0]["id"] == custom["id"]
    r = staff.patch(f"/api/v1/admin/targets/{a_team['id']}/", {"goal": "300.00", "name": "A's team"}, format="json")
    assert r.status_code == 200 and (r.json()["name"], *progress(r.json())) == (
        "A's team", "300.00", "300.00", "1.0000", "1.0000", "met")
    r = staff.patch(f"/api/v1/admin/targets/{a_direct['id']}/", {"scope": "tenant", "distributor_external_id": None},
                    format="json")
    assert (r.json()["scope"], r.json()["distributor_external_id"], r.json()["value"]) == ("tenant", None, "750.00")

    mine = portal_for(programme["A"]).get("/api/v1/me/targets/").json()
    # A's own and A's team's; not the brand's KPIs (nor a_direct, now a tenant target)
    assert [(t["name"], t["scope"], t["value"], t["status"]) for t in mine["results"]] == [("A's team", "team", "300.00", "met")]
    assert [t["id"] for t in portal_for(programme["C"]).get("/api/v1/me/targets/").json()["results"]] == [
        custom["id"], q2["id"], c_ahead["id"], c_april["id"]]
    assert portal_for(programme["B"]).get("/api/v1/me/targets/").json()["count"] == 0


# --- rankings ----------------------------------------------------------------------------------

def test_staff_rankings_to_is_inclusive(staff, programme):
    r = staff.get("/api/v1/admin/rankings/?measure=direct_sales&from=2026-03-01&to=2026-03-31")
    assert r.status_code == 200
    assert (r.json()["from"], r.json()["to"], r.json()["currency"]) == ("2026-03-01", "2026-03-31", "CNY")
    assert rows(r.json(), "rank", "distributor_external_id", "name", "score") == [
        (1, "B", "Alice", "300.00"), (2, "A", "张三", "200.00"), (3, "C", "王小明", "150.00"), (4, "D", "Dave", "100.00")]
    # `to` is inclusive: through April 1 counts OC2 (500.00 at 04-01 00:00): C 650.00
    r = staff.get("/api/v1/admin/rankings/?measure=direct_sales&from=2026-03-01&to=2026-04-01&limit=2").json()
    assert rows(r, "distributor_external_id", "score") == [("C", "650.00"), ("B", "300.00")]
    # team sales tie: B 300.00 (last 03-05) before A 300.00 (last 03-15)
    r = staff.get("/api/v1/admin/rankings/?measure=team_sales&from=2026-03-01&to=2026-03-31").json()
    assert rows(r, "distributor_external_id", "score", "reached_at")[:2] == [
        ("B", "300.00", "2026-03-05T10:00:00+08:00"), ("A", "300.00", "2026-03-15T10:00:00+08:00")]
    r = staff.get("/api/v1/admin/rankings/?measure=commission&from=2026-03-01&to=2026-03-31").json()
    # commissions of March's orders: B 30.00, A 20.00 + 5.00 (level 2 of OD1), C 15.00, D 10.00
    assert rows(r, "distributor_external_id", "score") == [("B", "30.00"), ("A", "25.00"), ("C", "15.00"), ("D", "10.00")]
    r = staff.get("/api/v1/admin/rankings/?measure=order_count&from=2026-02-28&to=2026-02-28").json()
    assert rows(r, "distributor_external_id", "score") == [("C", "1")]


def test_portal_rankings_follow_show_rankings(staff, programme, portal_for):
    a = portal_for(programme["A"])
    assert staff.get("/api/v1/admin/tenant/").json()["show_rankings"] is False   # the default
    r = a.get("/api/v1/me/rankings/?measure=direct_sales&period=2026-03")
    assert r.status_code == 403 and r.json() == {"type": "client_error", "errors": [
        {"code": "rankings_hidden", "detail": "This programme does not show rankings to distributors.", "attr": None}]}
    r = staff.patch("/api/v1/admin/tenant/", {"show_rankings": True}, format="json")
    assert r.status_code == 200 and r.json()["show_rankings"] is True
    body = a.get("/api/v1/me/rankings/?measure=direct_sales&period=2026-03").json()
    assert (body["measure"], body["period"], body["currency"]) == ("direct_sales", "2026-03", "CNY")
    assert [(r["rank"], r["name"], r["score"], r["me"]) for r in body["results"]] == [
        (1, "A***e", "300.00", False), (2, "张三", "200.00", True), (3, "王*明", "150.00", False), (4, "D**e", "100.00", False)]
    assert body["mine"] == {"rank": 2, "score": "200.00"}
    top = portal_for(programme["D"]).get("/api/v1/me/rankings/?period=2026-03&limit=1").json()
    assert [r["name"] for r in top["results"]] == ["A***e"] and top["mine"] == {"rank": 4, "score": "100.00"}
    # no period: this local month (April): C's OC2 only
    april = a.get("/api/v1/me/rankings/?measure=team_sales").json()
    assert (april["period"], [(r["name"], r["score"]) for r in april["results"]], april["mine"]) == (
        "2026-04", [("王*明", "500.00")], {"rank": None, "score": "0.00"})
    staff.patch("/api/v1/admin/tenant/", {"show_rankings": False}, format="json")
    assert a.get("/api/v1/me/rankings/").status_code == 403


# --- grades ------------------------------------------------------------------------------------

def test_grade_conditions_evaluate_and_history(staff, programme, partner, portal_for):
    r = staff.post("/api/v1/admin/grades/", {"code": "leader", "name": "Team leader", "rank": 2,
                                             "min_direct_downlines": 1}, format="json")
    assert r.status_code == 201 and (r.json()["min_direct_downlines"], r.json()["min_direct_sales"],
                                     r.json()["min_team_sales"]) == (1, None, None)
    r = staff.post("/api/v1/admin/grades/", {"code": "star", "name": "Star", "rank": 3, "min_direct_downlines": 1,
                                             "min_team_sales": "1000.00"}, format="json")
    assert r.json()["min_team_sales"] == "1000.00"
    sid = r.json()["id"]
    assert staff.get(f"/api/v1/admin/grades/{sid}/").json() == r.json()
    r = staff.patch(f"/api/v1/admin/grades/{sid}/", {"min_team_sales": "5000", "min_direct_sales": "0.50"}, format="json")
    assert (r.json()["min_team_sales"], r.json()["min_direct_sales"]) == ("5000.00", "0.50")
    r = staff.patch(f"/api/v1/admin/grades/{sid}/", {"min_direct_sales": None}, format="json")
    assert r.json()["min_direct_sales"] is None

    # A has one active level-1 downline (D): leader (its only condition); star needs settled team sales
    r = staff.post("/api/v1/admin/grades/evaluate/", {}, format="json")
    assert r.status_code == 200 and r.json() == {"upgraded": 1}
    assert staff.post("/api/v1/admin/grades/evaluate/", format="json").json() == {"upgraded": 0}
    history = staff.get("/api/v1/admin/distributors/A/grade-history/").json()
    assert history["count"] == 1
    (step,) = history["results"]
    assert (step["when"], step["from"], step["to"], step["kind"], step["actor"]) == (
        "2026-04-20T04:00:00Z", None, "leader", "upgrade", "")
    assert step["reason"] == "settled direct sales 0.00, team sales 0.00, active direct downlines 1 meet leader"
    # a manual change by the partner API is in the history too, newest first
    assert partner.patch("/api/v1/distributors/A/", {"grade": None}, format="json").status_code == 200
    me = portal_for(programme["A"]).get("/api/v1/me/").json()
    assert me["grade"] is None
    assert [(s["from"], s["to"], s["kind"]) for s in me["grade_history"]] == [
        ("leader", None, "manual"), (None, "leader", "upgrade")]
    assert set(me["grade_history"][0]) == {"when", "from", "to", "kind", "reason"}   # no staff names in the portal
    assert staff.get("/api/v1/admin/distributors/B/grade-history/").json()["count"] == 0
    assert staff.get("/api/v1/admin/distributors/nobody/grade-history/").status_code == 404
