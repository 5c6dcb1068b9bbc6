"""POST /orders/batch/ answers every item exactly as the single endpoint would (shared cases)."""
import pytest

from commissions.models import CommissionRecord
from orders.models import Order
from tenants.context import tenant_context
from tests.factories import chain, order_json
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
        r = single.post("/api/v1/orders/", body, format="json")
        expected.append((r.status_code, strip(r.json())))
    r = batch.post("/api/v1/orders/batch/", {"orders": cases()}, format="json")
    assert r.status_code == 207
    got = [(item["status"], strip(item["body"])) for item in r.json()["results"]]
    assert [s for s, _ in got] == [201, 200, 409, 201, 400, 400, 400, 400, 400, 400]
    assert got == expected
    for t in (single_t, batch_t):
        with tenant_context(t):
            assert sorted(Order.objects.values_list("external_id", flat=True)) == ["G1", "G2"]
            assert sorted((r.order.external_id, r.level, str(r.amount)) for r in CommissionRecord.objects.select_related("order")) == [
                ("G1", 1, "10.00"), ("G1", 2, "5.00")]


@pytest.mark.parametrize("body", [{"orders": []}, {"orders": "x"}, {"order": []}, [], {"orders": [{}] * 1001}])
def test_bad_batches_are_400_and_write_nothing(partner, in_tenant, body):
    r = partner.post("/api/v1/orders/batch/", body, format="json")
    assert r.status_code == 400 and r.json()["type"] == "validation_error"
    assert Order.objects.count() == 0
