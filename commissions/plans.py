"""Versioned commission plans (domain rules section 5): drafts, guardrails, publishing.

A plan version is a set of rule rows (scope default / category / SKU, level, kind, value).
Drafts can be edited; publishing fixes a version for good and sets when it takes effect; an edit
of a published plan is a new draft copied from it. Orders take the version in force when they
are recorded, so publishing never changes money already recorded.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from fenxiao.currencies import minor_units
from fenxiao.exceptions import InvalidState, invalid
from tenants.models import Tenant

from . import arithmetic as ar
from .models import CommissionPlan, CommissionRule, GradeLevelOverride

SCOPES = ("default", "category", "sku")


@dataclass(frozen=True)
class RuleRow:
    """One level's value: scope "default" (scope_value "") or "category"/"sku" with its name."""

    scope: str
    scope_value: str
    level: int
    kind: str
    value: Decimal

    @classmethod
    def of(cls, rule: CommissionRule) -> "RuleRow":
        return cls(rule.scope, rule.scope_value, rule.level, rule.kind, rule.value)


def _where(scope: str, scope_value: str) -> str:
    """A rule set named in a message: "default", "category 'Tea'", "sku 'TEA-1'" (translated)."""
    if scope == "category":
        return gettext("category %(value)r") % {"value": scope_value}
    if scope == "sku":
        return gettext("sku %(value)r") % {"value": scope_value}
    return gettext("default") if scope == "default" else f"{scope} {scope_value!r}"


def rules_check(*, tenant: Tenant, rows: list[RuleRow], attr: str = "rules") -> None:
    """Guardrails (400 on `attr`, nothing saved): scope known and named (default unnamed); level in
    1..tenant.levels; kind percent or fixed; value >= 0 with <= 4 places (percent) or whole minor
    units of the tenant currency (fixed: <= 2 places in CNY, none in JPY);
    no (scope, value, level) twice; within each rule set the percent rates sum to at most
    tenant.max_total_rate."""
    seen = set()
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.scope not in SCOPES:
            raise invalid(attr, gettext("Unknown scope %(scope)r; use default, category or sku.") % {"scope": row.scope},
                          "invalid_scope")
        where = _where(row.scope, row.scope_value)
        at = {"where": where, "level": row.level}
        if (row.scope == "default") != (row.scope_value == ""):
            raise invalid(attr, gettext("%(where)s: a category or SKU rule names its scope_value; the default rule has "
                                        "none.") % at, "invalid_scope")
        if not isinstance(row.level, int) or not 1 <= row.level <= tenant.levels:
            raise invalid(attr, gettext("%(where)s: level %(level)s is outside 1..%(levels)s (the tenant's levels).") % {
                **at, "levels": tenant.levels}, "level_out_of_range")
        if row.kind not in (ar.PERCENT, ar.FIXED):
            raise invalid(attr, gettext("%(where)s: unknown kind %(kind)r.") % {**at, "kind": row.kind}, "invalid_kind")
        try:
            value = Decimal(row.value)
        except (InvalidOperation, TypeError, ValueError):
            raise invalid(attr, gettext("%(where)s: level %(level)s value is not a number.") % at, "invalid") from None
        if not value.is_finite() or value < 0:
            raise invalid(attr, gettext("%(where)s: level %(level)s value must be a number >= 0.") % at, "negative_value")
        places = 4 if row.kind == ar.PERCENT else minor_units(tenant.currency)
        if value != value.quantize(Decimal(1).scaleb(-places)):
            if row.kind == ar.PERCENT:
                message = gettext("%(where)s: level %(level)s has more than %(places)s decimal places (a fraction).")
            else:
                message = gettext("%(where)s: level %(level)s has more than %(places)s decimal places (a %(currency)s "
                                  "amount).")
            raise invalid(attr, message % {**at, "places": places, "currency": tenant.currency}, "too_many_places")
        if row.kind == ar.PERCENT and value > 1:
            raise invalid(attr, gettext("%(where)s: level %(level)s percent rate is above 1.0000 (100%%).") % at,
                          "over_max_total_rate")
        key = (row.scope, row.scope_value, row.level)
        if key in seen:
            raise invalid(attr, gettext("%(where)s: level %(level)s is given twice.") % at, "duplicate_rule")
        seen.add(key)
        if row.kind == ar.PERCENT:
            sums[(row.scope, row.scope_value)] += value
    for (scope, scope_value), total in sums.items():
        if total > tenant.max_total_rate:
            raise invalid(attr, gettext("%(where)s: percent rates sum to %(total)s, above max_total_rate %(cap)s.") % {
                "where": _where(scope, scope_value), "total": f"{total:.4f}", "cap": tenant.max_total_rate},
                "over_max_total_rate")


def _next_version(tenant: Tenant) -> int:
    Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("pk", flat=True).get()
    last = CommissionPlan.unscoped.filter(tenant=tenant).order_by("-version").values_list("version", flat=True).first()
    return (last or 0) + 1


def _write_rows(plan: CommissionPlan, rows: list[RuleRow]) -> None:
    CommissionRule.objects.filter(plan=plan).delete()
    CommissionRule.objects.bulk_create([
        CommissionRule(tenant=plan.tenant, plan=plan, scope=r.scope, scope_value=r.scope_value, level=r.level,
                       kind=r.kind, value=Decimal(r.value))
        for r in rows
    ])


@transaction.atomic
def plan_draft_create(*, tenant: Tenant, name: str = "", rows: list[RuleRow] | None = None,
                      based_on: CommissionPlan | None = None) -> CommissionPlan:
    """A new draft version: with `rows`, or a copy of `based_on`'s rules (an edit of a published
    plan), or empty. Guardrails as `rules_check`."""
    if rows is None:
        rows = [RuleRow.of(r) for r in based_on.rules.all()] if based_on else []
    rules_check(tenant=tenant, rows=rows)
    plan = CommissionPlan.objects.create(tenant=tenant, version=_next_version(tenant), name=name,
                                         status=CommissionPlan.Status.DRAFT, based_on=based_on)
    _write_rows(plan, rows)
    return plan


@transaction.atomic
def plan_draft_update(*, plan: CommissionPlan, name: str | None = None, rows: list[RuleRow] | None = None) -> CommissionPlan:
    """Change a draft's name and/or replace its rules. A published version never changes: 409."""
    plan = CommissionPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != CommissionPlan.Status.DRAFT:
        raise InvalidState(gettext("A published plan version never changes; create a draft from it."))
    if rows is not None:
        rules_check(tenant=plan.tenant, rows=rows)
        _write_rows(plan, rows)
    if name is not None:
        plan.name = name
        plan.save(update_fields=["name"])
    return plan


@transaction.atomic
def plan_draft_publish(*, plan: CommissionPlan, effective_from: datetime | None = None,
                       allow_past: bool = False) -> CommissionPlan:
    """Publish a draft: from `effective_from` (default now) on, newly recorded orders use it.

    400 when the rules fail the guardrails (checked again: tenant settings may have changed) or
    when the plan has no default rule and no scoped rule at all; 400 for an effective time in the
    past (a plan never acts retroactively) unless `allow_past` (data imports). 409 when the plan
    is not a draft. Grade overrides are checked against it too (`grades_check`).
    """
    plan = CommissionPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != CommissionPlan.Status.DRAFT:
        raise InvalidState(gettext("This plan version is already published."))
    rows = [RuleRow.of(r) for r in plan.rules.all()]
    if not rows:
        raise invalid("rules", gettext("A plan needs at least one rule."), "empty_plan")
    rules_check(tenant=plan.tenant, rows=rows)
    now = timezone.now()
    effective_from = effective_from or now
    if effective_from < now - timedelta(minutes=1) and not allow_past:
        raise invalid("effective_from", gettext("A plan cannot take effect in the past: orders already recorded keep theirs."),
                      "retroactive")
    plan.status = CommissionPlan.Status.PUBLISHED
    plan.effective_from = effective_from
    plan.published_at = now
    plan.save(update_fields=["status", "effective_from", "published_at"])
    grades_check(tenant=plan.tenant, plan=plan)
    return plan


def grades_check(*, tenant: Tenant, plan: CommissionPlan | None, extra: GradeLevelOverride | None = None) -> None:
    """Grade overrides replace the default value of a level for their grade's beneficiaries: with
    the worst case (each level at its highest override or default), the default lines' percent
    rates must still sum to at most max_total_rate (400 otherwise)."""
    default = {r.level: r for r in plan.rules.filter(scope="default")} if plan else {}
    worst: dict[int, Decimal] = {lvl: (r.value if r.kind == ar.PERCENT else Decimal(0)) for lvl, r in default.items()}
    overrides = list(GradeLevelOverride.objects.all())
    if extra is not None:
        overrides = [o for o in overrides if not (o.grade_id == extra.grade_id and o.level == extra.level)] + [extra]
    for o in overrides:
        if o.kind == ar.PERCENT:
            worst[o.level] = max(worst.get(o.level, Decimal(0)), o.value)
    total = sum(worst.values(), Decimal(0))
    if total > tenant.max_total_rate:
        raise invalid("value", gettext("With grade overrides the percent rates can reach %(total)s, above max_total_rate "
                                       "%(cap)s.") % {"total": f"{total:.4f}", "cap": tenant.max_total_rate}, "over_max_total_rate")


def rows_from_spec(*, default: dict, categories: dict | None = None, skus: dict | None = None) -> list[RuleRow]:
    """{level: (kind, value)} per scope, as rule rows."""
    rows = [RuleRow("default", "", int(lvl), kind, Decimal(v)) for lvl, (kind, v) in default.items()]
    for scope, sets in (("category", categories or {}), ("sku", skus or {})):
        for name, spec in sets.items():
            rows += [RuleRow(scope, name, int(lvl), kind, Decimal(v)) for lvl, (kind, v) in spec.items()]
    return rows


# The draft every tenant made by `manage.py create_tenant` starts with (README "Production shape").
STARTER_PLAN_RATES = {1: Decimal("0.1000"), 2: Decimal("0.0500"), 3: Decimal("0.0200")}
STARTER_PLAN_NAME = "Starter plan: L1 10% / L2 5% / L3 2%"


@transaction.atomic
def plan_starter_draft_create(*, tenant: Tenant) -> CommissionPlan:
    """A new tenant's first plan, as a draft (not in force until staff publish it): the default
    scope pays 10% of the commission base at level 1, 5% at level 2 and 2% at level 3, for the
    tenant's `levels` only (17% in all, within the default max_total_rate of 50%). Domain rules
    section 5. Call inside the tenant's context; raises like `plan_draft_create`."""
    rows = rows_from_spec(default={level: ("percent", rate) for level, rate in STARTER_PLAN_RATES.items()
                                   if level <= tenant.levels})
    return plan_draft_create(tenant=tenant, name=STARTER_PLAN_NAME, rows=rows)
