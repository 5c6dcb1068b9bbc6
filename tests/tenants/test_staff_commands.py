"""Operators' commands: create_staff (roles pm / finance, tenants.roles) and create_tenant's starter
draft plan."""
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from commissions.models import CommissionPlan
from ledger.services import settle_due
from tenants.context import tenant_context
from tenants.models import StaffMembership, Tenant
from tenants.roles import ROLES
from tests.factories import CommitAPIClient, chain, order_json

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=CST)
PW = "correct-horse-9"


def create_staff(*args, **kw):
    out = io.StringIO()
    call_command("create_staff", *args, stdout=out, **kw)
    return out.getvalue()


def staff_api(username, password=PW):
    r = CommitAPIClient().post("/api/v1/auth/staff-token/", {"username": username, "password": password}, format="json")
    assert r.status_code == 200, r.json()
    api = CommitAPIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
    return api


RULES = [{"level": 1, "value": "0.1200"}, {"level": 2, "value": "0.0500"}]


def test_a_created_pm_logs_in_and_publishes_a_plan(tenant):
    out = create_staff("acme", "lily", "--role", "pm", "--password", PW, "--email", "lily@acme.cn")
    assert out.strip() == "created pm lily (staff of acme): log in at /admin/ or POST /api/v1/auth/staff-token/"
    user = User.objects.get(username="lily")
    assert (user.is_staff, user.is_superuser, user.email, user.tenant_membership.tenant) == (True, False, "lily@acme.cn", tenant)
    assert list(user.groups.values_list("name", flat=True)) == ["fenxiao pm"]
    assert user.password.startswith("md5$")                              # hashed (MD5 only in tests)
    pm = staff_api("lily")
    r = pm.post("/api/v1/admin/plans/", {"name": "spring", "rules": RULES}, format="json")
    assert r.status_code == 201, r.json()
    r = pm.post(f"/api/v1/admin/plans/{r.json()['id']}/publish/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "published", r.json()
    assert pm.patch("/api/v1/admin/tenant/", {"settle_after_days": 10}, format="json").json()["settle_after_days"] == 10
    assert pm.get("/api/v1/admin/withdrawals/").status_code == 200
    assert pm.post("/api/v1/admin/withdrawals/1/approve/").status_code == 403   # no decisions on money


def test_a_finance_user_approves_a_withdrawal_but_cannot_edit_plans(partner, in_tenant, portal_for):
    create_staff("acme", "fang", "--role", "finance", "--password", PW)
    c0, c1, c2 = chain(in_tenant, 3)
    with time_machine.travel(T0, tick=False) as clock:
        partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C2", placed_at=T0.isoformat(), status="paid",
                     paid_at=T0.isoformat(), lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "1000.00"}]),
                     format="json")
        partner.post("/api/v1/orders/O1/complete/", {"completed_at": T0.isoformat()}, format="json")
        clock.move_to(T0 + timedelta(days=8))
        assert settle_due(tenant=in_tenant) == 3
        r = portal_for(c2).post("/api/v1/me/withdrawals/", {"amount": "60.00", "method": "alipay", "account": "c2@b.cn"},
                                format="json")
        assert r.status_code == 201, r.json()
        wid = r.json()["id"]
        finance = staff_api("fang")
        r = finance.post(f"/api/v1/admin/withdrawals/{wid}/approve/")
        assert r.status_code == 200 and (r.json()["status"], r.json()["amount"]) == ("approved", "60.00")
        assert finance.get("/api/v1/admin/withdrawals/export.csv").status_code == 200
        assert finance.get("/api/v1/admin/distributors/").json()["count"] == 3
        plans_before = CommissionPlan.objects.count()
        r = finance.post("/api/v1/admin/plans/", {"name": "mine", "rules": RULES}, format="json")
        assert r.status_code == 403 and r.json()["errors"][0]["code"] == "permission_denied"
        assert finance.patch("/api/v1/admin/tenant/", {"settle_after_days": 1}, format="json").status_code == 403
        assert finance.post("/api/v1/admin/distributors/C0/freeze/", {}, format="json").status_code == 403
        assert CommissionPlan.objects.count() == plans_before
        assert Tenant.objects.get(pk=in_tenant.pk).settle_after_days == 7


def test_every_role_permission_exists_and_the_group_is_reset_to_the_code(db):
    from django.contrib.auth.models import Permission

    from tenants.services import staff_role_group

    staff_role_group(role="finance").permissions.add(Permission.objects.get(codename="change_commissionplan"))
    for code, role in ROLES.items():
        group = staff_role_group(role=code)
        names = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert names == set(role.permissions), code
    assert "commissions.change_commissionplan" not in ROLES["finance"].permissions
    assert "ledger.change_withdrawal" not in ROLES["pm"].permissions


def test_bad_input_is_a_command_error_and_writes_nothing(tenant):
    users, groups = User.objects.count(), Group.objects.count()
    cases = [
        (("acme", "x1", "--role", "cashier", "--password", PW), "invalid choice: 'cashier'"),
        (("nope", "x1", "--role", "pm", "--password", PW), "No tenant with slug 'nope'."),
        (("acme", "x1", "--role", "pm", "--password", "123"), "password: This password is too short."),
        (("acme", "bad name!", "--role", "pm", "--password", PW), "username: Enter a valid username."),
    ]
    for args, message in cases:
        with pytest.raises(CommandError) as exc:
            create_staff(*args)
        assert message in str(exc.value), (args, str(exc.value))
    from rest_framework.exceptions import ValidationError

    from tenants.services import staff_create

    with pytest.raises(ValidationError) as exc:                       # the service checks the role itself too
        staff_create(tenant=tenant, username="x1", role="cashier", password=PW)
    assert exc.value.detail["role"][0] == "Unknown role 'cashier'; the roles are: pm, finance."
    assert exc.value.detail["role"][0].code == "unknown_role"
    assert (User.objects.count(), Group.objects.count(), StaffMembership.objects.count()) == (users, groups, 0)


def test_an_existing_user_needs_update_and_stays_in_its_tenant(tenant, make_tenant):
    create_staff("acme", "lily", "--role", "pm", "--password", PW)
    with pytest.raises(CommandError, match="A user named 'lily' exists; pass update"):
        create_staff("acme", "lily", "--role", "finance", "--password", "another-pass-9")
    assert User.objects.get(username="lily").groups.get().name == "fenxiao pm"
    out = create_staff("acme", "lily", "--role", "finance", "--update")
    assert out.startswith("updated finance lily")
    assert list(User.objects.get(username="lily").groups.values_list("name", flat=True)) == ["fenxiao finance"]
    staff_api("lily")                                             # the password is unchanged
    make_tenant(slug="other")
    with pytest.raises(CommandError, match=r"'lily' is staff of another tenant \(acme\)"):
        create_staff("other", "lily", "--role", "pm", "--update")
    User.objects.create_superuser("root", password=PW)
    with pytest.raises(CommandError, match="'root' is a superuser"):
        create_staff("acme", "root", "--role", "pm", "--update")
    assert not StaffMembership.objects.filter(user__username="root").exists()


def test_password_from_stdin(tenant, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    create_staff("acme", "lily", "--role", "pm", "--password-stdin")
    staff_api("lily")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))                 # not a terminal, no password given
    with pytest.raises(CommandError, match="No password"):
        create_staff("acme", "mo", "--role", "pm")
    assert not User.objects.filter(username="mo").exists()


# -- create_tenant: a starter draft plan -------------------------------------------------------------------


def test_create_tenant_makes_a_draft_starter_plan_not_in_force(db):
    from commissions.selectors import plan_in_force

    out = io.StringIO()
    call_command("create_tenant", "shop", "Shop", stdout=out)
    assert out.getvalue().splitlines() == [
        "created tenant shop (CNY, Asia/Shanghai, 3 levels)",
        "draft plan v1 'Starter plan: L1 10% / L2 5% / L3 2%' (not in force: publish it in the admin or the staff API)"]
    tenant = Tenant.objects.get(slug="shop")
    with tenant_context(tenant):
        plan = CommissionPlan.objects.get()
        assert (plan.version, plan.status, plan.name) == (1, "draft", "Starter plan: L1 10% / L2 5% / L3 2%")
        assert sorted((r.scope, r.level, r.kind, r.value) for r in plan.rules.all()) == [
            ("default", 1, "percent", Decimal("0.1000")), ("default", 2, "percent", Decimal("0.0500")),
            ("default", 3, "percent", Decimal("0.0200"))]
        assert plan_in_force(at=datetime(2030, 1, 1, tzinfo=timezone.utc)) is None


def test_create_tenant_starter_plan_follows_levels_and_can_be_left_out(db):
    call_command("create_tenant", "two", "Two", "--levels", "2", stdout=io.StringIO())
    with tenant_context(Tenant.objects.get(slug="two")):
        assert sorted(r.level for r in CommissionPlan.objects.get().rules.all()) == [1, 2]
    call_command("create_tenant", "bare", "Bare", "--no-plan", stdout=io.StringIO())
    with tenant_context(Tenant.objects.get(slug="bare")):
        assert not CommissionPlan.objects.exists()


def test_create_tenant_refused_writes_nothing(db):
    with pytest.raises(CommandError, match="levels"):
        call_command("create_tenant", "four", "Four", "--levels", "4", stdout=io.StringIO())
    assert not Tenant.objects.filter(slug="four").exists()
    assert not CommissionPlan.unscoped.exists()


def test_the_pm_edits_the_api_rate_in_the_admin_and_finance_only_sees_it(tenant, client):
    create_staff("acme", "lily", "--role", "pm", "--password", PW)
    create_staff("acme", "fang", "--role", "finance", "--password", PW)
    client.force_login(User.objects.get(username="lily"))
    page = client.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()
    assert '<input type="number" name="api_rate_per_minute"' in page
    client.force_login(User.objects.get(username="fang"))
    r = client.get(f"/admin/tenants/tenant/{tenant.pk}/change/")
    assert r.status_code == 200 and 'name="api_rate_per_minute"' not in r.content.decode()   # view only
    assert "Requests per minute allowed to each partner API key" in r.content.decode()
