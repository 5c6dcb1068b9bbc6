"""Celery tasks of the commission engine: thin, ids in, one service call, idempotent."""
from celery import shared_task
from django.db import OperationalError

from tenants.context import tenant_context

ACCRUAL_CHUNK = 200  # orders per accrual task from the batch intake


@shared_task(
    bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
    retry_backoff_max=60, max_retries=8, time_limit=120, soft_time_limit=100,
)
def accrue_order_commissions(self, *, order_id: int, tenant_id: int) -> int:
    """Compute a paid order's level 1-3 commission records (domain rules sections 4-6).

    Args: order_id, tenant_id (ints). Returns how many records this run created (0 on a replay:
    the service's lock-and-flip of `commission_state` makes duplicates impossible). Retries with
    backoff only on transient database errors.
    """
    from .services import commission_accrue_many

    with tenant_context(tenant_id):
        return len(commission_accrue_many(order_ids=[order_id]))


@shared_task(
    bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
    retry_backoff_max=60, max_retries=8, time_limit=300, soft_time_limit=280,
)
def accrue_orders_commissions(self, *, order_ids: list[int], tenant_id: int) -> int:
    """The same as `accrue_order_commissions` for a chunk of orders (the batch intake enqueues one
    per ACCRUAL_CHUNK paid orders): one transaction, bulk inserts, every rule and snapshot of the
    single path (it is the same service). Args: order_ids (list of ints), tenant_id. Returns how
    many records this run created; replays create none."""
    from .services import commission_accrue_many

    with tenant_context(tenant_id):
        return len(commission_accrue_many(order_ids=order_ids))


def accrual_enqueue(*, order_ids: list[int], tenant_id: int) -> None:
    """Send the accrual of `order_ids` to the workers: one task for one order, chunks of
    ACCRUAL_CHUNK otherwise. Call it on commit (the tasks read what the transaction wrote)."""
    if len(order_ids) == 1:
        accrue_order_commissions.delay(order_id=order_ids[0], tenant_id=tenant_id)
        return
    for i in range(0, len(order_ids), ACCRUAL_CHUNK):
        accrue_orders_commissions.delay(order_ids=order_ids[i:i + ACCRUAL_CHUNK], tenant_id=tenant_id)


@shared_task(bind=True, acks_late=True, time_limit=3600, soft_time_limit=3500)
def run_backtest(self, *, backtest_id: int, tenant_id: int) -> str:
    """Run a queued backtest (commissions.backtest.backtest_run); returns its status."""
    from .backtest import backtest_run

    with tenant_context(tenant_id):
        return backtest_run(backtest_id=backtest_id).status
