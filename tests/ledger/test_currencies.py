"""Money in each currency's own minor units, end to end (domain rules preamble, sections 4, 6, 7):
a 0-place tenant (JPY) and a 3-place tenant (KWD) through intake on both paths, refunds by lines
and by amount, settlement, withdrawal, the payout file and the console, with worked figures."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
import time_machine

from commissions.models import CommissionRecord
from ledger.models import OutboxEvent
from ledger.services import settle_due
from orders.models import Order
from tenants.context import tenant_context
from tests.factories import chain, order_json
from tests.ledger.test_lifecycle import money

pytestmark = pytest.mark.usefixtures("both_intake_paths")

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=CST)
PAID = {"status": "paid", "placed_at": T0.isoformat(), "paid_at": T0.isoformat()}


def records(partner, external_id):
    return [(r["level"], r["amount"], r["reversed_amount"], r["net_amount"])
            for r in partner.get(f"/api/v1/orders/{external_id}/commissions/").json()]


def post(partner, external_id, lines, **kw):
    return partner.post("/api/v1/orders/", order_json(external_id, referrer_external_id="C2", **PAID, lines=lines, **kw),
                        format="json")


def errors(response):
    return [(e["attr"], e["code"]) for e in response.json()["errors"]]


def M(frozen="0", available="0", held="0", withdrawn="0", total="0"):
    return {"frozen": frozen, "available": available, "held": held, "withdrawn": withdrawn, "total_earned": total}


def test_a_jpy_tenant_pays_whole_yen_from_intake_to_payout(make_tenant, partner_for, portal_for, client):
    """JPY has no minor unit below 1 yen: every amount is whole yen, refused otherwise."""
    from tests.staff.test_staff_api import staff_for

    t = make_tenant(slug="jp", currency="JPY", withdraw_fee_rate=D("0.0150"), withdraw_min_amount=D("100"))
    partner = partner_for(t)
    with tenant_context(t):
        c0, c1, c2 = chain(t, 3)
    with time_machine.travel(T0, tick=False) as clock:
        # 1 x 1234 at 10 / 5 / 2 %, rounding down: 123.4 -> 123, 61.7 -> 61, 24.68 -> 24 (not 123.40 ...)
        r = post(partner, "J1", [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "1234"}], currency="JPY")
        assert r.status_code == 201, r.json()
        assert (r.json()["commission_base"], r.json()["lines"][0]["unit_price"], r.json()["discount"]) == ("1234", "1234", "0")
        assert records(partner, "J1") == [(1, "123", "0", "123"), (2, "61", "0", "61"), (3, "24", "0", "24")]

        # a USD order at 151.37 JPY per USD: 19.99 x 151.37 = 3025.8863 JPY; the base shown is
        # rounded half-up (3026); each record is the unrounded converted value rounded down once
        r = post(partner, "J2", [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "19.99"}],
                 currency="USD", exchange_rate="151.37")
        assert r.status_code == 201, r.json()
        assert (r.json()["commission_base"], r.json()["lines"][0]["unit_price"]) == ("3026", "19.99")
        assert records(partner, "J2") == [(1, "302", "0", "302"), (2, "151", "0", "151"), (3, "60", "0", "60")]

        # amounts finer than a yen: 400, nothing written
        before = Order.unscoped.filter(tenant=t).count()
        r = post(partner, "J9", [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "1234.50"}], currency="JPY")
        assert r.status_code == 400 and errors(r) == [("lines.0.unit_price", "max_decimal_places")], r.json()
        assert "JPY amounts have no decimal places" in r.json()["errors"][0]["detail"]
        r = post(partner, "J9", [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "1234"}], currency="JPY",
                 shipping="1.5")
        assert r.status_code == 400 and errors(r) == [("shipping", "max_decimal_places")], r.json()
        assert Order.unscoped.filter(tenant=t).count() == before

        # 3 x 333 refunded one unit at a time: each refund is 333 yen of goods; every level
        # reverses to exactly 0 (L1 99.9 -> 99: 33 + 33 + 33; L2 49.95 -> 49: 16 + 17 + 16; L3 19.98 -> 19: 6 + 7 + 6)
        assert post(partner, "J3", [{"line_id": "1", "sku": "S", "quantity": 3, "unit_price": "333"}],
                    currency="JPY").status_code == 201
        assert records(partner, "J3") == [(1, "99", "0", "99"), (2, "49", "0", "49"), (3, "19", "0", "19")]
        reversed_by_step = []
        for i in range(1, 4):
            r = partner.post("/api/v1/orders/J3/refunds/", {"external_id": f"RJ3-{i}", "lines": [{"line_id": "1", "quantity": 1}]},
                             format="json")
            assert r.status_code == 201 and (r.json()["kind"], r.json()["amount"]) == ("lines", "333"), r.json()
            reversed_by_step.append([rec[2] for rec in records(partner, "J3")])
        assert reversed_by_step == [["33", "16", "6"], ["66", "33", "13"], ["99", "49", "19"]]
        order = partner.get("/api/v1/orders/J3/").json()
        assert (order["status"], order["refunded_amount"], order["net_base"]) == ("refunded", "999", "0")

        # by amount: 500 of 1000 keeps half of every level (100 -> 50, 50 -> 25, 20 -> 10)
        assert post(partner, "J4", [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "1000"}],
                    currency="JPY").status_code == 201
        r = partner.post("/api/v1/orders/J4/refunds/", {"external_id": "RJ4-x", "amount": "500.5"}, format="json")
        assert r.status_code == 400 and errors(r) == [("amount", "max_decimal_places")], r.json()
        r = partner.post("/api/v1/orders/J4/refunds/", {"external_id": "RJ4-1", "amount": "500"}, format="json")
        assert r.status_code == 201 and r.json()["amount"] == "500", r.json()
        assert records(partner, "J4") == [(1, "100", "50", "50"), (2, "50", "25", "25"), (3, "20", "10", "10")]
        r = partner.post("/api/v1/orders/J4/refunds/", {"external_id": "RJ4-2", "amount": "501"}, format="json")
        assert r.status_code == 400 and r.json()["errors"][0]["detail"] == "Only 500 JPY of goods left to refund."

        # settlement: J1 and J2 complete a day later and settle 7 days after; J4 (never completed) stays frozen
        for eid in ("J1", "J2"):
            partner.post(f"/api/v1/orders/{eid}/complete/", {"completed_at": (T0 + timedelta(days=1)).isoformat()},
                         format="json")
        clock.move_to(T0 + timedelta(days=8, seconds=1))
        with tenant_context(t):
            assert settle_due(tenant=t) == 6
        me = portal_for(c2)
        assert money(me) == M(frozen="50", available="425", total="475")        # 123 + 302; J4 50; J3 0
        assert me.get("/api/v1/me/earnings/").json()["by_level"] == {"1": "475", "2": "0", "3": "0"}
        assert money(portal_for(c0)) == M(frozen="10", available="84", total="94")  # 24 + 60; J4 10

        # withdrawal: whole yen only; fee 1.5% of 200 = 3 (down), transfer 197
        r = me.post("/api/v1/me/withdrawals/", {"amount": "200.5", "method": "alipay", "account": "a@b.jp"}, format="json")
        assert r.status_code == 400 and errors(r) == [("amount", "max_decimal_places")], r.json()
        r = me.post("/api/v1/me/withdrawals/", {"amount": "99", "method": "alipay", "account": "a@b.jp"}, format="json")
        assert r.status_code == 400 and r.json()["errors"][0]["detail"] == "The minimum withdrawal is 100 JPY."
        r = me.post("/api/v1/me/withdrawals/", {"amount": "200", "method": "alipay", "account": "a@b.jp"}, format="json")
        assert r.status_code == 201, r.json()
        assert [r.json()[k] for k in ("amount", "fee", "transfer_amount", "currency")] == ["200", "3", "197", "JPY"]
        assert money(me) == M(frozen="50", available="225", held="200", total="475")
        staff = staff_for(t, "jp-fin")
        wid = r.json()["id"]
        assert staff.post(f"/api/v1/admin/withdrawals/{wid}/approve/").status_code == 200
        row = staff.get("/api/v1/admin/withdrawals/export.csv").content.decode().splitlines()[1].split(",")
        assert row[6:10] == ["JPY", "200", "3", "197"]
        assert staff.post(f"/api/v1/admin/withdrawals/{wid}/pay/", {"payout_reference": "P1"}, format="json").status_code == 200
        assert money(me) == M(frozen="50", available="225", withdrawn="197", total="475")
        ledger = me.get("/api/v1/me/ledger/").json()["results"]
        assert [(e["kind"], e["amount"], e["deltas"]) for e in ledger[:2]] == [
            ("fee", "3", {"held": "-3", "fees": "3"}), ("withdrawal_paid", "197", {"held": "-197", "withdrawn": "197"})]
        assert me.get("/api/v1/admin/tenant/").status_code in (401, 403)
        assert staff.get("/api/v1/admin/tenant/").json()["withdraw_min_amount"] == "100"

    # events carry the currency's places too
    settled = OutboxEvent.unscoped.filter(tenant=t, type="commission.settled").order_by("id").first()
    assert settled.payload["amount"] == "123" and settled.payload["currency"] == "JPY"
    created = OutboxEvent.unscoped.filter(tenant=t, type="order.commissions_created").order_by("id").first()
    assert [c["amount"] for c in created.payload["commissions"]] == ["123", "61", "24"]

    # the console shows yen without decimals (list and read-only form of an order)
    from django.contrib.auth.models import User

    user = User.objects.get(username="jp-fin")
    client.force_login(user)
    page = client.get("/admin/ledger/withdrawal/").content.decode()
    assert ">197<" in page and "197.0000" not in page and "197.00" not in page
    page = client.get("/admin/commissions/commissionrecord/").content.decode()
    assert ">123<" in page and "123.0000" not in page
    with tenant_context(t):
        j2 = Order.objects.get(external_id="J2")
    page = client.get(f"/admin/orders/order/{j2.pk}/change/").content.decode()
    # (amounts in the language's number format: 3,026; README "Languages")
    assert "3,026" in page and "3026.0000" not in page and "19.99" in page and "19.9900" not in page


def test_a_kwd_tenant_keeps_three_places(make_tenant, partner_for, portal_for):
    """KWD has 3 places (fils): amounts with 4 are refused; rounding half_up to 0.001."""
    t = make_tenant(slug="kw", currency="KWD", rounding="half_up", withdraw_fee_rate=D("0.0100"), withdraw_min_amount=D("1.000"),
                    settle_after_days=0, auto_complete_days=0)
    partner = partner_for(t)
    with tenant_context(t):
        c0, c1, c2 = chain(t, 3)
    # 1 x 12.345 at 10 / 5 / 2 %: 1.2345 -> 1.235, 0.61725 -> 0.617, 0.2469 -> 0.247 (half_up)
    r = post(partner, "K1", [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "12.345"}], currency="KWD")
    assert r.status_code == 201 and r.json()["commission_base"] == "12.345", r.json()
    assert records(partner, "K1") == [(1, "1.235", "0.000", "1.235"), (2, "0.617", "0.000", "0.617"),
                                      (3, "0.247", "0.000", "0.247")]
    r = post(partner, "K9", [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "12.3456"}], currency="KWD")
    assert r.status_code == 400 and errors(r) == [("lines.0.unit_price", "max_decimal_places")], r.json()
    assert "KWD amounts have at most 3 decimal places" in r.json()["errors"][0]["detail"]

    # by amount: 2.345 of 12.345 keeps 10/12.345 of each line: 1.000, 0.500, 0.200
    r = partner.post("/api/v1/orders/K1/refunds/", {"external_id": "RK1-x", "amount": "2.3455"}, format="json")
    assert r.status_code == 400 and errors(r) == [("amount", "max_decimal_places")]
    r = partner.post("/api/v1/orders/K1/refunds/", {"external_id": "RK1", "amount": "2.345"}, format="json")
    assert r.status_code == 201 and r.json()["amount"] == "2.345"
    assert records(partner, "K1") == [(1, "1.235", "0.235", "1.000"), (2, "0.617", "0.117", "0.500"),
                                      (3, "0.247", "0.047", "0.200")]

    # by lines: 3 x 1.001 with a 0.002 coupon (goods 3.001); one unit refunds 1.000 of goods
    # (3.001 x 1/3 = 1.000333 -> 1.000), two 2.001, three exactly 3.001
    assert post(partner, "K2", [{"line_id": "1", "sku": "S", "quantity": 3, "unit_price": "1.001"}], currency="KWD",
                discount="0.002").status_code == 201
    amounts = []
    for i in range(1, 4):
        r = partner.post("/api/v1/orders/K2/refunds/", {"external_id": f"RK2-{i}", "lines": [{"line_id": "1", "quantity": 1}]},
                         format="json")
        assert r.status_code == 201, r.json()
        amounts.append(r.json()["amount"])
    assert amounts == ["1.000", "1.001", "1.000"]
    assert partner.get("/api/v1/orders/K2/").json()["refunded_amount"] == "3.001"
    assert [rec[3] for rec in records(partner, "K2")] == ["0.000", "0.000", "0.000"]

    # settlement (due at once here) and a withdrawal: fee 1% of 1.250 = 0.0125 -> 0.013 (half_up)
    with tenant_context(t):
        settle_due(tenant=t, now=datetime.now(timezone.utc) + timedelta(seconds=1))
        assert CommissionRecord.objects.filter(status="available").count() == 3
    me = portal_for(c2)
    assert money(me) == M(frozen="0.000", available="1.000", held="0.000", withdrawn="0.000", total="1.000")
    r = me.post("/api/v1/me/withdrawals/", {"amount": "1.2345", "method": "bank", "account": "KW-1"}, format="json")
    assert r.status_code == 400 and errors(r) == [("amount", "max_decimal_places")]
    r = me.post("/api/v1/me/withdrawals/", {"amount": "1.250", "method": "bank", "account": "KW-1"}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["detail"] == "Only 1.000 KWD is available."
    r = me.post("/api/v1/me/withdrawals/", {"amount": "1", "method": "bank", "account": "KW-1"}, format="json")
    assert r.status_code == 201 and [r.json()[k] for k in ("amount", "fee", "transfer_amount")] == ["1.000", "0.010", "0.990"]
    assert money(me) == M(frozen="0.000", available="0.000", held="1.000", withdrawn="0.000", total="1.000")


def test_a_tenant_refuses_a_minimum_withdrawal_finer_than_its_currency(make_tenant, client):
    from tests.staff.test_staff_api import staff_for

    t = make_tenant(slug="jp2", currency="JPY", withdraw_min_amount=D("100"))
    staff = staff_for(t, "jp2-pm")
    r = staff.patch("/api/v1/admin/tenant/", {"withdraw_min_amount": "100.50"}, format="json")
    assert r.status_code == 400 and errors(r) == [("withdraw_min_amount", "max_decimal_places")], r.json()
    t.refresh_from_db()
    assert t.withdraw_min_amount == D("100")
    # the plan guardrail: a fixed amount per unit is whole yen
    draft = staff.post("/api/v1/admin/plans/", {"name": "fixed", "rules": [{"level": 1, "kind": "fixed", "value": "12.5"}]},
                       format="json")
    assert draft.status_code == 400 and draft.json()["errors"][0]["code"] == "too_many_places", draft.json()


def test_rule_values_and_record_lines_carry_the_currency_places(make_tenant, partner_for):
    """A fixed JPY amount per unit reads "10" (not "10.0000"); a record's lines keep the order's
    line net with the order currency's places ("1234" JPY, "19.99" USD)."""
    from commissions.services import plan_publish
    from tests.staff.test_staff_api import staff_for

    t = make_tenant(slug="jp3", currency="JPY")
    with tenant_context(t):
        plan_publish(tenant=t, default={1: ("fixed", D("10")), 2: ("percent", D("0.0500"))})
        chain(t, 3)
    partner = partner_for(t)
    assert post(partner, "J1", [{"line_id": "1", "sku": "S", "quantity": 2, "unit_price": "617"}], currency="JPY").status_code == 201
    assert post(partner, "U1", [{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "19.99"}], currency="USD",
                exchange_rate="151.37").status_code == 201
    lines = {r["level"]: r["lines"][0] for r in partner.get("/api/v1/orders/J1/commissions/").json()}
    assert (lines[1]["kind"], lines[1]["net"], lines[1]["value"], lines[2]["net"]) == ("fixed", "1234", "20", "1234")
    assert partner.get("/api/v1/orders/U1/commissions/").json()[1]["lines"][0]["net"] == "19.99"
    rules = staff_for(t, "jp3-pm").get("/api/v1/admin/plans/").json()["results"][0]["rules"]
    assert {(r["level"], r["kind"], r["value"]) for r in rules} == {(1, "fixed", "10"), (2, "percent", "0.0500")}
