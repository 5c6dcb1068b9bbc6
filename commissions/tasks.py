"""Celery tasks of the commission engine: thin, ids in, one service call, idempotent.

How accrual reaches the workers (`accrual_enqueue`, called on commit by order intake and pay):
- one order (a single POST, a pay notification): `accrual_request` coalesces. The first order of
  a tenant sets a short-lived flag on the broker's Redis and sends one `accrue_due_orders`, due
  DRAIN_DELAY later; the orders committed while that message waits see the flag and send nothing.
  The task clears the flag, then drains every due order of the tenant in chunks
  (commissions.services.accrual_drain), so an order committed before the flag was cleared is
  drained by it and one committed after sends a new message. A worker thus runs one task per
  DRAIN_DELAY and tenant at most, whatever the rate of single orders, not one per order.
- a batch: one `accrue_orders_commissions` per ACCRUAL_CHUNK orders, by id.
- eager mode (no broker): the orders' own ids, in-process, as before.
A broker outage never fails the request (fenxiao.broker.publish): the orders stay `due` and
`sweep_tenant` (every minute, per tenant) accrues them. Exactly once whatever runs at once:
every path claims through commissions.services._claim_due.
"""
from celery import shared_task
from django.db import OperationalError

from fenxiao import broker
from tenants.context import tenant_context

ACCRUAL_CHUNK = 200  # orders per accrual task from the batch intake, and per drained chunk
DRAIN_FLAG_TTL = 10.0  # seconds: a lost drain message delays its tenant's next drain at most this long
# seconds a drain waits before it starts, so that the orders of that moment share it: at 300
# single orders/s a drain takes ~75 of them in one chunk instead of one or two (the per-task and
# per-chunk costs dominated the worker's CPU); the accrual lag grows by this much
DRAIN_DELAY = 0.25


def drain_flag(tenant_id: int) -> str:
    return f"fenxiao:accrual-drain:{tenant_id}"


@shared_task(
    bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
    retry_backoff_max=60, max_retries=8, time_limit=120, soft_time_limit=100,
)
def accrue_order_commissions(self, *, order_id: int, tenant_id: int) -> int:
    """Compute a paid order's level 1-3 commission records (domain rules sections 4-6).

    Args: order_id, tenant_id (ints). Returns how many records this run created (0 on a replay:
    the service's lock-and-flip of `commission_state` makes duplicates impossible). Retries with
    backoff only on transient database errors. (Single orders now go through
    `accrue_due_orders`; this stays for messages already queued and for direct calls.)
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


@shared_task(
    bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
    retry_backoff_max=60, max_retries=8, time_limit=120, soft_time_limit=100,
)
def accrue_due_orders(self, *, tenant_id: int) -> int:
    """Drain the tenant's due orders (commissions.services.accrual_drain: chunks of ACCRUAL_CHUNK,
    SKIP LOCKED, exactly once). Clears the tenant's drain flag first, so an order committed after
    that sends a new message (see the module's docstring). Stops after about a minute under
    continuous load and sends itself again. Args: tenant_id. Returns records created."""
    from .services import accrual_drain

    broker.clear_flag(drain_flag(tenant_id))
    with tenant_context(tenant_id):
        created, finished = accrual_drain(chunk=ACCRUAL_CHUNK, max_seconds=60.0)
    if not finished:
        broker.publish(lambda: accrue_due_orders.delay(tenant_id=tenant_id), what="accrual drain")
    return created


def accrual_request(*, tenant_id: int) -> None:
    """Ask for the tenant's due orders to be drained, coalesced: sends `accrue_due_orders` unless
    a drain message of the tenant is already waiting (the flag on the broker's Redis). Never
    raises for a broker outage (the sweep then accrues them)."""
    key = drain_flag(tenant_id)
    if broker.claim_flag(key, DRAIN_FLAG_TTL) is False:
        return  # a drain is pending: it clears the flag before it reads, so it will see this order
    if not broker.publish(lambda: accrue_due_orders.apply_async(kwargs={"tenant_id": tenant_id},
                                                                countdown=DRAIN_DELAY), what="accrual drain"):
        broker.clear_flag(key)


def accrual_enqueue(*, order_ids: list[int], tenant_id: int) -> None:
    """Send the accrual of `order_ids` (paid orders of `tenant_id`, committed) to the workers:
    one order is coalesced with the tenant's others (`accrual_request`), more go as chunks of
    ACCRUAL_CHUNK. Eager mode (no broker) accrues exactly these ids in-process. Call it on commit
    (the tasks read what the transaction wrote). Never raises for a broker outage: the orders stay
    `due` and the sweep accrues them (fenxiao.broker)."""
    if len(order_ids) == 1 and not broker.broker_is_eager():
        accrual_request(tenant_id=tenant_id)
        return
    if len(order_ids) == 1:
        accrue_order_commissions.delay(order_id=order_ids[0], tenant_id=tenant_id)
        return
    for i in range(0, len(order_ids), ACCRUAL_CHUNK):
        chunk = order_ids[i:i + ACCRUAL_CHUNK]
        if not broker.publish(lambda: accrue_orders_commissions.delay(order_ids=chunk, tenant_id=tenant_id),
                              what="accrual chunk"):
            return  # the broker is down: the sweep takes the rest too


@shared_task(bind=True, acks_late=True, time_limit=3600, soft_time_limit=3500)
def run_backtest(self, *, backtest_id: int, tenant_id: int) -> str:
    """Run a queued backtest (commissions.backtest.backtest_run); returns its status."""
    from .backtest import backtest_run

    with tenant_context(tenant_id):
        return backtest_run(backtest_id=backtest_id).status


def backtest_enqueue(*, backtest_id: int, tenant_id: int) -> bool:
    """Send a queued backtest to the workers; False when the broker is down (it stays `queued` and
    `sweep_tenant` sends it again). Call on commit."""
    return broker.publish(lambda: run_backtest.delay(backtest_id=backtest_id, tenant_id=tenant_id),
                          what="backtest")


SWEEP_AFTER_SECONDS = 30  # work older than this whose message may be lost is taken by the sweep


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3,
             time_limit=600, soft_time_limit=570)
def sweep_tenant(self, *, tenant_id: int) -> dict:
    """Every minute per tenant (django-celery-beat, `sweep:<slug>`): accrue the tenant's orders
    still `due` SWEEP_AFTER_SECONDS after they became due, and send again the backtests still
    `queued` that long after they were created (their message was lost to a broker outage).
    Idempotent and safe next to everything else (exactly-once claims; a backtest runs once: its
    queued -> running flip). Args: tenant_id. Returns {"records": n, "backtests": n}."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import Backtest
    from .services import accrual_sweep

    with tenant_context(tenant_id):
        records = accrual_sweep(older_than=timedelta(seconds=SWEEP_AFTER_SECONDS))
        stale = list(Backtest.objects.filter(
            status=Backtest.Status.QUEUED, created_at__lt=timezone.now() - timedelta(seconds=SWEEP_AFTER_SECONDS),
        ).values_list("pk", flat=True))
    sent = sum(backtest_enqueue(backtest_id=pk, tenant_id=tenant_id) for pk in stale)
    return {"records": records, "backtests": sent}
