"""Periodic incentive jobs (django-celery-beat runs one `incentives_tenant` per tenant)."""
from celery import shared_task
from django.db import OperationalError

from tenants.context import tenant_context


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             time_limit=1800, soft_time_limit=1700)
def incentives_tenant(self, *, tenant_id: int) -> dict:
    """Finalize the tenant's contests whose finalize_at has come and evaluate its tier bonus
    schemes for every month closed settle_after_days days ago (domain rules section 8). Args:
    tenant_id (int). Idempotent and safe to run twice at once (each contest and each scheme month
    is done once under a row lock and unique constraints). Returns {"contests": n, "months": n}."""
    from tenants.models import Tenant

    from .services import contests_finalize_due, tier_bonuses_evaluate_due

    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        return {"contests": contests_finalize_due(), "months": tier_bonuses_evaluate_due()}


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3,
             time_limit=600, soft_time_limit=540)
def contest_ranks_tenant(self, *, tenant_id: int) -> dict:
    """Refresh the rank snapshots of the tenant's running contests and month ranking boards that
    changed since their last one (incentives.measures.ranks_refresh; beat: `ranks:<slug>` every
    minute). Args: tenant_id (int). Safe to run twice at once (a refresh is one UPDATE whose result
    does not depend on which ran first). Returns {"contests": n, "rankings": n refreshed, "rows":
    n written}."""
    from tenants.models import Tenant

    from .services import contest_ranks_refresh_due

    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        return contest_ranks_refresh_due()
