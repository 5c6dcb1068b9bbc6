"""Webhooks with a real Celery worker, a real Redis broker and PostgreSQL (the fixtures of
tests/integration/test_celery_worker.py): an order posted through the API reaches the receiver
with no beat at all (the accrual's event asks for a relay run on commit), and a worker killed
outright in the middle of a POST leads to a second POST with the same webhook-id from the next
worker once the claim has run out."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from rest_framework.test import APIClient
from standardwebhooks import Webhook
from werkzeug import Response

from tenants.context import tenant_context
from tests.factories import chain, order_json
from tests.integration.test_celery_worker import broker, start_worker  # noqa: F401 (fixtures)
from webhooks.models import Delivery

from .helpers import subscribe

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(240)]

PAID = {"status": "paid", "paid_at": "2026-01-15T10:05:00+08:00"}
ENV = {"WEBHOOKS_ALLOW_PRIVATE": "1", "WEBHOOKS_CLAIM_SECONDS": "4", "CELERY_VISIBILITY_TIMEOUT": "8",
       "CELERY_UNACKED_RESTORE_INTERVAL": "1"}


def _partner(tenant):
    from tenants.services import api_key_create

    _, key = api_key_create(tenant=tenant, name="hooks")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def _wait(condition, what, log, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} after {seconds}s; worker log:\n{log()[-4000:]}")
        time.sleep(0.1)


def test_an_order_reaches_the_receiver_through_the_worker_without_beat(start_worker, make_tenant,  # noqa: F811
                                                                       httpserver):
    tenant = make_tenant(slug="hooks-live")
    with tenant_context(tenant):
        chain(tenant, 3)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    _, secret = subscribe(tenant, httpserver.url_for("/hook"))
    _, log = start_worker("hooks", **ENV)
    r = _partner(tenant).post("/api/v1/orders/", order_json("L1", referrer_external_id="C2", **PAID), format="json")
    assert r.status_code == 201
    _wait(lambda: len(httpserver.log) >= 1, "no webhook", log)
    (req, _), = httpserver.log
    body = Webhook(secret).verify(req.get_data(), dict(req.headers))
    assert (body["type"], body["data"]["order_external_id"]) == ("order.commissions_created", "L1")
    with tenant_context(tenant):
        _wait(lambda: Delivery.objects.filter(status="succeeded").count() == 1, "not recorded", log)
        assert Delivery.objects.get().public_id == req.headers["webhook-id"]


def test_a_worker_killed_mid_post_is_followed_by_the_same_webhook_id(start_worker, make_tenant,  # noqa: F811
                                                                     httpserver):
    from webhooks.tasks import relay_tenant

    tenant = make_tenant(slug="hooks-kill")
    with tenant_context(tenant):
        chain(tenant, 3)
    arrived = threading.Event()
    seen = []

    def handler(request):
        seen.append(request.headers["webhook-id"])
        if len(seen) == 1:
            arrived.set()
            time.sleep(2)   # the worker is killed while it waits for this answer
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    subscribe(tenant, httpserver.url_for("/hook"))
    first, first_log = start_worker("first", **ENV)
    r = _partner(tenant).post("/api/v1/orders/", order_json("K1", referrer_external_id="C2", **PAID), format="json")
    assert r.status_code == 201
    assert arrived.wait(60), first_log()[-4000:]
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    with tenant_context(tenant):
        d = Delivery.objects.get()
    assert d.status == "sending" and d.started_at is not None and d.attempts == 0
    _, second_log = start_worker("second", **ENV)
    deadline = time.monotonic() + 60
    while len(seen) < 2:   # beat's minute run, sped up: the claim (4 s here) runs out, the relay takes it again
        assert time.monotonic() < deadline, second_log()[-4000:]
        relay_tenant.delay(tenant_id=tenant.pk)
        time.sleep(1)
    with tenant_context(tenant):
        _wait(lambda: Delivery.objects.get().status == "succeeded", "not recorded", second_log)
        d = Delivery.objects.get()
        log = list(d.attempt_log.order_by("number").values_list("number", "status_code", "error"))
    assert seen[:2] == [d.public_id, d.public_id]
    assert log[0][:2] == (1, None) and log[0][2].startswith("interrupted") and log[-1][1] == 200


def test_the_rest_of_a_killed_workers_chunk_is_delivered_once(start_worker, make_tenant, httpserver):  # noqa: F811
    """Three paid orders in one batch: their deliveries go to one endpoint (in one `deliver` chunk
    when they are claimed together). The worker is killed in the middle of the first POST: that
    webhook-id arrives twice (the interrupted attempt, then the retry), the other two exactly once,
    each with one attempt: their POSTs had not started, so they are sent, not retried."""
    from collections import Counter

    from webhooks.tasks import relay_tenant

    tenant = make_tenant(slug="hooks-chunk")
    with tenant_context(tenant):
        chain(tenant, 3)
    arrived = threading.Event()
    seen = []

    def handler(request):
        seen.append(request.headers["webhook-id"])
        if len(seen) == 1:
            arrived.set()
            time.sleep(3)   # the worker is killed while it waits for this answer
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    subscribe(tenant, httpserver.url_for("/hook"))
    first, first_log = start_worker("first", **ENV)
    r = _partner(tenant).post("/api/v1/orders/batch/", {"orders": [
        order_json(f"B{i}", referrer_external_id="C2", **PAID) for i in range(3)]}, format="json")
    assert r.status_code == 207 and [x["status"] for x in r.json()["results"]] == [201] * 3
    assert arrived.wait(60), first_log()[-4000:]
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    with tenant_context(tenant):
        started = list(Delivery.objects.filter(started_at__isnull=False).values_list("public_id", flat=True))
    assert started == seen[:1]   # only the killed POST had started
    _, second_log = start_worker("second", **ENV)
    with tenant_context(tenant):
        deadline = time.monotonic() + 90
        while Delivery.objects.filter(status="succeeded").count() < 3:   # beat's minute run, sped up
            assert time.monotonic() < deadline, second_log()[-4000:]
            relay_tenant.delay(tenant_id=tenant.pk)
            time.sleep(1)
        logs = {d.public_id: list(d.attempt_log.order_by("number").values_list("status_code", "error"))
                for d in Delivery.objects.all()}
    killed = seen[0]
    assert Counter(seen) == {pid: 2 if pid == killed else 1 for pid in logs}
    assert logs.pop(killed)[0] == (None, "interrupted: the worker stopped before the answer was recorded")
    assert list(logs.values()) == [[(200, "")], [(200, "")]]
