"""Celery tasks of the webhook relay (domain rules section 10; webhooks.services has the steps).

- `relay_tenant` (beat: `webhooks:<slug>` every minute, and on demand): fans the tenant's new
  outbox events out into deliveries, claims the deliveries that are due (first attempts, retries,
  replays, claims whose lease ran out) and sends one `deliver` task per endpoint and chunk of
  settings.WEBHOOKS_DELIVER_CHUNK claimed deliveries.
- `deliver`: one attempt of each delivery of its chunk, one after the other (the POSTs, with short
  timeouts), outside any transaction; after settings.WEBHOOKS_DELIVER_SECONDS it starts no more
  and gives the rest back to the next relay run. acks_late: a worker killed mid-POST leaves the
  delivery claimed; the message comes back (and finds the attempt started: it does nothing; the
  chunk's deliveries not started yet are sent then) and the relay claims it again once the lease
  has run out, logging the interrupted attempt; the receiver sees the same webhook-id.

Both run on their own queue, settings.WEBHOOKS_QUEUE ("webhooks", CELERY_TASK_ROUTES), served by
workers of their own (docker-compose.yml's `webhooks` service): a backlog of deliveries never
queues ahead of the accrual of new orders (bench/run.py --webhooks measures it).
- `relay_kick(tenant_id=...)`: called where events are written (ledger.services.outbox_written);
  asks, once the transaction commits, for a relay run (coalesced through a short-lived flag on the
  broker's Redis, like the accrual drain). It never blocks or fails its caller: a broker error is
  swallowed (fenxiao.broker) and the minute's relay run delivers the events anyway. Without a
  broker (eager mode: the tests, the demo) nothing is sent from a request or a transaction at all,
  so that no POST ever runs inside one: the relay then runs from beat or `manage.py relay_webhooks`.
"""
from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction

from fenxiao import broker
from tenants.context import tenant_context

log = logging.getLogger(__name__)

RELAY_FLAG_TTL = 10.0   # seconds: a lost relay message delays the tenant's next kick at most this long
RELAY_DELAY = 0.5       # seconds a kicked relay waits, so that the events of that moment share it


def relay_flag(tenant_id: int) -> str:
    return f"fenxiao:webhook-relay:{tenant_id}"


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3,
             time_limit=300, soft_time_limit=280)
def relay_tenant(self, *, tenant_id: int, max_seconds: float = 60.0) -> dict:
    """Fan out the tenant's new events and send its due deliveries (webhooks.services, steps 2-3).
    Args: tenant_id. Safe to run twice at once (SKIP LOCKED, unique deliveries, claims). Claims in
    batches of settings.WEBHOOKS_RELAY_BATCH until none is due or `max_seconds` have passed. On a
    broker error it stops sending: the claims not sent run out and the next run claims them again.
    Returns {"events": n fanned out, "deliveries": n sent}."""
    from tenants.context import current_tenant

    from . import services

    broker.clear_flag(relay_flag(tenant_id))
    started = time.monotonic()
    sent = 0
    with tenant_context(tenant_id):
        events = services.outbox_fan_out(tenant=current_tenant())
    while time.monotonic() - started < max_seconds:
        with tenant_context(tenant_id):
            claim, ids = services.deliveries_claim_due(limit=settings.WEBHOOKS_RELAY_BATCH)
            chunks = services.deliveries_by_endpoint(ids=ids, size=settings.WEBHOOKS_DELIVER_CHUNK) if ids else []
        for chunk in chunks:
            if not broker.publish(lambda chunk=chunk: deliver.delay(tenant_id=tenant_id, delivery_ids=chunk, claim=claim),
                                  what="webhook delivery"):
                return {"events": events, "deliveries": sent}
            sent += len(chunk)
        if len(ids) < settings.WEBHOOKS_RELAY_BATCH:
            break
    return {"events": events, "deliveries": sent}


@shared_task(bind=True, acks_late=True, time_limit=120, soft_time_limit=110)
def deliver(self, *, tenant_id: int, claim: str, delivery_ids: list[int] | None = None,
            delivery_id: int | None = None) -> str:
    """One attempt of each claimed delivery of `delivery_ids` (one endpoint's, in order; or the
    single `delivery_id` of a message sent before chunks), each by webhooks.services.delivery_send:
    POST, record, schedule. Args: tenant_id, claim (the relay's token). Once
    settings.WEBHOOKS_DELIVER_SECONDS have passed it starts no more POSTs: the rest go back to
    pending and a relay run is requested. Returns the statuses, space-separated ("stale" for a
    delivery whose claim is no longer this message's: nothing sent; "released" for one given back)."""
    from . import services

    ids = list(delivery_ids or []) + ([delivery_id] if delivery_id is not None else [])
    started = time.monotonic()
    out = []
    with tenant_context(tenant_id):
        for i, pk in enumerate(ids):
            if time.monotonic() - started > settings.WEBHOOKS_DELIVER_SECONDS:
                services.deliveries_release(ids=ids[i:], claim=claim)
                out += ["released"] * (len(ids) - i)
                relay_request(tenant_id=tenant_id)
                break
            d = services.delivery_send(delivery_id=pk, claim=claim)
            out.append("stale" if d is None else d.status)
    return " ".join(out)


def relay_request(*, tenant_id: int) -> None:
    """Ask for a relay run of the tenant soon: sends `relay_tenant` (after RELAY_DELAY) unless one
    is already waiting (the flag). Does nothing in eager mode (see the module's docstring). Never
    raises: a broker error, or anything else, is logged and left to the minute's relay run."""
    try:
        if broker.broker_is_eager():
            return
        key = relay_flag(tenant_id)
        if broker.claim_flag(key, RELAY_FLAG_TTL) is False:
            return   # a relay is pending: it clears the flag before it reads the outbox
        if not broker.publish(lambda: relay_tenant.apply_async(kwargs={"tenant_id": tenant_id}, countdown=RELAY_DELAY),
                              what="webhook relay"):
            broker.clear_flag(key)
    except Exception:   # noqa: BLE001 - delivery must never fail the write that produced the event
        log.warning("webhook relay for tenant %s not requested (the minute's run will deliver)", tenant_id,
                    exc_info=True)


class _Kick:
    """The on-commit hook of relay_kick: one per tenant and transaction."""

    def __init__(self, tenant_id: int):
        self.tenant_id = tenant_id
        self.done = False

    def __call__(self) -> None:
        self.done = True
        relay_request(tenant_id=self.tenant_id)


def relay_kick(*, tenant_id: int) -> None:
    """Events of `tenant_id` were written in the current transaction: request a relay run once it
    commits (at once outside a transaction). Registered once per transaction and tenant, however
    many events are written; robust (an error in it never reaches the committing code). Nothing in
    eager mode. No query."""
    if broker.broker_is_eager():
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _savepoints, func, _robust in connection.run_on_commit:
            if isinstance(func, _Kick) and func.tenant_id == tenant_id and not func.done:
                return
    transaction.on_commit(_Kick(tenant_id), robust=True)
