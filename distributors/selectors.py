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
    to each distributor (the order's level-1 candidate), one grouped query (raw: on a portal page
    compiling the queryset cost more than running it)."""
    from fenxiao.bulk import query
    from orders.models import Order
    from tenants.context import single_tenant_id

    currency = current_tenant().currency
    out = {i: exact_sum(0, currency) for i in distributor_ids}
    if not distributor_ids:
        return out
    ids = ", ".join(["%s"] * len(distributor_ids))
    statuses = ", ".join(["%s"] * len(SALES_STATUSES))
    rows = query(f"SELECT attributed_to_id, SUM(net_base) FROM {Order._meta.db_table} WHERE tenant_id = %s"
                 f" AND attributed_to_id IN ({ids}) AND status IN ({statuses}) GROUP BY attributed_to_id",
                 [single_tenant_id(), *distributor_ids, *SALES_STATUSES])
    for distributor_id, total in rows:
        out[distributor_id] = exact_sum(Decimal(str(total or 0)), currency)  # SQLite sums to a float
    return out


class DownlinePage:
    """The rows of one level of a distributor's downlines, for a paginator: len() is the count kept
    on the distributor's row, a slice runs one raw statement (the page by (upline, id), with the
    grade's code) and gives tuples of COLUMNS. Domain rules section 9."""

    COLUMNS = ("id", "external_id", "name", "status", "grade_code", "depth", "joined_at")
    ordered = True

    def __init__(self, *, distributor: Distributor, level: int, count: int):
        self.column = {1: "parent_id", 2: "ancestor_2_id", 3: "ancestor_3_id"}[level]
        self.distributor, self.count_ = distributor, count

    def count(self) -> int:
        return self.count_

    def __len__(self) -> int:
        return self.count_

    def __getitem__(self, bounds: slice) -> list[tuple]:
        from distributors.models import Grade
        from fenxiao.bulk import query, row_converter
        from tenants.context import single_tenant_id

        start, stop = bounds.start or 0, bounds.stop
        table = Distributor._meta.db_table
        rows = query(
            f"SELECT d.id, d.external_id, d.name, d.status, g.code, d.depth, d.joined_at FROM {table} d"
            f" LEFT JOIN {Grade._meta.db_table} g ON g.id = d.grade_id"
            f" WHERE d.tenant_id = %s AND d.{self.column} = %s ORDER BY d.id LIMIT %s OFFSET %s",
            [single_tenant_id(), self.distributor.pk, max(stop - start, 0), start])
        # the grade's code is text, converted like `name` (not at all)
        convert = row_converter(Distributor, ("id", "external_id", "name", "status", "name", "depth", "joined_at"))
        return [tuple(convert(r)) for r in rows]


def month_start(*, tz_name: str, now: datetime | None = None) -> datetime:
    """The start of the current month in the tenant's time zone, as an aware datetime."""
    local = (now or timezone.now()).astimezone(ZoneInfo(tz_name))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def by_external_ids(external_ids, *, fields: tuple[str, ...]) -> dict[str, Distributor]:
    """{external_id: Distributor with only `fields` loaded} of the tenant in context (one raw
    statement: on the single order POST compiling the queryset cost more than running it)."""
    from fenxiao.bulk import from_row, select_sql
    from tenants.context import single_tenant_id

    ids = list(external_ids)
    if not ids:
        return {}
    sql = (f"SELECT {select_sql(Distributor, '', fields=fields)} FROM {Distributor._meta.db_table}"
           f" WHERE tenant_id = %s AND external_id IN ({', '.join(['%s'] * len(ids))})")
    from fenxiao.bulk import query

    found = [from_row(Distributor, row, fields=fields) for row in query(sql, [single_tenant_id(), *ids])]
    return {d.external_id: d for d in found}


def chain_member_rows(ids) -> list[tuple[int, int | None, str]]:
    """(id, grade_id, status) of the distributors with these ids in the tenant in context (one raw
    statement)."""
    from tenants.context import single_tenant_id

    ids = list(ids)
    if not ids:
        return []
    from fenxiao.bulk import query

    return query(f"SELECT id, grade_id, status FROM {Distributor._meta.db_table} WHERE tenant_id = %s"
                 f" AND id IN ({', '.join(['%s'] * len(ids))})", [single_tenant_id(), *ids])


def grade_history(*, distributor_id: int) -> QuerySet:
    """A distributor's grade changes (domain rules section 8: when, from which grade to which, the
    kind and why), newest first, with both grades: one indexed query (tenant, distributor, time)."""
    from .models import GradeChange

    return (GradeChange.objects.filter(distributor_id=distributor_id).select_related("from_grade", "to_grade")
            .order_by("-created_at", "-id"))


def joined_by_day(*, start: datetime, end: datetime) -> dict:
    """{tenant-local day: number of distributors who joined that day} of the tenant in context,
    for joins in [start, end) (aware instants); pending applicants (not approved yet) are not
    counted. One query on the (tenant, joined_at) index. Domain rules section 9 (new distributors)."""
    from django.db.models.functions import TruncDate

    tz = ZoneInfo(current_tenant().timezone)
    rows = (Distributor.objects.filter(joined_at__gte=start, joined_at__lt=end)
            .exclude(status=Distributor.Status.PENDING)
            .annotate(day=TruncDate("joined_at", tzinfo=tz)).values("day").order_by("day").annotate(n=Count("id")))
    return {r["day"]: r["n"] for r in rows}


def distributor_by_external_id(external_id: str) -> Distributor | None:
    """The tenant's distributor with this external id, or None (also for another tenant's). One query."""
    return Distributor.objects.filter(external_id=external_id).first()


def names_of(ids) -> dict[int, tuple[str, str]]:
    """{distributor id: (external_id, name)} of the tenant's distributors with these ids. One raw
    statement (none for no ids): a ranking page's names, where compiling the queryset cost more
    than running it."""
    from fenxiao.bulk import query
    from tenants.context import single_tenant_id

    ids = list(ids)
    if not ids:
        return {}
    return {pk: (ext, name) for pk, ext, name in query(
        f"SELECT id, external_id, name FROM {Distributor._meta.db_table} WHERE tenant_id = %s"
        f" AND id IN ({', '.join(['%s'] * len(ids))})", [single_tenant_id(), *ids])}

