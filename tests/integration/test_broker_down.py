"""A broker (Redis) outage never fails a partner request (issue 10, item 8).

The Celery app is pointed at a closed port (nothing listens on 127.0.0.1:1: connections are
refused at once) with eager mode off, as in production with Redis down. Orders posted singly, in a
batch and paid later answer 201 / 207 / 200 with the orders stored and `due`; a queued backtest
stays `queued`; then, with the broker back (eager again here), the per-minute sweep accrues the
orders to the cent and runs the backtest. Needs no service: runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from commissions.models import CommissionRecord
from fenxiao import broker
from fenxiao.currencies import money_str
from orders.models import Order
from tenants.context import tenant_context
from tests.factories import chain, committed, order_json

PAID = {"status": "paid", "paid_at": "2026-01-15T10:05:00+08:00"}
CLOSED = "redis://127.0.0.1:1/0"


def _drop_broker_pools(app) -> None:
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    app._pool = None


@pytest.fixture
def broker_down(settings):
    """The Celery app of this process publishing to a closed port, eager mode off; fenxiao.broker's
    per-process state reset before and after."""
    from fenxiao.celery import app

    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    settings.CELERY_BROKER_URL = CLOSED
    _drop_broker_pools(app)
    app.conf.broker_url = CLOSED
    app.conf.task_always_eager = False
    broker._down_until, broker._redis = 0.0, None
    try:
        yield app
    finally:
        _drop_broker_pools(app)
        app.conf.update(saved)
        broker._down_until, broker._redis = 0.0, None


def _broker_back(app, saved_eager=True):
    _drop_broker_pools(app)
    app.conf.task_always_eager = saved_eager
    broker._down_until, broker._redis = 0.0, None


def test_orders_are_answered_and_kept_due_then_the_sweep_accrues_them(broker_down, partner, in_tenant):
    chain(in_tenant, 3)  # C0 <- C1 <- C2
    started = time.monotonic()
    r = partner.post("/api/v1/orders/", order_json("S1", referrer_external_id="C2", **PAID), format="json")
    first = time.monotonic() - started
    assert r.status_code == 201, r.content
    assert r.json()["commission_state"] == "due"
    batch = {"orders": [order_json(f"B{i}", referrer_external_id="C2", **PAID) for i in range(3)]}
    r = partner.post("/api/v1/orders/batch/", batch, format="json")
    assert r.status_code == 207 and [x["status"] for x in r.json()["results"]] == [201, 201, 201]
    assert partner.post("/api/v1/orders/", order_json("P1", referrer_external_id="C1"), format="json").status_code == 201
    r = partner.post("/api/v1/orders/P1/pay/", {"paid_at": "2026-01-15T10:05:00+08:00"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "paid"
    # a replay of the first order is still a 200, not a 500
    assert partner.post("/api/v1/orders/", order_json("S1", referrer_external_id="C2", **PAID), format="json").status_code == 200
    # a refused connection is noticed at once (the flag's socket timeouts, the publish retry
    # policy): a functional bound, not a performance figure (bench/ measures those)
    assert first < 5, first
    due = dict(Order.objects.values_list("external_id", "commission_state"))
    assert due == {"S1": "due", "B0": "due", "B1": "due", "B2": "due", "P1": "due"}
    assert CommissionRecord.objects.count() == 0

    _broker_back(broker_down)
    from commissions.tasks import sweep_tenant

    # within 30 s of becoming due an order may still have its message on the way: not swept yet
    assert sweep_tenant.delay(tenant_id=in_tenant.pk).get() == {"records": 0, "backtests": 0}
    import time_machine

    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert sweep_tenant.delay(tenant_id=in_tenant.pk).get() == {"records": 14, "backtests": 0}
    assert set(Order.objects.values_list("commission_state", flat=True)) == {"done"}
    amounts = sorted(CommissionRecord.objects.filter(order__external_id="S1").values_list("level", "beneficiary__external_id", "amount"))
    assert [(lvl, who, money_str(a, "CNY")) for lvl, who, a in amounts] == [(1, "C2", "10.00"), (2, "C1", "5.00"), (3, "C0", "2.00")]
    amounts = sorted(CommissionRecord.objects.filter(order__external_id="P1").values_list("level", "beneficiary__external_id", "amount"))
    assert [(lvl, who, money_str(a, "CNY")) for lvl, who, a in amounts] == [(1, "C1", "10.00"), (2, "C0", "5.00")]


def test_a_failing_publish_is_tried_once_per_pause_and_never_raises(broker_down, partner, in_tenant, monkeypatch):
    """The flag is not available (no Redis broker) and the publish itself raises kombu's
    OperationalError: the first request tries and answers 201; the next ones within the pause do
    not even try."""
    from kombu.exceptions import OperationalError

    from commissions import tasks

    chain(in_tenant, 2)
    calls = []

    def failing(*args, **kwargs):
        calls.append(kwargs)
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(broker, "claim_flag", lambda key, ttl: None)
    monkeypatch.setattr(tasks.accrue_due_orders, "apply_async", failing)
    for i in range(3):
        r = partner.post("/api/v1/orders/", order_json(f"F{i}", referrer_external_id="C1", **PAID), format="json")
        assert r.status_code == 201, r.content
    assert len(calls) == 1 and broker.broker_down()
    assert list(Order.objects.order_by("external_id").values_list("external_id", "commission_state")) == [
        ("F0", "due"), ("F1", "due"), ("F2", "due")]


def test_publishing_to_a_closed_port_fails_fast(broker_down):
    from commissions.tasks import accrue_due_orders

    started = time.monotonic()
    assert broker.publish(lambda: accrue_due_orders.apply_async(kwargs={"tenant_id": 1}), what="test") is False
    assert time.monotonic() - started < 5  # refused at once; the retry policy allows one retry
    assert broker.claim_flag("fenxiao:test", 1.0) is None  # paused: not even tried


def test_a_backtest_whose_message_was_lost_is_run_by_the_sweep(broker_down, in_tenant):
    import datetime

    from commissions.backtest import backtest_create
    from commissions.models import Backtest, CommissionPlan
    from commissions.tasks import sweep_tenant

    with committed():
        bt = backtest_create(tenant=in_tenant, plan=CommissionPlan.objects.get(), date_from=datetime.date(2026, 1, 1),
                             date_to=datetime.date(2026, 1, 31))
    assert Backtest.objects.get(pk=bt.pk).status == "queued"
    _broker_back(broker_down)
    assert sweep_tenant.delay(tenant_id=in_tenant.pk).get() == {"records": 0, "backtests": 0}  # too recent
    import time_machine

    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert sweep_tenant.delay(tenant_id=in_tenant.pk).get() == {"records": 0, "backtests": 1}
    bt = Backtest.objects.get(pk=bt.pk)
    assert (bt.status, bt.total_orders, bt.results["delta"]) == ("done", 0, "0.00")


def test_every_tenant_is_swept_every_minute(make_tenant):
    import json

    from django_celery_beat.models import PeriodicTask

    t = make_tenant(slug="swept")
    task = PeriodicTask.objects.get(name="sweep:swept")
    assert (task.task, json.loads(task.kwargs), task.interval.every, task.interval.period, task.enabled) == (
        "commissions.tasks.sweep_tenant", {"tenant_id": t.pk}, 1, "minutes", True)
