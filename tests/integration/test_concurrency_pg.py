"""Concurrency claims proven by threads that really run in parallel against PostgreSQL.

Each thread has its own database connection; a barrier releases them together. Marked
`postgres`: skipped on SQLite, a failure under --require-services (CI).
"""
import threading
from datetime import datetime, timezone
from decimal import Decimal as D

import pytest
from django.db import connection, connections
from rest_framework.exceptions import APIException

from commissions.models import CommissionRecord, CommissionReversal
from commissions.services import commission_accrue, commission_accrue_many
from distributors.models import Distributor
from distributors.services import DistributorInput, distributor_move, distributor_register
from orders.models import Order, Refund
from orders.services import RefundInput, order_pay, order_record, orders_record_batch, refund_create
from tenants.context import tenant_context
from tests.factories import chain, line, order_input

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
N = 8


def run_parallel(tenant, fns):
    """Run each fn in its own thread and connection, all released at once; returns results/exceptions."""
    barrier = threading.Barrier(len(fns))
    results = [None] * len(fns)

    def worker(i, fn):
        try:
            with tenant_context(tenant):
                barrier.wait(timeout=30)
                results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.fixture
def pg_tenant(make_tenant):
    assert connection.vendor == "postgresql"
    t = make_tenant(slug="pg")
    with tenant_context(t):
        chain(t, 4)
    return t


def test_same_order_posted_at_once_is_recorded_once(pg_tenant):
    data = order_input("SAME", referrer_external_id="C3", status="paid", lines=[line(unit_price="100.00")])
    results = run_parallel(pg_tenant, [lambda: order_record(tenant=pg_tenant, data=data)] * N)
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(created for _, created in results) == [False] * (N - 1) + [True]
    with tenant_context(pg_tenant):
        assert Order.objects.count() == 1
        got = sorted((r.level, r.amount) for r in CommissionRecord.objects.all())
    assert got == [(1, D("10.00")), (2, D("5.00")), (3, D("2.00"))]


def test_conflicting_orders_at_once_one_wins_others_409(pg_tenant):
    fns = [lambda q=q: order_record(tenant=pg_tenant, data=order_input("X", lines=[line(quantity=q)])) for q in range(1, N + 1)]
    results = run_parallel(pg_tenant, fns)
    created = [r for r in results if isinstance(r, tuple)]
    conflicts = [r for r in results if isinstance(r, APIException) and r.status_code == 409]
    assert len(created) == 1 and created[0][1] is True and len(conflicts) == N - 1
    with tenant_context(pg_tenant):
        assert Order.objects.get().lines.get().quantity == created[0][0].lines.get().quantity


def test_overlapping_batches_at_once_record_each_order_once(pg_tenant):
    """Batches sharing external_ids, posted at once: each order recorded (and paid) exactly once;
    the same content is a replay (200) and other content a 409, item by item, as one by one."""
    same = [order_input(f"B{i}", referrer_external_id="C3", status="paid") for i in range(60)]
    overlap_same = [order_input(f"B{i}", referrer_external_id="C3", status="paid") for i in range(30, 90)]
    overlap_other = [order_input(f"B{i}", referrer_external_id="C2", status="paid") for i in range(50, 70)]
    batches = [same, overlap_same, same, overlap_same, overlap_other]
    results = run_parallel(pg_tenant, [lambda b=b: orders_record_batch(tenant=pg_tenant, items=b) for b in batches])
    assert not [r for r in results if isinstance(r, BaseException)], results
    with tenant_context(pg_tenant):
        referrers = dict(Order.objects.values_list("external_id", "referrer__external_id"))
    created: dict[str, int] = {}
    for batch, outcome in zip(batches, results):
        assert len(outcome) == len(batch)
        for item, r in zip(batch, outcome):
            if isinstance(r, APIException):  # the id was won by the other content
                assert r.status_code == 409 and referrers[item.external_id] != item.referrer_external_id
                continue
            order, was_created = r
            assert order.external_id == item.external_id
            created[item.external_id] = created.get(item.external_id, 0) + was_created
    assert created == {f"B{i}": 1 for i in range(90)}
    with tenant_context(pg_tenant):
        assert Order.objects.count() == 90
        assert CommissionRecord.objects.count() == 90 * 3


def test_repeated_pay_notifications_at_once_pay_once(pg_tenant):
    with tenant_context(pg_tenant):
        order, _ = order_record(tenant=pg_tenant, data=order_input("P", referrer_external_id="C3"))
    paid_at = datetime(2026, 1, 16, tzinfo=timezone.utc)
    run_parallel(pg_tenant, [lambda: order_pay(order=order, paid_at=paid_at)] * N)
    with tenant_context(pg_tenant):
        assert CommissionRecord.objects.count() == 3


def test_two_workers_accruing_one_order_create_one_set(pg_tenant):
    with tenant_context(pg_tenant):
        order, _ = order_record(tenant=pg_tenant, data=order_input("W", referrer_external_id="C3"))
        Order.objects.filter(pk=order.pk).update(status="paid", paid_at=order.placed_at, commission_state="due")
    results = run_parallel(pg_tenant, [lambda: len(commission_accrue(order_id=order.pk))] * N)
    assert sorted(results) == [0] * (N - 1) + [3]
    with tenant_context(pg_tenant):
        assert CommissionRecord.objects.count() == 3


def test_overlapping_accrual_chunks_at_once_accrue_each_order_once(pg_tenant):
    # chunks that overlap, listed in different orders (a replayed task, the sweep and the batch's
    # own tasks at once): each order is claimed by exactly one of them and nothing deadlocks
    with tenant_context(pg_tenant):
        ids = []
        for i in range(30):
            order, _ = order_record(tenant=pg_tenant, data=order_input(f"K{i}", referrer_external_id=f"C{1 + i % 3}"))
            ids.append(order.pk)
        Order.objects.filter(pk__in=ids).update(status="paid", paid_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                                                commission_state="due")
    chunks = [ids[:20], ids[10:][::-1], ids[::-1], ids[5:25], ids[::2], ids[1::2], ids[25:] + ids[:5], ids]
    results = run_parallel(pg_tenant, [lambda c=c: [r.order_id for r in commission_accrue_many(order_ids=c)] for c in chunks])
    assert not [r for r in results if isinstance(r, BaseException)]
    claimed = [order_id for r in results for order_id in set(r)]
    assert sorted(claimed) == sorted(ids)                  # every order by exactly one chunk
    with tenant_context(pg_tenant):
        per_order = {o: CommissionRecord.objects.filter(order_id=o).count() for o in ids}
        assert set(Order.objects.filter(pk__in=ids).values_list("commission_state", flat=True)) == {"done"}
    # referred by C1 (uplines C0): 2 records; by C2 or C3: 3 records; one accrual's worth each
    assert per_order == {o: [2, 3, 3][i % 3] for i, o in enumerate(ids)}


def test_drains_per_order_tasks_chunks_and_the_sweep_at_once_accrue_each_order_once(pg_tenant):
    """The coalesced drain (commissions.services.accrual_drain: SKIP LOCKED chunks) running three
    times at once with per-order accruals, overlapping chunk tasks and the sweep: every order is
    accrued by exactly one of them, with exactly its records, and all end `done`."""
    from datetime import timedelta

    from commissions.services import accrual_drain, accrual_sweep

    with tenant_context(pg_tenant):
        ids = []
        for i in range(45):
            order, _ = order_record(tenant=pg_tenant, data=order_input(f"D{i}", referrer_external_id=f"C{1 + i % 3}"))
            ids.append(order.pk)
        Order.objects.filter(pk__in=ids).update(status="paid", paid_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                                                commission_state="due")
    fns = [lambda: accrual_drain(chunk=7)[0]] * 3
    fns += [lambda o=o: len(commission_accrue_many(order_ids=[o])) for o in ids[::9]]
    fns += [lambda: len(commission_accrue_many(order_ids=ids[10:30])), lambda: len(commission_accrue_many(order_ids=ids[::-1]))]
    fns += [lambda: accrual_sweep(older_than=timedelta(0), chunk=11)]
    results = run_parallel(pg_tenant, fns)
    assert not [r for r in results if isinstance(r, BaseException)], results
    expected = {o: [2, 3, 3][i % 3] for i, o in enumerate(ids)}  # C1 has one upline, C2 and C3 two or more
    assert sum(results) == sum(expected.values())  # the records created, summed over every claimant
    with tenant_context(pg_tenant):
        per_order = {o: CommissionRecord.objects.filter(order_id=o).count() for o in ids}
        assert set(Order.objects.filter(pk__in=ids).values_list("commission_state", flat=True)) == {"done"}
    assert per_order == expected


def test_single_order_post_outside_a_transaction_is_one_statement(pg_tenant, partner_for, django_assert_num_queries):
    """On PostgreSQL outside a transaction (as in production) the order and its lines are one
    INSERT ... WITH statement, atomic on its own: key + tenant, existing order, referrer, plan,
    chain, the insert; the accrual is coalesced (no broker here: eager, after the statement).
    The 201 body equals the order's detail; a replay answers 200, other content 409."""
    import json

    from commissions import tasks
    from orders.api.serializers import OrderSerializer
    from orders.api.views import get_order
    from tests.factories import order_json

    client = partner_for(pg_tenant)
    body = order_json("ONE", referrer_external_id="C3", status="paid", paid_at="2026-01-15T10:05:00+08:00",
                      discount="1.00", lines=[{"line_id": str(k), "sku": f"S{k}", "category": "c", "quantity": k + 1,
                                               "unit_price": "10.00"} for k in range(3)])
    assert not connection.in_atomic_block
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tasks, "accrual_enqueue", lambda **kw: None)
        with django_assert_num_queries(6):
            r = client.post("/api/v1/orders/", body, format="json")
    assert r.status_code == 201, r.content
    with tenant_context(pg_tenant):
        detail = json.loads(json.dumps(OrderSerializer(get_order("ONE")).data))
        assert [(x.line_id, x.quantity, x.net) for x in Order.objects.get(external_id="ONE").lines.order_by("line_id")] == [
            ("0", 1, D("9.83")), ("1", 2, D("19.67")), ("2", 3, D("29.50"))]
    assert r.json() == detail
    assert client.post("/api/v1/orders/", body, format="json").status_code == 200
    assert client.post("/api/v1/orders/", dict(body, discount="2.00"), format="json").status_code == 409


def test_same_refund_at_once_reverses_once(pg_tenant):
    with tenant_context(pg_tenant):
        order, _ = order_record(tenant=pg_tenant, data=order_input("R", referrer_external_id="C3", status="paid"))
        commission_accrue(order_id=order.pk)
    data = RefundInput(external_id="RF", amount=D("40.00"))
    results = run_parallel(pg_tenant, [lambda: refund_create(order=order, data=data)] * N)
    assert sorted(created for _, created in results) == [False] * (N - 1) + [True]
    with tenant_context(pg_tenant):
        assert Refund.objects.count() == 1
        assert sorted(x.amount for x in CommissionReversal.objects.all()) == [D("0.80"), D("2.00"), D("4.00")]


def test_refunds_racing_past_the_goods_total_never_over_refund(pg_tenant):
    with tenant_context(pg_tenant):
        order, _ = order_record(tenant=pg_tenant, data=order_input("R", referrer_external_id="C3", status="paid"))
        commission_accrue(order_id=order.pk)
    fns = [lambda i=i: refund_create(order=order, data=RefundInput(external_id=f"RF{i}", amount=D("30.00"))) for i in range(N)]
    results = run_parallel(pg_tenant, fns)
    ok = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, APIException) and r.status_code == 400]
    assert (len(ok), len(refused)) == (3, N - 3)
    with tenant_context(pg_tenant):
        o = Order.objects.get()
        assert (o.refunded_amount, o.status) == (D("90.00"), "partially_refunded")
        # each level keeps 10/100 of its amount: 1.00, 0.50, 0.20
        assert sorted((r.level, r.net_amount) for r in CommissionRecord.objects.all()) == [
            (1, D("1.00")), (2, D("0.50")), (3, D("0.20"))]


def test_overlapping_refund_batches_at_once_refund_each_once_and_never_over_refund(pg_tenant):
    """refunds_create_batch from several requests at once, on the same orders: the same refunds in
    another order (replays), other refunds that together would pass the goods total (400 for the
    later), the same refund ids on other orders (409, or the fallback to one by one when two
    inserts meet): every item answered as one by one, each refund id recorded once, no order
    refunded past its goods, every commission record reversed by exactly its reversals."""
    from orders.services import refunds_create_batch

    with tenant_context(pg_tenant):
        orders = []
        for i in range(10):
            order, _ = order_record(tenant=pg_tenant, data=order_input(f"O{i}", referrer_external_id="C3", status="paid"))
            commission_accrue(order_id=order.pk)
            orders.append(order)
    same = [(o, RefundInput(f"RF{i}", amount=D("30.00"))) for i, o in enumerate(orders)]
    batches = [same, same[::-1], [(o, RefundInput(f"RX{i}", amount=D("80.00"))) for i, o in enumerate(orders)],
               [(orders[(i + 1) % 10], RefundInput(f"RF{i}", amount=D("30.00"))) for i in range(10)],
               # disjoint orders, the same ids: nothing serialises these two but the refunds' unique ids
               [(orders[i], RefundInput(f"RY{i}", amount=D("10.00"))) for i in range(5)],
               [(orders[5 + i], RefundInput(f"RY{i}", amount=D("10.00"))) for i in range(5)]]
    results = run_parallel(pg_tenant, [lambda b=b: refunds_create_batch(tenant=pg_tenant, items=b) for b in batches])
    assert not [r for r in results if isinstance(r, BaseException)], results
    with tenant_context(pg_tenant):
        refunds = {r.external_id: r for r in Refund.objects.all()}
        goods = {o.pk: o for o in Order.objects.all()}
        created: dict[str, int] = {}
        for batch, outcome in zip(batches, results):
            assert len(outcome) == len(batch)
            for (order, data), r in zip(batch, outcome):
                if isinstance(r, tuple):
                    assert (r[0].external_id, r[0].order_id) == (data.external_id, order.pk)
                    created[data.external_id] = created.get(data.external_id, 0) + r[1]
                elif r.status_code == 409:   # the id is another order's refund
                    assert refunds[data.external_id].order_id != order.pk
                else:                        # 400: over the goods total with what the order kept
                    assert r.status_code == 400 and goods[order.pk].refunded_amount + data.amount > D("100.00")
        assert created == {k: 1 for k in refunds}                       # each refund created once
        for o in goods.values():
            mine = [r.amount for r in refunds.values() if r.order_id == o.pk]
            assert o.refunded_amount == sum(mine, D("0.00")) <= D("100.00")
        for record in CommissionRecord.objects.all():
            assert record.reversed_amount == sum((x.amount for x in CommissionReversal.objects.filter(record=record)), D("0.00"))


def test_crossing_moves_at_once_never_make_a_cycle(pg_tenant):
    with tenant_context(pg_tenant):
        x = distributor_register(tenant=pg_tenant, data=DistributorInput(external_id="X", name="x"))[0]
        y = distributor_register(tenant=pg_tenant, data=DistributorInput(external_id="Y", name="y"))[0]
    results = run_parallel(pg_tenant, [lambda: distributor_move(distributor=x, new_parent=y),
                                       lambda: distributor_move(distributor=y, new_parent=x)])
    assert sum(isinstance(r, Distributor) for r in results) == 1
    assert sum(isinstance(r, APIException) and r.status_code == 400 for r in results) == 1
    with tenant_context(pg_tenant):
        x, y = Distributor.objects.get(external_id="X"), Distributor.objects.get(external_id="Y")
        assert {x.parent_id, y.parent_id} == {None, x.pk if y.parent_id else y.pk}


def test_same_registration_at_once_registers_once(pg_tenant):
    data = DistributorInput(external_id="NEW", name="n", parent_external_id="C0")
    results = run_parallel(pg_tenant, [lambda: distributor_register(tenant=pg_tenant, data=data)] * N)
    assert sorted(created for _, created in results) == [False] * (N - 1) + [True]
    with tenant_context(pg_tenant):
        assert Distributor.objects.filter(external_id="NEW").count() == 1
