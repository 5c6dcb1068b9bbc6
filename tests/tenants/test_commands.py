from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenants.models import TenantApiKey


def test_create_api_key_prints_a_working_key_once(tenant, client):
    out = StringIO()
    call_command("create_api_key", "acme", "shop", stdout=out)
    key = out.getvalue().strip()
    row = TenantApiKey.objects.get(name="shop")
    assert row.tenant == tenant and key.startswith(row.prefix + ".")
    assert row.hashed_key != key and key not in row.hashed_key          # stored hashed only
    r = client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert r.status_code == 200 and r.json()["results"] == []


def test_create_api_key_unknown_tenant(db):
    with pytest.raises(CommandError):
        call_command("create_api_key", "nope", "x")


def test_create_tenant(db):
    from io import StringIO

    from tenants.models import Tenant

    out = StringIO()
    call_command("create_tenant", "shop", "Shop", "--currency", "USD", stdout=out)
    assert "created tenant shop (USD" in out.getvalue()
    assert Tenant.objects.get(slug="shop").currency == "USD"
    with pytest.raises(CommandError):
        call_command("create_tenant", "bad", "Bad", "--currency", "usd")
