"""Risk holds end to end (domain rules section 11): velocity and refund-rate holds, held
commissions accrue but do not settle, staff release with a reason (audited), the staff API."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
import time_machine

from commissions.models import CommissionRecord
from ledger.models import Balance
from ledger.services import settle_due
from risk.models import RiskHold
from tenants.context import tenant_context
from tests.factories import distributor, order_json
from tests.staff.test_staff_api import staff_for

CST = timezone(timedelta(hours=8))


def local(d, h=0, mi=0):
    return datetime(2026, 5, d, h, mi, tzinfo=CST)


def post(partner, external_id, paid_at, amount="100.00", referrer="A"):
    body = order_json(external_id, placed_at=paid_at.isoformat(), status="paid", paid_at=paid_at.isoformat(),
                      referrer_external_id=referrer, lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": amount}])
    r = partner.post("/api/v1/orders/", body, format="json")
    assert r.status_code == 201, r.json()


def post_batch(partner, orders):
    r = partner.post("/api/v1/orders/batch/", {"orders": [
        order_json(x, placed_at=t.isoformat(), status="paid", paid_at=t.isoformat(), referrer_external_id="A",
                   lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "100.00"}]) for x, t in orders]},
        format="json")
    assert r.status_code == 207 and all(i["status"] == 201 for i in r.json()["results"]), r.json()


def balance(external_id):
    b = Balance.objects.get(distributor__external_id=external_id)
    return b.frozen, b.available


def held(external_id):
    return sorted((r.order.external_id, r.level, r.amount) for r in CommissionRecord.objects.filter(
        beneficiary__external_id=external_id, hold__isnull=False).select_related("order"))


@pytest.fixture
def acme(make_tenant):
    t = make_tenant(slug="acme", risk_max_orders_per_hour=3)
    with tenant_context(t):
        distributor(t, distributor(t, external_id="R"), external_id="A")
    return t


@pytest.mark.parametrize("path", ["single", "batch"])
def test_a_fourth_order_within_an_hour_holds_the_referrers_new_commissions_until_staff_release_them(
        acme, partner_for, path):
    """Limit 3 an hour: orders by A at 10:00, 10:20, 10:40 pay as usual; the one at 10:50 makes 4
    in (09:50, 10:50]: A is held from 10:50 on. A's level-1 10.00 of that order accrues (frozen)
    but does not settle; R's level-2 5.00 of it is R's, not held. Released with a reason, it
    settles at the next run. The same records are held whether the orders came one by one or in
    one batch."""
    partner = partner_for(acme)
    orders = [("O1", local(1, 10)), ("O2", local(1, 10, 20)), ("O3", local(1, 10, 40)), ("O4", local(1, 10, 50))]
    if path == "single":
        for x, t in orders:
            post(partner, x, t)
    else:
        post_batch(partner, orders)
    with tenant_context(acme):
        hold = RiskHold.objects.get()
        assert (hold.distributor.external_id, hold.reason, hold.released_at) == ("A", "velocity", None)
        assert hold.figures == {"orders_in_hour": 4, "limit": 3, "from": local(1, 9, 50).astimezone(timezone.utc).isoformat(),
                                "to": local(1, 10, 50).astimezone(timezone.utc).isoformat()}
        assert held("A") == [("O4", 1, D("10.00"))] and held("R") == []
        with time_machine.travel(local(30), tick=False):        # paid + 14 days + 7 days: all due
            settle_due(tenant=acme)
        assert balance("A") == (D("10.00"), D("30.00"))
        assert balance("R") == (D("0.00"), D("20.00"))
    staff = staff_for(acme, "pm")
    listed = staff.get("/api/v1/admin/risk/holds/").json()["results"]
    assert [(h["distributor_external_id"], h["reason"], h["held_commissions"]) for h in listed] == [
        ("A", "velocity", {"count": 1, "amount": "10.00"})]
    r = staff.post("/api/v1/admin/risk/holds/A/release/", {"reason": ""}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["attr"] == "reason"
    with tenant_context(acme):
        assert RiskHold.objects.get().released_at is None       # nothing written
    r = staff.post("/api/v1/admin/risk/holds/A/release/", {"reason": "a real flash sale, checked with the shop"},
                   format="json")
    assert r.status_code == 200, r.json()
    assert (r.json()["released_by"], r.json()["release_reason"]) == ("pm", "a real flash sale, checked with the shop")
    assert staff.post("/api/v1/admin/risk/holds/A/release/", {"reason": "again"}, format="json").status_code == 404
    assert staff.get("/api/v1/admin/risk/holds/").json()["results"] == []
    assert len(staff.get("/api/v1/admin/risk/holds/?status=released").json()["results"]) == 1
    with tenant_context(acme):
        with time_machine.travel(local(30, 1), tick=False):
            assert settle_due(tenant=acme) == 1
        assert balance("A") == (D("0.00"), D("40.00"))
        assert RiskHold.history.filter(history_change_reason__startswith="released:").count() == 1   # audited


def test_a_released_distributor_is_held_again_by_a_new_burst_and_an_open_hold_keeps_holding(acme, partner_for):
    partner = partner_for(acme)
    for i, t in enumerate([local(1, 10), local(1, 10, 20), local(1, 10, 40), local(1, 10, 50), local(2, 9)]):
        post(partner, f"O{i}", t)
    with tenant_context(acme):
        # the open hold holds A's later commissions too, whatever their pace (the 2nd of May's order)
        assert held("A") == [("O3", 1, D("10.00")), ("O4", 1, D("10.00"))]
        from risk.services import risk_hold_release

        risk_hold_release(hold=RiskHold.objects.get(), reason="ok", actor="pm")
    post(partner, "O5", local(3, 9))                                   # one order: no new hold
    for i, t in enumerate([local(4, 9), local(4, 9, 1), local(4, 9, 2), local(4, 9, 3)]):
        post(partner, f"B{i}", t)
    with tenant_context(acme):
        assert RiskHold.objects.filter(released_at__isnull=True).count() == 1
        assert [x for x, *_ in held("A")] == ["B3", "O3", "O4"]


def test_a_refund_rate_above_the_limit_with_ten_orders_holds_new_commissions(make_tenant, partner_for):
    """Limit 25% over 30 days, at least 10 orders: 10 orders of 100.00 by A; 2 refunded in full is
    20% (no hold), a 3rd makes 300.00 of 1,000.00 = 30% > 25%: A is held. A's commissions from
    before settle; those of the next order are held."""
    t = make_tenant(slug="ref", risk_max_refund_rate=D("0.2500"))
    with tenant_context(t):
        distributor(t, distributor(t, external_id="R"), external_id="A")
    partner = partner_for(t)
    with time_machine.travel(local(20, 12), tick=False):
        for i in range(10):
            post(partner, f"O{i}", local(10 + i, 9))
        for i in range(2):
            assert partner.post(f"/api/v1/orders/O{i}/refunds/", {"external_id": f"RF{i}", "amount": "100.00"},
                                format="json").status_code == 201
        with tenant_context(t):
            assert not RiskHold.objects.exists()
        assert partner.post("/api/v1/orders/O2/refunds/", {"external_id": "RF2", "amount": "100.00"},
                            format="json").status_code == 201
        with tenant_context(t):
            hold = RiskHold.objects.get()
            assert (hold.distributor.external_id, hold.reason) == ("A", "refund_rate")
            assert {k: v for k, v in hold.figures.items() if k != "since"} == {
                "orders": 10, "sales": "1000.00", "refunded": "300.00", "rate": "0.3000", "limit": "0.2500"}
            assert held("A") == []
        post(partner, "O10", local(20, 10))
        with tenant_context(t):
            assert held("A") == [("O10", 1, D("10.00"))]


def test_refund_rate_needs_ten_orders(make_tenant, partner_for):
    t = make_tenant(slug="few", risk_max_refund_rate=D("0.1000"))
    with tenant_context(t):
        distributor(t, external_id="A")
    partner = partner_for(t)
    with time_machine.travel(local(20, 12), tick=False):
        for i in range(9):
            post(partner, f"O{i}", local(10 + i, 9))
        for i in range(5):
            partner.post(f"/api/v1/orders/O{i}/refunds/", {"external_id": f"RF{i}", "amount": "100.00"}, format="json")
    with tenant_context(t):
        assert not RiskHold.objects.exists()


def test_rules_off_by_default_cost_one_query_and_hold_nothing(make_tenant, partner_for):
    t = make_tenant(slug="off")
    with tenant_context(t):
        distributor(t, external_id="A")
    partner = partner_for(t)
    for i in range(6):
        post(partner, f"O{i}", local(1, 10, i))
    with tenant_context(t):
        assert not RiskHold.objects.exists() and not CommissionRecord.objects.filter(hold__isnull=False).exists()


def test_risk_settings_are_validated(make_tenant):
    t = make_tenant(slug="acme")
    staff = staff_for(t, "pm")
    for body, attr in [({"risk_max_refund_rate": "1.5000"}, "risk_max_refund_rate"),
                       ({"risk_max_orders_per_hour": 0}, "risk_max_orders_per_hour"),
                       ({"risk_max_refund_rate": "-0.1000"}, "risk_max_refund_rate")]:
        r = staff.patch("/api/v1/admin/tenant/", body, format="json")
        assert r.status_code == 400 and r.json()["errors"][0]["attr"] == attr, r.json()
    r = staff.patch("/api/v1/admin/tenant/", {"risk_max_orders_per_hour": 30, "risk_max_refund_rate": "0.3000"}, format="json")
    assert (r.json()["risk_max_orders_per_hour"], r.json()["risk_max_refund_rate"]) == (30, "0.3000")
    assert staff.patch("/api/v1/admin/tenant/", {"risk_max_refund_rate": None}, format="json").json()["risk_max_refund_rate"] is None


def test_another_tenants_hold_is_a_404_and_not_listed(acme, make_tenant, partner_for):
    partner = partner_for(acme)
    for i, t in enumerate([local(1, 10), local(1, 10, 1), local(1, 10, 2), local(1, 10, 3)]):
        post(partner, f"O{i}", t)
    other = make_tenant(slug="other")
    staff = staff_for(other, "pm2")
    assert staff.get("/api/v1/admin/risk/holds/").json()["results"] == []
    assert staff.post("/api/v1/admin/risk/holds/A/release/", {"reason": "x"}, format="json").status_code == 404
    with tenant_context(acme):
        assert RiskHold.objects.get().released_at is None


def test_the_roles_finance_releases_a_hold_the_pm_reads_it(acme, partner_for):
    """Roles (tenants/roles.py): both see the holds; releasing one lets held money settle, a
    decision on money: finance's (the pm role gets 403 and nothing changes)."""
    from tenants.services import staff_create

    from tests.factories import CommitAPIClient

    partner = partner_for(acme)
    for i, t in enumerate([local(1, 10), local(1, 10, 20), local(1, 10, 40), local(1, 10, 50)]):
        post(partner, f"O{i}", t)
    clients = {}
    for role in ("pm", "finance"):
        staff_create(tenant=acme, username=f"risk-{role}", role=role, password="pw-12345678")
        token = CommitAPIClient().post("/api/v1/auth/staff-token/", {"username": f"risk-{role}", "password": "pw-12345678"},
                                       format="json").json()["access"]
        clients[role] = CommitAPIClient()
        clients[role].credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for role in ("pm", "finance"):
        r = clients[role].get("/api/v1/admin/risk/holds/")
        assert r.status_code == 200 and [h["distributor_external_id"] for h in r.json()["results"]] == ["A"], (role, r.json())
        assert r.json()["results"][0]["held_commissions"] == {"count": 1, "amount": "10.00"}
    r = clients["pm"].post("/api/v1/admin/risk/holds/A/release/", {"reason": "checked"}, format="json")
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "permission_denied"
    with tenant_context(acme):
        assert RiskHold.objects.get().released_at is None
    r = clients["finance"].post("/api/v1/admin/risk/holds/A/release/", {"reason": "checked"}, format="json")
    assert r.status_code == 200, r.json()
    with tenant_context(acme):
        assert RiskHold.objects.get().released_by == "risk-finance"
