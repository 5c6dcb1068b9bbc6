"""Celery tasks of the commission engine: thin, ids in, one service call, idempotent."""
from celery import shared_task
from django.db import OperationalError

from tenants.context import tenant_context


@shared_task(
    bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
    retry_backoff_max=60, max_retries=8, time_limit=120, soft_time_limit=100,
)
def accrue_order_commissions(self, *, order_id: int, tenant_id: int) -> int:
    """Compute a paid order's level 1-3 commission records (domain rules sections 4-6).

    Args: order_id, tenant_id (ints). Returns how many records this run created (0 on a replay:
    the service's compare-and-set makes duplicates impossible). Retries with backoff only on
    transient database errors.
    """
    from .services import commission_accrue

    with tenant_context(tenant_id):
        return len(commission_accrue(order_id=order_id))


@shared_task(bind=True, acks_late=True, time_limit=3600, soft_time_limit=3500)
def run_backtest(self, *, backtest_id: int, tenant_id: int) -> str:
    """Run a queued backtest (commissions.backtest.backtest_run); returns its status."""
    from .backtest import backtest_run

    with tenant_context(tenant_id):
        return backtest_run(backtest_id=backtest_id).status
