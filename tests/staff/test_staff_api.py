"""Staff endpoints (the PM console's powers over DRF): settings, plans, grades, preview, distributors."""
import pytest
from django.contrib.auth.models import User

from commissions.models import CommissionPlan, CommissionRecord
from distributors.models import Distributor, DistributorMove
from orders.models import Order
from tenants.context import tenant_context
from tenants.models import StaffMembership
from tests.factories import CommitAPIClient, chain, distributor, order_json


CONSOLE_APPS = ["tenants", "distributors", "orders", "commissions", "ledger", "risk"]


def staff_for(tenant, username, perms=True):
    """A staff token client of `tenant`; `perms` grants every model permission of fenxiao's apps."""
    from django.contrib.auth.models import Permission

    user = User.objects.create_user(username, password="pw-12345678", is_staff=True)
    if perms:
        user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=CONSOLE_APPS))
    StaffMembership.objects.create(user=user, tenant=tenant)
    token = CommitAPIClient().post("/api/v1/auth/staff-token/", {"username": username, "password": "pw-12345678"},
                                   format="json").json()["access"]
    api = CommitAPIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


@pytest.fixture
def staff(tenant):
    return staff_for(tenant, "pm")


RULES = [{"level": 1, "value": "0.1200"}, {"level": 2, "value": "0.0500"}, {"level": 3, "value": "0.0200"},
         {"scope": "category", "scope_value": "Technology", "level": 1, "value": "0.0800"}]


def test_tenant_settings(staff, tenant):
    r = staff.get("/api/v1/admin/tenant/").json()
    assert (r["slug"], r["levels"], r["max_total_rate"], r["rounding"]) == ("acme", 3, "0.5000", "down")
    r = staff.patch("/api/v1/admin/tenant/", {"rounding": "half_up", "withdraw_fee_rate": "0.0060"}, format="json")
    assert r.status_code == 200 and (r.json()["rounding"], r.json()["withdraw_fee_rate"]) == ("half_up", "0.0060")
    for body, attr in [({"levels": 4}, "levels"), ({"timezone": "Mars/Olympus"}, "timezone"), ({"currency": "ZZZ"}, "currency"),
                       ({"max_total_rate": "0.1000"}, "max_total_rate"), ({"levels": 2}, "levels"), ({"slugg": "x"}, "slugg")]:
        r = staff.patch("/api/v1/admin/tenant/", body, format="json")
        assert r.status_code == 400 and r.json()["errors"][0]["attr"] == attr, (body, r.json())
    tenant.refresh_from_db()
    assert (tenant.levels, tenant.max_total_rate, tenant.rounding) == (3, 0.5, "half_up")


def test_plan_drafts_publish_and_versions(staff, partner, in_tenant):
    chain(in_tenant, 3)
    r = staff.post("/api/v1/admin/plans/", {"name": "spring", "rules": RULES}, format="json")
    assert r.status_code == 201 and (r.json()["version"], r.json()["status"]) == (2, "draft")
    pid = r.json()["id"]
    # the draft is not in force: an order recorded now still uses v1 (10%)
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C2", status="paid",
                 paid_at="2026-01-15T10:05:00+08:00"), format="json")
    assert partner.get("/api/v1/orders/O1/commissions/").json()[0]["amount"] == "10.00"
    assert staff.patch(f"/api/v1/admin/plans/{pid}/", {"rules": RULES[:3]}, format="json").status_code == 200
    r = staff.post(f"/api/v1/admin/plans/{pid}/publish/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert staff.patch(f"/api/v1/admin/plans/{pid}/", {"name": "x"}, format="json").status_code == 409
    assert staff.post(f"/api/v1/admin/plans/{pid}/publish/", {}, format="json").status_code == 409
    partner.post("/api/v1/orders/", order_json("O2", referrer_external_id="C2", status="paid",
                 paid_at="2026-01-15T10:05:00+08:00"), format="json")
    assert [x["amount"] for x in partner.get("/api/v1/orders/O2/commissions/").json()] == ["12.00", "5.00", "2.00"]
    assert [x["plan_version"] for x in partner.get("/api/v1/orders/O1/commissions/").json()] == [1, 1, 1]
    copy = staff.post("/api/v1/admin/plans/", {"based_on": pid, "name": "edit"}, format="json").json()
    assert (copy["version"], copy["based_on_version"], len(copy["rules"])) == (3, 2, 3)
    listing = staff.get("/api/v1/admin/plans/").json()
    assert [(p["version"], p["status"]) for p in listing["results"]] == [(3, "draft"), (2, "published"), (1, "published")]


@pytest.mark.parametrize("rules,code", [
    ([{"level": 1, "value": "0.3000"}, {"level": 2, "value": "0.2001"}], "over_max_total_rate"),
    ([{"level": 1, "value": "-0.1000"}], "min_value"),
    ([{"level": 1, "value": "0.12345"}], "max_decimal_places"),
    ([{"level": 4, "value": "0.1000"}], "max_value"),
    ([{"level": 1, "kind": "fixed", "value": "1.234"}], "too_many_places"),
    ([{"level": 1, "value": "0.1"}, {"level": 1, "value": "0.2"}], "duplicate_rule"),
    ([{"scope": "category", "level": 1, "value": "0.1"}], "invalid_scope"),
])
def test_plan_guardrails(staff, in_tenant, rules, code):
    r = staff.post("/api/v1/admin/plans/", {"rules": rules}, format="json")
    assert r.status_code == 400
    assert code in [e["code"] for e in r.json()["errors"]], r.json()
    assert CommissionPlan.objects.count() == 1


def test_plan_guardrail_levels_beyond_tenant(make_tenant):
    t = make_tenant(slug="two", levels=2, default={1: ("percent", "0.1")})
    api = staff_for(t, "pm2")
    r = api.post("/api/v1/admin/plans/", {"rules": [{"level": 3, "value": "0.01"}]}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "level_out_of_range"


def test_publish_never_retroactive(staff, in_tenant):
    pid = staff.post("/api/v1/admin/plans/", {"rules": RULES}, format="json").json()["id"]
    r = staff.post(f"/api/v1/admin/plans/{pid}/publish/", {"effective_from": "2020-01-01T00:00:00+08:00"}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "retroactive"
    assert CommissionPlan.objects.get(pk=pid).status == "draft"


def test_grades_with_overrides_and_cap(staff, in_tenant):
    r = staff.post("/api/v1/admin/grades/", {"code": "gold", "name": "Gold", "rank": 1,
                                             "overrides": [{"level": 1, "value": "0.1500"}]}, format="json")
    assert r.status_code == 201 and r.json()["overrides"] == [{"level": 1, "kind": "percent", "value": "0.1500"}]
    gid = r.json()["id"]
    # 0.10 + 0.05 + 0.02 = 0.17; a level-2 override of 0.40 would allow 0.15 + 0.40 + 0.02 = 0.57 > 0.50
    r = staff.patch(f"/api/v1/admin/grades/{gid}/", {"overrides": [{"level": 2, "value": "0.4000"}]}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "over_max_total_rate"
    assert staff.post("/api/v1/admin/grades/", {"code": "gold", "name": "again"}, format="json").status_code == 400


BAD_GRADE_BODIES = [
    ({"overrides": [{"level": 1}]}, {("overrides.0.value", "required")}),           # was a 500 on PATCH
    ({"overrides": [{"value": "0.0100"}]}, {("overrides.0.level", "required")}),
    ({"overrides": [{"level": 1, "value": None}]}, {("overrides.0.value", "null")}),
    ({"overrides": [{"level": 4, "value": "0.0100"}]}, {("overrides.0.level", "max_value")}),
    ({"overrides": [{"level": 1, "value": "-0.0100"}]}, {("overrides.0.value", "min_value")}),
    ({"overrides": [{"level": 1, "value": "0.01234"}]}, {("overrides.0.value", "max_decimal_places")}),
    ({"overrides": [{"level": 1, "value": "0.0100", "colour": "red"}]}, {("overrides.0.colour", "unknown_field")}),
    ({"overrides": [{"level": 1, "kind": "bonus", "value": "0.0100"}]}, {("overrides.0.kind", "invalid_choice")}),
    ({"overrides": {"level": 1}}, {("overrides.non_field_errors", "not_a_list")}),
    ({"overrides": [{"level": 2, "value": "0.4000"}]}, {("value", "over_max_total_rate")}),   # 0.10 + 0.40 + 0.02 > 0.50
    ({"rank": -1}, {("rank", "min_value")}),
    ({"name": ""}, {("name", "blank")}),
    ({"code": "no spaces"}, {("code", "invalid")}),
    ({"colour": "red"}, {("colour", "unknown_field")}),
]


@pytest.mark.parametrize("bad,errors", BAD_GRADE_BODIES)
def test_grade_patch_validates_like_post_and_writes_nothing(staff, in_tenant, bad, errors):
    from commissions.models import GradeLevelOverride
    from distributors.models import Grade

    r = staff.post("/api/v1/admin/grades/", {"code": "gold", "name": "Gold", "rank": 1,
                                             "overrides": [{"level": 1, "value": "0.1500"}]}, format="json")
    gid = r.json()["id"]
    before = (list(Grade.objects.values()), list(GradeLevelOverride.objects.values()), Grade.history.count())
    posted = staff.post("/api/v1/admin/grades/", {"code": "silver", "name": "Silver", **bad}, format="json")
    patched = staff.patch(f"/api/v1/admin/grades/{gid}/", bad, format="json")
    for r in (posted, patched):
        assert r.status_code == 400, r.content
        body = r.json()
        assert body["type"] == "validation_error" and {(e["attr"], e["code"]) for e in body["errors"]} == errors, body
    assert (list(Grade.objects.values()), list(GradeLevelOverride.objects.values()), Grade.history.count()) == before


def test_grade_patch_changes_what_it_names(staff, in_tenant):
    staff.post("/api/v1/admin/grades/", {"code": "silver", "name": "Silver"}, format="json")
    gid = staff.post("/api/v1/admin/grades/", {"code": "gold", "name": "Gold", "rank": 1}, format="json").json()["id"]
    r = staff.patch(f"/api/v1/admin/grades/{gid}/", {"code": "silver"}, format="json")
    assert r.status_code == 400 and [(e["attr"], e["code"]) for e in r.json()["errors"]] == [("code", "unique")]
    r = staff.patch(f"/api/v1/admin/grades/{gid}/", {"rank": 2, "overrides": [{"level": 2, "value": "0.0800"}]}, format="json")
    assert r.status_code == 200
    assert r.json() == {"id": gid, "code": "gold", "name": "Gold", "rank": 2,
                        "overrides": [{"level": 2, "kind": "percent", "value": "0.0800"}],
                        "min_direct_sales": None, "min_direct_downlines": None, "min_team_sales": None}
    r = staff.patch(f"/api/v1/admin/grades/{gid}/", {"code": "gold-2", "name": "Gold II"}, format="json")
    assert (r.json()["code"], r.json()["name"], r.json()["rank"]) == ("gold-2", "Gold II", 2)


def test_preview_writes_nothing(staff, in_tenant):
    chain(in_tenant, 3)
    draft = staff.post("/api/v1/admin/plans/", {"rules": RULES}, format="json").json()["id"]
    body = {"order": {"currency": "CNY", "placed_at": "2026-01-15T10:00:00+08:00", "discount": "20.00", "shipping": "9.00",
                      "lines": [{"line_id": "1", "sku": "P", "category": "Technology", "quantity": 1, "unit_price": "100.00"},
                                {"line_id": "2", "sku": "M", "category": "Home", "quantity": 1, "unit_price": "100.00"}]},
            "distributor_external_id": "C2"}
    now = staff.post("/api/v1/commission-preview/", body, format="json").json()
    # base 180.00 (discount 10.00 per line); v1: 18.00 / 9.00 / 3.60
    assert (now["plan_version"], now["commission_base"]) == (1, "180.00")
    assert [(x["level"], x["beneficiary_external_id"], x["amount"], x["rate"]) for x in now["levels"]] == [
        (1, "C2", "18.00", "0.1000"), (2, "C1", "9.00", "0.0500"), (3, "C0", "3.60", "0.0200")]
    drafted = staff.post("/api/v1/commission-preview/", dict(body, plan_id=draft), format="json").json()
    # draft: Technology L1 8% (90 x 0.08 = 7.20) + Home 12% (90 x 0.12 = 10.80) = 18.00; L2 Technology has no level 2
    assert [(x["level"], x["amount"], x["rate"]) for x in drafted["levels"]] == [(1, "18.00", None), (2, "4.50", "0.0500"), (3, "1.80", "0.0200")]
    assert Order.objects.count() == 0 and CommissionRecord.objects.count() == 0
    bad = staff.post("/api/v1/commission-preview/", {"order": {"currency": "CNY"}}, format="json")
    assert bad.status_code == 400 and bad.json()["type"] == "validation_error"
    assert staff.post("/api/v1/commission-preview/", dict(body, distributor_external_id="nobody"), format="json").status_code == 400


def test_distributor_management(staff, make_tenant):
    from tenants.models import Tenant

    t = Tenant.objects.get(slug="acme")
    t.enrollment = "application"
    t.save()
    with tenant_context(t):
        a, b = chain(t, 2)
        c = chain(t, 1, prefix="X")[0]
    assert (a.status, b.status) == ("pending", "pending")
    assert staff.post("/api/v1/admin/distributors/C0/approve/", {}, format="json").json()["status"] == "active"
    assert staff.post("/api/v1/admin/distributors/C0/approve/", {}, format="json").status_code == 409
    assert staff.post("/api/v1/admin/distributors/C1/reject/", {"reason": "fake id"}, format="json").json()["status"] == "disabled"
    assert staff.post("/api/v1/admin/distributors/C0/freeze/", {}, format="json").json()["status"] == "frozen"
    assert staff.post("/api/v1/admin/distributors/C0/unfreeze/", {}, format="json").json()["status"] == "active"
    r = staff.get("/api/v1/admin/distributors/?status=pending").json()
    assert [d["external_id"] for d in r["results"]] == ["X0"]
    assert staff.get("/api/v1/admin/distributors/?search=x0").json()["count"] == 1
    assert staff.get("/api/v1/admin/distributors/?parent=C0").json()["results"][0]["external_id"] == "C1"
    r = staff.post("/api/v1/admin/distributors/C1/move/", {"parent_external_id": "X0", "reason": "wrong sponsor"}, format="json")
    assert r.status_code == 200 and r.json()["parent_external_id"] == "X0" and r.json()["uplines"] == ["X0"]
    with tenant_context(t):
        distributor(t, b, external_id="D2")  # D2 > C1 > X0
    listed = {d["external_id"]: d["uplines"] for d in staff.get("/api/v1/admin/distributors/").json()["results"]}
    assert listed == {"C0": [], "C1": ["X0"], "X0": [], "D2": ["C1", "X0"]}
    with tenant_context(t):
        move = DistributorMove.objects.get()
        assert (move.old_parent.external_id, move.new_parent.external_id, move.reason, move.actor) == ("C0", "X0", "wrong sponsor", "pm")
    r = staff.post("/api/v1/admin/distributors/X0/move/", {"parent_external_id": "C1", "reason": "loop"}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "cycle"
    assert staff.post("/api/v1/admin/distributors/X0/move/", {"parent_external_id": "C1"}, format="json").status_code == 400


def test_staff_endpoints_are_scoped_and_guarded(staff, make_tenant, partner_for, portal_for):
    other = make_tenant(slug="other")
    with tenant_context(other):
        (o0,) = chain(other, 1, prefix="O")
        plan = CommissionPlan.objects.get()
    assert staff.get(f"/api/v1/admin/plans/{plan.pk}/").status_code == 404
    assert staff.post(f"/api/v1/admin/plans/{plan.pk}/publish/", {}, format="json").status_code == 404
    assert staff.post("/api/v1/admin/distributors/O0/freeze/", {}, format="json").status_code == 404
    assert staff.get("/api/v1/admin/distributors/").json()["count"] == 0
    assert staff.post("/api/v1/commission-preview/", {"order": {"currency": "CNY", "placed_at": "2026-01-15T10:00:00+08:00",
                      "lines": [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "1.00"}]},
                      "distributor_external_id": "O0"}, format="json").status_code == 400
    with tenant_context(other):
        assert Distributor.objects.get(external_id="O0").status == "active"
    for client in (partner_for(other), portal_for(o0), CommitAPIClient()):
        assert client.get("/api/v1/admin/tenant/").status_code in (401, 403)
    nobody = User.objects.create_user("loose", password="pw-12345678", is_staff=True)   # staff without a tenant
    loose = CommitAPIClient()
    loose.force_authenticate(nobody)
    assert loose.get("/api/v1/admin/plans/").status_code == 403


def test_staff_need_the_model_permission_and_an_active_tenant(tenant, in_tenant):
    viewer = staff_for(tenant, "viewer", perms=False)
    for method, url in [("get", "/api/v1/admin/plans/"), ("post", "/api/v1/admin/plans/"), ("get", "/api/v1/admin/tenant/"),
                        ("get", "/api/v1/admin/withdrawals/"), ("post", "/api/v1/admin/withdrawals/1/approve/"),
                        ("post", "/api/v1/admin/distributors/X/freeze/"), ("post", "/api/v1/commission-preview/")]:
        assert getattr(viewer, method)(url, {}, format="json").status_code == 403, url
    from django.contrib.auth.models import Permission

    User.objects.get(username="viewer").user_permissions.add(Permission.objects.get(codename="view_commissionplan"))
    assert viewer.get("/api/v1/admin/plans/").status_code == 200
    assert viewer.post("/api/v1/admin/plans/", {"rules": RULES}, format="json").status_code == 403
    full = staff_for(tenant, "full")
    tenant.is_active = False
    tenant.save()
    assert full.get("/api/v1/admin/plans/").status_code == 403


def test_grades_and_backtests_of_another_tenant_are_404(staff, make_tenant):
    from commissions.backtest import backtest_create
    from distributors.models import Grade

    other = make_tenant(slug="elsewhere")
    with tenant_context(other):
        grade = Grade.objects.create(tenant=other, code="gold", name="Gold")
        plan = CommissionPlan.objects.get()
        import datetime

        bt = backtest_create(tenant=other, plan=plan, date_from=datetime.date(2026, 1, 1), date_to=datetime.date(2026, 1, 31))
    assert staff.patch(f"/api/v1/admin/grades/{grade.pk}/", {"name": "mine"}, format="json").status_code == 404
    assert staff.get(f"/api/v1/admin/backtests/{bt.pk}/").status_code == 404
    assert staff.get(f"/api/v1/admin/backtests/{bt.pk}.csv").status_code == 404
    assert staff.post("/api/v1/admin/backtests/", {"plan_id": plan.pk, "date_from": "2026-01-01", "date_to": "2026-01-02"},
                      format="json").status_code == 404
    assert staff.get("/api/v1/admin/grades/").json()["count"] == 0 and staff.get("/api/v1/admin/backtests/").json()["count"] == 0
    with tenant_context(other):
        assert Grade.objects.get().name == "Gold"
