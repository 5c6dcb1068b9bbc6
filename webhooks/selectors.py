"""Reads of the webhooks (domain rules section 10), for the API, the console and the commands. Every
function reads the tenant in context (scoped managers) unless it says otherwise."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from .models import Delivery, WebhookAttempt, WebhookEndpoint


def endpoints() -> QuerySet[WebhookEndpoint]:
    """The tenant's endpoints, newest first."""
    return WebhookEndpoint.objects.order_by("-id")


def endpoint_by_public_id(public_id: str) -> WebhookEndpoint | None:
    """The tenant's endpoint with this public id (`we_...`), or None (also for another tenant's)."""
    return WebhookEndpoint.objects.filter(public_id=public_id).first()


def deliveries_of(endpoint: WebhookEndpoint, *, status: str | None = None) -> QuerySet[Delivery]:
    """An endpoint's deliveries, newest first, with their attempts in order (one more query per
    page), optionally only those of `status`."""
    qs = Delivery.objects.filter(endpoint=endpoint).prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number")))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def delivery_by_public_id(endpoint: WebhookEndpoint, public_id: str) -> Delivery | None:
    """The endpoint's delivery with this public id (`msg_...`: its webhook-id), or None."""
    return deliveries_of(endpoint).filter(public_id=public_id).first()


def failing_endpoints(*, tenant_id: int | None) -> list[WebhookEndpoint]:
    """The endpoints marked failing, of one tenant, or of every tenant for None (the console of a
    superuser): oldest failure first."""
    qs = WebhookEndpoint.unscoped.filter(status=WebhookEndpoint.Status.FAILING)
    if tenant_id is not None:
        qs = qs.filter(tenant_id=tenant_id)
    return list(qs.order_by("failing_since", "id"))


def tenants_with_endpoints() -> list[int]:
    """Ids of the tenants that have any endpoint (every tenant's, for operator commands)."""
    return sorted(set(WebhookEndpoint.unscoped.values_list("tenant_id", flat=True)))
