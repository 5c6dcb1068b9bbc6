"""The commission engine's writes: attribution at recording, accrual when paid, reversal on refunds.

Domain rules sections 3 (attribution), 5 (rules), 6 (arithmetic). The arithmetic itself is in
`commissions.arithmetic`; these functions load rows, call it and store what it returns.
Idempotency: accrual locks its orders, flips the ones still `due` to `done` before inserting
(`_claim_due`), and (order, level) / (order, beneficiary) are unique, so replays, retries and
concurrent workers never create a second record.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from django.db import transaction
from django.utils import timezone

from distributors import selectors as dsel
from distributors.models import Customer, Distributor
from fenxiao.currencies import minor_units, money_str
from fenxiao.bulk import bulk_insert, instance, pg_array
from tenants.context import current_tenant
from tenants.models import Tenant

from . import arithmetic as ar
from .models import CommissionRecord, CommissionReversal, GradeLevelOverride
from .selectors import plan_in_force, plan_rules


def candidates_for(
    *, tenant: Tenant, referrer: Distributor | None, buyer: Distributor | None, customer_referrer: Distributor | None
) -> list[int]:
    """Distributor ids that may be paid, nearest first (level-1 candidate first). Pure.

    Attribution (domain rules section 3): the order's `referrer` if named; otherwise the buyer's
    bound upline: for a `buyer` who is a distributor, the buyer itself when it is active and
    `self_purchase_commission` is on, else its upline; for a customer, its `customer_referrer`.
    A named referrer who is the buyer pays from the buyer's upline when self-purchase is off.
    """
    if referrer is not None:
        if buyer is not None and buyer.pk == referrer.pk and not (tenant.self_purchase_commission and buyer.is_active):
            return list(reversed(referrer.ancestor_ids))
        return [referrer.pk, *reversed(referrer.ancestor_ids)]
    if buyer is not None:
        if tenant.self_purchase_commission and buyer.is_active:
            return [buyer.pk, *reversed(buyer.ancestor_ids)]
        return list(reversed(buyer.ancestor_ids))
    if customer_referrer is not None:
        return [customer_referrer.pk, *reversed(customer_referrer.ancestor_ids)]
    return []


def chain_for(*, tenant: Tenant, candidates: list[int], found: dict[int, Distributor]) -> list[tuple[int, Distributor]]:
    """The paid chain [(level, distributor)] from `candidates` (nearest first). Pure.

    `found` holds the candidates' rows (at least every active one the policy may reach).
    Inactive (non-`active`) uplines are skipped (their level pays nobody, levels above keep their
    numbers) or compressed past (the next active upline moves up) per `inactive_upline_policy`;
    at most `tenant.levels` entries (domain rules section 3).
    """
    levels = tenant.levels
    if tenant.inactive_upline_policy == Tenant.InactiveUplinePolicy.COMPRESS:
        active = [found[pk] for pk in candidates if pk in found and found[pk].is_active][:levels]
        return [(i + 1, d) for i, d in enumerate(active)]
    return [(i + 1, found[pk]) for i, pk in enumerate(candidates[:levels]) if pk in found and found[pk].is_active]


def snapshot_for(*, chain: list[tuple[int, Distributor]], overrides: dict[tuple[int, int], GradeLevelOverride]) -> dict:
    """The attribution snapshot {"chain": [{"level", "distributor_id", "grade_id", "override"}]}. Pure."""
    out = []
    for level, d in chain:
        o = overrides.get((d.grade_id, level))
        out.append({
            "level": level, "distributor_id": d.pk, "grade_id": d.grade_id,
            "override": {"kind": o.kind, "value": str(o.value)} if o else None,
        })
    return {"chain": out}


def _overrides_for(grade_ids) -> dict[tuple[int, int], GradeLevelOverride]:
    grade_ids = {g for g in grade_ids if g}
    if not grade_ids:
        return {}
    return {(o.grade_id, o.level): o for o in GradeLevelOverride.objects.filter(grade_id__in=grade_ids)}


CHAIN_FIELDS = ("id", "external_id", "grade_id", "status", "depth", "ancestor_path")


class ChainMember:
    """What `chain_for` and `snapshot_for` read of a distributor (pk, grade_id, is_active): the
    batch intake loads thousands per request, as tuples rather than model instances."""

    __slots__ = ("pk", "grade_id", "status")

    def __init__(self, pk: int, grade_id: int | None, status: str):
        self.pk, self.grade_id, self.status = pk, grade_id, status

    @property
    def is_active(self) -> bool:
        return self.status == Distributor.Status.ACTIVE


def order_attribution(
    *, tenant: Tenant, referrer: Distributor | None, buyer_external_id: str, at, plan=None
) -> tuple[int | None, dict, int | None]:
    """Fix the plan and the beneficiary chain of an order being recorded at `at`.

    Returns (plan_id or None, snapshot, attributed_to id or None: the level-1 candidate) where
    snapshot = {"chain": [{"level", "distributor_id", "grade_id", "override": {"kind", "value"} |
    None}, ...]} (see `chain_for` for the skip/compress policy). `plan` overrides the plan in force
    (previews and backtests of drafts). `order_attributions` of one order: a constant number of
    queries whatever the tree's depth (domain rules sections 3 and 6).
    """
    return order_attributions(tenant=tenant, orders=[(referrer, buyer_external_id)], at=at, plan=plan)[0]


def order_attributions(
    *, tenant: Tenant, orders: list[tuple[Distributor | None, str]], at, plan=None
) -> list[tuple[int | None, dict, int | None]]:
    """`order_attribution` for many orders recorded at `at`, each (referrer, buyer_external_id):
    at most 5 queries whatever their number and the tree's depth (plan, buyers, customers, the
    chains' distributors, grade overrides). Referrers must carry CHAIN_FIELDS. Domain rules 3."""
    if not orders:
        return []
    plan = plan if plan is not None else plan_in_force(at=at)
    plan_id = plan.pk if plan else None
    buyer_ids = {b for _, b in orders if b}
    buyers = dsel.by_external_ids(buyer_ids, fields=CHAIN_FIELDS)
    customer_ids = {b for r, b in orders if b and r is None and b not in buyers}
    customer_refs = {}
    if customer_ids:
        customer_refs = {c.external_id: c.referrer for c in Customer.objects.filter(external_id__in=customer_ids)
                         .select_related("referrer").only("external_id", *(f"referrer__{f}" for f in CHAIN_FIELDS))}
    candidate_lists = [
        candidates_for(tenant=tenant, referrer=r, buyer=buyers.get(b), customer_referrer=customer_refs.get(b))
        for r, b in orders
    ]
    compress = tenant.inactive_upline_policy == Tenant.InactiveUplinePolicy.COMPRESS
    wanted = {pk for c in candidate_lists for pk in (c if compress else c[:tenant.levels])}
    found = {row[0]: ChainMember(*row) for row in dsel.chain_member_rows(wanted)}
    chains = [chain_for(tenant=tenant, candidates=c, found=found) for c in candidate_lists]
    overrides = _overrides_for(d.grade_id for chain in chains for _, d in chain)
    return [(plan_id, snapshot_for(chain=chain, overrides=overrides), c[0] if c else None)
            for chain, c in zip(chains, candidate_lists)]


def compute_order_levels(
    *, tenant: Tenant, order, lines: list[ar.Line], rules: ar.PlanRules
) -> list[tuple[dict, list[ar.LineValue], Decimal]]:
    """Pure pricing of a recorded order's snapshot chain: [(chain entry, line values, amount)];
    amounts rounded once per record to the tenant currency's minor unit (domain rules 4-6)."""
    places = minor_units(tenant.currency)
    base = ar.order_base(lines, discount=order.discount, non_cash_amount=order.non_cash_amount,
                         exchange_rate=order.exchange_rate, places=minor_units(order.currency), base_places=places)
    out = []
    for entry in order.attribution.get("chain", []):
        ov = entry.get("override")
        override = ar.RuleValue(ov["kind"], Decimal(ov["value"]), f"grade:{entry['grade_id']}") if ov else None
        values = ar.level_line_values(lines, base, entry["level"], rules, grade_override=override,
                                      exchange_rate=order.exchange_rate)
        amount = ar.record_amount(values, tenant.rounding, places=places)
        out.append((entry, values, amount))
    return out


def settles_at_for(*, tenant: Tenant, order):
    """When an order's commissions become available: completed_at + settle_after_days, or, never
    completed, paid_at + auto_complete_days + settle_after_days (domain rules section 7)."""
    if order.completed_at:
        return order.completed_at + timedelta(days=tenant.settle_after_days)
    if order.paid_at:
        return order.paid_at + timedelta(days=tenant.auto_complete_days + tenant.settle_after_days)
    return None


def commission_accrue(*, order_id: int) -> list[CommissionRecord]:
    """Create the commission records of one paid order, exactly once (`commission_accrue_many`
    of one order: the single and batch paths are the same code)."""
    return commission_accrue_many(order_ids=[order_id])


@transaction.atomic
def commission_accrue_many(*, order_ids: list[int]) -> list[CommissionRecord]:
    """Create the commission records of paid orders, each exactly once.

    Args: ids of orders of the tenant in context (any state; only `due` ones are accrued).
    Returns the records created by this call ([] when another call already did them, no order is
    due, or nothing pays). The due orders are locked in primary-key order and flipped due -> done
    in this transaction, so retries, replays and concurrent workers (which wait, then find them
    done) never create a second record; the unique constraints on (order, level) and (order,
    beneficiary) are the backstop. A base of 0.00 and levels whose amount rounds to 0.00 create no
    record; each record's accrual is journalled (ledger, +frozen) and one
    `order.commissions_created` event per order queued; every order with a base above 0 is added
    to the incentive figures (incentives.figures, domain rules 8). A fixed number of queries whatever the
    number of orders, the tree's size and depth (one more per distinct plan). Domain rules 4-6.
    """
    from orders.models import OrderLine

    orders = _claim_due(order_ids)
    counted = [o for o in orders if o.commission_base > 0]
    if not counted:
        return []
    tenant = current_tenant()
    payable = [o for o in counted if o.plan_id is not None and o.attribution.get("chain")]
    lines_of: dict[int, list[ar.Line]] = {o.pk: [] for o in payable}
    for order_id, *line in OrderLine.objects.filter(order_id__in=list(lines_of)).order_by("pk").values_list(
            "order_id", "line_id", "quantity", "unit_price", "discount", "commissionable", "sku", "category"):
        lines_of[order_id].append(ar.Line(*line))
    rules = {pid: plan_rules(plan_id=pid) for pid in sorted({o.plan_id for o in payable})}
    records, per_order = [], []
    for order in payable:
        settles_at = settles_at_for(tenant=tenant, order=order)
        mine = []
        for entry, values, amount in compute_order_levels(tenant=tenant, order=order, lines=lines_of[order.pk],
                                                          rules=rules[order.plan_id]):
            if amount <= 0:
                continue
            mine.append(instance(
                CommissionRecord, tenant=tenant, order_id=order.pk, beneficiary_id=entry["distributor_id"], level=entry["level"],
                plan_id=order.plan_id, grade_id=entry["grade_id"], currency=tenant.currency,
                base=order.commission_base, rate=ar.uniform_rate(values), amount=amount,
                lines=[v.as_dict(minor_units(order.currency)) for v in values], settles_at=settles_at,
            ))
        records.extend(mine)
        if mine:
            per_order.append((order, mine))
    from incentives.figures import AccruedOrder, figures_on_accrual

    amounts = {(r.order_id, r.level): r.amount for r in records}
    figures_on_accrual(tenant=tenant, orders=[
        AccruedOrder(order_id=o.pk, paid_at=o.paid_at, base=o.commission_base,
                     chain=tuple((e["level"], e["distributor_id"]) for e in o.attribution.get("chain", [])),
                     commissions={e["level"]: amounts[(o.pk, e["level"])] for e in o.attribution.get("chain", [])
                                  if (o.pk, e["level"]) in amounts})
        for o in counted
    ])
    if not records:
        return []
    _holds_apply(tenant, counted, records)
    bulk_insert(CommissionRecord, records)
    from ledger.models import OutboxEvent
    from ledger.postings import accrual_entries, entries_post, outbox_written

    entries_post(tenant=tenant, entries=accrual_entries(records=records))
    # the partner knows distributors by external id only (the API never shows their keys)
    externals = dict(Distributor.objects.filter(pk__in={r.beneficiary_id for r in records})
                     .values_list("pk", "external_id"))
    bulk_insert(OutboxEvent, [
        instance(OutboxEvent, tenant=tenant, type="order.commissions_created", payload={
            "order_external_id": order.external_id, "currency": tenant.currency,
            "commissions": [{"commission_id": r.pk, "beneficiary_external_id": externals[r.beneficiary_id],
                             "level": r.level, "amount": money_str(r.amount, tenant.currency),
                             "settles_at": r.settles_at.isoformat() if r.settles_at else None}
                            for r in mine],
        })
        for order, mine in per_order
    ])
    outbox_written(tenant_id=tenant.pk)
    return records


def _holds_apply(tenant, orders, records: list[CommissionRecord]) -> None:
    """Risk holds (domain rules 11): point each record whose beneficiary has an open hold at it
    (one query); with the tenant's velocity rule on, place the holds these orders trip (one more
    query) and hold the records of orders paid from the moment each tripped (the same records
    whether the orders came one by one or in a batch). Held records accrue but settle only once
    the hold is released."""
    from risk.selectors import open_holds

    held = open_holds(r.beneficiary_id for r in records)
    tripped: dict[int, tuple[int, object]] = {}
    if tenant.risk_max_orders_per_hour:
        from orders.selectors import attributed_paid_times
        from risk.rules import HOUR
        from risk.services import risk_assess_velocity

        new: dict[int, list] = {}
        for o in orders:
            if o.attributed_to_id is not None and o.paid_at is not None:
                new.setdefault(o.attributed_to_id, []).append(o.paid_at)
        if new:
            times = attributed_paid_times(distributor_ids=new, since=min(min(v) for v in new.values()) - HOUR,
                                          until=max(max(v) for v in new.values()) + HOUR)
            tripped = {d: v for d, v in risk_assess_velocity(tenant=tenant, times=times, new=new).items() if d not in held}
    paid_at = {o.pk: o.paid_at for o in orders}
    for r in records:
        r.hold_id = held.get(r.beneficiary_id)
        if r.hold_id is None and r.beneficiary_id in tripped and paid_at[r.order_id] >= tripped[r.beneficiary_id][1]:
            r.hold_id = tripped[r.beneficiary_id][0]


class DueOrder:
    """What the accrual reads of an order it has claimed (no model instance: the hot path)."""

    FIELDS = ("id", "tenant_id", "external_id", "plan_id", "commission_base", "attribution", "discount",
              "non_cash_amount", "exchange_rate", "currency", "paid_at", "completed_at", "attributed_to_id")
    __slots__ = ("pk", *FIELDS[1:])

    def __init__(self, pk, *values):
        self.pk = pk
        for name, value in zip(self.FIELDS[1:], values):
            setattr(self, name, value)


def _claim_due(order_ids) -> list[DueOrder]:
    """Lock the orders among `order_ids` (tenant in context) in primary-key order, flip the ones
    still `due` to `done` and return those, in pk order. An order another transaction flipped
    meanwhile is not returned: the lock waits for that transaction, and SELECT ... FOR UPDATE
    then reads the row's latest version. This is what makes accrual exactly-once.

    The orders are found by primary key only: neither the state nor the tenant is in the WHERE
    (both are checked on the rows read), so the plan is the primary key whatever the statistics
    say. With a tenant or a state condition, PostgreSQL's statistics of a table that a new tenant
    fills in minutes ("tenant 7 has no orders") made it walk the tenant's whole order index for
    every chunk (docs/performance.md, "Statistics"). On Citus, where the primary key becomes
    (tenant_id, id), the tenant condition goes back in.
    """
    import json

    from django.db import connection

    from orders.models import Order

    ids = sorted({int(i) for i in order_ids})
    if not ids:
        return []
    q = connection.ops.quote_name
    due = Order.CommissionState.DUE
    if connection.vendor == "postgresql":
        from tenants.context import get_current_tenant_id

        table = q(Order._meta.db_table)
        tenant_id = get_current_tenant_id()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(q(f) for f in DueOrder.FIELDS)}, commission_state FROM {table}"
                f" WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE",
                [pg_array(ids)],
            )
            rows = [r[:-1] for r in cursor.fetchall() if r[1] == tenant_id and r[-1] == due]
            if rows:
                cursor.execute(f"UPDATE {table} SET commission_state = %s, updated_at = %s WHERE id = ANY(%s::bigint[])",
                               [Order.CommissionState.DONE, timezone.now(), pg_array(r[0] for r in rows)])
    else:
        rows = [r[:-1] for r in Order.objects.select_for_update().filter(pk__in=ids).order_by("pk")
                .values_list(*DueOrder.FIELDS, "commission_state") if r[-1] == due]
        if rows:
            Order.objects.filter(pk__in=[r[0] for r in rows]).update(commission_state=Order.CommissionState.DONE,
                                                                     updated_at=timezone.now())
    at = DueOrder.FIELDS.index("attribution")
    return [DueOrder(*r[:at], json.loads(r[at]) if isinstance(r[at], str) else r[at], *r[at + 1:]) for r in rows]


def _next_due(chunk: int) -> list[int]:
    """Lock up to `chunk` due orders of the tenant in context that no other transaction holds
    (FOR UPDATE SKIP LOCKED, through the small partial index of due orders), in id order; [] when
    none is left. Call inside the transaction that accrues them. SQLite has no SKIP LOCKED (and
    one writer at a time): a plain read."""
    from django.db import connection

    from orders.models import Order

    due = Order.objects.filter(commission_state=Order.CommissionState.DUE).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    return list(due.values_list("pk", flat=True)[:chunk])


def accrual_drain(*, chunk: int = 200, max_seconds: float = 60.0) -> tuple[int, bool]:
    """Accrue the due orders of the tenant in context, `chunk` at a time, each chunk in its own
    transaction (`commission_accrue_many` on the ids `_next_due` locked): what the coalesced
    accrual task (commissions.tasks.accrue_due_orders) runs for single orders. Exactly once like
    every accrual path: the chunk's rows are locked and re-read before they flip due -> done, so
    drains running at once, chunk tasks and the sweep each accrue an order at most once, and SKIP
    LOCKED lets concurrent drains take different chunks instead of waiting for each other.
    Returns (records created, finished): finished is False when it stopped after `max_seconds`
    with orders possibly left (the task sends itself again). Domain rules 4-6."""
    created, t0 = 0, timezone.now()
    while True:
        with transaction.atomic():
            ids = _next_due(chunk)
            if not ids:
                return created, True
            created += len(commission_accrue_many(order_ids=ids))
        if (timezone.now() - t0).total_seconds() > max_seconds:
            return created, False


def accrual_sweep(*, older_than: timedelta = timedelta(seconds=30), chunk: int = 200) -> int:
    """Accrue the tenant's orders still `due` `older_than` after they became due: the safety net
    for accrual messages lost on the way (a broker outage at commit time, a worker killed with its
    chunk). Runs every minute (commissions.tasks.sweep_tenant) and before settlement. Returns how
    many records it created; each chunk is `commission_accrue_many` (idempotent)."""
    from orders.models import Order

    created, last = 0, 0
    cutoff = timezone.now() - older_than
    while True:
        ids = list(Order.objects.filter(commission_state=Order.CommissionState.DUE, updated_at__lt=cutoff, pk__gt=last)
                   .order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            return created
        created += len(commission_accrue_many(order_ids=ids))
        last = ids[-1]


def commission_reverse_for_refund(*, order, refund, factors: dict[str, Fraction]) -> list[CommissionReversal]:
    """Bring every level's record of `order` down to what its remaining lines are worth.

    `factors` maps line_id to the fraction of the line that remains after all refunds so far.
    Each record's new amount = rounding(sum of remaining unrounded line values); the reversal is
    the previous net minus the new amount. Every level is reversed, at the stored rates; a full
    refund nets every record to exactly 0.00. Records are locked in primary-key order.
    (`commission_reverse_for_refunds` of one refund: the single and batch paths are the same
    code.) Domain rules section 6.
    """
    return commission_reverse_for_refunds(tenant=order.tenant, items=[(order, refund, factors)])


@transaction.atomic
def commission_reverse_for_refunds(*, tenant: Tenant, items: list[tuple]) -> list[CommissionReversal]:
    """`commission_reverse_for_refund` for many saved refunds, in order: items = [(order, refund,
    factors after that refund)], several possibly of the same order (each then reverses from what
    the previous left). The records of all the orders are locked at once in primary-key order;
    reversals, records, ledger entries (reversal before settlement, clawback after) and one
    `commission.reversed` event per refund that reversed something are written with a constant
    number of queries. Returns the reversals created. Domain rules sections 6 and 7."""
    from fenxiao.bulk import update_rows
    from ledger.models import OutboxEvent
    from ledger.postings import entries_post, outbox_written, reversal_entry

    if not items:
        return []
    places = minor_units(tenant.currency)
    records_of: dict[int, list[CommissionRecord]] = {order.pk: [] for order, _, _ in items}
    for record in CommissionRecord.objects.select_for_update().filter(order_id__in=sorted(records_of)).order_by("pk"):
        records_of[record.order_id].append(record)
    reversals, entries, events, changed = [], [], [], {}
    for order, refund, factors in items:
        mine = []
        for record in records_of[order.pk]:
            values = [ar.LineValue.from_dict(v) for v in record.lines]
            new_amount = ar.record_amount(values, tenant.rounding, factors, places)
            delta = record.net_amount - new_amount
            if delta <= 0:
                continue
            mine.append((instance(CommissionReversal, tenant=tenant, record=record, refund=refund, amount=delta),
                         reversal_entry(record=record, amount=delta, refund=refund)))
            record.reversed_amount += delta
            if record.net_amount == 0:
                record.status = CommissionRecord.Status.REVERSED
            changed[record.pk] = record
        if mine:
            reversals.extend(r for r, _ in mine)
            entries.extend(e for _, e in mine)
            events.append(instance(OutboxEvent, tenant=tenant, type="commission.reversed", payload={
                "order_external_id": order.external_id, "refund_external_id": refund.external_id,
                "currency": tenant.currency,
                "reversals": [{"commission_id": r.record_id, "level": r.record.level,
                               "amount": money_str(r.amount, tenant.currency), "kind": e.kind} for r, e in mine],
            }))
    if reversals:
        bulk_insert(CommissionReversal, reversals)
        now = timezone.now()
        update_rows(CommissionRecord, fields=("reversed_amount", "status", "updated_at"), keys=("id", "tenant_id"),
                    rows=[(r.reversed_amount, r.status, now, pk, tenant.pk) for pk, r in sorted(changed.items())])
        entries_post(tenant=tenant, entries=entries)
        bulk_insert(OutboxEvent, events)
        outbox_written(tenant_id=tenant.pk)
    return reversals


RuleSpec = dict  # {level: (kind, value)} with kind "percent" | "fixed" and value a Decimal


@transaction.atomic
def plan_publish(
    *, tenant: Tenant, default: RuleSpec, categories: dict[str, RuleSpec] | None = None,
    skus: dict[str, RuleSpec] | None = None, effective_from=None, name: str = "",
):
    """Create and publish a new plan version in one step (setup and data imports; the console
    uses drafts). `default`, and each category's / SKU's rule set, map level (1..tenant.levels) to
    (kind, value). Guardrails as `plans.rules_check` (400). `effective_from` may be in the past
    here (an import sets up history); it defaults to now. Domain rules section 5.
    """
    from .plans import plan_draft_create, plan_draft_publish, rows_from_spec

    rows = rows_from_spec(default=default, categories=categories, skus=skus)
    draft = plan_draft_create(tenant=tenant, name=name, rows=rows)
    return plan_draft_publish(plan=draft, effective_from=effective_from, allow_past=True)


@transaction.atomic
def grade_override_set(*, grade, level: int, kind: str, value: Decimal) -> GradeLevelOverride:
    """Set a grade's override of one level (replaces the default value for that level for
    beneficiaries of this grade; SKU and category rules still win). Validated like plan values."""
    from .plans import RuleRow, grades_check, rules_check

    rules_check(tenant=grade.tenant, rows=[RuleRow("default", "", level, kind, Decimal(value))], attr="value")
    grades_check(tenant=grade.tenant, plan=plan_in_force(at=timezone.now()),
                 extra=GradeLevelOverride(tenant=grade.tenant, grade=grade, level=level, kind=kind, value=Decimal(value)))
    override, _ = GradeLevelOverride.objects.update_or_create(
        tenant=grade.tenant, grade=grade, level=level, defaults={"kind": kind, "value": Decimal(value)}
    )
    return override


def commission_preview(*, tenant: Tenant, data, plan=None) -> dict:
    """What an order would pay, level by level, without writing anything.

    `data` is an orders.validation.OrderInput (validated exactly like an order post: 400 on the same
    inputs); `plan` a CommissionPlan of the tenant (a draft too) or None for the plan in force now.
    Returns {"plan_version", "currency", "commission_base", "levels": [{"level",
    "beneficiary_external_id", "grade", "amount", "rate", "lines": [...]}]}; amounts in the tenant
    currency, with its places (one minor unit: 0.01 CNY, 1 JPY). Domain rules sections 3-6.
    """
    from orders.models import Order
    from orders.validation import order_validate

    referrer, rate, lines, base = order_validate(tenant=tenant, data=data)
    plan_id, snapshot, _ = order_attribution(tenant=tenant, referrer=referrer, buyer_external_id=data.buyer_external_id,
                                             at=timezone.now(), plan=plan)
    result = {"plan_version": None, "currency": tenant.currency,
              "commission_base": money_str(base.commission_base, tenant.currency), "levels": []}
    if plan_id is None:
        return result
    from .models import CommissionPlan

    result["plan_version"] = plan.version if plan is not None else CommissionPlan.objects.get(pk=plan_id).version
    priced = Order(tenant=tenant, currency=data.currency, discount=data.discount, non_cash_amount=data.non_cash_amount,
                   exchange_rate=rate, attribution=snapshot)
    levels = compute_order_levels(tenant=tenant, order=priced, lines=lines, rules=plan_rules(plan_id=plan_id))
    names = {d.pk: d for d in Distributor.objects.filter(pk__in=[e["distributor_id"] for e, _, _ in levels]).select_related("grade")}
    for entry, values, amount in levels:
        d = names[entry["distributor_id"]]
        result["levels"].append({
            "level": entry["level"], "beneficiary_external_id": d.external_id,
            "grade": d.grade.code if d.grade_id else None, "amount": money_str(amount, tenant.currency),
            "rate": str(ar.uniform_rate(values)) if ar.uniform_rate(values) is not None else None,
            "lines": [v.as_dict(minor_units(data.currency)) for v in values],
        })
    return result


def commission_earn_preview(*, tenant: Tenant, distributor: Distributor, lines: list[tuple], at=None) -> dict:
    """What `distributor` would earn on a sale of `lines` at each level 1..tenant.levels, under the
    plan in force at `at` (default now) and its grade now, without writing anything: level 1 is a
    sale through its own link, levels 2 and 3 through a downline's (one or two levels below).

    `lines`: [(line_id, sku, category, unit price in the tenant currency, quantity)], prices >= 0
    in whole minor units (the caller checks; ArithmeticError_ becomes 400 `invalid_amounts`). The
    amounts are priced exactly as a recorded order's records (`compute_order_levels`: the most
    specific rule per line, sku > category > the grade's override > default, rounded once per level
    by the tenant's mode): a chain of this distributor at every level. A distributor that is not
    active would be paid nothing (domain rules section 6): its amounts are 0. Returns {"plan_version"
    (None: no plan in force, no levels), "currency", "grade", "active", "commission_base", "levels":
    [{"level", "amount", "rate" (the percent rate when every line used one, else None), "lines"}]}.
    Domain rules sections 4-6.
    """
    from orders.models import Order

    places = minor_units(tenant.currency)
    ar_lines = [ar.Line(str(line_id), int(quantity), Decimal(price), sku=sku or "", category=category or "")
                for line_id, sku, category, price, quantity in lines]
    try:
        base = ar.order_base(ar_lines, places=places, base_places=places)
    except ar.ArithmeticError_ as exc:
        from fenxiao.exceptions import invalid

        raise invalid("lines", str(exc), "invalid_amounts") from exc
    plan = plan_in_force(at=at or timezone.now())
    result = {"plan_version": plan.version if plan else None, "currency": tenant.currency,
              "grade": distributor.grade.code if distributor.grade_id else None, "active": distributor.is_active,
              "commission_base": money_str(base.commission_base, tenant.currency), "levels": []}
    if plan is None:
        return result
    chain = [(level, distributor) for level in range(1, tenant.levels + 1)]
    snapshot = snapshot_for(chain=chain, overrides=_overrides_for([distributor.grade_id]))
    priced = Order(tenant=tenant, currency=tenant.currency, discount=ar.ZERO, non_cash_amount=ar.ZERO,
                   exchange_rate=Decimal(1), attribution=snapshot)
    zero = money_str(ar.ZERO.quantize(ar.unit(places)), tenant.currency)
    for entry, values, amount in compute_order_levels(tenant=tenant, order=priced, lines=ar_lines,
                                                      rules=plan_rules(plan_id=plan.pk)):
        rate = ar.uniform_rate(values)
        result["levels"].append({
            "level": entry["level"], "amount": money_str(amount, tenant.currency) if distributor.is_active else zero,
            "rate": str(rate) if rate is not None else None, "lines": [v.as_dict(places) for v in values],
        })
    return result
