"""Writes of the webhooks (domain rules section 10): endpoints and their secrets, the relay that fans
the outbox out into deliveries, the attempts, retries and replays.

How an event reaches a receiver:

1. The change writes its OutboxEvent in its own transaction (ledger.services.event_record and the
   bulk writers), which asks for a relay run on commit (webhooks.tasks.relay_kick: never blocks or
   fails the caller; the per-minute `webhooks:<slug>` beat task catches up whatever a kick missed).
2. `outbox_fan_out` turns every undispatched event into one Delivery per endpoint subscribed to its
   type (not disabled, created before the event) and sets the event's `dispatched_at`: the moment
   it was fanned out, also when no endpoint wanted it. Events are taken with SKIP LOCKED and a
   Delivery is unique per (event, endpoint), so two relays at once fan each event out once.
3. `deliveries_claim_due` claims the deliveries whose time has come (SKIP LOCKED; a claim is a
   token and a lease of settings.WEBHOOKS_CLAIM_SECONDS) and the relay sends one task per claim.
4. `delivery_send` (the task) POSTs the signed event (webhooks.net, webhooks.signing) and
   `delivery_record` logs the attempt: a 2xx has delivered it; anything else is retried on the
   schedule of webhooks.retry, and after the last attempt the delivery has failed and its endpoint
   is marked failing. A claim whose lease ran out (a lost message, a worker killed mid-POST) is
   claimed again by the next relay run, with the same webhook-id; a POST that had started is
   logged as an interrupted attempt.

Every function here runs in the tenant's context (the scoped managers); the HTTP request is made
outside any transaction.
"""
from __future__ import annotations

import logging
import random
import secrets as _secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from fenxiao import oncommit
from fenxiao.exceptions import InvalidState, invalid

from . import net, retry, signing
from .events import EVENT_TYPES
from .models import Delivery, WebhookAttempt, WebhookEndpoint

log = logging.getLogger(__name__)

S = Delivery.Status


# --- endpoints ---------------------------------------------------------------------------------

def _checked_url(url) -> str:
    try:
        net.check_url(url)
    except net.UrlRefused as exc:
        raise invalid("url", str(exc), exc.code) from None
    return url


def _checked_events(events) -> list[str]:
    """The event types, each known (400 `unknown_event` on `events.<i>`), without repeats, in the
    given order; at least one (400 `required`)."""
    if not isinstance(events, (list, tuple)) or not events:
        raise invalid("events", gettext("Subscribe to at least one event type."), "required")
    out: list[str] = []
    for i, name in enumerate(events):
        if not isinstance(name, str) or name not in EVENT_TYPES:
            raise invalid(f"events.{i}", f"Unknown event type {name!r}; known: {', '.join(EVENT_TYPES)}.",
                          "unknown_event")
        if name not in out:
            out.append(name)
    return out


@transaction.atomic
def endpoint_create(*, tenant, url: str, events: list[str], description: str = "") -> tuple[WebhookEndpoint, str]:
    """Subscribe `url` to `events` (domain rules section 10). Returns (endpoint, secret): the
    signing secret (`whsec_...`) is answered now and never again (rotate it to get a new one).

    400 on `url`: `invalid_scheme` (not http or https), `url_too_long` (over 2000 characters),
    `invalid_url`, `unresolvable_host` / `forbidden_address` (its host does not resolve, or resolves
    to a loopback, private, link-local or reserved address, unless settings.WEBHOOKS_ALLOW_PRIVATE).
    400 on `events.<i>`: `unknown_event`; on `events`: `required` (none). 400 `too_many_endpoints`
    beyond settings.WEBHOOKS_MAX_ENDPOINTS per tenant. Nothing is written on a 400."""
    _checked_url(url)
    events = _checked_events(events)
    # the tenant's endpoints, locked: two creations at once cannot both pass the limit
    count = len(list(WebhookEndpoint.objects.select_for_update().values_list("pk", flat=True)))
    if count >= settings.WEBHOOKS_MAX_ENDPOINTS:
        raise invalid(None, f"A tenant has at most {settings.WEBHOOKS_MAX_ENDPOINTS} webhook endpoints.",
                      "too_many_endpoints")
    secret = signing.new_secret()
    endpoint = WebhookEndpoint.objects.create(tenant=tenant, url=url, events=events, description=description[:200],
                                              secret=secret)
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, url: str | None = None, events: list[str] | None = None,
                    description: str | None = None, status: str | None = None) -> WebhookEndpoint:
    """Change an endpoint: its URL and events (checked as on creation), description, or `status`
    `disabled` (nothing is fanned out to it and its pending deliveries wait) or `active` (back in
    service; also clears `failing`). 400 `invalid_choice` for any other status. Returns it."""
    fields = []
    if url is not None and url != endpoint.url:
        endpoint.url = _checked_url(url)
        fields.append("url")
    if events is not None:
        endpoint.events = _checked_events(events)
        fields.append("events")
    if description is not None:
        endpoint.description = description[:200]
        fields.append("description")
    if status is not None:
        allowed = (WebhookEndpoint.Status.ACTIVE, WebhookEndpoint.Status.DISABLED)
        if status not in allowed:
            raise invalid("status", gettext("Set the status to active or disabled."), "invalid_choice")
        if status != endpoint.status:
            endpoint.status = status
            endpoint.failing_since = None
            fields += ["status", "failing_since"]
    if fields:
        endpoint.save(update_fields=[*fields, "updated_at"])
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint with its deliveries and their attempts (nothing more is sent to it; a
    POST already on its way finishes and is not recorded)."""
    WebhookAttempt.objects.filter(delivery__endpoint=endpoint).delete()
    Delivery.objects.filter(endpoint=endpoint).delete()
    endpoint.delete()


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, now: datetime | None = None) -> tuple[WebhookEndpoint, str]:
    """Give an endpoint a new signing secret; returns (endpoint, the new secret, shown only now).
    For settings.WEBHOOKS_ROTATION_OVERLAP after the rotation every attempt is signed with the new
    and the old secret (two signatures in `webhook-signature`), so a receiver can switch without
    losing a message; then with the new one only."""
    now = now or timezone.now()
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = signing.new_secret()
    locked.previous_secret, locked.previous_secret_until = locked.secret, now + settings.WEBHOOKS_ROTATION_OVERLAP
    locked.secret = secret
    locked.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return locked, secret


def signing_secrets(endpoint: WebhookEndpoint, at: datetime) -> list[str]:
    """The secrets an attempt at `at` is signed with: the current one, and the one before the last
    rotation while its overlap lasts."""
    out = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > at:
        out.append(endpoint.previous_secret)
    return out


# --- the relay ---------------------------------------------------------------------------------

def outbox_fan_out(*, tenant, now: datetime | None = None, chunk: int = 500) -> int:
    """Fan the tenant's undispatched outbox events out into deliveries (step 2 of the module's
    docstring), oldest first, in transactions of `chunk` events. Returns how many events were
    dispatched. Safe to run twice at once (SKIP LOCKED on the events, unique deliveries)."""
    from ledger.models import OutboxEvent

    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            events = list(OutboxEvent.objects.select_for_update(skip_locked=True).filter(dispatched_at__isnull=True)
                          .order_by("id").only("id", "type", "created_at")[:chunk])
            if not events:
                return total
            endpoints = list(WebhookEndpoint.objects.exclude(status=WebhookEndpoint.Status.DISABLED)
                             .only("id", "events", "created_at"))
            rows = [Delivery(tenant=tenant, endpoint_id=ep.pk, event_id=ev.pk, event_type=ev.type, next_attempt_at=now,
                             created_at=now)
                    for ev in events for ep in endpoints if ev.type in ep.events and ep.created_at <= ev.created_at]
            if rows:
                Delivery.objects.bulk_create(rows, ignore_conflicts=True)
            OutboxEvent.objects.filter(pk__in=[ev.pk for ev in events]).update(dispatched_at=now)
        total += len(events)
        if len(events) < chunk:
            return total


INTERRUPTED = "interrupted: the worker stopped before the answer was recorded"


def deliveries_claim_due(*, now: datetime | None = None, limit: int = 100) -> tuple[str, list[int]]:
    """Claim up to `limit` deliveries of the tenant in context whose time has come: pending ones
    whose next_attempt_at has passed, and sending ones whose claim ran out (step 3 of the module's
    docstring). A claimed POST that had started is first logged as an interrupted attempt and
    scheduled like any failed one. Endpoints that are disabled are skipped. Returns (claim token,
    ids), the ids in the order they fell due. SKIP LOCKED: two relays at once claim disjoint rows."""
    now = now or timezone.now()
    claim = _secrets.token_hex(8)
    with transaction.atomic():
        stuck = list(Delivery.objects.select_for_update(skip_locked=True)
                     .filter(status=S.SENDING, claimed_until__lt=now).order_by("id")[:limit])
        for d in stuck:
            if d.started_at is None:   # its message never reached a worker: no attempt was made
                d.status, d.next_attempt_at, d.claim, d.claimed_until = S.PENDING, now, "", None
                d.save(update_fields=["status", "next_attempt_at", "claim", "claimed_until"])
                continue
            lease = settings.WEBHOOKS_CLAIM_SECONDS
            _record(d, claim=d.claim, at=d.started_at, status_code=None, error=INTERRUPTED,
                    duration_ms=int(lease * 1000), excerpt="")
        due = list(Delivery.objects.select_for_update(skip_locked=True)
                   .filter(status=S.PENDING, next_attempt_at__lte=now)
                   .exclude(endpoint__status=WebhookEndpoint.Status.DISABLED)
                   .order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
        if due:
            Delivery.objects.filter(pk__in=due).update(
                status=S.SENDING, claim=claim, claimed_until=now + timedelta(seconds=settings.WEBHOOKS_CLAIM_SECONDS),
                started_at=None)
    return claim, due


def deliveries_should_yield(*, now: datetime | None = None) -> bool:
    """Whether the relay of the tenant in context should hold its deliveries back for now: while
    the tenant's accrual is behind (paid orders whose commissions are not computed yet) and the
    oldest delivery due has waited less than settings.WEBHOOKS_YIELD_SECONDS. On a small host the
    POSTs would take the CPU the accrual of an intake burst needs; notifications wait a few
    seconds, money does not. Never longer than that, so a permanent backlog cannot starve them.
    Two queries (the partial index of due orders, the index of due deliveries)."""
    from orders.selectors import accrual_backlog

    if settings.WEBHOOKS_YIELD_SECONDS <= 0:
        return False
    now = now or timezone.now()
    oldest = (Delivery.objects.filter(status=S.PENDING, next_attempt_at__lte=now).order_by("next_attempt_at")
              .values_list("next_attempt_at", flat=True).first())
    if oldest is None or (now - oldest).total_seconds() >= settings.WEBHOOKS_YIELD_SECONDS:
        return False
    return accrual_backlog()


def deliveries_by_endpoint(*, ids: list[int], size: int) -> list[list[int]]:
    """The claimed `ids` grouped per endpoint, in their order, in chunks of at most `size`: what
    one `deliver` task sends one after the other (a slow receiver delays only its own). One query."""
    endpoint_of = dict(Delivery.objects.filter(pk__in=ids).values_list("pk", "endpoint_id"))
    groups: dict[int, list[int]] = {}
    for pk in ids:
        groups.setdefault(endpoint_of.get(pk, 0), []).append(pk)
    return [g[i:i + size] for g in groups.values() for i in range(0, len(g), size)]


def deliveries_release(*, ids: list[int], claim: str, now: datetime | None = None) -> int:
    """Give back claimed deliveries of `claim` whose POST has not started (pending, due `now`), for
    the next relay run: a `deliver` task that ran out of its time budget. Returns how many."""
    now = now or timezone.now()
    return Delivery.objects.filter(pk__in=ids, claim=claim, status=S.SENDING, started_at__isnull=True).update(
        status=S.PENDING, claim="", claimed_until=None, next_attempt_at=now)


def deliveries_of_claim(*, ids: list[int], claim: str) -> dict[int, Delivery]:
    """The deliveries of `ids` still held by `claim`, with their events, by id: loaded once for a
    `deliver` task's chunk (one query). While a claim holds a delivery nothing else changes it
    (a replay waits for it; only the relay's taking back changes its claim, which every write of
    the attempt checks), so the loaded rows stay true for `delivery_send`."""
    return {d.pk: d for d in Delivery.objects.select_related("event").filter(pk__in=ids, claim=claim, status=S.SENDING)}


def delivery_send(*, delivery_id: int, claim: str, delivery: Delivery | None = None) -> Delivery | None:
    """Make the attempt a claim stands for: mark it started, POST the signed event, record the
    answer (`delivery_record`). `delivery`: the row as `deliveries_of_claim` loaded it (else it is
    read here). Returns the delivery, or None when the claim is no longer this one's (a second
    message for it, or the relay took it back): nothing is sent then. An endpoint disabled since
    the claim sends nothing and gives the delivery back (pending). The endpoint (URL, secrets,
    status) is read just before the POST. Must run outside a transaction (the POST waits on the
    network)."""
    started = timezone.now()
    if not Delivery.objects.filter(pk=delivery_id, claim=claim, status=S.SENDING, started_at__isnull=True) \
            .update(started_at=started):
        return None
    d = delivery if delivery is not None and delivery.pk == delivery_id else \
        Delivery.objects.select_related("event").get(pk=delivery_id)
    endpoint = WebhookEndpoint.objects.only("url", "secret", "previous_secret", "previous_secret_until", "status") \
        .get(pk=d.endpoint_id)
    if endpoint.status == WebhookEndpoint.Status.DISABLED:
        Delivery.objects.filter(pk=d.pk, claim=claim).update(status=S.PENDING, claim="", claimed_until=None,
                                                               started_at=None, next_attempt_at=started)
        return d
    body = signing.body_of(type=d.event.type, created_at=d.event.created_at, payload=d.event.payload)
    headers = signing.headers_for(msg_id=d.public_id, at=started, body=body, secrets_=signing_secrets(endpoint, started))
    answer = net.post(endpoint.url, body, headers)
    return delivery_record(delivery_id=d.pk, claim=claim, at=started, answer=answer, delivery=d)


@transaction.atomic
def delivery_record(*, delivery_id: int, claim: str, at: datetime, answer: net.Answer,
                    delivery: Delivery | None = None) -> Delivery | None:
    """Log the attempt of `claim` made at `at` and move the delivery on: succeeded on a 2xx (its
    endpoint, if failing, is active again), else retried on the schedule (webhooks.retry) or
    failed. `delivery`: the row as loaded under this claim (else it is read here). Returns the
    delivery, or None when the claim was taken back meanwhile (not recorded: the write of the new
    state is conditional on the claim, so the relay's taking back and this record never both win)."""
    d = delivery if delivery is not None and delivery.pk == delivery_id else \
        Delivery.objects.filter(pk=delivery_id, claim=claim, status=S.SENDING).first()
    error = answer.error or ("" if answer.ok else f"HTTP {answer.status_code}")
    if d is None or not _record(d, claim=claim, at=at, status_code=answer.status_code, error=error,
                                duration_ms=answer.duration_ms, excerpt=answer.excerpt):
        log.warning("webhook delivery %s: the claim was taken back before its answer was recorded", delivery_id)
        return None
    return d


def _record(d: Delivery, *, claim: str, at: datetime, status_code: int | None, error: str, duration_ms: int,
            excerpt: str) -> bool:
    """Set the next state of `d` (as loaded under `claim`) and append attempt number attempts + 1,
    in the caller's transaction. The state is written only while `claim` still holds the delivery
    (compare-and-set; the row stays locked until the commit): False, with nothing written, when
    it no longer does."""
    number = d.attempts + 1
    trigger = WebhookAttempt.Trigger.REPLAY if d.replay else WebhookAttempt.Trigger.AUTO
    ok = status_code is not None and 200 <= status_code < 300
    d.attempts, d.last_status_code, d.last_error = number, status_code, error[:300]
    d.claim, d.claimed_until, d.started_at = "", None, None
    mark_failing = False
    if ok:
        d.status, d.delivered_at, d.next_attempt_at = S.SUCCEEDED, at, None
    elif d.replay and (d.delivered_at is not None or d.failed_at is not None):
        # a replay of a finished delivery is one attempt: no retries, the endpoint's status stays
        d.status, d.failed_at, d.next_attempt_at = S.FAILED, at, None
    else:
        nxt = retry.next_attempt_at(failed_attempts=number, now=at, rand=random.random())
        if nxt is None:
            d.status, d.failed_at, d.next_attempt_at = S.FAILED, at, None
            mark_failing = True
        else:
            d.status, d.next_attempt_at = S.PENDING, nxt
    actor = d.replay_by
    d.replay, d.replay_by = False, ""
    fields = ["attempts", "last_status_code", "last_error", "claim", "claimed_until", "started_at", "status",
              "delivered_at", "failed_at", "next_attempt_at", "replay", "replay_by"]
    if not Delivery.objects.filter(pk=d.pk, claim=claim, status=S.SENDING).update(**{f: getattr(d, f) for f in fields}):
        return False
    WebhookAttempt.objects.create(tenant_id=d.tenant_id, delivery=d, number=number, trigger=trigger, actor=actor,
                                  at=at, status_code=status_code, error=error[:300], duration_ms=max(0, duration_ms),
                                  response_excerpt=excerpt)
    if ok:   # a success makes a failing endpoint active again
        WebhookEndpoint.objects.filter(pk=d.endpoint_id, status=WebhookEndpoint.Status.FAILING).update(
            status=WebhookEndpoint.Status.ACTIVE, failing_since=None)
    elif mark_failing:
        WebhookEndpoint.objects.filter(pk=d.endpoint_id, status=WebhookEndpoint.Status.ACTIVE).update(
            status=WebhookEndpoint.Status.FAILING, failing_since=at)
        log.warning("webhook delivery %s failed after %d attempts: endpoint %s marked failing",
                    d.public_id, number, d.endpoint_id)
    return True


@transaction.atomic
def delivery_replay(*, delivery: Delivery, actor: str = "", now: datetime | None = None) -> Delivery:
    """Deliver again (staff, or the partner): the next relay run makes a new attempt for the same
    delivery, with the same webhook-id, logged as a replay by `actor`. A succeeded or failed
    delivery gets exactly one attempt (it is not retried if it fails); a pending one is attempted
    now and, if that fails, goes on with its schedule. 409 `invalid_state` while it is being sent.
    Returns the delivery (pending)."""
    now = now or timezone.now()
    d = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if d.status == S.SENDING:
        raise InvalidState(gettext("This delivery is being sent right now; replay it once the attempt is recorded."))
    d.status, d.next_attempt_at, d.replay, d.replay_by = S.PENDING, now, True, actor[:150]
    d.save(update_fields=["status", "next_attempt_at", "replay", "replay_by"])
    oncommit.enqueue("webhooks.relay", tenant_id=d.tenant_id)   # webhooks.apps: tasks.relay_request
    return d


def replay_actor(user) -> str:
    """Who a replay is logged as: the staff username, or the partner key (`api-key:<prefix>`)."""
    if hasattr(user, "get_username"):
        return user.get_username()
    return str(user)
