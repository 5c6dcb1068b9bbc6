"""Order intake and its state machine, and refunds (domain rules sections 3, 4 and 6).

`order_record` is idempotent on (tenant, external_id): the same content returns the existing
order, other content raises Conflict (409), also when both arrive at once. When an order becomes
paid, the commission task is enqueued on commit (Celery; eager without a broker).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from commissions import arithmetic as ar
from commissions.services import commission_accrue, commission_reverse_for_refund, order_attribution
from fenxiao import oncommit
from fenxiao.bulk import bulk_insert, insert_rows, insert_with_children, instance, update_rows
from fenxiao.currencies import fits, minor_units, money_str
from rest_framework.exceptions import APIException

from distributors.models import Distributor
from fenxiao.exceptions import Conflict, InvalidState, invalid
from fenxiao.validators import channel_message, channel_ok
from tenants.models import Tenant

from .models import Order, OrderLine, Refund, RefundLine
# An order as posted and its validation: one home, shared with the commission preview.
from .validation import LineInput, OrderInput, order_validate, places_error

ZERO = Decimal("0.00")


_ORDER_FIELDS = tuple(f.name for f in fields(OrderInput))
_LINE_FIELDS = tuple(f.name for f in fields(LineInput))


def order_payload(data: OrderInput) -> dict:
    """dataclasses.asdict(data) without its deep copies (the same dict: the same content hash).
    An empty `channel` (none given) is left out, so the hash of an order without a channel is the
    one it had before orders carried channels: its replays stay 200 (a channel given to a replay of
    an order recorded without one is other content: 409)."""
    payload = {f: getattr(data, f) for f in _ORDER_FIELDS}
    if not payload["channel"]:
        del payload["channel"]
    payload["lines"] = [{f: getattr(line, f) for f in _LINE_FIELDS} for line in data.lines]
    return payload


def _canonical_scalar(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.astimezone(dt_timezone.utc).isoformat()
    raise TypeError(f"{type(value).__name__} is not part of an order's content")


def content_hash(payload: dict) -> str:
    """SHA-256 of a canonical JSON form (decimals normalised, times in UTC): equal content, equal hash.

    The encoder converts decimals and times itself (`_canonical_scalar`), so the payload is never
    rebuilt; tests/orders/test_content_hash.py pins a digest and compares with the original
    definition (a canonical copy of the payload, then json.dumps), so stored hashes stay valid."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=_canonical_scalar).encode()).hexdigest()


def _enqueue_accrual(orders: list[Order]) -> None:
    """On commit, send the accrual of the `due` ones among `orders` (one tenant's) to the workers
    (commissions.tasks.accrual_enqueue, registered as "commissions.accrue": fenxiao.oncommit)."""
    order_ids = [o.pk for o in orders if o.commission_state == Order.CommissionState.DUE]
    if order_ids:
        oncommit.enqueue("commissions.accrue", order_ids=order_ids, tenant_id=orders[0].tenant_id)


def _same_or_conflict(existing: Order, digest: str) -> tuple[Order, bool]:
    if existing.content_hash != digest:
        raise Conflict(gettext("Order %(id)r exists with different content.") % {"id": existing.external_id})
    return existing, False


def order_record(*, tenant: Tenant, data: OrderInput) -> tuple[Order, bool]:
    """Record a partner order; returns (order, created).

    Validates against the tenant: currency (an exchange_rate is required when it differs from the
    tenant's and must be absent or 1 otherwise), a known referrer, lines and amounts (400 on any
    of them). Computes the commission base (domain rules section 4) and fixes the plan and the
    beneficiary chain (section 3). A `paid` order gets its commissions computed by a task enqueued
    on commit. A new order carries its saved lines as `order.new_lines` (and its referrer and plan
    cached), so the answer needs no query. Same external_id: same content returns the existing order (created False), other
    content raises Conflict (409); concurrent duplicates resolve the same way.
    """
    from commissions.selectors import plan_in_force

    digest = content_hash(order_payload(data))
    existing = _by_external_id(data.external_id)
    if existing is not None:
        return _same_or_conflict(existing, digest)

    referrer, rate, _lines, base = order_validate(tenant=tenant, data=data)
    at = timezone.now()
    plan = plan_in_force(at=at)
    plan_id, snapshot, attributed_to_id = order_attribution(
        tenant=tenant, referrer=referrer, buyer_external_id=data.buyer_external_id, at=at, plan=plan
    )
    order, lines = _order_rows(tenant=tenant, data=data, digest=digest, referrer=referrer, rate=rate, base=base,
                               attribution=(plan_id, snapshot, attributed_to_id))
    if plan is not None:
        Order.plan.field.set_cached_value(order, plan)  # the answer's plan_version, without a query
    try:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # one statement (order and lines), atomic and committed on its own: no BEGIN / COMMIT
            # round trips; the accrual is enqueued after it, as on commit
            insert_with_children(order, lines, fk="order_id")
            _enqueue_accrual([order])
        else:
            with transaction.atomic():
                insert_rows(Order, [order])
                insert_rows(OrderLine, lines, returning=False)
                _enqueue_accrual([order])
    except IntegrityError:
        existing = _by_external_id(data.external_id)
        if existing is None:
            raise
        return _same_or_conflict(existing, digest)
    order.new_lines = lines  # the saved lines, for the answer (orders.api.serializers.new_order_body)
    return order, True


def _order_rows(*, tenant, data: OrderInput, digest: str, referrer, rate, base, attribution) -> tuple[Order, list[OrderLine]]:
    """The unsaved Order and OrderLine rows of a validated order (shared by single and batch)."""
    plan_id, snapshot, attributed_to_id = attribution
    order = instance(
        Order, tenant=tenant, external_id=data.external_id, referrer=referrer, buyer_external_id=data.buyer_external_id,
        channel=data.channel, currency=data.currency, exchange_rate=rate, placed_at=data.placed_at, paid_at=data.paid_at,
        status=data.status, discount=data.discount, shipping=data.shipping, tax=data.tax,
        non_cash_amount=data.non_cash_amount, goods_total=base.goods_total,
        base_order_currency=base.base_order_currency, commission_base=base.commission_base,
        net_base=base.commission_base, attributed_to_id=attributed_to_id,
        plan_id=plan_id, attribution=snapshot, content_hash=digest,
        commission_state=Order.CommissionState.DUE if data.status == Order.Status.PAID else Order.CommissionState.NONE,
    )
    lines = [
        instance(
            OrderLine, tenant=tenant, order=order, line_id=l.line_id, sku=l.sku, category=l.category,
            quantity=l.quantity, unit_price=l.unit_price, discount=l.discount, commissionable=l.commissionable,
            discount_share=base.discount_shares.get(l.line_id, ZERO),
            non_cash_share=base.non_cash_shares.get(l.line_id, ZERO),
            net=base.line_nets.get(l.line_id, ZERO),
        )
        for l in data.lines
    ]
    return order, lines


def orders_record_batch(*, tenant: Tenant, items: list[OrderInput]) -> list[tuple[Order, bool] | APIException]:
    """Record many partner orders at once with bulk inserts; one result per item, in order.

    Each result is what `order_record` would give for that item had the items been posted one by
    one in this order: (order, True) new, (order, False) a replay of the same content (of an order
    recorded before or earlier in this batch), or the exception it would raise (Conflict 409,
    ValidationError 400); an item that fails writes nothing and never blocks the others. The
    valid new orders are written in one transaction (orders, then lines, a constant number of
    queries whatever the batch's size) and their commissions computed by chunked tasks enqueued
    on commit. If a concurrent request records one of the same external_ids first, the new items
    are recorded one by one instead, so the answers stay exactly those of `order_record`.
    Domain rules sections 3 and 4.
    """
    from commissions.services import CHAIN_FIELDS, order_attributions

    digests = [content_hash(order_payload(d)) for d in items]
    ids = {d.external_id for d in items}
    existing = {o.external_id: o for o in Order.objects.filter(external_id__in=ids).only("id", "external_id", "content_hash")}
    ref_ids = {d.referrer_external_id for d in items if d.referrer_external_id}
    referrers = {d.external_id: d for d in Distributor.objects.filter(external_id__in=ref_ids).only(*CHAIN_FIELDS)} if ref_ids else {}
    results: list = [None] * len(items)
    fresh: dict[str, int] = {}  # external_id -> index of the item that records it in this batch
    validated = []
    for i, (data, digest) in enumerate(zip(items, digests)):
        try:
            if data.external_id in existing:
                results[i] = _same_or_conflict(existing[data.external_id], digest)
            elif data.external_id in fresh:
                first = fresh[data.external_id]
                if digests[first] != digest:
                    raise Conflict(gettext("Order %(id)r exists with different content.") % {"id": data.external_id})
                results[i] = first  # resolved to (order, False) once it is inserted
            else:
                referrer, rate, _lines, base = order_validate(tenant=tenant, data=data, referrers=referrers)
                fresh[data.external_id] = i
                validated.append((i, data, digest, referrer, rate, base))
        except APIException as exc:
            results[i] = exc
    if validated:
        attributions = order_attributions(tenant=tenant, orders=[(v[3], v[1].buyer_external_id) for v in validated],
                                          at=timezone.now())
        new_orders, new_lines = [], []
        for (i, data, digest, referrer, rate, base), attribution in zip(validated, attributions):
            order, lines = _order_rows(tenant=tenant, data=data, digest=digest, referrer=referrer, rate=rate, base=base,
                                       attribution=attribution)
            new_orders.append(order)
            new_lines.extend(lines)
        try:
            with transaction.atomic():
                bulk_insert(Order, new_orders)
                bulk_insert(OrderLine, new_lines)  # order_id from the saved orders
                _enqueue_accrual(new_orders)
        except IntegrityError:
            return [r if isinstance(r, APIException) else _record_or_error(tenant, items[i])
                    for i, r in enumerate(results)]
        for (i, *_), order in zip(validated, new_orders):
            results[i] = (order, True)
        for i, r in enumerate(results):
            if isinstance(r, int):
                results[i] = (results[r][0], False)
    return results


_EXISTING_FIELDS = ("id", "external_id", "content_hash")


def _by_external_id(external_id: str) -> Order | None:
    """The tenant's order with `external_id` (unique per tenant), or None; only its id,
    external_id and content_hash are loaded (the rest is deferred). One raw statement: compiling
    the queryset cost more than running it on the single order POST."""
    from fenxiao.bulk import from_row, query, select_sql
    from tenants.context import get_current_tenant_id, is_all_tenants

    if is_all_tenants():  # the explicit cross-tenant scope: the scoped queryset
        return Order.objects.filter(external_id=external_id).only(*_EXISTING_FIELDS).order_by().first()
    sql = _EXISTING_SQL.get("sql")
    if sql is None:
        sql = _EXISTING_SQL["sql"] = (f"SELECT {select_sql(Order, '', fields=_EXISTING_FIELDS)} FROM "
                                      f"{Order._meta.db_table} WHERE tenant_id = %s AND external_id = %s")
    rows = query(sql, [get_current_tenant_id(), external_id])
    return from_row(Order, rows[0], fields=_EXISTING_FIELDS) if rows else None


_EXISTING_SQL: dict = {}


def _record_or_error(tenant, data: OrderInput):
    try:
        return order_record(tenant=tenant, data=data)
    except APIException as exc:
        return exc


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().select_related("tenant").get(pk=order.pk)


@transaction.atomic
def order_pay(*, order: Order, paid_at: datetime) -> Order:
    """pending -> paid at `paid_at`; enqueues the commission task on commit.

    Repeated notifications for a paid (or later) order change nothing and return it.
    Raises InvalidState (409) for a cancelled order and 400 when paid_at precedes placed_at.
    """
    order = _locked(order)
    if order.status == Order.Status.CANCELLED:
        raise InvalidState(gettext("A cancelled order cannot be paid."))
    if order.status != Order.Status.PENDING:
        return order
    if paid_at < order.placed_at:
        raise invalid("paid_at", gettext("paid_at is before placed_at."), "invalid")
    order.status = Order.Status.PAID
    order.paid_at = paid_at
    order.commission_state = Order.CommissionState.DUE
    order.save(update_fields=["status", "paid_at", "commission_state", "updated_at"])
    _enqueue_accrual([order])
    return order


@transaction.atomic
def order_cancel(*, order: Order, cancelled_at: datetime | None = None) -> Order:
    """pending -> cancelled (no commissions ever). Idempotent; a paid order answers 409 (refund it)."""
    order = _locked(order)
    if order.status == Order.Status.CANCELLED:
        return order
    if order.status != Order.Status.PENDING:
        raise InvalidState(gettext("Only a pending order can be cancelled; refund a paid one."))
    if cancelled_at is not None and cancelled_at < order.placed_at:
        raise invalid("cancelled_at", gettext("cancelled_at is before placed_at."), "invalid")
    order.status = Order.Status.CANCELLED
    order.cancelled_at = cancelled_at or timezone.now()
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    return order


def _complete(order: Order, completed_at: datetime) -> bool:
    """Apply the completion rules to a locked `order` in memory: True when it changed (paid ->
    completed at `completed_at`; a partially refunded order keeps its status), False when it was
    already completed (idempotent). Raises InvalidState (409) for a pending, cancelled or fully
    refunded order, 400 for completed_at before paid_at or more than a day in the future; raises
    before changing anything. Shared by `order_complete` and `orders_complete_batch`."""
    if order.completed_at is not None:
        return False
    if order.status not in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED):
        raise InvalidState(gettext("An order in status %(status)r cannot be completed.") % {"status": order.status})
    if completed_at < order.paid_at:
        raise invalid("completed_at", gettext("completed_at is before paid_at."), "invalid")
    if completed_at > timezone.now() + timedelta(days=1):
        raise invalid("completed_at", gettext("completed_at is in the future."), "in_future")
    order.completed_at = completed_at
    if order.status == Order.Status.PAID:
        order.status = Order.Status.COMPLETED
    return True


@transaction.atomic
def order_complete(*, order: Order, completed_at: datetime) -> Order:
    """Mark a paid order completed at `completed_at` (starts the settle window, domain rules 7).

    Idempotent for a completed order. Pending, cancelled or fully refunded orders: 409;
    completed_at before paid_at: 400. Its commission records not yet settled get settles_at =
    completed_at + settle_after_days.
    """
    order = _locked(order)
    if not _complete(order, completed_at):
        return order
    order.save(update_fields=["status", "completed_at", "updated_at"])
    from commissions.models import CommissionRecord
    from commissions.services import settles_at_for

    # records already settled (by the auto-complete rule) keep their settlement
    CommissionRecord.objects.filter(order=order, settled_at__isnull=True).update(
        settles_at=settles_at_for(tenant=order.tenant, order=order))
    return order


def orders_complete_batch(*, tenant: Tenant, items: list[tuple[Order, datetime]]) -> list[Order | APIException]:
    """Complete many orders at once; one result per item, in order.

    Args: `items` = [(order of the tenant in context, completed_at aware datetime)]. Each result is
    what `order_complete` would give for that item had the items been completed one by one in
    this order: the order (completed now, or already completed: idempotent) or the exception it
    would raise (InvalidState 409 for a pending, cancelled or fully refunded order; 400 for
    completed_at before paid_at or in the future); a failing item writes nothing and never blocks
    the others. The orders are locked in primary-key order, then written with a constant number of
    queries whatever their number (lock, the orders, their unsettled records' settles_at =
    completed_at + settle_after_days). Raises Order.DoesNotExist for an order not in the tenant.
    Domain rules section 7 (the settle window starts at completion).
    """
    if not items:
        return []
    with transaction.atomic():
        return _complete_batch(tenant, items)


def _complete_batch(tenant: Tenant, items: list[tuple[Order, datetime]]) -> list[Order | APIException]:
    from commissions.models import CommissionRecord
    from commissions.services import settles_at_for

    ids = sorted({order.pk for order, _ in items})
    locked = {o.pk: o for o in Order.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")}
    if len(locked) != len(ids):
        raise Order.DoesNotExist(f"No order with id {min(set(ids) - set(locked))} in this tenant.")
    results: list[Order | APIException] = []
    changed: dict[int, Order] = {}
    for order, completed_at in items:
        row = locked[order.pk]
        try:
            if _complete(row, completed_at):
                changed[row.pk] = row
            results.append(row)
        except APIException as exc:
            results.append(exc)
    if changed:
        now = timezone.now()
        rows = [changed[pk] for pk in sorted(changed)]
        for o in rows:
            o.updated_at = now
        update_rows(Order, fields=("status", "completed_at", "updated_at"), keys=("id", "tenant_id"),
                    rows=[(o.status, o.completed_at, now, o.pk, tenant.pk) for o in rows])
        # records already settled (by the auto-complete rule) keep their settlement
        update_rows(CommissionRecord, fields=("settles_at",), keys=("order_id", "tenant_id"), condition="settled_at IS NULL",
                    rows=[(settles_at_for(tenant=tenant, order=o), o.pk, tenant.pk) for o in rows])
    return results


@dataclass(frozen=True)
class RefundInput:
    """A refund as posted: goods by `amount` (order currency) or by `lines` [(line_id, quantity)]."""

    external_id: str
    amount: Decimal | None = None
    lines: list[tuple[str, int]] = field(default_factory=list)
    shipping: Decimal = ZERO
    tax: Decimal = ZERO
    reason: str = ""
    refunded_at: datetime | None = None


REFUNDABLE = (Order.Status.PAID, Order.Status.COMPLETED, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDED)


def _refund_digest(order_external_id: str, data: RefundInput) -> str:
    """The content hash of a refund (its order's external_id included; refunded_at not)."""
    payload = asdict(data)
    payload.pop("refunded_at")
    payload["order"] = order_external_id
    return content_hash(payload)


def _same_refund_or_conflict(existing: Refund, order: Order, digest: str) -> tuple[Refund, bool]:
    if existing.order_id != order.pk or existing.content_hash != digest:
        raise Conflict(gettext("Refund %(id)r exists with different content.") % {"id": existing.external_id})
    return existing, False


@dataclass
class _RefundChange:
    """What one refund does, worked out in memory by `_refund_apply`: the unsaved refund, the
    lines it refunds by quantity [(order line, quantity)], and the factors left per line_id
    (None when it refunds no goods: no commission moves)."""

    refund: Refund
    lines: list[tuple[OrderLine, int]]
    factors: dict | None
    old_base: Decimal = ZERO   # the order's commission base kept, before and after (tenant currency)
    new_base: Decimal = ZERO


def _refund_apply(*, order: Order, order_lines: dict[str, OrderLine], data: RefundInput, digest: str) -> _RefundChange:
    """The rules of refunding a locked, refundable `order` (its lines by line_id, in primary-key
    order) with `data`: raises the 400s of `refund_create` before changing anything, then applies
    the refund to the order and line instances in memory (refunded quantities and amounts, refund
    mode, net base, status) and returns the change. Shared by `refund_create` and
    `refunds_create_batch`. Domain rules section 6."""
    places = minor_units(order.currency)
    for name in ("amount", "shipping", "tax"):
        value = getattr(data, name)
        if value is not None and not fits(value, places):
            raise places_error(name, order.currency, places)
    by_lines = bool(data.lines)
    if by_lines == (data.amount is not None):
        raise invalid(None, gettext("Give either amount or lines (amount 0 for a shipping/tax-only refund)."), "amount_or_lines")
    kind = Refund.Kind.LINES if by_lines else Refund.Kind.AMOUNT
    goods_refund = by_lines or data.amount > 0
    if goods_refund and order.refund_mode and order.refund_mode != kind:
        raise invalid("lines" if by_lines else "amount",
                      gettext("This order was refunded by %(mode)s before; refund it the same way.") % {"mode": order.refund_mode},
                      "refund_mode_mismatch")
    if data.shipping > order.shipping - order.refunded_shipping:
        raise invalid("shipping", gettext("Shipping refund exceeds the shipping left to refund (%(amount)s %(currency)s).") % {
            "amount": money_str(order.shipping - order.refunded_shipping, order.currency), "currency": order.currency},
            "over_refund")
    if data.tax > order.tax - order.refunded_tax:
        raise invalid("tax", gettext("Tax refund exceeds the tax left to refund (%(amount)s %(currency)s).") % {
            "amount": money_str(order.tax - order.refunded_tax, order.currency), "currency": order.currency}, "over_refund")

    if by_lines:
        seen = set()
        for line_id, qty in data.lines:
            line = order_lines.get(line_id)
            if line is None:
                raise invalid("lines", gettext("Unknown line_id %(id)r.") % {"id": line_id}, "unknown_line")
            if line_id in seen:
                raise invalid("lines", gettext("line_id %(id)r appears twice.") % {"id": line_id}, "duplicate_line")
            seen.add(line_id)
            if qty > line.quantity - line.refunded_quantity:
                raise invalid("lines", gettext("Line %(id)r: only %(left)s left to refund.") % {
                    "id": line_id, "left": line.quantity - line.refunded_quantity}, "over_refund")
        if not goods_refund and data.shipping == 0 and data.tax == 0:
            raise invalid(None, gettext("The refund refunds nothing."), "empty_refund")
    else:
        if data.amount > order.goods_total - order.refunded_amount:
            raise invalid("amount", gettext("Only %(amount)s %(currency)s of goods left to refund.") % {
                "amount": money_str(order.goods_total - order.refunded_amount, order.currency), "currency": order.currency},
                "over_refund")
        if data.amount == 0 and data.shipping == 0 and data.tax == 0:
            raise invalid(None, gettext("The refund refunds nothing."), "empty_refund")

    refund = instance(
        Refund, tenant=order.tenant, order=order, external_id=data.external_id, kind=kind,
        amount=data.amount if not by_lines else ZERO, shipping=data.shipping, tax=data.tax,
        reason=data.reason, refunded_at=data.refunded_at or timezone.now(), content_hash=digest,
    )
    refunded_lines = []
    if by_lines:
        for line_id, qty in data.lines:
            line = order_lines[line_id]
            line.refunded_quantity += qty
            refunded_lines.append((line, qty))
        quantities = {l.line_id: l.quantity for l in order_lines.values()}
        refunded = {l.line_id: l.refunded_quantity for l in order_lines.values()}
        factors = ar.refund_factors_by_lines(quantities, refunded)
        fully = all(l.refunded_quantity == l.quantity for l in order_lines.values())
        # the goods money these units are worth, shown on the refund; order.refunded_amount keeps
        # the running total, so refunding every unit refunds exactly the goods total
        goods_after = ar.refunded_goods(
            order.goods_total, {l.line_id: l.amount - l.discount_share for l in order_lines.values()},
            quantities, refunded, places)
        refund.amount = goods_after - order.refunded_amount
        order.refunded_amount = goods_after
    else:
        order.refunded_amount += data.amount
        factor = ar.refund_factor_by_amount(order.goods_total, order.refunded_amount)
        factors = {lid: factor for lid in order_lines}
        fully = order.refunded_amount == order.goods_total and order.goods_total > 0
    if order.refund_mode == Refund.Kind.LINES and not by_lines:
        fully = all(l.refunded_quantity == l.quantity for l in order_lines.values())
    old_base = order.net_base
    if goods_refund:
        order.refund_mode = kind
        order.net_base = ar.remaining_base(
            {l.line_id: l.net for l in order_lines.values() if l.commissionable}, factors, order.exchange_rate,
            minor_units(order.tenant.currency),
        )
    order.refunded_shipping += data.shipping
    order.refunded_tax += data.tax
    if goods_refund or order.status != Order.Status.REFUNDED:  # leftover shipping/tax keep "refunded"
        order.status = Order.Status.REFUNDED if fully else Order.Status.PARTIALLY_REFUNDED
    return _RefundChange(refund=refund, lines=refunded_lines, factors=factors if goods_refund else None,
                         old_base=old_base, new_base=order.net_base)


def _figures(tenant: Tenant, changes: list[tuple[Order, _RefundChange]], reversals) -> None:
    """The incentive figures of refunds that refunded goods, in the order they were made
    (incentives.figures, domain rules 8): each order's kept base from change.old_base to
    change.new_base, each level less its reversal."""
    from incentives.figures import RefundedOrder, figures_on_refunds

    figures_on_refunds(tenant=tenant, refunds=[
        RefundedOrder(order.pk, order.paid_at, change.old_base, change.new_base,
                      {r.record.level: r.amount for r in reversals if r.refund is change.refund})
        for order, change in changes])


def _refund_risk(tenant: Tenant, orders: list[Order]) -> None:
    """Refund-rate holds (domain rules 11) on the distributors these goods refunds were attributed
    to, when the tenant has the rule on (one query for the figures, risk.services decides)."""
    if tenant.risk_max_refund_rate is None:
        return
    ids = {o.attributed_to_id for o in orders if o.attributed_to_id is not None}
    if not ids:
        return
    from risk.rules import REFUND_WINDOW
    from risk.services import risk_assess_refunds

    from .selectors import attributed_refund_figures

    since = timezone.now() - REFUND_WINDOW
    risk_assess_refunds(tenant=tenant, figures=attributed_refund_figures(distributor_ids=ids, since=since), since=since)


def _refundable(order: Order) -> None:
    if order.status not in REFUNDABLE:
        raise InvalidState(gettext("An order in status %(status)r cannot be refunded.") % {"status": order.status})


REFUND_ORDER_FIELDS = ["refund_mode", "net_base", "refunded_amount", "refunded_shipping", "refunded_tax", "status", "updated_at"]


@transaction.atomic
def refund_create(*, order: Order, data: RefundInput) -> tuple[Refund, bool]:
    """Refund part or all of a paid order and reverse every commission level accordingly.

    Returns (refund, created). Idempotent on the refund's external_id (same content: the existing
    refund; other content or another order: 409). 400 when: both or neither of amount/lines are
    given (a shipping/tax-only refund passes amount 0), a line is unknown or repeated, a quantity
    or amount exceeds what remains refundable, shipping or tax exceed what remains, or the order was
    refunded the other way before (by lines vs by amount), an amount is not a whole number of the
    order currency's minor units. 409 for an unpaid or cancelled order. A refund by lines records
    the goods money its units are worth (`arithmetic.refunded_goods`, order currency) as its
    `amount` and in the order's `refunded_amount`. The incentive figures follow (domain rules 8).
    Domain rules section 6.
    """
    digest = _refund_digest(order.external_id, data)
    order = _locked(order)
    existing = Refund.objects.filter(external_id=data.external_id).first()
    if existing is not None:
        return _same_refund_or_conflict(existing, order, digest)
    _refundable(order)
    if order.commission_state == Order.CommissionState.DUE:
        commission_accrue(order_id=order.pk)  # the task may not have run yet: accrue first
    order_lines = {l.line_id: l for l in order.lines.all()}
    change = _refund_apply(order=order, order_lines=order_lines, data=data, digest=digest)
    refund = change.refund
    try:
        with transaction.atomic():
            refund.save(force_insert=True)
    except IntegrityError:
        raise Conflict(gettext("Refund %(id)r exists with different content.") % {"id": data.external_id}) from None
    if change.lines:
        RefundLine.objects.bulk_create([
            RefundLine(tenant=order.tenant, refund=refund, line=line, quantity=q) for line, q in change.lines
        ])
        OrderLine.objects.bulk_update([line for line, _ in change.lines], ["refunded_quantity"])
    if change.factors is not None:
        _figures(order.tenant, [(order, change)],
                 commission_reverse_for_refund(order=order, refund=refund, factors=change.factors))
    order.save(update_fields=REFUND_ORDER_FIELDS)
    if change.factors is not None:
        _refund_risk(order.tenant, [order])
    return refund, True


def refunds_create_batch(*, tenant: Tenant, items: list[tuple[Order, RefundInput]]) -> list[tuple[Refund, bool] | APIException]:
    """Create many refunds at once; one result per item, in order.

    Args: `items` = [(order of the tenant in context, RefundInput)]; several may refund the same
    order. Each result is what `refund_create` would give for that item had the items been posted
    one by one in this order: (refund, True) new, (refund, False) a replay of a refund recorded
    before or earlier in this batch, or the exception it would raise (Conflict or InvalidState 409,
    ValidationError 400); a failing item writes nothing and never blocks the others. The orders
    are locked in primary-key order, their due accruals run first (as `refund_create` does), and
    everything is written in one transaction with a constant number of queries whatever the
    number of items (refunds, refund lines, order lines, orders, and through
    `commission_reverse_for_refunds` the reversals, records, ledger and events). If a concurrent
    request records one of the same refund external_ids first, the items are created one by one
    instead, so the answers stay exactly those of `refund_create`. Raises Order.DoesNotExist for an
    order not in the tenant. Domain rules section 6.
    """
    if not items:
        return []
    try:
        with transaction.atomic():
            return _refunds_batch(tenant, items)
    except IntegrityError:
        return [_refund_or_error(order, data) for order, data in items]


def _refund_or_error(order: Order, data: RefundInput):
    try:
        return refund_create(order=order, data=data)
    except APIException as exc:
        return exc


def _refunds_batch(tenant: Tenant, items: list[tuple[Order, RefundInput]]) -> list[tuple[Refund, bool] | APIException]:
    from commissions.services import commission_accrue_many, commission_reverse_for_refunds

    digests = [_refund_digest(order.external_id, data) for order, data in items]
    ids = sorted({order.pk for order, _ in items})
    locked = {o.pk: o for o in Order.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")}
    if len(locked) != len(ids):
        raise Order.DoesNotExist(f"No order with id {min(set(ids) - set(locked))} in this tenant.")
    for o in locked.values():
        o.tenant = tenant
    refunds = {r.external_id: r for r in Refund.objects.filter(external_id__in={data.external_id for _, data in items})}
    lines_of: dict[int, dict[str, OrderLine]] = {pk: {} for pk in ids}
    for line in OrderLine.objects.filter(order_id__in=ids).order_by("pk"):
        lines_of[line.order_id][line.line_id] = line
    results: list = [None] * len(items)
    changes: list[tuple[Order, _RefundChange]] = []
    for i, ((ref, data), digest) in enumerate(zip(items, digests)):
        order = locked[ref.pk]
        try:
            if data.external_id in refunds:  # recorded before, or earlier in this batch
                results[i] = _same_refund_or_conflict(refunds[data.external_id], order, digest)
                continue
            _refundable(order)
            change = _refund_apply(order=order, order_lines=lines_of[order.pk], data=data, digest=digest)
        except APIException as exc:
            results[i] = exc
            continue
        refunds[data.external_id] = change.refund
        changes.append((order, change))
        results[i] = (change.refund, True)
    if not changes:
        return results
    due = sorted({o.pk for o, _ in changes if o.commission_state == Order.CommissionState.DUE})
    if due:
        commission_accrue_many(order_ids=due)  # the tasks may not have run yet: accrue first
    bulk_insert(Refund, [c.refund for _, c in changes])
    bulk_insert(RefundLine, [instance(RefundLine, tenant=tenant, refund=c.refund, line=line, quantity=q)
                             for _, c in changes for line, q in c.lines])
    lines = {line.pk: line for _, c in changes for line, _ in c.lines}
    update_rows(OrderLine, fields=("refunded_quantity",), keys=("id", "tenant_id"),
                rows=[(lines[pk].refunded_quantity, pk, tenant.pk) for pk in sorted(lines)])
    goods = [(o, c) for o, c in changes if c.factors is not None]
    reversals = commission_reverse_for_refunds(tenant=tenant, items=[(o, c.refund, c.factors) for o, c in goods])
    _figures(tenant, goods, reversals)  # in the order the refunds were made: each starts where the previous left
    now = timezone.now()
    orders = {o.pk: o for o, _ in changes}
    for o in orders.values():
        o.updated_at = now
    update_rows(Order, fields=tuple(REFUND_ORDER_FIELDS), keys=("id", "tenant_id"),
                rows=[(*(getattr(orders[pk], f) for f in REFUND_ORDER_FIELDS), pk, tenant.pk) for pk in sorted(orders)])
    _refund_risk(tenant, [o for o, _ in goods])
    return results
