"""Order intake through the partner API (domain rules sections 3 and 4; API contract)."""
import json

import pytest

from commissions.models import CommissionRecord
from orders.models import Order, OrderLine
from tests.factories import INTAKE, chain, copy_inserts, distributor, order_json

pytestmark = pytest.mark.usefixtures("both_intake_paths")  # single and batch intake share these tests

PAID = {"status": "paid", "paid_at": "2026-01-15T10:05:00+08:00"}


def amounts(client, external_id):
    r = client.get(f"/api/v1/orders/{external_id}/commissions/")
    assert r.status_code == 200, r.content
    return [(x["level"], x["beneficiary_external_id"], x["amount"]) for x in r.json()]


def test_create_replay_conflict(partner, in_tenant):
    d = distributor(in_tenant, external_id="R1")
    body = order_json("O1", referrer_external_id="R1", **PAID)
    r1 = partner.post("/api/v1/orders/", body, format="json")
    assert r1.status_code == 201
    assert r1.json()["commission_base"] == "100.00"
    r2 = partner.post("/api/v1/orders/", body, format="json")
    assert r2.status_code == 200
    assert {**r2.json(), "commission_state": None} == {**r1.json(), "commission_state": None}
    assert Order.objects.count() == 1 and CommissionRecord.objects.count() == 1
    other = dict(body, lines=[{"line_id": "1", "sku": "SKU-1", "quantity": 2, "unit_price": "100.00"}])
    r3 = partner.post("/api/v1/orders/", other, format="json")
    assert r3.status_code == 409
    assert r3.json()["type"] == "client_error" and r3.json()["errors"][0]["code"] == "conflict"
    assert Order.objects.get().lines.get().quantity == 1
    assert amounts(partner, "O1") == [(1, d.external_id, "10.00")]


def test_same_content_in_other_notation_is_a_replay(partner, in_tenant):
    body = order_json("O1", **PAID)
    assert partner.post("/api/v1/orders/", body, format="json").status_code == 201
    same = dict(body, placed_at="2026-01-15T02:00:00Z", paid_at="2026-01-15T02:05:00+00:00",
                lines=[{"line_id": "1", "sku": "SKU-1", "quantity": 1, "unit_price": "100"}])
    assert partner.post("/api/v1/orders/", same, format="json").status_code == 200


def test_base_excludes_shipping_tax_and_allocates_discounts_cent_exact(partner, in_tenant):
    chain(in_tenant, 3)
    body = order_json(
        "O1", referrer_external_id="C2", discount="10.00", non_cash_amount="5.00", shipping="12.00", tax="8.00",
        lines=[
            {"line_id": "a", "sku": "A", "quantity": 1, "unit_price": "33.33"},
            {"line_id": "b", "sku": "B", "quantity": 2, "unit_price": "33.34", "discount": "0.01"},
            {"line_id": "c", "sku": "C", "quantity": 1, "unit_price": "50.00", "commissionable": False},
        ], **PAID)
    r = partner.post("/api/v1/orders/", body, format="json")
    assert r.status_code == 201, r.json()
    o = r.json()
    lines = {l["line_id"]: l for l in o["lines"]}
    # amounts a 33.33, b 66.67 (sum 100.00); discount 10.00 -> 3.33 / 6.67 (largest remainder);
    # non-cash 5.00 over 30.00 / 60.00 -> 1.67 / 3.33 ... exact: 5 x 30/90 = 1.666.., 5 x 60/90 = 3.333..
    assert (lines["a"]["discount_share"], lines["b"]["discount_share"]) == ("3.33", "6.67")
    assert (lines["a"]["non_cash_share"], lines["b"]["non_cash_share"]) == ("1.67", "3.33")
    assert (lines["a"]["net"], lines["b"]["net"], lines["c"]["net"]) == ("28.33", "56.67", "0.00")
    assert o["commission_base"] == "85.00"   # shipping 12.00 and tax 8.00 never in it
    assert o["goods_total"] == "140.00"      # 33.33 + 66.67 + 50.00 - 10.00
    assert amounts(partner, "O1") == [(1, "C2", "8.50"), (2, "C1", "4.25"), (3, "C0", "1.70")]


def test_foreign_currency_uses_the_stored_rate(partner, in_tenant):
    distributor(in_tenant, external_id="R")
    body = order_json("FX1", referrer_external_id="R", currency="USD", exchange_rate="7.1234",
                      lines=[{"line_id": "1", "sku": "S", "quantity": 3, "unit_price": "9.99"}], **PAID)
    r = partner.post("/api/v1/orders/", body, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["exchange_rate"] == "7.12340000"
    assert r.json()["commission_base"] == "213.49"    # 29.97 x 7.1234 = 213.488298 -> half-up
    assert amounts(partner, "FX1") == [(1, "R", "21.34")]  # 213.488298 x 0.10 = 21.3488 -> down


def test_pending_then_pay_then_repeated_notifications(partner, in_tenant):
    chain(in_tenant, 2)
    assert partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C1"), format="json").status_code == 201
    assert CommissionRecord.objects.count() == 0
    for _ in range(3):
        r = partner.post("/api/v1/orders/O1/pay/", {"paid_at": "2026-01-15T11:00:00+08:00"}, format="json")
        assert r.status_code == 200 and r.json()["status"] == "paid"
    assert amounts(partner, "O1") == [(1, "C1", "10.00"), (2, "C0", "5.00")]
    assert partner.post("/api/v1/orders/O1/cancel/", {}, format="json").status_code == 409
    r = partner.post("/api/v1/orders/O1/complete/", {"completed_at": "2026-01-16T11:00:00+08:00"}, format="json")
    assert r.json()["status"] == "completed"
    rec = CommissionRecord.objects.get(level=1)
    assert rec.settles_at.isoformat() == "2026-01-23T03:00:00+00:00"  # completed + 7 days


def test_cancelled_order_never_pays(partner, in_tenant):
    distributor(in_tenant, external_id="R")
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="R"), format="json")
    assert partner.post("/api/v1/orders/O1/cancel/", {}, format="json").json()["status"] == "cancelled"
    r = partner.post("/api/v1/orders/O1/pay/", {"paid_at": "2026-01-15T11:00:00+08:00"}, format="json")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "invalid_state"
    assert CommissionRecord.objects.count() == 0


def test_zero_base_creates_no_records(partner, in_tenant):
    distributor(in_tenant, external_id="R")
    body = order_json("O1", referrer_external_id="R", discount="100.00", **PAID)
    assert partner.post("/api/v1/orders/", body, format="json").json()["commission_base"] == "0.00"
    assert CommissionRecord.objects.count() == 0


LINE = {"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "10.00"}


@pytest.mark.parametrize("change,attr,code", [
    ({"external_id": None}, "external_id", "required"),
    ({"lines": []}, "lines.non_field_errors", "empty"),
    ({"lines": "x"}, "lines.non_field_errors", "not_a_list"),
    ({"placed_at": "2026-01-15T10:00:00"}, "placed_at", "naive"),
    ({"placed_at": "yesterday"}, "placed_at", "invalid"),
    ({"currency": "ABC"}, "currency", "invalid_currency"),
    ({"currency": "cny"}, "currency", "invalid_currency"),
    ({"currency": "usd", "exchange_rate": "7"}, "currency", "invalid_currency"),
    ({"lines": [dict(LINE, quantity=1_000_000, unit_price="99999999999999.99")]}, "lines", "invalid_amounts"),
    ({"lines": [dict(LINE, quantity=2, unit_price="500000000000.01")]}, "lines", "invalid_amounts"),
    ({"currency": "USD", "exchange_rate": "9999999", "lines": [dict(LINE, unit_price="200000.00")]}, "lines", "invalid_amounts"),
    ({"currency": "USD"}, "exchange_rate", "required"),
    ({"currency": "USD", "exchange_rate": "-1"}, "exchange_rate", "min_value"),
    ({"exchange_rate": "2"}, "exchange_rate", "invalid_exchange_rate"),
    ({"discount": "-1.00"}, "discount", "min_value"),
    ({"shipping": "NaN"}, "shipping", "invalid"),
    ({"tax": "1.001"}, "tax", "max_decimal_places"),
    ({"non_cash_amount": "abc"}, "non_cash_amount", "invalid"),
    ({"dicount": "5.00"}, "dicount", "unknown_field"),
    ({"status": "completed"}, "status", "invalid_choice"),
    ({"status": "paid"}, "paid_at", "required"),
    ({"referrer_external_id": "nobody"}, "referrer_external_id", "unknown_distributor"),
    ({"discount": "10.01"}, "lines", "invalid_amounts"),
    ({"lines": [dict(LINE, quantity=0)]}, "lines.0.quantity", "min_value"),
    ({"lines": [dict(LINE, quantity="2.5")]}, "lines.0.quantity", "invalid"),
    ({"lines": [dict(LINE, quantity="1_0")]}, "lines.0.quantity", "invalid"),   # int() would say 10
    ({"lines": [dict(LINE, quantity="\uff11")]}, "lines.0.quantity", "invalid"),  # full-width 1
    ({"lines": [dict(LINE, quantity=True)]}, "lines.0.quantity", "invalid"),
    ({"lines": [dict(LINE, unit_price="-0.01")]}, "lines.0.unit_price", "min_value"),
    ({"lines": [dict(LINE, unit_price="1e400")]}, "lines.0.unit_price", "invalid"),
    ({"lines": [dict(LINE, unit_price="5_4")]}, "lines.0.unit_price", "invalid"),
    ({"lines": [dict(LINE, unit_price=" 54.90")]}, "lines.0.unit_price", "invalid"),
    ({"lines": [dict(LINE, unit_price="\uff10.5")]}, "lines.0.unit_price", "invalid"),
    ({"lines": [dict(LINE, unit_price=True)]}, "lines.0.unit_price", "invalid"),
    ({"lines": [dict(LINE, unit_price="1234567890123456.00")]}, "lines.0.unit_price", "max_whole_digits"),
    ({"placed_at": "2026-02-30T10:00:00+08:00"}, "placed_at", "invalid"),
    ({"placed_at": "\uff12\uff10\uff12\uff16-01-15T10:00:00+08:00"}, "placed_at", "invalid"),  # full-width digits
    ({"placed_at": "20260115T100000+0800"}, "placed_at", "invalid"),   # ISO basic format, not RFC 3339
    ({"external_id": "P3\u200b"}, "external_id", "invalid_external_id"),  # zero-width space
    ({"external_id": "P3\u202e"}, "external_id", "invalid_external_id"),  # right-to-left override
    ({"placed_at": "2026-01-15T10:00:00+25:00"}, "placed_at", "invalid"),
    ({"lines": [dict(LINE, discount="10.01")]}, "lines", "invalid_amounts"),
    ({"lines": [dict(LINE, colour="red")]}, "lines.0.colour", "unknown_field"),
    ({"lines": [LINE, LINE]}, "lines", "duplicate_line"),
    ({"lines": [dict(LINE, line_id=str(i)) for i in range(501)]}, "lines.non_field_errors", "max_length"),
])
def test_bad_input_is_a_400_in_the_contract_shape_and_writes_nothing(partner, in_tenant, change, attr, code):
    body = order_json("BAD", lines=[LINE])
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    r = partner.post("/api/v1/orders/", body, format="json")
    assert r.status_code == 400, r.content
    err = r.json()
    assert err["type"] == "validation_error"
    assert {"code": code, "attr": attr} in [{"code": e["code"], "attr": e["attr"]} for e in err["errors"]], err
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0


def test_float_literals_are_read_as_exact_decimals(partner, in_tenant):
    raw = json.dumps(order_json("O1")).replace('"100.00"', "19.99")
    r = partner.post("/api/v1/orders/", raw, content_type="application/json")
    assert r.status_code == 201 and r.json()["lines"][0]["unit_price"] == "19.99"


@pytest.mark.parametrize("raw", ['{"external_id": ', "[1, 2]", '{"lines": NaN}', "not json"])
def test_malformed_json(partner, in_tenant, raw):
    r = partner.post("/api/v1/orders/", raw, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["type"] in ("client_error", "validation_error")
    assert Order.objects.count() == 0


def test_unknown_order_is_404_in_contract_shape(partner, in_tenant):
    r = partner.get("/api/v1/orders/NOPE/")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "not_found"


def test_oversized_body_is_413_in_contract_shape(partner, in_tenant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = order_json("BIG", lines=[{"line_id": str(i), "sku": "S" * 60, "quantity": 1, "unit_price": "1.00"} for i in range(200)])
    r = partner.post("/api/v1/orders/", body, format="json")
    assert r.status_code == 413
    assert r.json()["type"] == "client_error" and r.json()["errors"][0]["code"] == "payload_too_large"
    assert Order.objects.count() == 0


def test_commission_filters_validate(partner, in_tenant):
    r = partner.get("/api/v1/commissions/?level=9&created_after=yesterday")
    assert r.status_code == 400
    assert {e["attr"] for e in r.json()["errors"]} == {"level", "created_after"}


def test_commission_filters(partner, in_tenant):
    chain(in_tenant, 3)
    for i in range(2):
        partner.post("/api/v1/orders/", order_json(f"O{i}", referrer_external_id="C2", **PAID), format="json")
    assert len(partner.get("/api/v1/commissions/").json()["results"]) == 6
    r = partner.get("/api/v1/commissions/?beneficiary=C1&level=2&status=frozen").json()
    assert [(x["order_external_id"], x["amount"]) for x in r["results"]] == [("O1", "5.00"), ("O0", "5.00")]
    assert partner.get("/api/v1/commissions/?beneficiary=C1&level=1").json()["results"] == []
    assert partner.get("/api/v1/commissions/?created_before=2000-01-01T00:00:00Z").json()["results"] == []


def test_single_order_post_query_count_is_pinned(partner, in_tenant, django_assert_num_queries):
    chain(in_tenant, 30)
    partner.post("/api/v1/orders/", order_json("WARM", referrer_external_id="C29"), format="json")
    body = order_json("Q1", referrer_external_id="C29", status="paid", paid_at="2026-01-15T10:05:00+08:00",
                      lines=[{"line_id": str(k), "sku": "S", "quantity": 1, "unit_price": "10.00"} for k in range(5)])
    # key + tenant, existing order, referrer, plan, chain, savepoint, order, lines, release; the
    # single endpoint answers a new order from memory (orders.api.serializers.new_order_body), the
    # batch endpoint reads the answer's lines and order (a new order has no refunds to read); the
    # accrual runs later, in a task
    from commissions import tasks

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tasks, "accrual_enqueue", lambda **kw: None)
        # through the batch endpoint (INTAKE=batch) orders and lines are bulk inserts: ids + COPY
        # on PostgreSQL
        with django_assert_num_queries(9 if INTAKE["path"] == "single" else 11 + copy_inserts(2)):
            assert partner.post("/api/v1/orders/", body, format="json").status_code == 201


@pytest.mark.parametrize("rate,code", [("9999999999.99999999", "max_digits"), ("1e2", "invalid"),
                                       ("0", "min_value"), ("12345678.5", "max_whole_digits")])
def test_an_exchange_rate_every_database_keeps_exactly(partner, in_tenant, rate, code):
    """At most 15 significant digits (SQLite keeps no more): an 18-digit rate was stored, read back
    rounded and broke the order list of the tenant on the demo."""
    r = partner.post("/api/v1/orders/", order_json("FX", currency="JPY", exchange_rate=rate), format="json")
    assert r.status_code == 400 and [(e["attr"], e["code"]) for e in r.json()["errors"]] == [("exchange_rate", code)]
    assert not Order.objects.exists()
    ok = partner.post("/api/v1/orders/", order_json("FX", currency="JPY", exchange_rate="1234567.12345678"), format="json")
    assert ok.status_code == 201 and ok.json()["exchange_rate"] == "1234567.12345678"
