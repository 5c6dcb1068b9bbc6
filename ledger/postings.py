"""Postings on the ledger (domain rules section 7): entries appended and the balances moved with
them, and outbound events queued in the outbox, in the caller's transaction. Never updating or
deleting an entry. Balance rows are locked in primary-key order before they change, so two
transactions touching the same distributors can never deadlock or lose an update.

The lowest write layer of money: the commission engine (accrual, reversal), the incentives
(bonuses, prizes), distributors (events) and ledger.services (settlement, withdrawals) call it;
it imports none of them.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from fenxiao.bulk import bulk_insert, instance, pg_array

from .models import BUCKETS, Balance, LedgerEntry, OutboxEvent

ZERO = Decimal("0.00")
K = LedgerEntry.Kind


def entry(*, tenant_id: int, distributor_id: int, kind: str, amount: Decimal, at: datetime | None = None,
          **deltas_and_links) -> LedgerEntry:
    """An unsaved entry; `deltas_and_links` holds d_<bucket> deltas and record/refund/withdrawal links."""
    return instance(LedgerEntry, tenant_id=tenant_id, distributor_id=distributor_id, kind=kind, amount=amount,
                    created_at=at or timezone.now(), **deltas_and_links)


LEVEL_SIGN = {K.ACCRUAL: 1, K.REVERSAL: -1, K.CLAWBACK: -1}  # entries that move earned_level_<n>
LEVEL_FIELDS = ("earned_level_1", "earned_level_2", "earned_level_3")


def entries_post(*, tenant, entries: list[LedgerEntry]) -> None:
    """Append `entries` and add their deltas to the balances they touch, in the caller's
    transaction; a fixed number of queries whatever the number of entries (5 on PostgreSQL:
    create missing balance rows, lock the rows in primary-key order, add the deltas in one
    UPDATE, the entries' ids and their COPY). Accrual, reversal and clawback entries (which carry
    their `record`) also move the balance's net commission of the record's level. Domain rules
    section 7 (balances always equal the sums of their entries' deltas; `check_ledger` verifies).
    """
    from django.db import connection

    if not entries:
        return
    per: dict[int, dict[str, Decimal]] = defaultdict(lambda: {b: ZERO for b in BALANCE_FIELDS})
    for e in entries:
        mine = per[e.distributor_id]
        for bucket in BUCKETS:
            delta = getattr(e, f"d_{bucket}")
            if delta:
                mine[bucket] += delta
        sign = LEVEL_SIGN.get(e.kind)
        if sign is not None:
            mine[f"earned_level_{e.record.level}"] += sign * e.amount
    if connection.vendor == "postgresql":
        _balances_add_pg(tenant, per)
    else:
        _balances_add_other(tenant, per)
    bulk_insert(LedgerEntry, entries)


BALANCE_FIELDS = (*BUCKETS, *LEVEL_FIELDS)


def _balances_add_pg(tenant, per: dict[int, dict[str, Decimal]]) -> None:
    """PostgreSQL: add `per` (distributor id -> field -> delta) to the tenant's balances. Missing
    rows are inserted (ON CONFLICT DO NOTHING: a concurrent transaction may insert the same), the
    rows are locked in primary-key order (so concurrent postings never deadlock), then one UPDATE
    adds every delta (the same query text whatever the number of rows). The UPDATE names its rows
    with `distributor_id = ANY(...)` besides the join, so the plan is an index scan of those rows
    at any table size (a join alone let the planner hash the tenant's whole balance table)."""
    from django.db import connection

    q = connection.ops.quote_name
    table = q(Balance._meta.db_table)
    ids = sorted(per)
    now = timezone.now()
    id_array = pg_array(ids)
    zeros = ", ".join(f"0 AS {q(f)}" for f in BALANCE_FIELDS)
    cols = ", ".join(q(f) for f in BALANCE_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, distributor_id, currency, {cols}, updated_at) "
            f"SELECT %s, d, %s, {zeros}, %s FROM unnest(%s::bigint[]) AS d "
            "ON CONFLICT (tenant_id, distributor_id) DO NOTHING",
            [tenant.pk, tenant.currency, now, id_array],
        )
        cursor.execute(
            f"SELECT id FROM {table} WHERE tenant_id = %s AND distributor_id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE",
            [tenant.pk, id_array],
        )
        cursor.fetchall()
        arrays = [pg_array(per[d][f] for d in ids) for f in BALANCE_FIELDS]
        cursor.execute(
            f"UPDATE {table} AS b SET " + ", ".join(f"{q(f)} = b.{q(f)} + v.{q(f)}" for f in BALANCE_FIELDS)
            + ", updated_at = %s FROM unnest(%s::bigint[], " + ", ".join(["%s::numeric[]"] * len(BALANCE_FIELDS))
            + f") AS v(distributor_id, {cols}) WHERE b.tenant_id = %s AND b.distributor_id = ANY(%s::bigint[])"
            " AND b.distributor_id = v.distributor_id",
            [now, id_array, *arrays, tenant.pk, id_array],
        )


def _balances_add_other(tenant, per: dict[int, dict[str, Decimal]]) -> None:
    """Elsewhere (SQLite): the same in 3 queries. Missing rows are inserted, the rows read in
    primary-key order (locked where the database can), the new values added in Python (exact
    Decimals: SQLite would add its stored numbers as floats) and written back with one
    executemany. Django's bulk_update of the same rows built a CASE expression per row and field,
    which made the accrual of a chunk cost seconds (docs/performance.md)."""
    from django.db import connection

    Balance.objects.bulk_create(
        [Balance(tenant=tenant, distributor_id=d, currency=tenant.currency) for d in per], ignore_conflicts=True
    )
    rows = list(Balance.objects.select_for_update().filter(distributor_id__in=list(per)).order_by("pk")
                .values_list("pk", "distributor_id", *BALANCE_FIELDS))
    q = connection.ops.quote_name
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = []
    for pk, distributor_id, *current in rows:
        deltas = per[distributor_id]
        params.append([*(value + deltas[f] for f, value in zip(BALANCE_FIELDS, current)), now, pk, tenant.pk])
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {q(Balance._meta.db_table)} SET " + ", ".join(f"{q(f)} = %s" for f in BALANCE_FIELDS)
            + f", {q('updated_at')} = %s WHERE id = %s AND tenant_id = %s",
            params,
        )


def event_record(*, tenant, type: str, payload: dict) -> None:
    """Queue an outbound event in the outbox, in the caller's transaction (delivered by webhooks:
    `type` is one of webhooks.events.EVENT_TYPES; domain rules section 10)."""
    OutboxEvent.objects.create(tenant=tenant, type=type, payload=payload)
    outbox_written(tenant_id=tenant.pk)


#: Who hears that events were written (webhooks.apps registers the relay's kick): the ledger sits
#: below the webhooks app and never imports it (CONVENTIONS: layers one way).
OUTBOX_LISTENERS: list = []


def outbox_written(*, tenant_id: int) -> None:
    """Events of `tenant_id` were written to the outbox in the current transaction: each listener
    is told (the webhook relay's kick, webhooks.tasks.relay_kick: no query, coalesced per
    transaction, never blocks or fails the caller; the relay's minute run catches up whatever a
    lost request missed). Every writer of OutboxEvent rows calls it."""
    for listen in OUTBOX_LISTENERS:
        listen(tenant_id=tenant_id)


def bonus_entry(*, tenant_id: int, distributor_id: int, amount: Decimal, memo: str, at: datetime | None = None) -> LedgerEntry:
    """An unsaved entry crediting a bonus or prize (tenant currency): available at once, earned
    (domain rules sections 7 and 8: contest prizes and tier bonuses are `bonus` entries)."""
    return entry(tenant_id=tenant_id, distributor_id=distributor_id, kind=K.BONUS, amount=amount, at=at,
                 d_available=amount, d_total_earned=amount, memo=memo[:200])


def accrual_entries(*, records) -> list[LedgerEntry]:
    """Entries for newly created commission records: +frozen, +total_earned each."""
    return [entry(tenant_id=r.tenant_id, distributor_id=r.beneficiary_id, kind=K.ACCRUAL, amount=r.amount,
                  d_frozen=r.amount, d_total_earned=r.amount, record=r) for r in records]


def reversal_entry(*, record, amount: Decimal, refund) -> LedgerEntry:
    """Entry for a reversal of `amount` of `record`: from frozen money before settlement
    (`reversal`), from available money after it (`clawback`, which may make available negative)."""
    if record.settled_at is not None:
        return entry(tenant_id=record.tenant_id, distributor_id=record.beneficiary_id, kind=K.CLAWBACK, amount=amount,
                     d_available=-amount, d_total_earned=-amount, record=record, refund=refund)
    return entry(tenant_id=record.tenant_id, distributor_id=record.beneficiary_id, kind=K.REVERSAL, amount=amount,
                 d_frozen=-amount, d_total_earned=-amount, record=record, refund=refund)
