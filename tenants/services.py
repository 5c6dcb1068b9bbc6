"""Writes on tenants and their API keys (domain rules section 1)."""
from __future__ import annotations

from django.db import transaction

from .models import Tenant, TenantApiKey


@transaction.atomic
def tenant_create(*, slug: str, name: str, **settings) -> Tenant:
    """Create a tenant with the given settings (others take the domain defaults). Every setting is
    validated (Django ValidationError on a bad currency, timezone, levels outside 1..3, ...).
    Schedules its periodic settlement (django-celery-beat)."""
    from ledger.services import settlement_schedule_ensure

    tenant = Tenant.objects.create(slug=slug, name=name, **settings)
    settlement_schedule_ensure(tenant=tenant)
    return tenant


@transaction.atomic
def api_key_create(*, tenant: Tenant, name: str) -> tuple[TenantApiKey, str]:
    """Create a partner API key; returns (key row, the plaintext key, shown only now)."""
    return TenantApiKey.objects.create_key(tenant=tenant, name=name)


@transaction.atomic
def api_key_revoke(*, api_key: TenantApiKey) -> None:
    api_key.revoked = True
    api_key.save(update_fields=["revoked"])
