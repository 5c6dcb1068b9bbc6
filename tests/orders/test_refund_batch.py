"""refunds_create_batch refunds many orders exactly as refund_create one by one (domain rules 6, 7)."""
import json
from datetime import timedelta
from decimal import Decimal as D

import pytest
from rest_framework.exceptions import APIException

from commissions.models import CommissionRecord, CommissionReversal
from ledger.models import Balance, LedgerEntry, OutboxEvent
from ledger.services import settle_due
from orders.models import Order, Refund
from orders.services import RefundInput, refund_create, refunds_create_batch
from tenants.context import tenant_context
from tests.factories import T0, chain, committed, line, order_input, paid_order, record


def m(amount) -> str:
    """A stored CNY amount as the API writes it (fenxiao.currencies.money_str)."""
    from fenxiao.currencies import money_str

    return money_str(amount, "CNY")

DAY = timedelta(days=1)


def _world(t):
    """Orders in the states a refund meets; returns the refunds to create, in this order."""
    chain(t, 3)
    two = [line("1", quantity=3, unit_price="40.00"), line("2", sku="SKU-2", unit_price="30.00")]   # goods 150.00
    for ext in ("O1", "O2", "O3", "O4", "O5"):
        paid_order(t, ext, referrer_external_id="C2", lines=two)
    paid_order(t, "O6", referrer_external_id="C2", lines=two, shipping="8.00")
    record(tenant=t, data=order_input("O7", referrer_external_id="C2", lines=two, status="paid"))  # accrual not run yet
    paid_order(t, "O8", referrer_external_id="C2", lines=two, placed_at=T0 - 30 * DAY, paid_at=T0 - 30 * DAY)
    with committed():
        record(tenant=t, data=order_input("P1", referrer_external_id="C2"))                          # pending
    assert settle_due(tenant=t, now=T0) == 3                                                      # O8's records
    refund_create(order=Order.objects.get(external_id="O4"), data=RefundInput("R-OLD", amount=D("10.00"), refunded_at=T0))
    at = T0 + DAY
    return [
        ("O1", RefundInput("R1", lines=[("1", 1)], refunded_at=at)),
        ("O1", RefundInput("R2", lines=[("1", 1), ("2", 1)], refunded_at=at)),   # the same order again
        ("O2", RefundInput("R3", amount=D("30.00"), refunded_at=at)),
        ("O2", RefundInput("R4", lines=[("1", 1)], refunded_at=at)),             # 400: refunded by amount before
        ("O3", RefundInput("R5", amount=D("150.00"), refunded_at=at)),
        ("O3", RefundInput("R5", amount=D("150.00"), refunded_at=at)),           # a replay in the batch
        ("O3", RefundInput("R5", amount=D("149.00"), refunded_at=at)),           # 409: other content
        ("O4", RefundInput("R-OLD", amount=D("10.00"))),                         # a replay of an earlier refund
        ("O5", RefundInput("R-OLD", amount=D("10.00"))),                         # 409: another order's
        ("O5", RefundInput("R6", amount=D("150.01"), refunded_at=at)),           # 400: over-refund
        ("O5", RefundInput("R7", amount=D("1.00"), lines=[("1", 1)], refunded_at=at)),  # 400: both
        ("O5", RefundInput("R8", lines=[("9", 1)], refunded_at=at)),             # 400: unknown line
        ("O6", RefundInput("R9", amount=D("0"), shipping=D("8.00"), refunded_at=at)),  # shipping only
        ("O7", RefundInput("R10", amount=D("50.00"), refunded_at=at)),           # accrues first
        ("O8", RefundInput("R11", amount=D("75.00"), refunded_at=at)),           # settled: clawback
        ("P1", RefundInput("R12", amount=D("1.00"), refunded_at=at)),            # 409: pending
    ]


def _outcome(results):
    return [(type(r).__name__, r.status_code, str(r.detail))
            if isinstance(r, APIException) else (r[0].external_id, r[0].order.external_id, r[1]) for r in results]


def _state():
    """Everything a refund writes, by external ids (the two tenants' primary keys differ)."""
    from distributors.models import Distributor

    ext = dict(Distributor.objects.values_list("pk", "external_id"))
    return {
        "orders": sorted(Order.objects.values_list("external_id", "status", "refund_mode", "refunded_amount",
                                                   "refunded_shipping", "net_base", "commission_state")),
        "refunds": sorted(Refund.objects.values_list("external_id", "order__external_id", "kind", "amount", "shipping",
                                                     "refunded_at")),
        "refund_lines": sorted(Refund.objects.filter(lines__isnull=False).values_list(
            "external_id", "lines__line__line_id", "lines__quantity")),
        "lines": sorted(Order.objects.values_list("external_id", "lines__line_id", "lines__refunded_quantity")),
        "records": sorted(CommissionRecord.objects.values_list("order__external_id", "level", "amount", "reversed_amount",
                                                               "status")),
        "reversals": sorted(CommissionReversal.objects.values_list("refund__external_id", "record__level", "amount")),
        "entries": sorted((ext[d], k, m(a), m(f), m(v)) for d, k, a, f, v in LedgerEntry.objects.values_list(
            "distributor_id", "kind", "amount", "d_frozen", "d_available")),
        "balances": sorted((ext[d], m(f), m(a), m(e)) for d, f, a, e in Balance.objects.values_list(
            "distributor_id", "frozen", "available", "total_earned")),
        "events": sorted(json.dumps({**e.payload, "reversals": [{k: v for k, v in r.items() if k != "commission_id"}
                                                                for r in e.payload["reversals"]]}, sort_keys=True)
                         for e in OutboxEvent.objects.filter(type="commission.reversed")),
    }


def test_a_varied_batch_refunds_exactly_as_one_by_one(make_tenant):
    one, many = make_tenant(slug="one"), make_tenant(slug="many")
    outcomes, states = [], []
    for t in (one, many):
        with tenant_context(t):
            todo = [(Order.objects.get(external_id=ext), data) for ext, data in _world(t)]
            if t is many:
                results = refunds_create_batch(tenant=t, items=todo)
            else:
                results = []
                for order, data in todo:
                    try:
                        results.append(refund_create(order=order, data=data))
                    except APIException as exc:
                        results.append(exc)
            outcomes.append(_outcome(results))
            states.append(_state())
    assert outcomes[0] == outcomes[1]
    assert states[0] == states[1]
    assert [o[:2] if o[0] in ("Conflict", "InvalidState", "ValidationError") else o for o in outcomes[1]] == [
        ("R1", "O1", True), ("R2", "O1", True), ("R3", "O2", True), ("ValidationError", 400), ("R5", "O3", True),
        ("R5", "O3", False), ("Conflict", 409), ("R-OLD", "O4", False), ("Conflict", 409), ("ValidationError", 400),
        ("ValidationError", 400), ("ValidationError", 400), ("R9", "O6", True), ("R10", "O7", True),
        ("R11", "O8", True), ("InvalidState", 409)]
    with tenant_context(many):
        recs = {(o, lvl): (m(a), m(r), s) for o, lvl, a, r, s in states[1]["records"]}
        # O1 (goods 150.00 = 3 x 40.00 + 30.00; L1 10% = 15.00): R1 leaves 2/3 of line 1 -> 80 + 30 = 110.00 -> 11.00;
        # R2 leaves 1/3 of line 1 and none of line 2 -> 40.00 -> 4.00: reversed 11.00 in all
        assert recs[("O1", 1)] == ("15.00", "11.00", "frozen") and recs[("O1", 3)] == ("3.00", "2.20", "frozen")
        assert recs[("O3", 2)] == ("7.50", "7.50", "reversed")                      # fully refunded
        assert recs[("O7", 1)] == ("15.00", "5.00", "frozen")                       # accrued, then a third reversed
        assert recs[("O6", 1)] == ("15.00", "0.00", "frozen")                       # shipping only: nothing moves
        assert recs[("O8", 1)] == ("15.00", "7.50", "available")                    # settled: half clawed back
        assert ("C2", "clawback", "7.50", "0.00", "-7.50") in states[1]["entries"]
        o2 = Order.objects.get(external_id="O2")
        assert (o2.status, o2.refund_mode, o2.refunded_amount, o2.net_base) == ("partially_refunded", "amount", D("30.00"),
                                                                              D("120.00"))
        assert Order.objects.get(external_id="O6").refunded_shipping == D("8.00")
        assert Refund.objects.get(external_id="R10").refunded_at == T0 + DAY


def test_an_empty_batch_does_nothing(in_tenant, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert refunds_create_batch(tenant=in_tenant, items=[]) == []


def test_another_tenants_order_is_not_found(make_tenant):
    a, b = make_tenant(slug="a"), make_tenant(slug="b")
    with tenant_context(a):
        theirs = paid_order(a, "A1")
    with tenant_context(b):
        mine = paid_order(b, "B1")
        with pytest.raises(Order.DoesNotExist):
            refunds_create_batch(tenant=b, items=[(mine, RefundInput("X1", amount=D("1.00"))),
                                                  (theirs, RefundInput("X2", amount=D("1.00")))])
        assert Refund.objects.count() == 0
    with tenant_context(a):
        assert Refund.objects.count() == 0 and Order.objects.get(external_id="A1").refunded_amount == 0


def test_a_batch_whose_insert_fails_is_answered_one_by_one(in_tenant, monkeypatch):
    """When the batch's insert meets the unique refund id (a concurrent request recorded it first,
    simulated here inside the batch's transaction), the batch's writes roll back and every item
    is answered by refund_create instead."""
    import orders.services as services

    chain(in_tenant, 3)
    o1, o2 = paid_order(in_tenant, "O1", referrer_external_id="C2"), paid_order(in_tenant, "O2", referrer_external_id="C2")
    real_apply, real_create = services._refund_apply, services.refund_create
    raced, one_by_one = [], []

    def racing(**kw):
        if not raced:
            raced.append(True)
            real_create(order=o2, data=RefundInput("R2", amount=D("5.00")))
        return real_apply(**kw)

    def spy(**kw):
        one_by_one.append(kw["data"].external_id)
        return real_create(**kw)

    monkeypatch.setattr(services, "_refund_apply", racing)
    monkeypatch.setattr(services, "refund_create", spy)
    r1, r2 = refunds_create_batch(tenant=in_tenant, items=[(o1, RefundInput("R1", amount=D("10.00"))),
                                                           (o2, RefundInput("R2", amount=D("20.00")))])
    assert one_by_one == ["R1", "R2"]
    assert [(r[0].external_id, r[1]) for r in (r1, r2)] == [("R1", True), ("R2", True)]
    assert sorted(Refund.objects.values_list("external_id", "amount")) == [("R1", D("10.00")), ("R2", D("20.00"))]
    assert [m(x) for x in Order.objects.order_by("external_id").values_list("refunded_amount", flat=True)] == ["10.00", "20.00"]
    assert CommissionReversal.objects.count() == 6


@pytest.mark.parametrize("n", [2, 20])
def test_batch_refund_query_count_does_not_grow_with_the_batch(in_tenant, django_assert_num_queries, n):
    from django.db import connection

    chain(in_tenant, 3)
    orders = [paid_order(in_tenant, f"Q{i}", referrer_external_id="C2") for i in range(n)]
    items = [(o, RefundInput(f"R{i}", amount=D("40.00") if i % 2 else None, lines=[] if i % 2 else [("1", 1)]))
             for i, o in enumerate(orders)]
    # savepoint, lock the orders, existing refunds, lines, refunds, refund lines, order lines,
    # (reversals: savepoint, lock the records, reversals, records, 4 ledger, events, release),
    # (incentive figures: lock the credits, credits, day figures, running contests, month
    # rankings, their last counted orders read and written again, tenant days), orders, release;
    # + 6 on PostgreSQL: refunds, refund lines, reversals, ledger entries and events are ids + COPY,
    # and the boards' lock (shared)
    with django_assert_num_queries(27 + (6 if connection.vendor == "postgresql" else 0)):
        results = refunds_create_batch(tenant=in_tenant, items=items)
    assert [created for _, created in results] == [True] * n
    assert sorted(m(a) for a in CommissionReversal.objects.values_list("amount", flat=True)) == sorted(
        [a for i in range(n) for a in (["4.00", "2.00", "0.80"] if i % 2 else ["10.00", "5.00", "2.00"])])
