"""orders_complete_batch completes many orders exactly as order_complete one by one (domain rules 7)."""
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone as dj_timezone
from rest_framework.exceptions import APIException

from commissions.models import CommissionRecord
from ledger.services import settle_due
from orders.models import Order
from orders.services import RefundInput, order_cancel, order_complete, orders_complete_batch, refund_create
from tenants.context import tenant_context
from tests.factories import T0, chain, committed, line, order_input, paid_order, record

DAY = timedelta(days=1)


def _world(t):
    """Orders in every state a completion meets; returns [(external_id, completed_at)] to complete,
    in this order (O1 twice; O5 and O6 with bad times)."""
    chain(t, 3)
    two = [line("1", quantity=2, unit_price="50.00"), line("2", sku="SKU-2", unit_price="30.00")]
    for ext in ("O1", "O2", "O3", "O5", "O6", "O7"):
        paid_order(t, ext, referrer_external_id="C2", lines=two)
    paid_order(t, "O8", referrer_external_id="C2", lines=two, placed_at=T0 - 10 * DAY, paid_at=T0 - 10 * DAY)
    with committed():
        record(tenant=t, data=order_input("P1", referrer_external_id="C2"))                # pending
        record(tenant=t, data=order_input("X1", referrer_external_id="C2"))
        order_cancel(order=Order.objects.get(external_id="X1"))                            # cancelled
        refund_create(order=Order.objects.get(external_id="O2"), data=RefundInput("R2", amount=D("30.00")))  # partial
        refund_create(order=Order.objects.get(external_id="O3"), data=RefundInput("R3", amount=D("130.00")))  # full
        order_complete(order=Order.objects.get(external_id="O7"), completed_at=T0 + 5 * DAY)  # completed before
    # O8's records settle by the auto-complete rule (paid + 14 + 7 days) before it is completed;
    # the others settle later (O7 at T0 + 12 days, the rest at T0 + 21 days)
    assert settle_due(tenant=t, now=T0 + 11 * DAY) == 3
    return [("O1", T0 + 2 * DAY), ("O2", T0 + 3 * DAY), ("O3", T0 + 3 * DAY), ("P1", T0 + DAY), ("X1", T0 + DAY),
            ("O5", T0 - DAY), ("O6", dj_timezone.now() + 2 * DAY), ("O7", T0 + 5 * DAY), ("O8", T0 + 30 * DAY),
            ("O1", T0 + 9 * DAY)]


def _outcome(results):
    return [(type(r).__name__, r.status_code) if isinstance(r, APIException) else (r.external_id, r.status, r.completed_at)
            for r in results]


def _state():
    return (sorted(Order.objects.values_list("external_id", "status", "completed_at")),
            sorted(CommissionRecord.objects.values_list("order__external_id", "level", "status", "settles_at")))


def test_a_varied_batch_completes_exactly_as_one_by_one(make_tenant):
    one, many = make_tenant(slug="one"), make_tenant(slug="many")
    outcomes, states = [], []
    for t in (one, many):
        with tenant_context(t):
            todo = [(Order.objects.get(external_id=ext), at) for ext, at in _world(t)]
            if t is many:
                results = orders_complete_batch(tenant=t, items=todo)
            else:
                results = []
                for order, at in todo:
                    try:
                        results.append(order_complete(order=order, completed_at=at))
                    except APIException as exc:
                        results.append(exc)
            outcomes.append(_outcome(results))
            states.append(_state())
    assert outcomes[0] == outcomes[1]
    assert states[0] == states[1]
    assert outcomes[1] == [
        ("O1", "completed", T0 + 2 * DAY), ("O2", "partially_refunded", T0 + 3 * DAY), ("InvalidState", 409),
        ("InvalidState", 409), ("InvalidState", 409), ("ValidationError", 400), ("ValidationError", 400),
        ("O7", "completed", T0 + 5 * DAY),      # completed before: idempotent, keeps its time
        ("O8", "completed", T0 + 30 * DAY),
        ("O1", "completed", T0 + 2 * DAY),      # twice in the batch: the second is a replay
    ]
    with tenant_context(many):
        settles = {(o, lvl): (status, at) for o, lvl, status, at in states[1][1]}
        # unsettled records settle 7 days after completion; O8's, settled by the auto-complete rule, keep theirs
        assert settles[("O1", 1)] == ("frozen", T0 + 9 * DAY)
        assert settles[("O2", 3)] == ("frozen", T0 + 10 * DAY)
        assert settles[("O5", 1)] == ("frozen", T0 + 21 * DAY)        # refused: not completed, auto-complete rule
        assert settles[("O8", 2)] == ("available", T0 + 11 * DAY)
        assert settles[("O7", 1)] == ("frozen", T0 + 12 * DAY)
        assert Order.objects.get(external_id="O5").completed_at is None
        o1 = Order.objects.get(external_id="O1")
        assert o1.updated_at > o1.created_at


def test_an_empty_batch_does_nothing(in_tenant, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert orders_complete_batch(tenant=in_tenant, items=[]) == []


def test_another_tenants_order_is_not_found(make_tenant):
    a, b = make_tenant(slug="a"), make_tenant(slug="b")
    with tenant_context(a):
        theirs = paid_order(a, "A1")
    with tenant_context(b):
        mine = paid_order(b, "B1")
        with pytest.raises(Order.DoesNotExist):
            orders_complete_batch(tenant=b, items=[(mine, T0 + DAY), (theirs, T0 + DAY)])
        assert Order.objects.get(external_id="B1").completed_at is None   # nothing written
    with tenant_context(a):
        assert Order.objects.get(external_id="A1").completed_at is None


@pytest.mark.parametrize("n", [2, 25])
def test_batch_completion_query_count_does_not_grow_with_the_batch(in_tenant, django_assert_num_queries, n):
    chain(in_tenant, 3)
    orders = [paid_order(in_tenant, f"Q{i}", referrer_external_id="C2") for i in range(n)]
    # savepoint, lock the orders, update the orders, update their records, release
    with django_assert_num_queries(5):
        results = orders_complete_batch(tenant=in_tenant, items=[(o, T0 + (1 + i % 4) * DAY) for i, o in enumerate(orders)])
    assert [r.status for r in results] == ["completed"] * n
    got = sorted(CommissionRecord.objects.values_list("order__external_id", "settles_at"))
    assert got == sorted((f"Q{i}", T0 + (8 + i % 4) * DAY) for i in range(n) for _ in range(3))
