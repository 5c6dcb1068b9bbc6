"""fenxiao.bulk.bulk_insert: the hot paths' inserts (COPY on PostgreSQL, bulk_create elsewhere)
give exactly the rows bulk_create gives, with their primary keys, and fail as it fails."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from fenxiao.bulk import bulk_insert
from ledger.models import Balance, OutboxEvent
from orders.models import Order, OrderLine
from tests.factories import distributor


def test_rows_come_back_exactly_with_ascending_pks(in_tenant, django_assert_num_queries):
    awkward = {"text": 'tab\there "quoted" back\\slash\nnew line 中文 \u0000'[:-1], "amount": "12.34",
               "nested": [{"a": None, "b": True, "c": 1.5}], "empty": ""}
    events = [OutboxEvent(tenant=in_tenant, type=f"t{i}", payload={**awkward, "i": i}) for i in range(3)]
    # PostgreSQL: the ids from the sequence, then the COPY; SQLite: one INSERT
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 1):
        assert bulk_insert(OutboxEvent, events) is events
    pks = [e.pk for e in events]
    assert None not in pks and pks == sorted(pks) and len(set(pks)) == 3
    assert not events[0]._state.adding
    for e in events:
        saved = OutboxEvent.objects.get(pk=e.pk)
        assert saved.payload == {**awkward, "i": int(e.type[1:])}
        assert saved.created_at is not None and saved.created_at == e.created_at
        assert saved.tenant_id == in_tenant.pk


def test_foreign_keys_come_from_instances_saved_after_the_rows_were_built(in_tenant):
    at = datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc)
    orders = [Order(tenant=in_tenant, external_id=f"B{i}", currency="CNY", placed_at=at, goods_total=Decimal("10.05"))
              for i in range(2)]
    lines = [OrderLine(tenant=in_tenant, order=o, line_id=str(k), sku="S", quantity=2, unit_price=Decimal("5.03"),
                       discount=Decimal("0.01"))
             for o in orders for k in range(2)]
    bulk_insert(Order, orders)
    bulk_insert(OrderLine, lines)
    assert [l.order_id for l in lines] == [orders[0].pk, orders[0].pk, orders[1].pk, orders[1].pk]
    saved = Order.objects.get(pk=orders[1].pk)
    assert (saved.external_id, saved.placed_at, saved.goods_total, saved.status) == ("B1", at, Decimal("10.05"), "pending")
    assert sorted(OrderLine.objects.filter(order=saved).values_list("line_id", "quantity", "unit_price", "discount")) == [
        ("0", 2, Decimal("5.03"), Decimal("0.01")), ("1", 2, Decimal("5.03"), Decimal("0.01"))]
    assert saved.created_at is not None and saved.updated_at is not None


def test_a_violation_is_djangos_integrity_error_and_writes_nothing(in_tenant):
    d = distributor(in_tenant)
    Balance.objects.create(tenant=in_tenant, distributor=d, currency="CNY")
    other = distributor(in_tenant, external_id="X2")
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(Balance, [Balance(tenant=in_tenant, distributor=other, currency="CNY"),
                              Balance(tenant=in_tenant, distributor=d, currency="CNY")])
    assert Balance.objects.count() == 1


def test_nothing_to_insert_runs_no_query(in_tenant, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk_insert(OutboxEvent, []) == []


def test_instance_equals_the_model_constructor(in_tenant):
    from fenxiao.bulk import instance
    from commissions.models import CommissionRecord
    from ledger.models import LedgerEntry

    d = distributor(in_tenant)
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    kw = dict(tenant=in_tenant, distributor_id=d.pk, kind="bonus", amount=Decimal("1.25"), d_available=Decimal("1.25"),
              created_at=at)
    fast, slow = instance(LedgerEntry, **kw), LedgerEntry(**kw)
    fields = [f.attname for f in LedgerEntry._meta.concrete_fields]
    assert [getattr(fast, f) for f in fields] == [getattr(slow, f) for f in fields]
    assert fast.tenant is in_tenant and fast._state.adding and fast.pk is None
    r1, r2 = instance(CommissionRecord, tenant=in_tenant), instance(CommissionRecord, tenant=in_tenant)
    assert r1.lines == [] and r1.lines is not r2.lines          # callable defaults called per instance
    assert (r1.status, r1.reversed_amount, r1.settled_at) == ("frozen", Decimal("0.00"), None)
    with pytest.raises(TypeError):
        instance(LedgerEntry, amount_cents=1)


def test_update_rows_sets_each_rows_own_values_in_one_query(make_tenant, django_assert_num_queries):
    """fenxiao.bulk.update_rows: per-row values (adapted as the ORM adapts them: times, decimals,
    NULL), only the rows its keys and condition name, one executemany."""
    from fenxiao.bulk import update_rows
    from tenants.context import tenant_context

    mine, other = make_tenant(slug="mine"), make_tenant(slug="other")
    at = datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc)
    rows = {}
    for t in (mine, other):
        with tenant_context(t):
            rows[t.slug] = bulk_insert(Order, [
                Order(tenant=t, external_id=f"U{i}", currency="CNY", placed_at=at, goods_total=Decimal("1.00"))
                for i in range(3)])
    u0, u1, u2 = rows["mine"]
    theirs = rows["other"][0]
    with tenant_context(mine):
        Order.objects.filter(pk=u2.pk).update(status="cancelled")
        with django_assert_num_queries(1):
            update_rows(Order, fields=("completed_at", "goods_total", "status"), keys=("id", "tenant_id"),
                        condition="status <> 'cancelled'", rows=[
                            (at.replace(hour=9), Decimal("12.34"), "completed", u0.pk, mine.pk),
                            (None, Decimal("0.05"), "paid", u1.pk, mine.pk),
                            (at, Decimal("9.99"), "completed", u2.pk, mine.pk),          # the condition excludes it
                            (at, Decimal("9.99"), "completed", theirs.pk, mine.pk),      # another tenant's row
                        ])
        assert sorted(Order.objects.values_list("external_id", "completed_at", "goods_total", "status")) == [
            ("U0", at.replace(hour=9), Decimal("12.34"), "completed"), ("U1", None, Decimal("0.05"), "paid"),
            ("U2", None, Decimal("1.00"), "cancelled")]
    with tenant_context(other):
        assert sorted(Order.objects.values_list("external_id", "goods_total", "status")) == [
            ("U0", Decimal("1.00"), "pending"), ("U1", Decimal("1.00"), "pending"), ("U2", Decimal("1.00"), "pending")]
    with django_assert_num_queries(0):
        update_rows(Order, fields=("status",), keys=("id",), rows=[])
