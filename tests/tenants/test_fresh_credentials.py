"""The hot paths read the API key, its tenant, the plan in force and the portal distributor fresh on
every request (raw statements, no cache): a change takes effect on the very next request."""
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from tenants.context import tenant_context
from tests.factories import CommitAPIClient, chain, distributor, order_json

PAID = {"status": "paid", "paid_at": "2026-01-15T10:05:00+08:00"}


def test_a_deactivated_tenant_expired_key_or_wrong_secret_is_refused_at_once(tenant, partner_for):
    from tenants.models import TenantApiKey
    from tenants.services import api_key_create

    key_row, key = api_key_create(tenant=tenant, name="k")
    client = CommitAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get("/api/v1/orders/").status_code == 200
    prefix = key.partition(".")[0]
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {prefix}.not-the-secret")
    r = client.get("/api/v1/orders/")
    assert (r.status_code, r.json()["errors"][0]["detail"]) == (401, "Invalid API key.")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    TenantApiKey.objects.filter(pk=key_row.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    r = client.get("/api/v1/orders/")
    assert (r.status_code, r.json()["errors"][0]["detail"]) == (401, "API key revoked or expired.")
    TenantApiKey.objects.filter(pk=key_row.pk).update(expiry_date=None)
    assert client.get("/api/v1/orders/").status_code == 200
    type(tenant).objects.filter(pk=tenant.pk).update(is_active=False)
    assert client.get("/api/v1/orders/").status_code == 401


def test_a_plan_published_now_prices_the_next_order(tenant, partner):
    from commissions.services import plan_publish

    with tenant_context(tenant):
        chain(tenant, 2)
    r = partner.post("/api/v1/orders/", order_json("A", referrer_external_id="C1", **PAID), format="json")
    assert (r.status_code, r.json()["plan_version"]) == (201, 1)
    with tenant_context(tenant):
        plan_publish(tenant=tenant, default={1: ("percent", Decimal("0.2000"))}, name="v2")
    r = partner.post("/api/v1/orders/", order_json("B", referrer_external_id="C1", **PAID), format="json")
    assert (r.status_code, r.json()["plan_version"]) == (201, 2)
    levels = partner.get("/api/v1/orders/B/commissions/").json()
    assert [(x["level"], x["amount"]) for x in levels] == [(1, "20.00")]
    # one published for a later time is not in force yet
    with tenant_context(tenant):
        plan_publish(tenant=tenant, default={1: ("percent", Decimal("0.3000"))}, name="v3",
                     effective_from=timezone.now() + timedelta(days=1))
    r = partner.post("/api/v1/orders/", order_json("C", referrer_external_id="C1", **PAID), format="json")
    assert r.json()["plan_version"] == 2


def test_a_disabled_distributor_or_deactivated_tenant_loses_the_portal_at_once(tenant, portal_for):
    from distributors.models import Distributor

    with tenant_context(tenant):
        d = distributor(tenant, external_id="P1")
    me = portal_for(d)
    assert me.get("/api/v1/me/downlines/").status_code == 200
    Distributor.unscoped.filter(pk=d.pk).update(status="disabled")
    assert me.get("/api/v1/me/downlines/").status_code == 401
    Distributor.unscoped.filter(pk=d.pk).update(status="active")
    assert me.get("/api/v1/me/earnings/").status_code == 200
    type(tenant).objects.filter(pk=tenant.pk).update(is_active=False)
    assert me.get("/api/v1/me/earnings/").status_code == 401
