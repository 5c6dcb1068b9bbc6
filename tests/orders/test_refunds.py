"""Refunds reverse every level at the order's stored rates (domain rules section 6)."""
from decimal import Decimal as D

import pytest

from commissions.models import CommissionRecord, CommissionReversal
from commissions.services import plan_publish
from orders.models import Order, Refund
from tests.factories import chain, order_json

pytestmark = pytest.mark.usefixtures("both_intake_paths")  # single and batch intake share these tests

PAID = {"status": "paid", "paid_at": "2026-01-15T10:05:00+08:00"}


def nets(client, external_id="O1"):
    return [(x["level"], x["amount"], x["reversed_amount"], x["net_amount"], x["status"])
            for x in client.get(f"/api/v1/orders/{external_id}/commissions/").json()]


def refund(client, body, external_id="O1"):
    return client.post(f"/api/v1/orders/{external_id}/refunds/", body, format="json")


@pytest.fixture
def five_percent(in_tenant):
    plan_publish(tenant=in_tenant, default={1: ("percent", D("0.05")), 2: ("percent", D("0.05")), 3: ("percent", D("0.05"))})
    chain(in_tenant, 3)
    return in_tenant


def test_domain_example_unit_by_unit_on_every_level(partner, five_percent):
    body = order_json("O1", referrer_external_id="C2", lines=[{"line_id": "1", "sku": "S", "quantity": 3, "unit_price": "6.67"}], **PAID)
    assert partner.post("/api/v1/orders/", body, format="json").status_code == 201
    assert nets(partner) == [(lvl, "1.00", "0.00", "1.00", "frozen") for lvl in (1, 2, 3)]
    expected_reversals = ["0.34", "0.33", "0.33"]
    for i, rev in enumerate(expected_reversals, start=1):
        r = refund(partner, {"external_id": f"R{i}", "lines": [{"line_id": "1", "quantity": 1}]})
        assert r.status_code == 201, r.json()
        got = CommissionReversal.objects.filter(refund__external_id=f"R{i}").order_by("record__level")
        assert [(x.record.level, x.amount) for x in got] == [(1, D(rev)), (2, D(rev)), (3, D(rev))]
    assert nets(partner) == [(lvl, "1.00", "1.00", "0.00", "reversed") for lvl in (1, 2, 3)]
    assert partner.get("/api/v1/orders/O1/").json()["status"] == "refunded"


def test_full_refund_by_amount_nets_every_level_to_zero(partner, in_tenant):
    chain(in_tenant, 3)
    body = order_json("O1", referrer_external_id="C2", discount="3.33", shipping="10.00",
                      lines=[{"line_id": "1", "sku": "S", "quantity": 7, "unit_price": "13.13"},
                             {"line_id": "2", "sku": "T", "quantity": 1, "unit_price": "0.99"}], **PAID)
    o = partner.post("/api/v1/orders/", body, format="json").json()
    assert o["goods_total"] == "89.57"     # 91.91 + 0.99 - 3.33
    assert nets(partner) == [(1, "8.95", "0.00", "8.95", "frozen"), (2, "4.47", "0.00", "4.47", "frozen"),
                             (3, "1.79", "0.00", "1.79", "frozen")]
    r = refund(partner, {"external_id": "R1", "amount": "30.00"})
    assert r.status_code == 201
    # keeps 59.57 / 89.57 of 89.57 x rate: 5.957 -> 5.95, 2.9785 -> 2.97, 1.1914 -> 1.19
    assert nets(partner) == [(1, "8.95", "3.00", "5.95", "frozen"), (2, "4.47", "1.50", "2.97", "frozen"),
                             (3, "1.79", "0.60", "1.19", "frozen")]
    assert partner.get("/api/v1/orders/O1/").json()["status"] == "partially_refunded"
    r = refund(partner, {"external_id": "R2", "amount": "59.57", "shipping": "10.00"})
    assert r.status_code == 201
    assert [n[3] for n in nets(partner)] == ["0.00", "0.00", "0.00"]
    o = partner.get("/api/v1/orders/O1/").json()
    assert (o["status"], o["net_base"], o["refunded_shipping"]) == ("refunded", "0.00", "10.00")


def test_a_refund_by_lines_shows_the_goods_money_it_refunds(partner, in_tenant, client):
    """A refund by lines answers (and the console shows) the goods money of its units: each unit's
    share of its line after the line discount and its share of the coupon (domain rules 6)."""
    chain(in_tenant, 1)
    body = order_json("O1", referrer_external_id="C0", discount="13.00", shipping="6.00",
                      lines=[{"line_id": "A", "sku": "A", "quantity": 2, "unit_price": "50.00"},
                             {"line_id": "B", "sku": "B", "quantity": 1, "unit_price": "30.00"}], **PAID)
    o = partner.post("/api/v1/orders/", body, format="json").json()
    # coupon 13.00 over 100.00 / 30.00: 10.00 / 3.00, so the lines' goods are 90.00 / 27.00 (total 117.00)
    assert (o["goods_total"], [l["discount_share"] for l in o["lines"]]) == ("117.00", ["10.00", "3.00"])
    steps = []
    for i, lines in enumerate([[{"line_id": "A", "quantity": 1}], [{"line_id": "B", "quantity": 1}],
                               [{"line_id": "A", "quantity": 1}]], start=1):
        r = refund(partner, {"external_id": f"R{i}", "lines": lines})
        assert r.status_code == 201, r.json()
        steps.append((r.json()["amount"], partner.get("/api/v1/orders/O1/").json()["refunded_amount"]))
    assert steps == [("45.00", "45.00"), ("27.00", "72.00"), ("45.00", "117.00")]
    assert [r["amount"] for r in partner.get("/api/v1/orders/O1/").json()["refunds"]] == ["45.00", "27.00", "45.00"]
    assert partner.get("/api/v1/orders/O1/refunds/").json()[0]["amount"] == "45.00"
    # the console's order page lists the refunds with their amounts
    from django.contrib.auth.models import Permission, User

    from tenants.models import StaffMembership

    user = User.objects.create_user("pm-refunds", password="pw-12345678", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="orders"))
    StaffMembership.objects.create(user=user, tenant=in_tenant)
    client.force_login(user)
    page = client.get(f"/admin/orders/order/{Order.objects.get(external_id='O1').pk}/change/").content.decode()
    assert page.count("<p>45.00</p>") == 2 and "<p>27.00</p>" in page


def test_shipping_only_refund_does_not_touch_commissions(partner, in_tenant):
    chain(in_tenant, 1)
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", shipping="8.00", **PAID), format="json")
    r = refund(partner, {"external_id": "R1", "amount": "0", "shipping": "8.00"})
    assert r.status_code == 201
    assert nets(partner) == [(1, "10.00", "0.00", "10.00", "frozen")]


def test_refund_is_idempotent_and_conflicts_are_409(partner, in_tenant):
    chain(in_tenant, 1)
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", **PAID), format="json")
    partner.post("/api/v1/orders/", order_json("O2", referrer_external_id="C0", **PAID), format="json")
    assert refund(partner, {"external_id": "R1", "amount": "40.00"}).status_code == 201
    for _ in range(2):
        assert refund(partner, {"external_id": "R1", "amount": "40.00"}).status_code == 200
    assert refund(partner, {"external_id": "R1", "amount": "41.00"}).status_code == 409
    assert refund(partner, {"external_id": "R1", "amount": "40.00"}, "O2").status_code == 409
    assert Refund.objects.count() == 1
    assert nets(partner) == [(1, "10.00", "4.00", "6.00", "frozen")]


@pytest.mark.parametrize("body,attr,code", [
    ({"external_id": "X", "amount": "100.01"}, "amount", "over_refund"),
    ({"external_id": "X", "amount": "-1"}, "amount", "min_value"),
    ({"external_id": "X", "amount": "1.001"}, "amount", "max_decimal_places"),
    ({"external_id": "X", "lines": [{"line_id": "1", "quantity": 2}]}, "lines", "over_refund"),
    ({"external_id": "X", "lines": [{"line_id": "9", "quantity": 1}]}, "lines", "unknown_line"),
    ({"external_id": "X", "lines": [{"line_id": "1", "quantity": 0}]}, "lines.0.quantity", "min_value"),
    ({"external_id": "X"}, None, "amount_or_lines"),
    ({"external_id": "X", "amount": "1.00", "lines": [{"line_id": "1", "quantity": 1}]}, None, "amount_or_lines"),
    ({"external_id": "X", "amount": "0"}, None, "empty_refund"),
    ({"external_id": "X", "amount": "0", "shipping": "0.01"}, "shipping", "over_refund"),
    ({"external_id": "X", "amount": "1.00", "fee": "1"}, "fee", "unknown_field"),
])
def test_bad_refunds_are_400_and_write_nothing(partner, in_tenant, body, attr, code):
    chain(in_tenant, 1)
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", **PAID), format="json")
    r = refund(partner, body)
    assert r.status_code == 400, r.json()
    assert {"code": code, "attr": attr} in [{"code": e["code"], "attr": e["attr"]} for e in r.json()["errors"]]
    assert Refund.objects.count() == 0 and CommissionReversal.objects.count() == 0
    assert Order.objects.get().status == "paid"


def test_refund_modes_cannot_be_mixed(partner, in_tenant):
    chain(in_tenant, 1)
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", **PAID), format="json")
    assert refund(partner, {"external_id": "R1", "amount": "10.00"}).status_code == 201
    r = refund(partner, {"external_id": "R2", "lines": [{"line_id": "1", "quantity": 1}]})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "refund_mode_mismatch"


def test_unpaid_order_cannot_be_refunded(partner, in_tenant):
    partner.post("/api/v1/orders/", order_json("O1"), format="json")
    r = refund(partner, {"external_id": "R1", "amount": "1.00"})
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "invalid_state"


def test_refund_before_the_task_ran_accrues_first(in_tenant):
    """A refund that overtakes the commission task still reverses exactly what is owed."""
    from orders.services import RefundInput, order_record, refund_create
    from tests.factories import order_input

    chain(in_tenant, 2)
    order, _ = order_record(tenant=in_tenant, data=order_input("O1", referrer_external_id="C1", status="paid"))
    assert order.commission_state == "due" and CommissionRecord.objects.count() == 0  # on_commit not run
    refund_create(order=order, data=RefundInput(external_id="R1", amount=D("25.00")))
    got = [(r.level, r.amount, r.reversed_amount) for r in CommissionRecord.objects.order_by("level")]
    assert got == [(1, D("10.00"), D("2.50")), (2, D("5.00"), D("1.25"))]


def test_refunds_by_lines_made_before_their_amount_was_kept_are_filled_in(partner, in_tenant):
    """orders migration 0004 gives old refunds by lines (amount 0.00) the amount a new one gets."""
    import importlib

    from django.apps import apps

    chain(in_tenant, 1)
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", discount="13.00",
                 lines=[{"line_id": "A", "sku": "A", "quantity": 2, "unit_price": "50.00"},
                        {"line_id": "B", "sku": "B", "quantity": 1, "unit_price": "30.00"}], **PAID), format="json")
    for i, lines in enumerate([[{"line_id": "A", "quantity": 1}], [{"line_id": "A", "quantity": 1}, {"line_id": "B", "quantity": 1}]]):
        assert refund(partner, {"external_id": f"R{i}", "lines": lines}).status_code == 201
    Refund.objects.update(amount=D("0"))
    Order.objects.update(refunded_amount=D("0"))
    importlib.import_module("orders.migrations.0004_refund_by_lines_amounts").backfill(apps, None)
    assert [r.amount for r in Refund.objects.order_by("pk")] == [D("45.00"), D("72.00")]
    assert Order.objects.get(external_id="O1").refunded_amount == D("117.00")
