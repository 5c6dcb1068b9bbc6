"""Outbound webhooks (domain rules section 10): a tenant's endpoints, one delivery per (event,
endpoint) and every attempt made to deliver it.

- WebhookEndpoint: where a partner wants events (an http(s) URL), which events, and the secret the
  relay signs with (Standard Webhooks: `whsec_` + base64). Known to the outside by `public_id`
  (`we_...`), never by its primary key, so ids tell nothing of other tenants' volume.
- Delivery: one outbox event (ledger.models.OutboxEvent) for one endpoint, unique per (event,
  endpoint). Its `public_id` (`msg_...`) is the `webhook-id` header of every attempt, retries and
  replays alike, so receivers dedupe on it.
- WebhookAttempt: one POST (or its failure to happen): when, the status code or the error, how long
  it took, the first KB of the answer.

The secret is stored as it is. The relay needs it to sign (HMAC is symmetric: a hash of it could not
sign), so it must be recoverable; encrypting it with a key kept next to it in the settings would
protect nothing the database's own access control does not. It leaves the system exactly twice:
in the answer that creates the endpoint and in the answer that rotates its secret. The API never
answers it again, the console never shows it, and the audit trail leaves it out.
"""
from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fenxiao.history import history_user
from tenants.managers import TenantOwned, tenant_fk

URL_MAX_LENGTH = 2000
SECRET_PREFIX = "whsec_"


def new_endpoint_id() -> str:
    """An endpoint's public id: "we_" + 24 random hex digits (96 bits)."""
    return "we_" + secrets.token_hex(12)


def new_delivery_id() -> str:
    """A delivery's public id and webhook-id: "msg_" + 24 random hex digits (96 bits)."""
    return "msg_" + secrets.token_hex(12)


class WebhookEndpoint(TenantOwned):
    """A partner's subscription: events of these types are POSTed, signed, to this URL."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        FAILING = "failing", _("failing")
        DISABLED = "disabled", _("disabled")

    public_id = models.CharField(_("id"), max_length=32, default=new_endpoint_id, editable=False)
    url = models.CharField(_("URL"), max_length=URL_MAX_LENGTH)
    description = models.CharField(_("description"), max_length=200, blank=True, default="")
    events = models.JSONField(_("events"), default=list, help_text=_("the event types delivered to this URL"))
    secret = models.CharField(max_length=100, editable=False)
    #: the secret before the last rotation, still signed with until `previous_secret_until`
    previous_secret = models.CharField(max_length=100, blank=True, default="", editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(get_user=history_user,
                                excluded_fields=["secret", "previous_secret", "previous_secret_until"])

    class Meta(TenantOwned.Meta):
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "public_id"], name="webhook_endpoint_public_id")]
        indexes = [models.Index(fields=["tenant", "status"], name="webhook_endpoint_status")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.url[:80]}"


class Delivery(TenantOwned):
    """One event for one endpoint, until it is delivered or has failed.

    pending    waiting for `next_attempt_at`
    sending    claimed by a relay run (`claim`, until `claimed_until`); `started_at` once the worker
               began the POST. A claim whose time ran out (a lost message, a killed worker) is
               taken again by the next relay run, with the same webhook-id
    succeeded  a 2xx answer
    failed     every attempt failed (its endpoint was marked failing), or a replay failed
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    public_id = models.CharField(_("webhook-id"), max_length=32, default=new_delivery_id, editable=False)
    endpoint = tenant_fk(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries",
                         verbose_name=_("endpoint"))
    event = tenant_fk("ledger.OutboxEvent", on_delete=models.PROTECT, related_name="+", verbose_name=_("event"))
    event_type = models.CharField(_("event type"), max_length=64)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True, default="", editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    replay = models.BooleanField(_("replay requested"), default=False)
    replay_by = models.CharField(max_length=150, blank=True, default="", editable=False)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "event", "endpoint"], name="delivery_once_per_endpoint"),
            models.UniqueConstraint(fields=["tenant", "public_id"], name="delivery_public_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "next_attempt_at"], name="delivery_tenant_due"),
            models.Index(fields=["tenant", "endpoint", "id"], name="delivery_tenant_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.event_type}"


class WebhookAttempt(TenantOwned):
    """One attempt to deliver: a POST and its answer, or why there was none."""

    class Trigger(models.TextChoices):
        AUTO = "auto", _("automatic")
        REPLAY = "replay", _("replay by staff")

    delivery = tenant_fk(Delivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery"))
    number = models.PositiveIntegerField(_("attempt"))
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.AUTO)
    actor = models.CharField(_("by"), max_length=150, blank=True, default="")
    at = models.DateTimeField(_("at"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True, default="")
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    response_excerpt = models.TextField(_("response (first 1 KB)"), blank=True, default="")

    class Meta(TenantOwned.Meta):
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery_id", "number"]
        constraints = [models.UniqueConstraint(fields=["tenant", "delivery", "number"], name="attempt_once")]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"
