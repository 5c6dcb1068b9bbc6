"""Reads of commission plans and records for other apps and the API (CONVENTIONS: selectors)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import F, QuerySet, Sum

from fenxiao.currencies import exact_sum
from tenants.context import current_tenant

from .arithmetic import PlanRules, RuleValue
from .models import CommissionPlan, CommissionRecord, CommissionRule


def plan_in_force(*, at: datetime) -> CommissionPlan | None:
    """The current tenant's published plan with the latest effective_from <= `at`, or None.
    Read fresh every time (a plan published a moment ago is in force at once); one raw statement,
    as compiling the queryset cost more than running it on every order POST."""
    from django.db import connection

    from fenxiao.bulk import from_row, query, select_sql
    from tenants.context import get_current_tenant_id, is_all_tenants

    if is_all_tenants():  # the explicit cross-tenant scope (operator code): the scoped queryset
        return (CommissionPlan.objects.filter(status=CommissionPlan.Status.PUBLISHED, effective_from__lte=at)
                .order_by("-effective_from", "-version").first())
    sql = _PLAN_SQL.get("sql")
    if sql is None:
        sql = _PLAN_SQL["sql"] = (
            f"SELECT {select_sql(CommissionPlan, '')} FROM {CommissionPlan._meta.db_table}"
            " WHERE tenant_id = %s AND status = %s AND effective_from <= %s"
            " ORDER BY effective_from DESC, version DESC LIMIT 1")
    rows = query(sql, [get_current_tenant_id(), CommissionPlan.Status.PUBLISHED,
                       connection.ops.adapt_datetimefield_value(at)])
    return from_row(CommissionPlan, rows[0]) if rows else None


_PLAN_SQL: dict = {}


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


def totals_by_status(*, start, end) -> dict[str, Decimal]:
    """The commission of the records created in [start, end) (aware instants) of the tenant in
    context by where it stands now (domain rules section 7), tenant currency: {"frozen": net of
    the frozen records, "available": net of the available (settled) ones, "reversed": every
    record's reversed amount (reversals and clawbacks)}; they add up to the records' amount. One
    query on the (tenant, created_at) index."""
    from django.db.models import Q

    qs = CommissionRecord.objects.filter(created_at__gte=start, created_at__lt=end)
    row = qs.aggregate(
        frozen=Sum(F("amount") - F("reversed_amount"), filter=Q(status=CommissionRecord.Status.FROZEN)),
        available=Sum(F("amount") - F("reversed_amount"), filter=Q(status=CommissionRecord.Status.AVAILABLE)),
        reversed=Sum("reversed_amount"))
    currency = current_tenant().currency
    return {k: exact_sum(row[k] or 0, currency) for k in ("frozen", "available", "reversed")}


def records_for(*, beneficiary_id: int | None = None) -> QuerySet:
    qs = CommissionRecord.objects.select_related("order", "beneficiary")
    if beneficiary_id is not None:
        qs = qs.filter(beneficiary_id=beneficiary_id)
    return qs


__all__ = ["plan_in_force", "plan_rules", "earnings_by_level", "earnings_by_status", "records_for", "totals_by_status"]


def held_totals(*, hold_ids) -> dict[int, tuple[int, Decimal]]:
    """{risk hold id: (records, frozen amount net of reversals)} of the frozen commission records
    each hold holds (domain rules 11), tenant currency: one query."""
    from django.db.models import Count, F

    ids = sorted(set(hold_ids))
    if not ids:
        return {}
    rows = (CommissionRecord.objects.filter(hold_id__in=ids, status=CommissionRecord.Status.FROZEN)
            .values("hold_id").annotate(n=Count("id"), amount=Sum(F("amount") - F("reversed_amount"))))
    code = current_tenant().currency
    return {r["hold_id"]: (r["n"], exact_sum(r["amount"], code)) for r in rows}
