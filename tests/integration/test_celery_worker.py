"""A real Celery worker, a real Redis broker and PostgreSQL: orders posted through the partner API
get their commission records from the worker process, exactly once per level.

The test process enqueues (on commit, as in production) to the Redis database of `redis_url`;
a `celery -A fenxiao worker` subprocess consumes from it and writes to the same test database
pytest-django created. Needs PostgreSQL (a second process cannot share SQLite's test database
reliably) and Redis; CI runs it with --require-services so it fails instead of skipping.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from decimal import Decimal as D
from urllib.parse import quote

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tenants.context import tenant_context
from tests.factories import chain, order_json

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[2]
PAID_AT = "2026-01-15T10:05:00+08:00"
WAIT_SECONDS = 60


def _database_url() -> str:
    """DATABASE_URL of the test database pytest-django created (NAME is test_..., per xdist worker)."""
    s = connection.settings_dict
    user = quote(s.get("USER") or "", safe="")
    password = s.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = quote(s.get("HOST") or "127.0.0.1", safe="")  # a socket directory is percent-encoded
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(s['NAME'], safe='')}"


def _die_with_parent() -> None:
    """In the worker (Linux): get SIGTERM when the test process dies, even if it is killed."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _celery_command() -> list[str]:
    exe = Path(sys.executable).parent / "celery"  # the venv's celery, next to this python
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "celery"]


def _drop_broker_pools(app) -> None:
    """Make the app look its broker connections and producers up again from its configuration.

    Eager calls acquire a producer too (Celery serialises eager arguments with it), so after any
    eager task the app caches a producer pool bound to the old broker URL and would go on
    publishing there. Celery resets the same two references after a fork (`Celery._after_fork`);
    there is no public call for it. The pools themselves are kombu's, shared per broker URL, and
    are left open: force-closing one empties its slots and later acquires on it block forever.
    """
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    app._pool = None


@pytest.fixture
def broker(redis_url, settings):
    """Point the Celery app of this process at `redis_url` with eager mode off; restore afterwards."""
    import redis

    from fenxiao.celery import app

    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # no stale messages from an earlier, aborted run
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    settings.CELERY_BROKER_URL = redis_url
    _drop_broker_pools(app)
    app.conf.broker_url = redis_url
    app.conf.task_always_eager = False
    try:
        yield app
    finally:
        _drop_broker_pools(app)
        app.conf.update(saved)
        client.flushdb()
        client.close()


@pytest.fixture
def start_worker(transactional_db, broker, redis_url, tmp_path):
    """start_worker(name, **env) -> (process, log function): a `celery -A fenxiao worker`
    subprocess on the test database, ready; every one started is terminated (then killed) before
    the database is flushed."""
    from commissions.tasks import accrue_order_commissions

    from webhooks.tasks import deliver

    # the accrual's queue and the webhooks' (settings.CELERY_TASK_ROUTES), as `make worker` serves them
    queues = ",".join(dict.fromkeys(broker.amqp.router.route({}, t.name)["queue"].name
                                    for t in (accrue_order_commissions, deliver)))
    procs = []

    def start(name="w", **extra_env):
        log_path = tmp_path / f"worker-{name}.log"
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "fenxiao.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        cmd = [
            *_celery_command(), "-A", "fenxiao", "worker", "--pool=solo", "--concurrency=1", "-Q", queues,
            "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"fenxiao-test-{name}-{os.getpid()}@%h",
        ]
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                    start_new_session=True, preexec_fn=_die_with_parent)
        procs.append(proc)

        def log() -> str:
            return log_path.read_text(errors="replace")

        deadline = time.monotonic() + WAIT_SECONDS
        while not re.search(r"\bready\.", log()):
            if proc.poll() is not None:
                pytest.fail(f"celery worker exited with {proc.returncode}:\n{log()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"celery worker not ready after {WAIT_SECONDS}s:\n{log()[-4000:]}")
            time.sleep(0.2)
        return proc, log

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # warm shutdown; the session holds only the worker
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


@pytest.fixture
def worker(start_worker):
    """One worker with the production settings; yields a function returning its log so far."""
    return start_worker("w")[1]


def _levels(client, external_id):
    r = client.get(f"/api/v1/orders/{external_id}/commissions/")
    assert r.status_code == 200, r.content
    rows = r.json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    return sorted((x["level"], x["beneficiary_external_id"], x["amount"]) for x in rows)


def _wait_for(client, external_id, count, log):
    """Poll the partner API until the order has `count` commission records (bounded)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        got = _levels(client, external_id)
        if len(got) >= count:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"no {count} commission records for {external_id} after {WAIT_SECONDS}s "
                        f"(got {got}); worker log:\n{log()[-4000:]}")
        time.sleep(0.2)


def _task_results(log, name="commissions.tasks.accrue_order_commissions"):
    """{task id: return value} of the tasks the worker has finished, from its log."""
    return dict(re.findall(rf"Task {re.escape(name)}\[([0-9a-f-]+)\] succeeded in [0-9.e-]+s: (\S+)", log()))


def test_worker_accrues_paid_orders_exactly_once(worker, make_tenant):
    tenant = make_tenant(slug="wrk")
    with tenant_context(tenant):
        root, c1, c2, deepest = chain(tenant, 4)
    from tenants.services import api_key_create

    _, key = api_key_create(tenant=tenant, name="worker-test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert not connection.in_atomic_block  # requests really commit, so on_commit really enqueues

    # A paid order of 1 x 100.00 referred by the deepest of the chain, posted twice (a replay).
    body = order_json("W1", referrer_external_id=deepest.external_id, status="paid", paid_at=PAID_AT)
    assert client.post("/api/v1/orders/", body, format="json").status_code == 201
    assert client.post("/api/v1/orders/", body, format="json").status_code == 200
    # A paid order of 2 x 150.00 referred by C1: only two uplines exist, so levels 1 and 2 only.
    body = order_json("W2", referrer_external_id=c1.external_id, status="paid", paid_at=PAID_AT,
                      lines=[{"line_id": "1", "sku": "SKU-2", "quantity": 2, "unit_price": "150.00"}])
    assert client.post("/api/v1/orders/", body, format="json").status_code == 201
    # A pending order of 1 x 40.00 referred by C2, then its pay notification three times.
    body = order_json("W3", referrer_external_id=c2.external_id,
                      lines=[{"line_id": "1", "sku": "SKU-3", "quantity": 1, "unit_price": "40.00"}])
    assert client.post("/api/v1/orders/", body, format="json").status_code == 201
    for _ in range(3):
        r = client.post("/api/v1/orders/W3/pay/", {"paid_at": PAID_AT}, format="json")
        assert r.status_code == 200, r.content
        assert r.json()["status"] == "paid"

    assert _wait_for(client, "W1", 3, worker) == [(1, "C3", "10.00"), (2, "C2", "5.00"), (3, "C1", "2.00")]
    assert _wait_for(client, "W2", 2, worker) == [(1, "C1", "30.00"), (2, "C0", "15.00")]
    assert _wait_for(client, "W3", 3, worker) == [(1, "C2", "4.00"), (2, "C1", "2.00"), (3, "C0", "0.80")]

    # Redeliveries of the task itself (at-least-once delivery) create nothing more: enqueue W1's
    # task three more times, then a barrier order; the solo worker consumes the queue in order, so
    # once the barrier is accrued the replays have run.
    from commissions.tasks import accrue_order_commissions
    from orders.models import Order

    with tenant_context(tenant):
        w1 = Order.objects.get(external_id="W1")
    replays = [accrue_order_commissions.delay(order_id=w1.pk, tenant_id=tenant.pk).id for _ in range(3)]
    body = order_json("W4", referrer_external_id=deepest.external_id, status="paid", paid_at=PAID_AT)
    assert client.post("/api/v1/orders/", body, format="json").status_code == 201
    assert _wait_for(client, "W4", 3, worker) == [(1, "C3", "10.00"), (2, "C2", "5.00"), (3, "C1", "2.00")]

    assert _levels(client, "W1") == [(1, "C3", "10.00"), (2, "C2", "5.00"), (3, "C1", "2.00")]
    assert _levels(client, "W2") == [(1, "C1", "30.00"), (2, "C0", "15.00")]
    assert _levels(client, "W3") == [(1, "C2", "4.00"), (2, "C1", "2.00"), (3, "C0", "0.80")]
    results = _task_results(worker)
    assert [results.get(task_id) for task_id in replays] == ["0", "0", "0"], worker()[-4000:]
    # Single orders are accrued by coalesced drains (commissions.tasks.accrual_request), which
    # together created every record once (3 + 2 + 3 + 3), and nothing ran in this process: the
    # duplicate POST and pay notifications enqueued nothing; only the replays ran per order.
    assert sorted(results.values()) == ["0", "0", "0"], worker()[-4000:]
    drains = _task_results(worker, "commissions.tasks.accrue_due_orders")
    assert sum(int(v) for v in drains.values()) == 11 and 1 <= len(drains) <= 4, worker()[-4000:]

    # The batch intake: 450 paid orders in one request are accrued by chunked tasks (200, 200, 50
    # orders) in the worker, 3 levels each; the same batch again is all replays and enqueues nothing.
    batch = {"orders": [order_json(f"B{i}", referrer_external_id=deepest.external_id, status="paid", paid_at=PAID_AT)
                        for i in range(450)]}
    r = client.post("/api/v1/orders/batch/", batch, format="json")
    assert r.status_code == 207 and {x["status"] for x in r.json()["results"]} == {201}
    assert _wait_for(client, "B449", 3, worker) == [(1, "C3", "10.00"), (2, "C2", "5.00"), (3, "C1", "2.00")]
    r = client.post("/api/v1/orders/batch/", batch, format="json")
    assert {x["status"] for x in r.json()["results"]} == {200}
    deadline = time.monotonic() + WAIT_SECONDS
    while sorted(_task_results(worker, "commissions.tasks.accrue_orders_commissions").values()) != ["150", "600", "600"]:
        assert time.monotonic() < deadline, worker()[-4000:]
        time.sleep(0.2)
    from commissions.models import CommissionRecord

    with tenant_context(tenant):
        assert CommissionRecord.objects.filter(order__external_id__startswith="B").count() == 1350


def test_a_killed_workers_chunks_are_redelivered_and_accrued_once(start_worker, make_tenant, capsys):
    """A worker killed outright (SIGKILL of its whole process group, as an OOM kill of its
    container) while it holds accrual chunks (acks_late: delivered, not acknowledged): the chunk
    it was computing is rolled back, and the Redis transport puts every unacknowledged message
    back in the queue once it is older than the visibility timeout (settings: 300 s in production,
    CELERY_VISIBILITY_TIMEOUT; 8 s here, a restore scan every second). A second worker then
    accrues every order exactly once. Prints the time from the kill until every order is accrued
    (docs/performance.md quotes it); the sweep (every minute, orders due for 30 s) would take them
    too in production, whichever comes first."""
    tenant = make_tenant(slug="kill")
    with tenant_context(tenant):
        chain(tenant, 4)
    from tenants.services import api_key_create

    _, key = api_key_create(tenant=tenant, name="kill-test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    fast = {"CELERY_VISIBILITY_TIMEOUT": "8", "CELERY_UNACKED_RESTORE_INTERVAL": "1"}
    first, first_log = start_worker("first", **fast)
    batch = {"orders": [order_json(f"K{i}", referrer_external_id="C3", status="paid", paid_at=PAID_AT)
                        for i in range(1000)]}
    r = client.post("/api/v1/orders/batch/", batch, format="json")
    assert r.status_code == 207 and {x["status"] for x in r.json()["results"]} == {201}
    deadline = time.monotonic() + WAIT_SECONDS
    while "accrue_orders_commissions" not in first_log():
        assert time.monotonic() < deadline, first_log()[-4000:]
        time.sleep(0.01)
    os.killpg(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    first.wait(timeout=10)
    from commissions.models import CommissionRecord
    from orders.models import Order

    with tenant_context(tenant):
        due_after_kill = Order.objects.filter(commission_state="due").count()
    assert due_after_kill > 0  # the kill came before the chunks were done
    second, second_log = start_worker("second", **fast)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with tenant_context(tenant):
            due = Order.objects.filter(commission_state="due").count()
        if not due:
            break
        assert time.monotonic() < deadline, second_log()[-4000:]
        time.sleep(0.1)
    recovered = time.monotonic() - killed_at
    with tenant_context(tenant):
        assert CommissionRecord.objects.count() == 3000  # 1000 orders x 3 levels, each once
        assert sorted(CommissionRecord.objects.filter(order__external_id="K999").values_list("level", "amount")) == [
            (1, D("10.00")), (2, D("5.00")), (3, D("2.00"))]
    with capsys.disabled():
        print(f"\nkilled worker: {due_after_kill} orders left due; all accrued {recovered:.1f}s after the kill "
              f"(visibility timeout 8 s from the messages' delivery, restore scan every 1 s)")
