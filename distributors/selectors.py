"""Reads of the tree and of distributors' sales (domain rules sections 2 and 9)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum

from fenxiao.currencies import exact_sum
from tenants.context import current_tenant
from django.utils import timezone

from .models import Distributor

SALES_STATUSES = ("paid", "completed", "partially_refunded", "refunded")


def downlines(*, distributor: Distributor, level: int) -> QuerySet:
    """Distributors exactly `level` (1..3) below `distributor`: one indexed query on parent /
    ancestor_2 / ancestor_3, whatever the tree's size."""
    column = {1: "parent", 2: "ancestor_2", 3: "ancestor_3"}[level]
    return Distributor.objects.filter(**{column: distributor}).select_related("grade").order_by("id")


def uplines(*, distributor: Distributor) -> list[Distributor]:
    """The 1..3 uplines of `distributor`, nearest first (one query)."""
    ids = [i for i in (distributor.parent_id, distributor.ancestor_2_id, distributor.ancestor_3_id) if i]
    found = {d.pk: d for d in Distributor.objects.filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


def team_counts(*, distributor: Distributor) -> dict[str, int]:
    """Number of downlines at levels 1, 2 and 3, kept on the distributor's row by the tree
    services (no query; `tree_drift` proves them)."""
    return {"1": distributor.downline_count_1, "2": distributor.downline_count_2, "3": distributor.downline_count_3}


def tree_drift() -> list[str]:
    """For the tenant in context: every distributor whose stored downline counts differ from the
    rows (three grouped queries). Empty when the tree's counters are right."""
    actual: dict[int, list[int]] = {}
    for i, column in enumerate(("parent", "ancestor_2", "ancestor_3")):
        for upline_id, n in Distributor.objects.exclude(**{f"{column}__isnull": True}).values_list(column).annotate(n=Count("id")):
            actual.setdefault(upline_id, [0, 0, 0])[i] = n
    out = []
    stored = Distributor.objects.filter(
        Q(downline_count_1__gt=0) | Q(downline_count_2__gt=0) | Q(downline_count_3__gt=0) | Q(pk__in=list(actual))
    ).values_list("id", "external_id", "downline_count_1", "downline_count_2", "downline_count_3")
    for pk, external_id, *counts in stored:
        if counts != actual.get(pk, [0, 0, 0]):
            out.append(f"distributor {external_id}: downline counts {counts}, rows say {actual.get(pk, [0, 0, 0])}")
    return out


def personal_sales(*, distributor_ids: list[int]) -> dict[int, Decimal]:
    """Net paid sales (commission base kept after refunds, tenant currency) of the orders attributed
    to each distributor (the order's level-1 candidate), one grouped query."""
    from orders.models import Order

    rows = (
        Order.objects.filter(attributed_to_id__in=distributor_ids, status__in=SALES_STATUSES)
        .values("attributed_to_id").annotate(total=Sum("net_base"))
    )
    currency = current_tenant().currency
    out = {i: exact_sum(0, currency) for i in distributor_ids}
    for row in rows:
        out[row["attributed_to_id"]] = exact_sum(row["total"], currency)
    return out


def month_start(*, tz_name: str, now: datetime | None = None) -> datetime:
    """The start of the current month in the tenant's time zone, as an aware datetime."""
    local = (now or timezone.now()).astimezone(ZoneInfo(tz_name))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def team_sales_since(*, distributor: Distributor, since: datetime) -> Decimal:
    """Net paid sales attributed to `distributor` or its level 1-3 downlines, paid at or after
    `since` (tenant currency). One query."""
    from orders.models import Order

    team = Q(attributed_to=distributor) | Q(attributed_to__parent=distributor) | Q(
        attributed_to__ancestor_2=distributor) | Q(attributed_to__ancestor_3=distributor)
    total = Order.objects.filter(team, status__in=SALES_STATUSES, paid_at__gte=since).aggregate(t=Sum("net_base"))["t"]
    return exact_sum(total, current_tenant().currency)


def grade_history(*, distributor_id: int) -> QuerySet:
    """A distributor's grade changes (domain rules section 8: when, from which grade to which, the
    kind and why), newest first, with both grades: one indexed query (tenant, distributor, time)."""
    from .models import GradeChange

    return (GradeChange.objects.filter(distributor_id=distributor_id).select_related("from_grade", "to_grade")
            .order_by("-created_at", "-id"))
