"""Template filters of the portal's pages: money with its currency's places in the language's
number format, percentages, a distributor's status and a withdrawal's in words."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def money(value, currency: str) -> str:
    """`value` (a Decimal or a decimal string of the tenant currency) as "12,345.60" (CNY, USD),
    "12,345" (JPY): fenxiao.admin_money.money_display, the console's. None and "" show as "-"."""
    from fenxiao.admin_money import money_display

    if value is None or value == "":
        return "-"
    try:
        return money_display(Decimal(str(value)), currency)
    except (InvalidOperation, ValueError):
        return str(value)


@register.filter
def percent(rate) -> str:
    """A rate (0.0300) as a percentage ("3%"): fenxiao.percent.percent_str."""
    from fenxiao.percent import percent_str

    if rate is None or rate == "":
        return "-"
    return percent_str(Decimal(str(rate)))


@register.filter
def status_label(value: str, kind: str = "distributor") -> str:
    """A status word in the person's language: a distributor's, a withdrawal's (`kind`
    "withdrawal") or a feedback ticket's ("ticket"); the model's own labels."""
    if kind == "withdrawal":
        from ledger.models import Withdrawal as model
    elif kind == "ticket":
        from relations.models import FeedbackTicket as model
    else:
        from distributors.models import Distributor as model
    try:
        return str(model.Status(value).label)
    except ValueError:
        return value


@register.filter
def negative(value) -> bool:
    """Is `value` (a Decimal or decimal string) below zero?"""
    try:
        return Decimal(str(value)) < 0
    except (InvalidOperation, ValueError):
        return False
