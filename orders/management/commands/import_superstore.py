"""`python manage.py import_superstore DIR [--tenant SLUG] [--limit N] [--now TIME] [--quiet]`

Runs the Global Superstore data (DIR holds distributors.csv, customers.csv, orders.csv, returns.csv;
see orders/superstore.py for the mapping) through the same services the API uses:

1. the tenant (created if missing: USD, Asia/Shanghai, 3 levels, rounding down, self-purchase
   commission off) and, when none is in force, a published plan L1 10% / L2 5% / L3 2% with
   category Technology at 6% / 3% / 1%, effective from 2000-01-01 UTC;
2. `distributor_register` for every distributor (parents first), `customer_bind` for every customer;
3. `orders_record_batch` (status paid) for the orders, chronologically, --chunk-size per transaction
   as `POST /orders/batch/` does; the chunked accrual tasks run on commit of each chunk (eagerly
   without a broker, on the workers with one);
4. `orders_complete_batch` at the Ship Date, then `refunds_create_batch` (by amount = the goods
   total, external id RET-<Order ID>) two days after completion for every returned order;
5. `settle_due` as of --now (default: now): commissions due by then move frozen -> available
   (domain rules section 7; with a real broker, records the workers have not written yet settle
   on the next periodic run).

Idempotent: the services answer repeats with the existing rows, so a second run creates nothing.
Ends with a summary: counts, and net commission (amount - reversed) per level.
"""
from __future__ import annotations

import contextlib
import sys
import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import APIException
from tqdm import tqdm

from commissions.models import CommissionRecord
from commissions.selectors import plan_in_force, plan_rules
from commissions.services import plan_publish
from distributors.models import Customer, Distributor
from distributors.services import DistributorInput, customer_bind, distributor_register
from fenxiao.currencies import money_str
from ledger.services import settle_due
from orders import superstore
from orders.models import Order, Refund
from orders.services import (
    LineInput, OrderInput, RefundInput, orders_complete_batch, orders_record_batch, refunds_create_batch,
)
from tenants.context import tenant_context
from tenants.models import Tenant
from tenants.services import tenant_create

ZERO = Decimal("0.00")

#: The tenant settings the data's README prescribes (checked on an existing tenant too).
TENANT_SETTINGS = {
    "currency": "USD",
    "timezone": "Asia/Shanghai",
    "levels": 3,
    "rounding": "down",
    "self_purchase_commission": False,
}
PERCENT = "percent"
DEFAULT_RULES = {1: (PERCENT, Decimal("0.1000")), 2: (PERCENT, Decimal("0.0500")), 3: (PERCENT, Decimal("0.0200"))}
CATEGORY_RULES = {
    "Technology": {1: (PERCENT, Decimal("0.0600")), 2: (PERCENT, Decimal("0.0300")), 3: (PERCENT, Decimal("0.0100"))},
}
PLAN_EFFECTIVE_FROM = datetime(2000, 1, 1, tzinfo=dt_timezone.utc)
PLAN_NAME = "Superstore 10/5/2, Technology 6/3/1"


def _plan_signature(*, default, categories) -> dict:
    """{(scope, scope value, level): (kind, Decimal value)} of a rule set, for comparing plans."""
    out = {("default", "", level): (kind, Decimal(v)) for level, (kind, v) in default.items()}
    for name, rules in categories.items():
        out.update({("category", name, level): (kind, Decimal(v)) for level, (kind, v) in rules.items()})
    return out


@contextlib.contextmanager
def _item(kind: str, external_id: str):
    """Turn a service's refusal (400/409) into a CommandError naming the row. The chunk's
    transaction rolls back; earlier chunks stay, and a rerun carries on from them (idempotent)."""
    try:
        yield
    except APIException as exc:
        raise CommandError(f"{kind} {external_id}: {exc.detail}") from exc


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Command(BaseCommand):
    help = "Import the Global Superstore data (distributors, customers, orders, returns) into a tenant through the services."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path,
                            help="directory with distributors.csv, customers.csv, orders.csv, returns.csv")
        parser.add_argument("--tenant", default="superstore", help="tenant slug (created if missing; default: superstore)")
        parser.add_argument("--tenant-name", default="Global Superstore", help="name of a tenant created by this run")
        parser.add_argument("--limit", type=int, default=None, help="import only the first N orders (chronologically)")
        parser.add_argument("--chunk-size", type=int, default=1000,
                            help="orders per transaction, as one batch request (default 1000, the batch endpoint's maximum)")
        parser.add_argument("--quiet", action="store_true", help="no progress bars")
        parser.add_argument("--now", default=None,
                            help="settle what is due as of this RFC 3339 time (with offset) at the end; default: now")

    def handle(self, *args, directory: Path, tenant: str, tenant_name: str, limit: int | None,
               chunk_size: int, quiet: bool, now: str | None = None, **options):
        missing = [name for name in superstore.FILES if not (directory / name).is_file()]
        if missing:
            raise CommandError(f"{directory}: missing {', '.join(missing)}")
        if limit is not None and limit < 0:
            raise CommandError("--limit must be >= 0")
        if chunk_size < 1:
            raise CommandError("--chunk-size must be >= 1")
        self.quiet = quiet
        settle_at = None
        if now:
            settle_at = parse_datetime(now)
            if settle_at is None or settle_at.tzinfo is None:
                raise CommandError("--now needs an RFC 3339 time with an offset, e.g. 2017-07-01T00:00:00+08:00")
        started = time.monotonic()
        try:
            distributors = superstore.read_distributors(directory)
            customers = superstore.read_customers(directory)
            orders = superstore.read_orders(directory, limit=limit)
            returned = superstore.read_returns(directory)
        except superstore.SuperstoreError as exc:
            raise CommandError(f"{directory}: {exc}") from exc

        tenant_obj = self._tenant(slug=tenant, name=tenant_name)
        with tenant_context(tenant_obj):
            before = self._counts()
            phases: dict[str, float] = {}

            @contextlib.contextmanager
            def phase(name):
                t0 = time.monotonic()
                yield
                phases[name] = time.monotonic() - t0

            self._plan(tenant_obj)
            with phase("distributors"):
                by_external_id = self._distributors(tenant_obj, distributors)
            with phase("customers"):
                self._customers(tenant_obj, customers, by_external_id)
            with phase("orders and accrual"):
                recorded = self._orders(tenant_obj, orders, chunk_size)
            with phase("completions"):
                self._complete(tenant_obj, orders, recorded, chunk_size)
            with phase("refunds"):
                self._refunds(tenant_obj, returned, recorded, chunk_size)
            with phase("settlement"):
                settled = settle_due(tenant=tenant_obj, now=settle_at)
            after = self._counts()
            self._summary(tenant_obj, before, after, time.monotonic() - started)
            self.stdout.write(f"  settled {settled} commission record(s) as of {(settle_at or 'now')}")
            self.stdout.write("  seconds: " + ", ".join(f"{name} {s:.1f}" for name, s in phases.items()))

    # -- set-up ---------------------------------------------------------------------------------

    def _tenant(self, *, slug: str, name: str) -> Tenant:
        found = Tenant.objects.filter(slug=slug).first()
        if found is None:
            return tenant_create(slug=slug, name=name, **TENANT_SETTINGS)
        wrong = [f"{k}={getattr(found, k)!r} (needs {v!r})" for k, v in TENANT_SETTINGS.items() if getattr(found, k) != v]
        if wrong:
            raise CommandError(f"Tenant {slug!r} exists with other settings: {', '.join(wrong)}. Use another --tenant.")
        return found

    def _plan(self, tenant: Tenant) -> None:
        """Publish the Superstore plan unless it is already the plan in force (else refuse)."""
        wanted = _plan_signature(default=DEFAULT_RULES, categories=CATEGORY_RULES)
        current = plan_in_force(at=timezone.now())
        if current is None:
            plan_publish(tenant=tenant, default=DEFAULT_RULES, categories=CATEGORY_RULES,
                         effective_from=PLAN_EFFECTIVE_FROM, name=PLAN_NAME)
            return
        rules = plan_rules(plan_id=current.pk)
        have = _plan_signature(
            default={lvl: (r.kind, r.value) for lvl, r in rules.default.items()},
            categories={c: {lvl: (r.kind, r.value) for lvl, r in lv.items()} for c, lv in rules.categories.items()},
        )
        if have != wanted or rules.skus:
            raise CommandError(
                f"Tenant {tenant.slug!r} has another plan in force (v{current.version}); use another --tenant."
            )

    def _bar(self, iterable, *, total: int, desc: str):
        return tqdm(iterable, total=total, desc=desc, unit="", disable=self.quiet, file=sys.stderr, leave=True)

    # -- phases ---------------------------------------------------------------------------------

    def _distributors(self, tenant: Tenant, rows: list[superstore.DistributorRow]) -> dict[str, Distributor]:
        """Register every distributor (parents first); returns them by external_id."""
        out: dict[str, Distributor] = {}
        with self._bar(rows, total=len(rows), desc="distributors") as bar, transaction.atomic():
            for row in bar:
                data = DistributorInput(
                    external_id=row.external_id, name=row.name, parent_external_id=row.parent_external_id,
                    joined_at=superstore.local_datetime(row.joined_on, datetime.min.time(), tenant.timezone),
                )
                with _item("distributor", row.external_id):
                    d, _ = distributor_register(tenant=tenant, data=data)
                out[d.external_id] = d
        return out

    def _customers(self, tenant: Tenant, rows: list[superstore.CustomerRow], by_external_id: dict[str, Distributor]) -> None:
        for row in rows:
            if row.referrer_external_id not in by_external_id:
                raise CommandError(f"customer {row.external_id}: unknown referrer {row.referrer_external_id}")
        with self._bar(rows, total=len(rows), desc="customers") as bar, transaction.atomic():
            for row in bar:
                with _item("customer", row.external_id):
                    customer_bind(tenant=tenant, external_id=row.external_id,
                                  referrer=by_external_id[row.referrer_external_id])

    def _orders(self, tenant: Tenant, rows: list[superstore.OrderRow], chunk_size: int) -> dict[str, Order]:
        """Record every order as paid, chronologically, `chunk_size` per transaction through
        `orders_record_batch` (what POST /orders/batch/ does). The accrual of each chunk's new
        orders is enqueued on its commit in tasks of ACCRUAL_CHUNK orders (run eagerly without a
        broker, by the workers with one). Any refused order rolls its chunk back."""
        recorded: dict[str, Order] = {}
        with self._bar(None, total=len(rows), desc="orders") as bar:
            for chunk in _chunks(rows, chunk_size):
                items = []
                for row in chunk:
                    at = row.placed_at(tenant.timezone)
                    items.append(OrderInput(
                        external_id=row.order_id, currency=tenant.currency, placed_at=at, paid_at=at,
                        status=Order.Status.PAID, buyer_external_id=row.customer_id,
                        lines=[
                            LineInput(line_id=line.row_id, sku=line.sku, category=line.category,
                                      quantity=line.quantity, unit_price=line.unit_price, discount=line.discount)
                            for line in row.lines
                        ],
                    ))
                with transaction.atomic():
                    for row, result in zip(chunk, orders_record_batch(tenant=tenant, items=items)):
                        with _item("order", row.order_id):
                            if isinstance(result, APIException):
                                raise result
                            recorded[row.order_id] = result[0]
                bar.update(len(chunk))
        return recorded

    def _complete(self, tenant: Tenant, rows: list[superstore.OrderRow], recorded: dict[str, Order], chunk_size: int) -> None:
        """Complete every shipped order at its Ship Date 18:00 local, in completion order,
        `chunk_size` per transaction through `orders_complete_batch`."""
        shipped = sorted((r for r in rows if r.ship_date), key=lambda r: (r.ship_date, r.order_id))
        with self._bar(None, total=len(shipped), desc="completions") as bar:
            for chunk in _chunks(shipped, chunk_size):
                items = [(recorded[row.order_id], row.completed_at(tenant.timezone)) for row in chunk]
                with transaction.atomic():
                    for row, result in zip(chunk, orders_complete_batch(tenant=tenant, items=items)):
                        with _item("order", row.order_id):
                            if isinstance(result, APIException):
                                raise result
                bar.update(len(chunk))

    def _refunds(self, tenant: Tenant, returned: list[str], recorded: dict[str, Order], chunk_size: int) -> None:
        """Refund every returned order in full (by amount = its goods total) two days after its
        completion (an order never completed counts as completed `auto_complete_days` after payment,
        domain rules section 7), in refund-time order, `chunk_size` per transaction through
        `refunds_create_batch`."""
        wanted = [order_id for order_id in returned if order_id in recorded]  # not imported: --limit
        orders = {o.external_id: o for o in Order.objects.filter(external_id__in=wanted)}
        todo = []
        for order_id in wanted:
            order = orders[order_id]
            done_at = order.completed_at or order.paid_at + timedelta(days=tenant.auto_complete_days)
            todo.append((done_at + timedelta(days=superstore.REFUND_AFTER_DAYS), order_id, order))
        todo.sort(key=lambda t: (t[0], t[1]))
        with self._bar(None, total=len(todo), desc="refunds") as bar:
            for chunk in _chunks(todo, chunk_size):
                items = [(order, RefundInput(external_id=f"RET-{order_id}", amount=order.goods_total,
                                             reason="returned (Superstore returns.csv)", refunded_at=refunded_at))
                         for refunded_at, order_id, order in chunk]
                with transaction.atomic():
                    for (_, order_id, _), result in zip(chunk, refunds_create_batch(tenant=tenant, items=items)):
                        with _item("refund of order", order_id):
                            if isinstance(result, APIException):
                                raise result
                bar.update(len(chunk))

    # -- summary --------------------------------------------------------------------------------

    def _counts(self) -> dict[str, int]:
        return {
            "distributors": Distributor.objects.count(),
            "customers": Customer.objects.count(),
            "orders": Order.objects.count(),
            "completed orders": Order.objects.filter(completed_at__isnull=False).count(),
            "refunds": Refund.objects.count(),
            "commission records": CommissionRecord.objects.count(),
        }

    def _summary(self, tenant: Tenant, before: dict[str, int], after: dict[str, int], seconds: float) -> None:
        w = self.stdout.write
        w(f"Tenant {tenant.slug} ({tenant.name}), {tenant.currency}, {seconds:.1f} s")
        w(f"  {'':<20}{'total':>10}{'new':>8}")
        for key, total in after.items():
            w(f"  {key:<20}{total:>10}{total - before[key]:>8}")
        amount = {1: ZERO, 2: ZERO, 3: ZERO}
        reversed_ = {1: ZERO, 2: ZERO, 3: ZERO}
        # Summed in Python (exact Decimals whatever the database's aggregate arithmetic).
        for level, a, r in CommissionRecord.objects.values_list("level", "amount", "reversed_amount").iterator(chunk_size=5000):
            amount[level] = amount.get(level, ZERO) + a
            reversed_[level] = reversed_.get(level, ZERO) + r
        def m(value) -> str:
            return money_str(value, tenant.currency)

        w(f"  {f'commission ({tenant.currency})':<20}{'amount':>14}{'reversed':>14}{'net':>14}")
        for level in sorted(amount):
            w(f"  {f'level {level}':<20}{m(amount[level]):>14}{m(reversed_[level]):>14}{m(amount[level] - reversed_[level]):>14}")
        total_a, total_r = sum(amount.values(), ZERO), sum(reversed_.values(), ZERO)
        w(f"  {'total':<20}{m(total_a):>14}{m(total_r):>14}{m(total_a - total_r):>14}")
        pending = Order.objects.filter(commission_state=Order.CommissionState.DUE).count()
        if pending:
            w(f"  {pending} paid orders still await their commission task (a Celery worker computes them).")
