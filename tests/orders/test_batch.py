"""POST /orders/batch/ answers every item exactly as the single endpoint would (shared cases)."""
from decimal import Decimal as D

import pytest
from rest_framework.exceptions import APIException

from commissions.models import CommissionRecord
from distributors.models import Distributor
from fenxiao.amounts import amount_str
from orders.models import Order, OrderLine
from orders.services import order_record, orders_record_batch
from tenants.context import tenant_context
from tests.factories import chain, committed, copy_inserts, line, order_input, order_json
from tests.orders.test_intake import LINE, PAID

VOLATILE = {"created_at", "commission_state"}


def cases():
    good = order_json("G1", referrer_external_id="C1", **PAID)
    return [
        good,
        good,                                                          # replay -> 200
        dict(good, lines=[dict(LINE, quantity=3)]),                    # same id, other content -> 409
        order_json("G2", **PAID),
        order_json("B1", currency="cny"),                              # 400 invalid_currency
        order_json("B2", referrer_external_id="ghost"),                # 400 unknown distributor
        order_json("B3", lines=[dict(LINE, quantity=0)]),              # 400 nested attr
        order_json("B4", dicount="1.00"),                              # 400 unknown field
        {"external_id": "B5"},                                         # 400 required fields
        "not an object",                                               # 400 non_field_errors
        None,                                                          # 400 "No data provided"
    ]


def strip(body):
    return {k: v for k, v in body.items() if k not in VOLATILE} if isinstance(body, dict) and "external_id" in body else body


def test_batch_items_answer_like_the_single_endpoint(make_tenant, partner_for):
    single_t, batch_t = make_tenant(slug="single"), make_tenant(slug="batch")
    for t in (single_t, batch_t):
        with tenant_context(t):
            chain(t, 2)
    single, batch = partner_for(single_t), partner_for(batch_t)
    expected = []
    for body in cases():
        if body is None:  # a JSON null body (the test client would send no body for None)
            r = single.post("/api/v1/orders/", "null", content_type="application/json")
        else:
            r = single.post("/api/v1/orders/", body, format="json")
        expected.append((r.status_code, strip(r.json())))
    r = batch.post("/api/v1/orders/batch/", {"orders": cases()}, format="json")
    assert r.status_code == 207
    got = [(item["status"], strip(item["body"])) for item in r.json()["results"]]
    assert [s for s, _ in got] == [201, 200, 409, 201, 400, 400, 400, 400, 400, 400, 400]
    assert got == expected
    for t in (single_t, batch_t):
        with tenant_context(t):
            assert sorted(Order.objects.values_list("external_id", flat=True)) == ["G1", "G2"]
            assert sorted((r.order.external_id, r.level, amount_str(r, "amount")) for r in CommissionRecord.objects.select_related("order")) == [
                ("G1", 1, "10.00"), ("G1", 2, "5.00")]


@pytest.mark.parametrize("body", [{"orders": []}, {"orders": "x"}, {"order": []}, [], {"orders": [{}] * 1001}])
def test_bad_batches_are_400_and_write_nothing(partner, in_tenant, body):
    r = partner.post("/api/v1/orders/batch/", body, format="json")
    assert r.status_code == 400 and r.json()["type"] == "validation_error"
    assert Order.objects.count() == 0


def _world(t):
    """A tree with a frozen upline, a gold grade with an override, a bound customer."""
    from commissions.services import grade_override_set
    from distributors.models import Grade
    from distributors.services import customer_bind, distributor_update

    gold = Grade.objects.create(tenant=t, code="gold", name="Gold", rank=1)
    grade_override_set(grade=gold, level=1, kind="percent", value=D("0.2000"))
    c = chain(t, 34)                                   # a chain 34 deep
    distributor_update(distributor=c[31], status="frozen")
    distributor_update(distributor=c[33], grade=gold)
    side = chain(t, 2, prefix="S")
    customer_bind(tenant=t, external_id="CUST", referrer=side[1])


def _varied():
    lines = [line(str(k), sku=f"SKU-{k}", quantity=1 + k, unit_price=f"{10 + 7 * k}.35") for k in range(4)]
    items = [
        order_input("V1", referrer_external_id="C33", status="paid", lines=lines, discount="3.10", shipping="8.00"),
        order_input("V2", referrer_external_id="C32", status="paid"),
        order_input("V3", buyer_external_id="CUST", status="paid", lines=lines[:2]),
        order_input("V4", buyer_external_id="C33", status="paid"),                  # self-purchase off: upline pays
        order_input("V5", buyer_external_id="S1", referrer_external_id="C2", status="paid"),
        order_input("V6", referrer_external_id="S0"),                               # pending
        order_input("V7", status="paid"),                                           # nobody to pay
        order_input("V1", referrer_external_id="C33", status="paid", lines=lines, discount="3.10", shipping="8.00"),
        order_input("V2", referrer_external_id="C31", status="paid"),               # 409 in the batch
        order_input("V8", referrer_external_id="ghost", status="paid"),             # 400
    ]
    return items


def _outcome(results):
    out = []
    for r in results:
        if isinstance(r, Exception):
            out.append((type(r).__name__, r.status_code))
        else:
            o, created = r
            chain_ = [(e["level"], Distributor.objects.get(pk=e["distributor_id"]).external_id, e["override"])
                      for e in o.attribution["chain"]]
            out.append((o.external_id, created, amount_str(o, "commission_base"), chain_))
    return out


@pytest.mark.parametrize("policy", ["skip", "compress"])
def test_a_varied_batch_records_and_pays_exactly_as_one_by_one(make_tenant, policy):
    """Many different orders in one batch (bulk loads shared between items) against the same
    orders recorded one by one: same answers, snapshots, bases and records to the cent."""
    single_t = make_tenant(slug="one", inactive_upline_policy=policy)
    batch_t = make_tenant(slug="many", inactive_upline_policy=policy)
    outcomes, records = [], []
    for t, batch in ((single_t, False), (batch_t, True)):
        with tenant_context(t):
            _world(t)
            with committed():
                if batch:
                    results = orders_record_batch(tenant=t, items=_varied())
                else:
                    results = []
                    for item in _varied():
                        try:
                            results.append(order_record(tenant=t, data=item))
                        except APIException as exc:
                            results.append(exc)
            outcomes.append(_outcome(results))
            records.append(sorted((r.order.external_id, r.level, r.beneficiary.external_id, amount_str(r, "amount"))
                                  for r in CommissionRecord.objects.select_related("order", "beneficiary")))
    assert outcomes[0] == outcomes[1]
    assert records[0] == records[1]
    assert [o[:2] if isinstance(o[1], bool) else o for o in outcomes[1]] == [
        ("V1", True), ("V2", True), ("V3", True), ("V4", True), ("V5", True), ("V6", True), ("V7", True),
        ("V1", False), ("Conflict", 409), ("ValidationError", 400)]
    # V1: lines 10.35 + 34.70 + 73.05 + 125.40 = 243.50, less the 3.10 discount = 240.40 (shipping
    # excluded); C33 is gold (20% at level 1), C32 5% at level 2
    assert {("V1", 1, "C33", "48.08"), ("V1", 2, "C32", "12.02")} <= set(records[1])
    # level 3 of V2 (referrer C32): C31 is frozen: skipped (nobody), or compressed past (C29 moves up)
    v2 = [r for r in records[1] if r[0] == "V2"]
    assert v2 == ([("V2", 1, "C32", "10.00"), ("V2", 3, "C30", "2.00")] if policy == "skip" else
                  [("V2", 1, "C32", "10.00"), ("V2", 2, "C30", "5.00"), ("V2", 3, "C29", "2.00")])


@pytest.mark.parametrize("n", [3, 30])
def test_batch_recording_query_count_does_not_grow_with_the_batch(in_tenant, django_assert_num_queries, n):
    chain(in_tenant, 40)
    items = [order_input(f"Q{i}", referrer_external_id=f"C{39 - i % 9}", lines=[line(str(k)) for k in range(1 + i % 3)])
             for i in range(n)]
    # existing orders, referrers, plan, chain distributors, savepoint, orders, lines, release
    # (+1 for grade overrides when a beneficiary has a grade; +2 on PostgreSQL: orders and lines
    # are each ids + COPY)
    with django_assert_num_queries(8 + copy_inserts(2)):
        results = orders_record_batch(tenant=in_tenant, items=items)
    assert all(created for _, created in results)
    assert OrderLine.objects.count() == sum(1 + i % 3 for i in range(n))


def test_an_order_recorded_meanwhile_makes_the_batch_fall_back_to_one_by_one(in_tenant, monkeypatch):
    import commissions.services as engine

    chain(in_tenant, 3)
    real = engine.order_attributions

    raced = []

    def racing(**kw):  # another request records R2 (other content) after the batch looked
        if not raced:
            raced.append(True)
            order_record(tenant=in_tenant, data=order_input("R2", referrer_external_id="C1"))
        return real(**kw)

    monkeypatch.setattr(engine, "order_attributions", racing)
    items = [order_input("R1", referrer_external_id="C2"), order_input("R2", referrer_external_id="C2"),
             order_input("R1", referrer_external_id="C2")]
    r1, r2, r1_again = orders_record_batch(tenant=in_tenant, items=items)
    assert r1[1] is True and r1_again[0].pk == r1[0].pk and r1_again[1] is False
    assert isinstance(r2, APIException) and r2.status_code == 409
    assert sorted(Order.objects.values_list("external_id", "referrer__external_id")) == [("R1", "C2"), ("R2", "C1")]


def test_fast_order_bodies_equal_the_order_serializer(partner, in_tenant):
    """The intake endpoints answer with order_bodies(); GET /orders/{id}/ with OrderSerializer:
    the same JSON for pending, paid, foreign-currency, discounted and refunded orders."""
    import json

    from orders.api.serializers import OrderSerializer, order_bodies
    from orders.api.views import get_order

    chain(in_tenant, 3)
    lines = [{"line_id": str(k), "sku": f"S{k}", "category": "c" if k else "", "quantity": k + 1, "unit_price": "19.99",
              "discount": "1.01" if k == 1 else "0.00", "commissionable": k != 2} for k in range(3)]
    posts = [
        order_json("P1"),
        order_json("P2", referrer_external_id="C2", status="paid", paid_at="2026-01-15T10:05:00+08:00", lines=lines,
                   discount="3.33", shipping="8.00", tax="1.20", non_cash_amount="2.00", buyer_external_id="B"),
        order_json("P3", currency="USD", exchange_rate="7.12345678", referrer_external_id="C1", status="paid",
                   paid_at="2026-01-15T10:05:00+08:00"),
        order_json("P4", referrer_external_id="C2", status="paid", paid_at="2026-01-15T10:05:00+08:00", lines=lines),
    ]
    for body in posts:  # a new order's answer (no refunds read) equals its detail, but for the
        r = partner.post("/api/v1/orders/", body, format="json")   # accrual that ran since (eager here)
        assert r.status_code == 201
        detail = json.loads(json.dumps(OrderSerializer(get_order(body["external_id"])).data))
        assert r.json()["commission_state"] == ("due" if body.get("status") == "paid" else "none")
        assert {**r.json(), "commission_state": detail["commission_state"]} == detail
    assert partner.post("/api/v1/orders/P2/refunds/", {"external_id": "R1", "lines": [{"line_id": "1", "quantity": 1}],
                                                       "shipping": "8.00"}, format="json").status_code == 201
    assert partner.post("/api/v1/orders/P4/refunds/", {"external_id": "R2", "amount": "10.00"}, format="json").status_code == 201
    partner.post("/api/v1/orders/P3/complete/", {"completed_at": "2026-01-20T10:00:00+08:00"}, format="json")
    ids = dict(Order.objects.values_list("external_id", "pk"))
    fast = order_bodies(list(ids.values()))
    for ext, pk in ids.items():
        assert json.loads(json.dumps(fast[pk])) == json.loads(json.dumps(OrderSerializer(get_order(ext)).data)), ext
    assert fast[ids["P2"]]["refunds"][0]["lines"] == [{"line_id": "1", "quantity": 1}]
    assert [r["status"] for r in partner.post("/api/v1/orders/batch/", {"orders": posts}, format="json").json()["results"]] == [200] * 4


def test_order_payload_is_asdict():
    """order_payload is dataclasses.asdict, less an empty channel (left out so an order without one
    keeps the hash it had before orders carried channels)."""
    from dataclasses import asdict, replace

    from orders.services import order_payload

    data = order_input("H", referrer_external_id="C1", lines=[line("1"), line("2", discount="1.00", commissionable=False)],
                       discount="2.00", exchange_rate="1")
    assert order_payload(data) == {k: v for k, v in asdict(data).items() if k != "channel"}
    with_channel = replace(data, channel="app")
    assert order_payload(with_channel) == asdict(with_channel)
