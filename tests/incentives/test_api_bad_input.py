"""Bad input to the incentives API (issue 11, "Bad input"): each a 4xx in the contract's error shape
(`{"type", "errors": [{"code", "detail", "attr"}]}`) with the field as `attr`, and nothing written."""
import pytest

from distributors.models import Grade, GradeChange
from incentives.models import Contest, ContestResult, Target, TierAward, TierBonusScheme, TierEvaluation
from ledger.models import LedgerEntry, OutboxEvent
from tenants.context import tenant_context
from tests.incentives.apidata import clock, programme, sellers, staff, staff_client  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("clock")

CONTEST = {"name": "March sprint", "starts_at": "2026-03-01", "ends_at": "2026-04-01", "measure": "direct_sales",
           "prizes": ["500.00", "300.00"]}
TIERS = [{"threshold": "200.00", "amount": "20.00"}, {"threshold": "300.00", "rate": "0.1000"}]


def snapshot(tenant):
    """Everything the incentives endpoints could write, as comparable values."""
    with tenant_context(tenant):
        return (list(Contest.objects.values()), list(Contest.grades.through.objects.values()), Contest.history.count(),
                list(ContestResult.objects.values()), list(TierBonusScheme.objects.values()),
                TierBonusScheme.history.count(), list(TierAward.objects.values()), list(TierEvaluation.objects.values()),
                list(Target.objects.values()), Target.history.count(), list(Grade.objects.values()),
                list(GradeChange.objects.values()), LedgerEntry.objects.count(), OutboxEvent.objects.count())


def refused(r, status, attr, code):
    assert r.status_code == status, (r.status_code, r.json())
    body = r.json()
    assert body["type"] == ("validation_error" if status == 400 else "client_error"), body
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [(attr, code)], body


BAD_CONTESTS = [
    ({"ends_at": "2026-03-01"}, "ends_at", "invalid_window"),                       # end == start
    ({"ends_at": "2026-02-01"}, "ends_at", "invalid_window"),                       # end before start
    ({"starts_at": "2026-03-01T10:00:00+08:00"}, "starts_at", "not_local_midnight"),
    ({"starts_at": "2026-03-01T00:00:00Z"}, "starts_at", "not_local_midnight"),     # UTC midnight is 08:00 local
    ({"starts_at": "2026-03-01T00:00:00"}, "starts_at", "naive"),
    ({"starts_at": "2026-02-30"}, "starts_at", "invalid"),
    ({"starts_at": "March"}, "starts_at", "invalid"),
    ({"finalize_at": "2026-03-31"}, "finalize_at", "invalid_window"),                # before the window ends
    ({"prizes": ["-1.00"]}, "prizes.0", "min_value"),
    ({"prizes": ["100.00", "200.00"]}, "prizes.1", "not_decreasing"),
    ({"prizes": ["1.005"]}, "prizes.0", "max_decimal_places"),                     # CNY has 2 places
    ({"prizes": ["1.00001"]}, "prizes.0", "max_decimal_places"),
    ({"prizes": ["1e3"]}, "prizes.0", "invalid"),
    ({"prizes": "500.00"}, "prizes", "not_a_list"),
    ({"measure": "likes"}, "measure", "invalid_choice"),
    ({"measure": "commission"}, "measure", "invalid_choice"),                       # not a contest measure
    ({"grades": ["platinum"]}, "grades.0", "unknown_grade"),
    ({"min_score": "-1"}, "min_score", "invalid"),
    ({"min_score": "1.005"}, "min_score", "invalid"),
    ({"measure": "order_count", "min_score": "1.5"}, "min_score", "invalid"),      # a count is whole
    ({"name": ""}, "name", "blank"),
    ({"colour": "red"}, "colour", "unknown_field"),
    ({"starts_at": "0001-01-01"}, "starts_at", "out_of_range"),                   # was a 500 (year 0 in UTC)
    ({"ends_at": "9999-12-31"}, "ends_at", "out_of_range"),                       # was a 500 (finalize_at in year 10000)
    ({"finalize_at": "9999-12-30"}, "finalize_at", "out_of_range"),
]


@pytest.mark.parametrize("bad,attr,code", BAD_CONTESTS)
def test_bad_contests_are_refused_on_create_and_patch(staff, sellers, bad, attr, code):
    cid = staff.post("/api/v1/admin/contests/", CONTEST, format="json").json()["id"]
    before = snapshot(sellers["A"].tenant)
    refused(staff.post("/api/v1/admin/contests/", dict(CONTEST, **bad), format="json"), 400, attr, code)
    refused(staff.patch(f"/api/v1/admin/contests/{cid}/", bad, format="json"), 400, attr, code)
    assert snapshot(sellers["A"].tenant) == before


def test_contest_post_needs_its_fields(staff, sellers):
    r = staff.post("/api/v1/admin/contests/", {}, format="json")
    assert r.status_code == 400 and {(e["attr"], e["code"]) for e in r.json()["errors"]} == {
        ("name", "required"), ("starts_at", "required"), ("ends_at", "required"), ("measure", "required")}
    for body in ([], None, "x"):
        assert staff.post("/api/v1/admin/contests/", body, format="json").status_code == 400
    assert staff.get("/api/v1/admin/contests/").json()["count"] == 0


def test_a_finalized_contest_cannot_be_edited_and_finalize_takes_no_body(staff, sellers):
    cid = staff.post("/api/v1/admin/contests/", CONTEST, format="json").json()["id"]
    refused(staff.post(f"/api/v1/admin/contests/{cid}/finalize/", {"force": True}, format="json"), 400, "force",
            "unknown_field")
    assert staff.get(f"/api/v1/admin/contests/{cid}/").json()["status"] == "ended"
    staff.post(f"/api/v1/admin/contests/{cid}/finalize/", {}, format="json")
    before = snapshot(sellers["A"].tenant)
    for body in ({"name": "renamed"}, {"prizes": ["900.00"]}, {"ends_at": "2026-03-15"}):
        refused(staff.patch(f"/api/v1/admin/contests/{cid}/", body, format="json"), 409, None, "invalid_state")
    assert snapshot(sellers["A"].tenant) == before


@pytest.mark.parametrize("query,attr,code", [
    ("limit=0", "limit", "min_value"), ("limit=1001", "limit", "max_value"), ("limit=x", "limit", "invalid"),
    ("offset=-1", "offset", "min_value"),
])
def test_bad_leaderboard_queries(staff, sellers, query, attr, code):
    cid = staff.post("/api/v1/admin/contests/", CONTEST, format="json").json()["id"]
    refused(staff.get(f"/api/v1/admin/contests/{cid}/leaderboard/?{query}"), 400, attr, code)


BAD_TIERS = [
    ([{"threshold": "300.00", "amount": "1.00"}, {"threshold": "200.00", "amount": "2.00"}], "tiers.1.threshold", "not_increasing"),
    ([{"threshold": "300.00", "amount": "1.00"}, {"threshold": "300.00", "amount": "2.00"}], "tiers.1.threshold", "not_increasing"),
    ([{"threshold": "0", "amount": "1.00"}], "tiers.0.threshold", "min_value"),
    ([{"threshold": "100.005", "amount": "1.00"}], "tiers.0.threshold", "invalid"),
    ([{"threshold": "100.00", "rate": "1.0001"}], "tiers.0.rate", "invalid_rate"),            # above 1
    ([{"threshold": "100.00", "rate": "2"}], "tiers.0.rate", "invalid_rate"),
    ([{"threshold": "100.00", "rate": "0"}], "tiers.0.rate", "invalid_rate"),
    ([{"threshold": "100.00", "rate": "0.00001"}], "tiers.0.rate", "max_decimal_places"),
    ([{"threshold": "100.00", "amount": "-1.00"}], "tiers.0.amount", "invalid_amount"),
    ([{"threshold": "100.00", "amount": "1.005"}], "tiers.0.amount", "invalid_amount"),
    ([{"threshold": "100.00", "amount": "1.00", "rate": "0.1000"}], "tiers.0", "amount_or_rate"),
    ([{"threshold": "100.00"}], "tiers.0", "amount_or_rate"),
    ([{"threshold": "100.00", "bonus": "1.00"}], "tiers.0.bonus", "unknown_field"),
    ([{"amount": "1.00"}], "tiers.0.threshold", "required"),
    ([], "tiers", "required"),
]


@pytest.mark.parametrize("tiers,attr,code", BAD_TIERS)
def test_bad_tiers_are_refused_on_create_and_patch(staff, sellers, tiers, attr, code):
    sid = staff.post("/api/v1/admin/tier-bonuses/", {"name": "M", "measure": "direct_sales", "tiers": TIERS},
                     format="json").json()["id"]
    before = snapshot(sellers["A"].tenant)
    refused(staff.post("/api/v1/admin/tier-bonuses/", {"name": "N", "measure": "direct_sales", "tiers": tiers},
                       format="json"), 400, attr, code)
    refused(staff.patch(f"/api/v1/admin/tier-bonuses/{sid}/", {"tiers": tiers}, format="json"), 400, attr, code)
    assert snapshot(sellers["A"].tenant) == before


@pytest.mark.parametrize("body,attr,code", [
    ({"measure": "order_count"}, "measure", "invalid_choice"), ({"measure": "likes"}, "measure", "invalid_choice"),
    ({"name": ""}, "name", "blank"), ({"is_active": "maybe"}, "is_active", "invalid"), ({"x": 1}, "x", "unknown_field"),
])
def test_bad_scheme_fields(staff, sellers, body, attr, code):
    sid = staff.post("/api/v1/admin/tier-bonuses/", {"name": "M", "measure": "direct_sales", "tiers": TIERS},
                     format="json").json()["id"]
    before = snapshot(sellers["A"].tenant)
    refused(staff.post("/api/v1/admin/tier-bonuses/", {"name": "N", "measure": "direct_sales", "tiers": TIERS, **body},
                       format="json"), 400, attr, code)
    refused(staff.patch(f"/api/v1/admin/tier-bonuses/{sid}/", body, format="json"), 400, attr, code)
    assert snapshot(sellers["A"].tenant) == before


@pytest.mark.parametrize("body,attr,code", [
    ({"period": "2026-04"}, "period", "period_not_closed"),      # April runs until May 1, 00:00 local
    ({"period": "2027-01"}, "period", "period_not_closed"),
    ({"period": "2026-13"}, "period", "invalid"), ({"period": "2026-3"}, "period", "invalid"),
    ({"period": "March"}, "period", "invalid"), ({"period": "2026-03-01"}, "period", "max_length"),
    ({}, "period", "required"), ({"period": "2026-03", "force": True}, "force", "unknown_field"),
    # were evaluated (a TierEvaluation of year 202, of 2026-01) or a 500 (9999-12)
    ({"period": "+202-01"}, "period", "invalid"), ({"period": "２０２６-03"}, "period", "invalid"),
    ({"period": "2026-+3"}, "period", "invalid"), ({"period": "0001-01"}, "period", "out_of_range"),
    ({"period": "9999-12"}, "period", "out_of_range"),
])
def test_bad_evaluations_credit_nothing(staff, sellers, body, attr, code):
    sid = staff.post("/api/v1/admin/tier-bonuses/", {"name": "M", "measure": "direct_sales", "tiers": TIERS},
                     format="json").json()["id"]
    before = snapshot(sellers["A"].tenant)
    refused(staff.post(f"/api/v1/admin/tier-bonuses/{sid}/evaluate/", body, format="json"), 400, attr, code)
    assert snapshot(sellers["A"].tenant) == before


def test_bad_award_period(staff, sellers):
    sid = staff.post("/api/v1/admin/tier-bonuses/", {"name": "M", "measure": "direct_sales", "tiers": TIERS},
                     format="json").json()["id"]
    refused(staff.get(f"/api/v1/admin/tier-bonuses/{sid}/awards/?period=2026-00"), 400, "period", "invalid")
    refused(staff.get(f"/api/v1/admin/tier-bonuses/{sid}/awards/?period=2026-%2B3"), 400, "period", "invalid")


TARGET = {"name": "A March", "scope": "distributor", "distributor_external_id": "A", "measure": "direct_sales",
          "period": "month", "starts_on": "2026-03-01", "goal": "200.00"}
BAD_TARGETS = [
    ({"measure": "likes"}, "measure", "invalid_choice"),
    ({"measure": "net_sales"}, "measure", "invalid_choice"),                       # the tenant's only
    ({"scope": "tenant", "distributor_external_id": None, "measure": "team_sales"}, "measure", "invalid_choice"),
    ({"scope": "tenant"}, "distributor_external_id", "invalid"),                   # a tenant target names nobody
    ({"distributor_external_id": None}, "distributor_external_id", "invalid"),
    ({"distributor_external_id": "nobody"}, "distributor_external_id", "unknown_distributor"),
    ({"scope": "world"}, "scope", "invalid_choice"),
    ({"period": "week"}, "period", "invalid_choice"),
    ({"starts_on": "2026-03-02"}, "starts_on", "invalid"),                         # a month starts on the 1st
    ({"period": "quarter", "starts_on": "2026-02-01"}, "starts_on", "invalid"),
    ({"period": "year", "starts_on": "2026-03-01"}, "starts_on", "invalid"),
    ({"period": "custom", "ends_on": None}, "ends_on", "required"),
    ({"period": "custom", "ends_on": "2026-02-28"}, "ends_on", "invalid_window"),
    ({"goal": "0"}, "goal", "invalid"), ({"goal": "-5.00"}, "goal", "invalid"),
    ({"goal": "1.005"}, "goal", "invalid"), ({"measure": "order_count", "goal": "2.5"}, "goal", "invalid"),
    ({"starts_on": "2026-02-30"}, "starts_on", "invalid"),
    ({"owner": "me"}, "owner", "unknown_field"),
    ({"starts_on": "9999-12-01"}, "starts_on", "out_of_range"),                   # was a 500 (year 10000)
    ({"period": "custom", "ends_on": "9999-12-31"}, "ends_on", "out_of_range"),
]


@pytest.mark.parametrize("bad,attr,code", BAD_TARGETS)
def test_bad_targets_are_refused_on_create_and_patch(staff, sellers, bad, attr, code):
    tid = staff.post("/api/v1/admin/targets/", TARGET, format="json").json()["id"]
    before = snapshot(sellers["A"].tenant)
    refused(staff.post("/api/v1/admin/targets/", dict(TARGET, **bad), format="json"), 400, attr, code)
    refused(staff.patch(f"/api/v1/admin/targets/{tid}/", bad, format="json"), 400, attr, code)
    assert snapshot(sellers["A"].tenant) == before


@pytest.mark.parametrize("query,attr,code", [
    ("measure=likes&from=2026-03-01&to=2026-03-31", "measure", "invalid_choice"),
    ("measure=net_sales&from=2026-03-01&to=2026-03-31", "measure", "invalid_choice"),
    ("measure=direct_sales&to=2026-03-31", "from", "required"),
    ("measure=direct_sales&from=2026-03-01", "to", "required"),
    ("from=2026-03-01&to=2026-03-31", "measure", "required"),
    ("measure=direct_sales&from=2026-03-02&to=2026-03-01", "to", "invalid_window"),
    ("measure=direct_sales&from=2024-01-01&to=2025-01-01", "to", "invalid_window"),     # 367 days
    ("measure=direct_sales&from=2026-02-30&to=2026-03-31", "from", "invalid"),
    ("measure=direct_sales&from=2026-03-01&to=2026-03-31&limit=0", "limit", "min_value"),
    ("measure=direct_sales&from=2026-03-01&to=2026-03-31&limit=1001", "limit", "max_value"),
    ("measure=direct_sales&from=9999-12-01&to=9999-12-31", "from", "out_of_range"),     # was a 500
    ("measure=direct_sales&from=2026-03-01&to=9999-12-31", "to", "out_of_range"),
])
def test_bad_staff_ranking_queries(staff, sellers, query, attr, code):
    refused(staff.get(f"/api/v1/admin/rankings/?{query}"), 400, attr, code)


def test_a_ranking_covers_up_to_366_days(staff, programme):
    r = staff.get("/api/v1/admin/rankings/?measure=direct_sales&from=2025-03-31&to=2026-03-31")   # 366 days
    assert r.status_code == 200
    assert [(x["distributor_external_id"], x["score"]) for x in r.json()["results"]][:1] == [("C", "550.00")]  # OC3 + OC1



@pytest.mark.parametrize("query,attr,code", [
    ("measure=commission", "measure", "invalid_choice"),   # other people's commission is not shown
    ("measure=likes", "measure", "invalid_choice"), ("period=2026-13", "period", "invalid"),
    ("period=26-03", "period", "invalid"), ("limit=101", "limit", "max_value"),
    ("period=%2B202-01", "period", "invalid"), ("period=9999-12", "period", "out_of_range"),
])
def test_bad_portal_ranking_queries(staff, sellers, portal_for, query, attr, code):
    staff.patch("/api/v1/admin/tenant/", {"show_rankings": True}, format="json")
    refused(portal_for(sellers["A"]).get(f"/api/v1/me/rankings/?{query}"), 400, attr, code)


def test_show_rankings_is_a_boolean(staff, sellers):
    refused(staff.patch("/api/v1/admin/tenant/", {"show_rankings": "maybe"}, format="json"), 400, "show_rankings", "invalid")
    sellers["A"].tenant.refresh_from_db()
    assert sellers["A"].tenant.show_rankings is False


def test_a_portal_leaderboard_limit_is_checked(staff, sellers, portal_for):
    cid = staff.post("/api/v1/admin/contests/", CONTEST, format="json").json()["id"]
    refused(portal_for(sellers["A"]).get(f"/api/v1/me/contests/{cid}/leaderboard/?limit=101"), 400, "limit", "max_value")


@pytest.mark.parametrize("bad,attr,code", [
    ({"min_direct_sales": "-1.00"}, "min_direct_sales", "min_value"),
    ({"min_direct_sales": "1.005"}, "min_direct_sales", "max_decimal_places"),
    ({"min_team_sales": "10.001"}, "min_team_sales", "max_decimal_places"),
    ({"min_team_sales": "abc"}, "min_team_sales", "invalid"),
    ({"min_direct_downlines": -1}, "min_direct_downlines", "min_value"),
    ({"min_direct_downlines": 1.5}, "min_direct_downlines", "invalid"),
    ({"min_direct_downlines": "1_0"}, "min_direct_downlines", "invalid"),
])
def test_bad_grade_conditions(staff, sellers, bad, attr, code):
    gid = staff.post("/api/v1/admin/grades/", {"code": "gold", "name": "Gold", "rank": 1,
                                               "min_direct_sales": "100.00"}, format="json").json()["id"]
    before = snapshot(sellers["A"].tenant)
    refused(staff.post("/api/v1/admin/grades/", {"code": "silver", "name": "Silver", **bad}, format="json"), 400, attr, code)
    refused(staff.patch(f"/api/v1/admin/grades/{gid}/", bad, format="json"), 400, attr, code)
    assert snapshot(sellers["A"].tenant) == before


def test_grade_conditions_in_a_jpy_tenant_are_whole_yen(make_tenant):
    yen = make_tenant(slug="yen", currency="JPY", timezone="Asia/Tokyo")
    staff = staff_client(yen, "yen-pm")
    refused(staff.post("/api/v1/admin/grades/", {"code": "gold", "name": "Gold", "min_team_sales": "1000.5"},
                       format="json"), 400, "min_team_sales", "max_decimal_places")
    r = staff.post("/api/v1/admin/grades/", {"code": "gold", "name": "Gold", "min_team_sales": "1000"}, format="json")
    assert r.status_code == 201 and r.json()["min_team_sales"] == "1000"
    refused(staff.post("/api/v1/admin/contests/", dict(CONTEST, prizes=["1000.5"]), format="json"), 400, "prizes.0",
            "max_decimal_places")
    refused(staff.post("/api/v1/admin/grades/evaluate/", {"all": True}, format="json"), 400, "all", "unknown_field")
    with tenant_context(yen):
        assert Contest.objects.count() == 0 and Grade.objects.count() == 1


def test_the_time_zone_is_fixed_once_orders_contests_or_targets_exist(staff, sellers, partner, make_tenant):
    """Day figures are kept per local day and windows as local midnights: a later change of the time
    zone would shift every figure and make the windows no longer whole days (the intake answered 500
    for every paid order, targets and the portal's contests too). 400 `timezone_locked`, nothing
    written; a tenant with none of them may still change it."""
    from tenants.models import Tenant
    from tests.incentives.apidata import post_order

    tenant = sellers["A"].tenant
    cid = staff.post("/api/v1/admin/contests/", CONTEST, format="json").json()["id"]   # a contest, no order yet
    refused(staff.patch("/api/v1/admin/tenant/", {"timezone": "Europe/London"}, format="json"), 400, "timezone",
            "timezone_locked")
    with tenant_context(tenant):
        Contest.objects.filter(pk=cid).delete()
    tid = staff.post("/api/v1/admin/targets/", TARGET, format="json").json()["id"]
    refused(staff.patch("/api/v1/admin/tenant/", {"timezone": "Europe/London"}, format="json"), 400, "timezone",
            "timezone_locked")
    with tenant_context(tenant):
        Target.objects.filter(pk=tid).delete()
    assert staff.patch("/api/v1/admin/tenant/", {"timezone": "Asia/Tokyo"}, format="json").json()["timezone"] == \
        "Asia/Tokyo"                                                                  # nothing kept in local days yet
    assert staff.patch("/api/v1/admin/tenant/", {"timezone": "Asia/Shanghai"}, format="json").status_code == 200
    post_order(partner, "O1", "A", "100.00", "2026-03-02T10:00:00+08:00")
    before = snapshot(tenant)
    refused(staff.patch("/api/v1/admin/tenant/", {"timezone": "Europe/London", "rounding": "half_up"}, format="json"),
            400, "timezone", "timezone_locked")
    assert snapshot(tenant) == before
    assert Tenant.objects.values_list("timezone", "rounding").get(pk=tenant.pk) == ("Asia/Shanghai", "down")
    # the same zone again is no change; other settings still change
    assert staff.patch("/api/v1/admin/tenant/", {"timezone": "Asia/Shanghai", "rounding": "half_up"},
                       format="json").status_code == 200
    post_order(partner, "O2", "A", "50.00", "2026-03-03T10:00:00+08:00")              # the intake still works
