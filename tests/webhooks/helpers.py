"""Helpers of the webhook tests: subscribe, order, run the relay as beat would, read the log."""
from tenants.context import tenant_context
from tests.factories import order_json

PAID = {"status": "paid", "paid_at": "2026-01-15T10:05:00+08:00"}


def subscribe(tenant, url, events=("order.commissions_created",)):
    """(endpoint, secret) through the service."""
    from webhooks.services import endpoint_create

    with tenant_context(tenant):
        return endpoint_create(tenant=tenant, url=url, events=list(events))


def relay(tenant) -> dict:
    """One run of the relay task of `tenant` (what beat's webhooks:<slug> does every minute), called
    in this thread (not `.apply().get()`: Celery's guard against joining a result inside a task is
    process-wide, so one thread's eager delivery made another thread's `.get()` raise)."""
    from webhooks.tasks import relay_tenant

    return relay_tenant(tenant_id=tenant.pk)


def post_paid_order(partner, external_id="O1", referrer="C2", price="100.00"):
    r = partner.post("/api/v1/orders/", order_json(external_id, referrer_external_id=referrer, **PAID,
                                                   lines=[{"line_id": "1", "sku": "S", "quantity": 1,
                                                           "unit_price": price}]), format="json")
    assert r.status_code == 201, r.json()
    return r


def deliveries(tenant):
    from webhooks.models import Delivery

    with tenant_context(tenant):
        return list(Delivery.objects.order_by("id"))


def attempts(tenant):
    from webhooks.models import WebhookAttempt

    with tenant_context(tenant):
        return [(a.number, a.trigger, a.status_code, a.error) for a in WebhookAttempt.objects.order_by("delivery_id",
                                                                                                       "number")]
