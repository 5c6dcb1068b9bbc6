"""The commission engine's writes: attribution at recording, accrual when paid, reversal on refunds.

Domain rules sections 3 (attribution), 5 (rules), 6 (arithmetic). The arithmetic itself is in
`commissions.arithmetic`; these functions load rows, call it and store what it returns.
Idempotency: accrual flips the order's `commission_state` from `due` to `done` with a
compare-and-set UPDATE before inserting, and (order, level) / (order, beneficiary) are unique, so
replays, retries and concurrent workers never create a second record.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from django.db import transaction
from django.utils import timezone

from distributors.models import Customer, Distributor
from tenants.models import Tenant

from . import arithmetic as ar
from .models import CommissionRecord, CommissionReversal, GradeLevelOverride
from .selectors import plan_in_force, plan_rules


def beneficiary_candidates(
    *, tenant: Tenant, referrer: Distributor | None, buyer_external_id: str
) -> list[int]:
    """Distributor ids that may be paid, nearest first (level-1 candidate first).

    Attribution (domain rules section 3): the order's `referrer` if named; otherwise the buyer's
    bound upline: for a buyer who is an active distributor, the buyer itself when
    `self_purchase_commission` is on, else its upline; for a customer, its referrer. A named
    referrer who is the buyer pays from the buyer's upline when self-purchase is off.
    Costs at most 2 queries.
    """
    buyer = None
    if buyer_external_id:
        buyer = Distributor.objects.filter(external_id=buyer_external_id).only(
            "id", "status", "ancestor_path"
        ).first()
    if referrer is not None:
        if buyer is not None and buyer.pk == referrer.pk and not (tenant.self_purchase_commission and buyer.is_active):
            return list(reversed(referrer.ancestor_ids))
        return [referrer.pk, *reversed(referrer.ancestor_ids)]
    if buyer is not None:
        if tenant.self_purchase_commission and buyer.is_active:
            return [buyer.pk, *reversed(buyer.ancestor_ids)]
        return list(reversed(buyer.ancestor_ids))
    if buyer_external_id:
        customer = Customer.objects.filter(external_id=buyer_external_id).select_related("referrer").first()
        if customer is not None and customer.referrer is not None:
            r = customer.referrer
            return [r.pk, *reversed(r.ancestor_ids)]
    return []


def order_attribution(
    *, tenant: Tenant, referrer: Distributor | None, buyer_external_id: str, at, plan=None
) -> tuple[int | None, dict, int | None]:
    """Fix the plan and the beneficiary chain of an order being recorded at `at`.

    Returns (plan_id or None, snapshot, attributed_to id or None: the level-1 candidate) where snapshot = {"chain": [{"level", "distributor_id",
    "grade_id", "override": {"kind", "value"} | None}, ...]}. Inactive (non-`active`) uplines are
    skipped (their level pays nobody, levels above keep their numbers) or compressed past (the
    next active upline moves up) per `inactive_upline_policy`; at most `tenant.levels` entries.
    `plan` overrides the plan in force (previews and backtests of drafts).
    A constant number of queries whatever the tree's depth (domain rules sections 3 and 6).
    """
    plan = plan if plan is not None else plan_in_force(at=at)
    candidates = beneficiary_candidates(tenant=tenant, referrer=referrer, buyer_external_id=buyer_external_id)
    levels = tenant.levels
    chain: list[tuple[int, Distributor]] = []
    if candidates:
        if tenant.inactive_upline_policy == Tenant.InactiveUplinePolicy.COMPRESS:
            active = list(
                Distributor.objects.filter(pk__in=candidates, status=Distributor.Status.ACTIVE)
                .only("id", "grade_id", "depth").order_by("-depth")[:levels]
            )
            chain = [(i + 1, d) for i, d in enumerate(active)]
        else:
            window = candidates[:levels]
            found = {d.pk: d for d in Distributor.objects.filter(pk__in=window).only("id", "grade_id", "status")}
            chain = [(i + 1, found[pk]) for i, pk in enumerate(window) if found[pk].is_active]
    overrides: dict[tuple[int, int], GradeLevelOverride] = {}
    grade_ids = {d.grade_id for _, d in chain if d.grade_id}
    if grade_ids:
        overrides = {(o.grade_id, o.level): o for o in GradeLevelOverride.objects.filter(grade_id__in=grade_ids)}
    snapshot = {"chain": []}
    for level, d in chain:
        o = overrides.get((d.grade_id, level))
        snapshot["chain"].append({
            "level": level,
            "distributor_id": d.pk,
            "grade_id": d.grade_id,
            "override": {"kind": o.kind, "value": str(o.value)} if o else None,
        })
    return (plan.pk if plan else None), snapshot, (candidates[0] if candidates else None)


def _lines_for_arithmetic(order) -> list[ar.Line]:
    return [
        ar.Line(l.line_id, l.quantity, l.unit_price, l.discount, l.commissionable, l.sku, l.category)
        for l in order.lines.all()
    ]


def compute_order_levels(
    *, tenant: Tenant, order, lines: list[ar.Line], rules: ar.PlanRules
) -> list[tuple[dict, list[ar.LineValue], Decimal]]:
    """Pure pricing of a recorded order's snapshot chain: [(chain entry, line values, amount)]."""
    base = ar.order_base(lines, discount=order.discount, non_cash_amount=order.non_cash_amount,
                         exchange_rate=order.exchange_rate)
    out = []
    for entry in order.attribution.get("chain", []):
        ov = entry.get("override")
        override = ar.RuleValue(ov["kind"], Decimal(ov["value"]), f"grade:{entry['grade_id']}") if ov else None
        values = ar.level_line_values(lines, base, entry["level"], rules, grade_override=override,
                                      exchange_rate=order.exchange_rate)
        amount = ar.record_amount(values, tenant.rounding)
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


@transaction.atomic
def commission_accrue(*, order_id: int) -> list[CommissionRecord]:
    """Create the commission records of a paid order, exactly once.

    Args: order_id of an order of the tenant in context. Returns the records created by this call
    ([] when another call already did, the order is not due, or nothing pays). Compare-and-set on
    `commission_state` due -> done makes retries, replays and two workers safe; the unique
    constraints on (order, level) and (order, beneficiary) are the backstop. A base of 0.00 and
    levels whose amount rounds to 0.00 create no record; each record's accrual is journalled
    (ledger, +frozen) and an `order.commissions_created` event queued. Fixed number of queries (10) whatever the
    tree's size and depth. Domain rules sections 4-6.
    """
    from orders.models import Order

    claimed = Order.objects.filter(pk=order_id, commission_state=Order.CommissionState.DUE).update(
        commission_state=Order.CommissionState.DONE
    )
    if not claimed:
        return []
    order = Order.objects.select_related("tenant").get(pk=order_id)
    tenant = order.tenant
    if order.plan_id is None or order.commission_base <= 0 or not order.attribution.get("chain"):
        return []
    lines = _lines_for_arithmetic(order)
    rules = plan_rules(plan_id=order.plan_id)
    settles_at = settles_at_for(tenant=tenant, order=order)
    records = []
    for entry, values, amount in compute_order_levels(tenant=tenant, order=order, lines=lines, rules=rules):
        if amount <= 0:
            continue
        records.append(CommissionRecord(
            tenant=tenant, order=order, beneficiary_id=entry["distributor_id"], level=entry["level"],
            plan_id=order.plan_id, grade_id=entry["grade_id"], currency=tenant.currency,
            base=order.commission_base, rate=ar.uniform_rate(values), amount=amount,
            lines=[v.as_dict() for v in values], settles_at=settles_at,
        ))
    CommissionRecord.objects.bulk_create(records)
    if records:
        from ledger.services import accrual_entries, entries_post, event_record

        entries_post(tenant=tenant, entries=accrual_entries(records=records))
        event_record(tenant=tenant, type="order.commissions_created", payload={
            "order_external_id": order.external_id, "currency": tenant.currency,
            "commissions": [{"commission_id": r.pk, "beneficiary_id": r.beneficiary_id, "level": r.level,
                             "amount": str(r.amount), "settles_at": r.settles_at.isoformat() if r.settles_at else None}
                            for r in records],
        })
    return records


@transaction.atomic
def commission_reverse_for_refund(*, order, refund, factors: dict[str, Fraction]) -> list[CommissionReversal]:
    """Bring every level's record of `order` down to what its remaining lines are worth.

    `factors` maps line_id to the fraction of the line that remains after all refunds so far.
    Each record's new amount = rounding(sum of remaining unrounded line values); the reversal is
    the previous net minus the new amount. Every level is reversed, at the stored rates; a full
    refund nets every record to exactly 0.00. Records are locked in primary-key order.
    Domain rules section 6.
    """
    from ledger.services import entries_post, event_record, reversal_entry

    tenant = order.tenant
    reversals, entries = [], []
    records = list(CommissionRecord.objects.select_for_update().filter(order=order).order_by("pk"))
    for record in records:
        values = [ar.LineValue.from_dict(v) for v in record.lines]
        new_amount = ar.record_amount(values, tenant.rounding, factors)
        delta = record.net_amount - new_amount
        if delta <= 0:
            continue
        reversals.append(CommissionReversal(tenant=tenant, record=record, refund=refund, amount=delta))
        entries.append(reversal_entry(record=record, amount=delta, refund=refund))
        record.reversed_amount += delta
        if record.net_amount == 0:
            record.status = CommissionRecord.Status.REVERSED
    if reversals:
        CommissionReversal.objects.bulk_create(reversals)
        CommissionRecord.objects.bulk_update(records, ["reversed_amount", "status"])
        entries_post(tenant=tenant, entries=entries)
        event_record(tenant=tenant, type="commission.reversed", payload={
            "order_external_id": order.external_id, "refund_external_id": refund.external_id,
            "currency": tenant.currency,
            "reversals": [{"commission_id": r.record_id, "level": r.record.level, "amount": str(r.amount),
                           "kind": e.kind} for r, e in zip(reversals, entries)],
        })
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

    `data` is an orders.services.OrderInput (validated exactly like an order post: 400 on the same
    inputs); `plan` a CommissionPlan of the tenant (a draft too) or None for the plan in force now.
    Returns {"plan_version", "currency", "commission_base", "levels": [{"level",
    "beneficiary_external_id", "grade", "amount", "rate", "lines": [...]}]}; amounts in the tenant
    currency (0.01). Domain rules sections 3-6.
    """
    from orders.models import Order
    from orders.services import order_validate

    referrer, rate, lines, base = order_validate(tenant=tenant, data=data)
    plan_id, snapshot, _ = order_attribution(tenant=tenant, referrer=referrer, buyer_external_id=data.buyer_external_id,
                                             at=timezone.now(), plan=plan)
    result = {"plan_version": None, "currency": tenant.currency, "commission_base": str(base.commission_base), "levels": []}
    if plan_id is None:
        return result
    from .models import CommissionPlan

    result["plan_version"] = plan.version if plan is not None else CommissionPlan.objects.get(pk=plan_id).version
    priced = Order(tenant=tenant, discount=data.discount, non_cash_amount=data.non_cash_amount,
                   exchange_rate=rate, attribution=snapshot)
    levels = compute_order_levels(tenant=tenant, order=priced, lines=lines, rules=plan_rules(plan_id=plan_id))
    names = {d.pk: d for d in Distributor.objects.filter(pk__in=[e["distributor_id"] for e, _, _ in levels]).select_related("grade")}
    for entry, values, amount in levels:
        d = names[entry["distributor_id"]]
        result["levels"].append({
            "level": entry["level"], "beneficiary_external_id": d.external_id,
            "grade": d.grade.code if d.grade_id else None, "amount": str(amount),
            "rate": str(ar.uniform_rate(values)) if ar.uniform_rate(values) is not None else None,
            "lines": [v.as_dict() for v in values],
        })
    return result
