"""Delivery of outbox events to real HTTP receivers (pytest-httpserver on 127.0.0.1), domain rules
section 10: signed per Standard Webhooks (verified with the `standardwebhooks` library), at least
once, retried on the schedule with one webhook-id, every attempt logged, a receiver that hangs
costs a timed-out attempt, other tenants' receivers never hear of this tenant's events, and intake
never waits for any of it."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from standardwebhooks import Webhook
from werkzeug import Response

from ledger.models import OutboxEvent
from tenants.context import tenant_context
from tests.factories import chain, committed
from webhooks.models import Delivery
from webhooks.services import INTERRUPTED, deliveries_claim_due
from webhooks.tasks import deliver, relay_tenant

from .helpers import attempts, deliveries, post_paid_order, relay, subscribe

T0 = datetime(2026, 1, 15, 2, 10, tzinfo=timezone.utc)


def requests_of(receiver, path="/hook"):
    return [req for req, _ in receiver.log if req.path == path]


def test_an_event_arrives_signed_and_verifies_with_the_standardwebhooks_library(shop, receiver):
    tenant, partner = shop
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    endpoint, secret = subscribe(tenant, receiver.url_for("/hook"))
    post_paid_order(partner, "O1")
    assert requests_of(receiver) == []                       # nothing was sent from the request
    assert relay(tenant) == {"events": 1, "deliveries": 1}
    (req,) = requests_of(receiver)
    body = Webhook(secret).verify(req.get_data(), dict(req.headers))   # raises when the signature is wrong
    assert body["type"] == "order.commissions_created"
    assert body["data"]["order_external_id"] == "O1" and body["data"]["currency"] == "CNY"
    assert [(c["level"], c["amount"]) for c in body["data"]["commissions"]] == [(1, "10.00"), (2, "5.00"), (3, "2.00")]
    (d,) = deliveries(tenant)
    assert req.headers["webhook-id"] == d.public_id and d.public_id.startswith("msg_")
    assert req.headers["content-type"] == "application/json"
    assert (d.status, d.attempts, d.last_status_code) == ("succeeded", 1, 200)
    assert attempts(tenant) == [(1, "auto", 200, "")]
    with pytest.raises(Exception):   # another secret does not verify
        Webhook("whsec_" + "QUJD" * 8).verify(req.get_data(), dict(req.headers))
    with tenant_context(tenant):
        assert OutboxEvent.objects.get().dispatched_at is not None
    assert relay(tenant) == {"events": 0, "deliveries": 0}   # delivered once


def test_500_500_200_gets_exactly_three_attempts_with_one_webhook_id(shop, receiver):
    tenant, partner = shop
    for status in (500, 500, 200):
        receiver.expect_ordered_request("/hook", method="POST").respond_with_data(f"answer {status}", status=status)
    with time_machine.travel(T0, tick=False) as clock:
        endpoint, secret = subscribe(tenant, receiver.url_for("/hook"))
        post_paid_order(partner, "O1")
        relay(tenant)                                             # attempt 1: 500
        (d,) = deliveries(tenant)
        assert (d.status, d.attempts) == ("pending", 1)
        assert timedelta(seconds=4.5) <= d.next_attempt_at - T0 <= timedelta(seconds=5.5)
        clock.shift(timedelta(seconds=3))
        assert relay(tenant)["deliveries"] == 0                   # not due yet
        clock.shift(timedelta(seconds=3))
        relay(tenant)                                             # attempt 2: 500
        (d,) = deliveries(tenant)
        assert (d.status, d.attempts) == ("pending", 2)
        assert timedelta(seconds=270) <= d.next_attempt_at - (T0 + timedelta(seconds=6)) <= timedelta(seconds=330)
        clock.shift(timedelta(minutes=6))
        relay(tenant)                                             # attempt 3: 200
        clock.shift(timedelta(days=4))
        assert relay(tenant)["deliveries"] == 0
        reqs = requests_of(receiver)
        assert len(reqs) == 3
        assert {r.headers["webhook-id"] for r in reqs} == {d.public_id}
        assert [int(r.headers["webhook-timestamp"]) for r in reqs] == [
            int(T0.timestamp()), int(T0.timestamp()) + 6, int(T0.timestamp()) + 6 + 360]
        for r in reqs:   # each attempt is signed for its own timestamp, over the same body
            assert r.get_data() == reqs[0].get_data()
        clock.shift(-timedelta(days=4))
        Webhook(secret).verify(reqs[2].get_data(), dict(reqs[2].headers))
    (d,) = deliveries(tenant)
    assert (d.status, d.attempts, d.last_status_code) == ("succeeded", 3, 200)
    assert attempts(tenant) == [(1, "auto", 500, "HTTP 500"), (2, "auto", 500, "HTTP 500"), (3, "auto", 200, "")]
    with tenant_context(tenant):
        excerpts = list(d.attempt_log.order_by("number").values_list("response_excerpt", flat=True))
    assert excerpts == ["answer 500", "answer 500", "answer 200"]
    receiver.check_assertions()


def test_a_receiver_that_hangs_costs_a_timed_out_attempt_then_is_tried_again(shop, receiver, settings):
    settings.WEBHOOKS_READ_TIMEOUT = 0.3
    tenant, partner = shop

    def hang(request):
        time.sleep(1.0)
        return Response("late", status=200)

    receiver.expect_ordered_request("/hook", method="POST").respond_with_handler(hang)
    receiver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")
    with time_machine.travel(T0, tick=False) as clock:
        subscribe(tenant, receiver.url_for("/hook"))
        post_paid_order(partner, "O1")
        started = time.monotonic()
        relay(tenant)
        assert time.monotonic() - started < 1.0                   # the relay gave up after the read timeout
        (d,) = deliveries(tenant)
        assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, None)
        assert d.last_error == "read timeout: no answer within 0.3 s"
        with tenant_context(tenant):
            (a,) = d.attempt_log.all()
        assert a.status_code is None and 300 <= a.duration_ms < 1000 and a.error == d.last_error
        time.sleep(0.8)   # let the hung handler finish before the next request
        clock.shift(timedelta(seconds=6))
        relay(tenant)
    (d,) = deliveries(tenant)
    assert (d.status, d.attempts) == ("succeeded", 2)
    assert [r.headers["webhook-id"] for r in requests_of(receiver)] == [d.public_id] * 2


def test_another_tenants_endpoint_never_receives_this_tenants_events(shop, make_tenant, partner_for, receiver):
    tenant, partner = shop
    other = make_tenant(slug="other")
    with tenant_context(other):
        chain(other, 3)
    other_partner = partner_for(other)
    receiver.expect_request("/shop", method="POST").respond_with_data("ok")
    receiver.expect_request("/other", method="POST").respond_with_data("ok")
    events = ["order.commissions_created", "commission.settled", "commission.reversed", "withdrawal.updated"]
    subscribe(tenant, receiver.url_for("/shop"), events)
    subscribe(other, receiver.url_for("/other"), events)
    post_paid_order(partner, "SHOP-1")
    post_paid_order(partner, "SHOP-2")
    assert relay(other) == {"events": 0, "deliveries": 0}   # the other tenant's relay sees none of shop's events
    assert requests_of(receiver, "/other") == []
    relay(tenant)
    post_paid_order(other_partner, "OTHER-1")
    relay(other)
    relay(tenant)
    shop_orders = sorted(json.loads(r.get_data())["data"]["order_external_id"] for r in requests_of(receiver, "/shop"))
    other_orders = [json.loads(r.get_data())["data"]["order_external_id"] for r in requests_of(receiver, "/other")]
    assert (shop_orders, other_orders) == (["SHOP-1", "SHOP-2"], ["OTHER-1"])


def test_only_subscribed_types_and_events_after_the_subscription_are_delivered(shop, receiver):
    tenant, partner = shop
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    post_paid_order(partner, "BEFORE")                 # before any endpoint: dispatched to nobody
    assert relay(tenant) == {"events": 1, "deliveries": 0}
    subscribe(tenant, receiver.url_for("/hook"), ["commission.reversed"])
    post_paid_order(partner, "AFTER")                  # an order.commissions_created: not subscribed
    r = partner.post("/api/v1/orders/AFTER/refunds/", {"external_id": "RF-1", "amount": "40.00"}, format="json")
    assert r.status_code == 201
    assert relay(tenant) == {"events": 2, "deliveries": 1}
    (req,) = requests_of(receiver)
    body = json.loads(req.get_data())
    assert body["type"] == "commission.reversed"
    assert [(x["level"], x["amount"]) for x in body["data"]["reversals"]] == [(1, "4.00"), (2, "2.00"), (3, "0.80")]
    with tenant_context(tenant):
        assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0   # every event fanned out


def test_a_disabled_endpoint_gets_nothing_and_its_waiting_deliveries_resume_when_enabled(shop, receiver):
    from webhooks.services import endpoint_update

    tenant, partner = shop
    receiver.expect_request("/hook", method="POST").respond_with_data("nope", status=503)
    with time_machine.travel(T0, tick=False) as clock:
        endpoint, _ = subscribe(tenant, receiver.url_for("/hook"))
        post_paid_order(partner, "O1")
        relay(tenant)                                         # attempt 1: 503
        with tenant_context(tenant):
            endpoint_update(endpoint=endpoint, status="disabled")
        post_paid_order(partner, "O2")                        # not fanned out to a disabled endpoint
        clock.shift(timedelta(minutes=1))
        assert relay(tenant) == {"events": 1, "deliveries": 0}
        receiver.clear()
        receiver.expect_request("/hook", method="POST").respond_with_data("ok")
        with tenant_context(tenant):
            endpoint_update(endpoint=endpoint, status="active")
        assert relay(tenant) == {"events": 0, "deliveries": 1}
    assert [(d.status, d.attempts) for d in deliveries(tenant)] == [("succeeded", 2)]


def test_after_every_attempt_fails_the_delivery_fails_and_the_endpoint_is_marked_failing(shop, receiver):
    tenant, partner = shop
    receiver.expect_request("/hook", method="POST").respond_with_data("down", status=502)
    with time_machine.travel(T0, tick=False) as clock:
        endpoint, _ = subscribe(tenant, receiver.url_for("/hook"))
        post_paid_order(partner, "O1")
        for _ in range(20):
            relay(tenant)
            clock.shift(timedelta(hours=11))
        (d,) = deliveries(tenant)
        assert (d.status, d.attempts, d.next_attempt_at) == ("failed", 13, None)
        with tenant_context(tenant):
            endpoint.refresh_from_db()
        assert endpoint.status == "failing" and endpoint.failing_since == d.failed_at
        assert len(requests_of(receiver)) == 13
        # a later event to the failing endpoint is still tried, and its success makes it active again
        receiver.clear()
        receiver.expect_request("/hook", method="POST").respond_with_data("ok")
        post_paid_order(partner, "O2")
        relay(tenant)
    with tenant_context(tenant):
        endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.failing_since) == ("active", None)


def test_a_worker_killed_mid_delivery_leads_to_another_attempt_with_the_same_webhook_id(shop, receiver, monkeypatch):
    """The POST reached the receiver, then the worker died before recording the answer: the
    delivery stays claimed (started) until its lease runs out; the next relay run logs the
    interrupted attempt and delivers again with the same webhook-id."""
    from webhooks import net, services

    tenant, partner = shop
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")

    class Killed(BaseException):
        """What a SIGKILL looks like from inside: nothing after it runs."""

    real_post = net.post

    def post_then_die(*args, **kwargs):
        real_post(*args, **kwargs)
        raise Killed

    assert deliver.acks_late and relay_tenant.acks_late   # a killed worker's message comes back
    with time_machine.travel(T0, tick=False) as clock:
        subscribe(tenant, receiver.url_for("/hook"))
        post_paid_order(partner, "O1")
        monkeypatch.setattr(services.net, "post", post_then_die)
        with pytest.raises(Killed):
            relay(tenant)
        monkeypatch.setattr(services.net, "post", real_post)
        (d,) = deliveries(tenant)
        assert d.status == "sending" and d.started_at == T0 and d.attempts == 0
        claim = d.claim
        # the message is delivered again (acks_late) while the lease runs: it sends nothing
        assert deliver.apply(kwargs={"tenant_id": tenant.pk, "delivery_id": d.pk, "claim": claim}).get() == "stale"
        clock.shift(timedelta(seconds=60))
        assert relay(tenant)["deliveries"] == 0                      # the lease (90 s) still runs
        clock.shift(timedelta(seconds=31))
        assert relay(tenant)["deliveries"] == 1
    (d,) = deliveries(tenant)
    assert (d.status, d.attempts) == ("succeeded", 2)
    assert attempts(tenant) == [(1, "auto", None, INTERRUPTED), (2, "auto", 200, "")]
    reqs = requests_of(receiver)
    assert [r.headers["webhook-id"] for r in reqs] == [d.public_id, d.public_id]


def test_a_claim_whose_message_was_lost_is_claimed_again_without_an_attempt(shop, receiver):
    tenant, partner = shop
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    with time_machine.travel(T0, tick=False) as clock:
        subscribe(tenant, receiver.url_for("/hook"))
        post_paid_order(partner, "O1")
        from webhooks.services import outbox_fan_out

        with tenant_context(tenant):
            outbox_fan_out(tenant=tenant)
            claim, ids = deliveries_claim_due()                  # claimed; its message never arrives
            assert deliveries_claim_due()[1] == []               # claimed once
        assert len(ids) == 1
        clock.shift(timedelta(seconds=91))
        relay(tenant)
    (d,) = deliveries(tenant)
    assert (d.status, d.attempts) == ("succeeded", 1)
    assert attempts(tenant) == [(1, "auto", 200, "")]


def test_replay_makes_a_new_attempt_with_the_same_webhook_id(shop, receiver):
    from webhooks.services import delivery_replay

    tenant, partner = shop
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    subscribe(tenant, receiver.url_for("/hook"))
    post_paid_order(partner, "O1")
    relay(tenant)
    (d,) = deliveries(tenant)
    with tenant_context(tenant):
        delivery_replay(delivery=d, actor="pm-ann")
    assert len(requests_of(receiver)) == 1                # nothing is sent by the replay itself
    relay(tenant)
    (d,) = deliveries(tenant)
    assert (d.status, d.attempts) == ("succeeded", 2)
    assert attempts(tenant) == [(1, "auto", 200, ""), (2, "replay", 200, "")]
    with tenant_context(tenant):
        assert d.attempt_log.get(number=2).actor == "pm-ann"
    assert [r.headers["webhook-id"] for r in requests_of(receiver)] == [d.public_id] * 2
    assert requests_of(receiver)[0].get_data() == requests_of(receiver)[1].get_data()


def test_a_failed_replay_of_a_finished_delivery_is_one_attempt(shop, receiver):
    from webhooks.services import delivery_replay

    tenant, partner = shop
    receiver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")
    receiver.expect_ordered_request("/hook", method="POST").respond_with_data("gone", status=410)
    with time_machine.travel(T0, tick=False) as clock:
        endpoint, _ = subscribe(tenant, receiver.url_for("/hook"))
        post_paid_order(partner, "O1")
        relay(tenant)
        (d,) = deliveries(tenant)
        with tenant_context(tenant):
            delivery_replay(delivery=d, actor="pm-ann")
        relay(tenant)
        clock.shift(timedelta(days=4))
        assert relay(tenant)["deliveries"] == 0
    (d,) = deliveries(tenant)
    assert (d.status, d.attempts, d.last_status_code) == ("failed", 2, 410)
    with tenant_context(tenant):
        endpoint.refresh_from_db()
    assert endpoint.status == "active"   # a replay's failure is not the endpoint's schedule


def test_after_a_rotation_both_secrets_verify_for_the_overlap_then_only_the_new_one(shop, receiver):
    from webhooks.services import endpoint_rotate_secret

    tenant, partner = shop
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    with time_machine.travel(T0, tick=False) as clock:
        endpoint, old = subscribe(tenant, receiver.url_for("/hook"))
        with tenant_context(tenant):
            endpoint, new = endpoint_rotate_secret(endpoint=endpoint)
        assert new != old and new.startswith("whsec_")
        post_paid_order(partner, "O1")
        relay(tenant)
        (req,) = requests_of(receiver)
        assert len(req.headers["webhook-signature"].split(" ")) == 2
        Webhook(new).verify(req.get_data(), dict(req.headers))
        Webhook(old).verify(req.get_data(), dict(req.headers))
        clock.shift(timedelta(hours=24, seconds=1))
        post_paid_order(partner, "O2")
        relay(tenant)
        req = requests_of(receiver)[1]
        assert len(req.headers["webhook-signature"].split(" ")) == 1
        Webhook(new).verify(req.get_data(), dict(req.headers))
        with pytest.raises(Exception):
            Webhook(old).verify(req.get_data(), dict(req.headers))


# --- intake never waits ------------------------------------------------------------------------

def test_a_dead_receiver_never_slows_or_fails_intake(shop, receiver):
    """Posting orders answers 201 at once while the subscribed receiver hangs: no POST is made
    inside the request (the relay task makes it)."""
    tenant, partner = shop

    def hang(request):
        time.sleep(5)
        return Response("late")

    receiver.expect_request("/hook", method="POST").respond_with_handler(hang)
    subscribe(tenant, receiver.url_for("/hook"))
    started = time.monotonic()
    for i in range(3):
        post_paid_order(partner, f"O{i}")
    assert time.monotonic() - started < 3
    assert requests_of(receiver) == []
    with tenant_context(tenant):
        assert OutboxEvent.objects.filter(type="order.commissions_created").count() == 3
        assert Delivery.objects.count() == 0


class FakeBroker:
    """fenxiao.broker as webhooks.tasks sees it, with a broker configured (not eager): records what
    would be sent. `fail` makes every send raise, as a broker outage or any bug would."""

    def __init__(self, fail=False):
        self.sent, self.fail = [], fail

    def broker_is_eager(self):
        return False

    def claim_flag(self, key, ttl):
        return None

    def clear_flag(self, key):
        pass

    def publish(self, send, *, what):
        if self.fail:
            raise RuntimeError("broker exploded")
        self.sent.append(what)
        return True


def test_writing_events_asks_for_one_relay_run_per_transaction_after_commit(shop, receiver, monkeypatch):
    from django.db import transaction

    from ledger.services import event_record
    from webhooks import tasks

    tenant, partner = shop
    fake = FakeBroker()
    monkeypatch.setattr(tasks, "broker", fake)
    subscribe(tenant, receiver.url_for("/hook"))
    post_paid_order(partner, "O1")       # accrual writes the event: one relay request, after commit
    assert fake.sent == ["webhook relay"]
    with committed(), tenant_context(tenant), transaction.atomic():
        event_record(tenant=tenant, type="withdrawal.updated", payload={"n": 3})
        event_record(tenant=tenant, type="withdrawal.updated", payload={"n": 4})
        assert fake.sent == ["webhook relay"]               # not before the commit
    assert fake.sent == ["webhook relay", "webhook relay"]  # one for the two events of one transaction
    with pytest.raises(ZeroDivisionError), committed(), tenant_context(tenant), transaction.atomic():
        event_record(tenant=tenant, type="withdrawal.updated", payload={"n": 5})
        1 / 0
    assert fake.sent == ["webhook relay", "webhook relay"]  # rolled back: nothing asked
    assert requests_of(receiver) == []


def test_a_failing_relay_request_never_fails_intake_and_the_minute_run_catches_up(shop, receiver, monkeypatch):
    from webhooks import tasks

    tenant, partner = shop
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    subscribe(tenant, receiver.url_for("/hook"))
    monkeypatch.setattr(tasks, "broker", FakeBroker(fail=True))
    post_paid_order(partner, "O1")                       # 201 all the same
    monkeypatch.undo()
    assert requests_of(receiver) == []
    assert relay(tenant) == {"events": 1, "deliveries": 1}   # beat's minute run
    assert len(requests_of(receiver)) == 1


def test_every_tenant_has_a_relay_every_minute(make_tenant):
    import json as _json

    from django_celery_beat.models import PeriodicTask

    t = make_tenant(slug="beat")
    task = PeriodicTask.objects.get(name="webhooks:beat")
    assert (task.task, task.interval.every, task.interval.period, _json.loads(task.kwargs), task.enabled) == (
        "webhooks.tasks.relay_tenant", 1, "minutes", {"tenant_id": t.pk}, True)


def test_a_delivery_to_an_address_that_became_private_is_refused_on_delivery(shop, receiver, settings, monkeypatch):
    """The endpoint passed the check when it was made; its host now resolves to a private address
    (DNS rebinding): the delivery is refused on the resolved address, logged, and retried."""
    from webhooks import net

    tenant, partner = shop
    monkeypatch.setattr(net, "resolve", lambda host, port: ["93.184.215.14"])
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    subscribe(tenant, "https://hooks.partner.example/in")
    monkeypatch.setattr(net, "resolve", lambda host, port: ["10.0.0.5"])
    post_paid_order(partner, "O1")
    relay(tenant)
    (d,) = deliveries(tenant)
    assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, None)
    assert d.last_error.startswith("forbidden_address: hooks.partner.example resolves to 10.0.0.5")



def test_one_deliver_task_per_endpoint_and_chunk(shop, receiver, settings, monkeypatch):
    """The relay groups the claimed deliveries per endpoint into chunks of WEBHOOKS_DELIVER_CHUNK
    (here 2): 3 events x 2 endpoints = 6 deliveries in 4 tasks, each task one endpoint's."""
    tenant, partner = shop
    settings.WEBHOOKS_DELIVER_CHUNK = 2
    receiver.expect_request("/a", method="POST").respond_with_data("ok")
    receiver.expect_request("/b", method="POST").respond_with_data("ok")
    subscribe(tenant, receiver.url_for("/a"))
    subscribe(tenant, receiver.url_for("/b"))
    for n in range(3):
        post_paid_order(partner, f"O{n}")
    sent = []
    real_delay = deliver.delay
    monkeypatch.setattr(deliver, "delay", lambda **kw: (sent.append(kw["delivery_ids"]), real_delay(**kw))[1])
    assert relay(tenant) == {"events": 3, "deliveries": 6}
    by_id = {d.pk: d for d in deliveries(tenant)}
    assert [len(chunk) for chunk in sent] == [2, 1, 2, 1]
    assert [len({by_id[pk].endpoint_id for pk in chunk}) for chunk in sent] == [1, 1, 1, 1]
    assert sorted(pk for chunk in sent for pk in chunk) == sorted(by_id)
    assert {d.status for d in by_id.values()} == {"succeeded"}
    assert (len(requests_of(receiver, "/a")), len(requests_of(receiver, "/b"))) == (3, 3)


def test_a_deliver_task_past_its_time_gives_the_rest_back_unattempted(shop, receiver, settings):
    """WEBHOOKS_DELIVER_SECONDS 0.2 and a receiver answering after 0.3 s: each task sends one POST
    and gives the rest of its chunk back (pending, no attempt logged); the next relay runs send them."""
    tenant, partner = shop
    settings.WEBHOOKS_DELIVER_SECONDS = 0.2

    def slow(request):
        time.sleep(0.3)
        return Response("ok")

    receiver.expect_request("/hook", method="POST").respond_with_handler(slow)
    subscribe(tenant, receiver.url_for("/hook"))
    for n in range(3):
        post_paid_order(partner, f"O{n}")
    assert relay(tenant) == {"events": 3, "deliveries": 3}
    first = deliveries(tenant)
    assert [(d.status, d.attempts, d.claim, d.started_at) for d in first][1:] == [("pending", 0, "", None)] * 2
    assert first[0].status == "succeeded"
    assert relay(tenant)["deliveries"] == 2
    assert relay(tenant)["deliveries"] == 1
    assert [(d.status, d.attempts) for d in deliveries(tenant)] == [("succeeded", 1)] * 3
    assert attempts(tenant) == [(1, "auto", 200, "")] * 3
    assert len(requests_of(receiver)) == 3


def test_the_relay_and_the_deliveries_have_a_queue_and_a_worker_of_their_own():
    """The webhook tasks go to the `webhooks` queue, the accrual to `celery`; docker-compose.yml
    serves each with its own worker (a backlog of POSTs never waits in front of new orders)."""
    from pathlib import Path

    import yaml

    from commissions.tasks import accrue_order_commissions
    from fenxiao.celery import app

    route = lambda name: app.amqp.router.route({}, name)["queue"].name  # noqa: E731
    assert (route(deliver.name), route(relay_tenant.name), route(accrue_order_commissions.name)) == (
        "webhooks", "webhooks", "celery")
    compose = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())["services"]
    queues = {name: s["command"][s["command"].index("-Q") + 1] for name, s in compose.items()
              if "worker" in s.get("command", [])}
    assert queues == {"worker": "celery", "webhooks": "webhooks"}
