"""What the console shows of commission plans (domain rules section 5), as a person reads it.

- `level_label(1)`          "level 1 (the referrer)"; `LEVEL_MEANINGS` for choices
- `scope_label(rule)`       "Technology", "SKU TEA-1", "all products (default)"
- `value_str(kind, value, currency)`  "10%" for a percent rate 0.1000, "2.50 CNY per unit" for a fixed amount
- `rule_label(rule)`        "Technology, level 2: 3%" (the rule's __str__)
- `rules_summary(rules, currency)`  a plan's rules in one line per scope
- `plan_state(plan, in_force_id, now)`  draft / in force / scheduled / superseded

Presentation only: the rules themselves live in commissions.plans and commissions.arithmetic.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.utils.translation import gettext, gettext_lazy as _

from fenxiao.currencies import money_str
from fenxiao.percent import percent_str

from .arithmetic import FIXED, PERCENT

#: What each level means: who is paid at it (domain rules section 3).
LEVEL_MEANINGS = {
    1: _("level 1 (the referrer)"),
    2: _("level 2 (the referrer's upline)"),
    3: _("level 3 (the upline's upline)"),
}

SCOPE_LABELS = {
    "default": _("all products (default)"),
    "category": _("a category"),
    "sku": _("a SKU"),
}

KIND_LABELS = {
    PERCENT: _("percent of the line net"),
    FIXED: _("fixed amount per unit"),
}


def level_label(level: int) -> str:
    """ "level 1 (the referrer)"; a level outside 1..3 as "level 4"."""
    label = LEVEL_MEANINGS.get(level)
    return str(label) if label is not None else gettext("level %(n)d") % {"n": level}


def scope_label(scope: str, scope_value: str) -> str:
    """The products a rule applies to: "Technology" (a category), "SKU TEA-1", "all products (default)"."""
    if scope == "category":
        return scope_value
    if scope == "sku":
        return gettext("SKU %(sku)s") % {"sku": scope_value}
    return str(SCOPE_LABELS["default"])


def value_str(kind: str, value: Decimal | None, currency: str | None) -> str:
    """A rule's value as a person reads it: "10%" (percent), "2.50 CNY per unit" (fixed)."""
    if value is None:
        return "-"
    if kind == FIXED:
        amount = money_str(value, currency) if currency else format(Decimal(value).normalize(), "f")
        return gettext("%(amount)s %(currency)s per unit") % {"amount": amount, "currency": currency or ""}
    return percent_str(value)


def rule_label(rule, currency: str | None = None) -> str:
    """ "Technology, level 2: 3%" / "all products (default), level 1: 10%" / "SKU TEA-1, level 1:
    2.50 CNY per unit". `currency`: the tenant's (read from the rule's tenant when not given)."""
    if rule.kind == FIXED and currency is None and rule.tenant_id is not None:
        currency = rule.tenant.currency
    return gettext("%(scope)s, level %(level)d: %(value)s") % {
        "scope": scope_label(rule.scope, rule.scope_value), "level": rule.level,
        "value": value_str(rule.kind, rule.value, currency)}


def rules_summary(rules, currency: str) -> list[str]:
    """A plan's rules, one line per scope (default first): "all products (default): L1 10% · L2 5% · L3 2%"."""
    order = {"default": 0, "category": 1, "sku": 2}
    by_scope: dict[tuple[str, str], list] = defaultdict(list)
    for r in rules:
        by_scope[(r.scope, r.scope_value)].append(r)
    lines = []
    for (scope, scope_value), items in sorted(by_scope.items(), key=lambda kv: (order.get(kv[0][0], 9), kv[0][1])):
        parts = " · ".join(f"L{r.level} {value_str(r.kind, r.value, currency)}" for r in sorted(items, key=lambda r: r.level))
        lines.append(f"{scope_label(scope, scope_value)}: {parts}")
    return lines


PLAN_STATES = {
    "draft": _("draft (not in force)"),
    "in_force": _("in force"),
    "scheduled": _("published, in force from %(when)s"),
    "superseded": _("superseded"),
}


def plan_state(plan, *, in_force_id: int | None, now) -> str:
    """draft / in force / scheduled (published, effective later) / superseded, for people."""
    from django.utils import formats, timezone

    if plan.status == "draft":
        return str(PLAN_STATES["draft"])
    if plan.pk == in_force_id:
        return str(PLAN_STATES["in_force"])
    if plan.effective_from is not None and plan.effective_from > now:
        when = formats.localize(timezone.localtime(plan.effective_from))
        return str(PLAN_STATES["scheduled"]) % {"when": when}
    return str(PLAN_STATES["superseded"])


def source_label(source: str, grade: str | None = None) -> str:
    """Where a line's value came from (a record's or a preview's `lines[].source`): "default",
    "category:Technology", "sku:TEA-1", "grade:<id>" -> "all products (default)", "Technology",
    "SKU TEA-1", "grade override (gold)"."""
    kind, _sep, name = source.partition(":")
    if kind in ("category", "sku"):
        return scope_label(kind, name)
    if kind == "grade":
        return gettext("grade override (%(grade)s)") % {"grade": grade or name}
    return str(SCOPE_LABELS["default"])
