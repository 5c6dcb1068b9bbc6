"""Periodic settlement (django-celery-beat runs one `settle_tenant` task per tenant)."""
from celery import shared_task
from django.db import OperationalError

from tenants.context import tenant_context


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             time_limit=900, soft_time_limit=840)
def settle_tenant(self, *, tenant_id: int) -> int:
    """Settle every commission of the tenant due by now (domain rules section 7). Idempotent and
    safe to run twice at once (records are locked and re-checked). Returns how many settled.
    First accrues paid orders whose accrual task went missing (commissions.services.accrual_sweep);
    then forgets Idempotency-Key answers older than 30 days (tenants.services.idempotency_purge)."""
    from commissions.services import accrual_sweep
    from tenants.models import Tenant
    from tenants.services import idempotency_purge

    from .services import settle_due

    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        accrual_sweep()
        settled = settle_due(tenant=tenant)
    idempotency_purge(tenant=tenant)
    return settled
