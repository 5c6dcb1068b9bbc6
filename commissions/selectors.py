"""Reads of commission plans and records for other apps and the API (CONVENTIONS: selectors)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet, Sum

from fenxiao.currencies import exact_sum
from tenants.context import current_tenant

from .arithmetic import PlanRules, RuleValue
from .models import CommissionPlan, CommissionRecord, CommissionRule


def plan_in_force(*, at: datetime) -> CommissionPlan | None:
    """The current tenant's published plan with the latest effective_from <= `at`, or None."""
    return (
        CommissionPlan.objects.filter(status=CommissionPlan.Status.PUBLISHED, effective_from__lte=at)
        .order_by("-effective_from", "-version")
        .first()
    )


def plan_rules(*, plan_id: int) -> PlanRules:
    """A plan's rules as the pure `PlanRules` structure (one query)."""
    default: dict[int, RuleValue] = {}
    categories: dict[str, dict[int, RuleValue]] = {}
    skus: dict[str, dict[int, RuleValue]] = {}
    for rule in CommissionRule.objects.filter(plan_id=plan_id).only("scope", "scope_value", "level", "kind", "value"):
        if rule.scope == CommissionRule.Scope.DEFAULT:
            default[rule.level] = RuleValue(rule.kind, rule.value, "default")
        elif rule.scope == CommissionRule.Scope.CATEGORY:
            categories.setdefault(rule.scope_value, {})[rule.level] = RuleValue(rule.kind, rule.value, f"category:{rule.scope_value}")
        else:
            skus.setdefault(rule.scope_value, {})[rule.level] = RuleValue(rule.kind, rule.value, f"sku:{rule.scope_value}")
    return PlanRules(default=default, categories=categories, skus=skus)


def earnings_by_level(*, beneficiary_id: int) -> dict[str, Decimal]:
    """Net commission (amount - reversed) per level "1".."3" for one distributor (tenant currency)."""
    rows = (
        CommissionRecord.objects.filter(beneficiary_id=beneficiary_id)
        .values("level")
        .annotate(amount=Sum("amount"), reversed=Sum("reversed_amount"))
    )
    currency = current_tenant().currency
    out = {str(level): exact_sum(0, currency) for level in (1, 2, 3)}
    for row in rows:
        out[str(row["level"])] = exact_sum(row["amount"] - row["reversed"], currency)
    return out


def earnings_by_status(*, beneficiary_id: int) -> dict[str, Decimal]:
    """Net commission per record status (frozen / available / reversed) for one distributor."""
    rows = (
        CommissionRecord.objects.filter(beneficiary_id=beneficiary_id)
        .values("status")
        .annotate(amount=Sum("amount"), reversed=Sum("reversed_amount"))
    )
    currency = current_tenant().currency
    return {row["status"]: exact_sum(row["amount"] - row["reversed"], currency) for row in rows}


def records_for(*, beneficiary_id: int | None = None) -> QuerySet:
    qs = CommissionRecord.objects.select_related("order", "beneficiary")
    if beneficiary_id is not None:
        qs = qs.filter(beneficiary_id=beneficiary_id)
    return qs


__all__ = ["plan_in_force", "plan_rules", "earnings_by_level", "earnings_by_status", "records_for"]
