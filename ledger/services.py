"""Writes on the ledger (domain rules section 7). Every function runs inside the caller's
transaction (or its own), appends entries and moves the balances with them, never updating or
deleting an entry. Balance rows are locked in primary-key order before they change, so two
transactions touching the same distributors can never deadlock or lose an update.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from commissions import arithmetic as ar
from fenxiao.bulk import bulk_insert, instance, pg_array
from fenxiao.exceptions import Conflict, InvalidState, invalid

from .models import BUCKETS, Balance, LedgerEntry, OutboxEvent, Withdrawal

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
        Balance.objects.bulk_create(
            [Balance(tenant=tenant, distributor_id=d, currency=tenant.currency) for d in per], ignore_conflicts=True
        )
        balances = list(Balance.objects.select_for_update().filter(distributor_id__in=list(per)).order_by("pk"))
        for bal in balances:
            for bucket, delta in per[bal.distributor_id].items():
                setattr(bal, bucket, getattr(bal, bucket) + delta)
        Balance.objects.bulk_update(balances, list(BALANCE_FIELDS))
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


def event_record(*, tenant, type: str, payload: dict) -> None:
    """Queue an outbound event in the outbox, in the caller's transaction (delivered by webhooks)."""
    OutboxEvent.objects.create(tenant=tenant, type=type, payload=payload)


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


@transaction.atomic
def settle_due(*, tenant, now: datetime | None = None, chunk: int = 500) -> int:
    """Move every commission record due by `now` from frozen to available (domain rules section 7).

    Due: status frozen and settles_at <= now (settles_at = completed_at + settle_after_days, or
    paid_at + auto_complete_days + settle_after_days for orders never completed). The records are
    locked and re-checked, so two runs at once settle each record once; a second run finds nothing.
    Returns how many records settled. Emits `commission.settled` events.
    """
    from commissions.models import CommissionRecord

    now = now or timezone.now()
    settled = 0
    while True:
        due = list(
            CommissionRecord.objects.select_for_update(of=("self",)).select_related("order", "beneficiary")
            .filter(status=CommissionRecord.Status.FROZEN, settles_at__lte=now).order_by("pk")[:chunk]
        )
        if not due:
            return settled
        entries = []
        for r in due:
            r.status = CommissionRecord.Status.AVAILABLE
            r.settled_at = now
            net = r.amount - r.reversed_amount
            entries.append(entry(tenant_id=r.tenant_id, distributor_id=r.beneficiary_id, kind=K.SETTLEMENT, amount=net,
                                 d_frozen=-net, d_available=net, record=r, at=now))
        CommissionRecord.objects.bulk_update(due, ["status", "settled_at"])
        entries_post(tenant=tenant, entries=entries)
        OutboxEvent.objects.bulk_create([
            OutboxEvent(tenant=tenant, type="commission.settled", payload={
                "commission_id": r.pk, "order_external_id": r.order.external_id,
                "beneficiary_external_id": r.beneficiary.external_id, "level": r.level,
                "amount": str(r.amount - r.reversed_amount), "currency": r.currency, "settled_at": now.isoformat()})
            for r in due
        ])
        settled += len(due)


# --- withdrawals -------------------------------------------------------------------------------

def _withdrawal_event(w: Withdrawal) -> None:
    event_record(tenant=w.tenant, type="withdrawal.updated", payload={
        "withdrawal_id": w.pk, "distributor_external_id": w.distributor.external_id, "status": w.status,
        "amount": str(w.amount), "fee": str(w.fee), "transfer_amount": str(w.transfer_amount), "currency": w.currency,
    })


@transaction.atomic
def withdrawal_request(
    *, distributor, amount: Decimal, method: str, account: str, account_name: str = "",
    idempotency_key: str = "", request_hash: str = "",
) -> tuple[Withdrawal, bool]:
    """A distributor asks to withdraw `amount` (tenant currency, 2 places) to `method`/`account`.

    Returns (withdrawal, created). Holds the money at once (available -> held). The balance row is
    locked first, so concurrent requests and double clicks can never take more than `available`.
    An `idempotency_key` seen before returns the same withdrawal (same request_hash) or raises
    Conflict (409, other body). 400: amount <= 0, over 2 places, below withdraw_min_amount or above
    available; unknown method; missing account. 409: the distributor is not active.
    Fee = amount x withdraw_fee_rate rounded by the tenant's mode; transfer = amount - fee.
    Domain rules section 7.
    """
    tenant = distributor.tenant

    def replay() -> Withdrawal | None:
        seen = Withdrawal.objects.filter(distributor=distributor, idempotency_key=idempotency_key).first()
        if seen is not None and seen.request_hash != request_hash:
            raise Conflict("This Idempotency-Key was used with another request body.")
        return seen

    if idempotency_key and (seen := replay()) is not None:
        return seen, False
    if distributor.status != distributor.Status.ACTIVE:
        raise InvalidState(f"A {distributor.status} distributor cannot withdraw.")
    if method not in Withdrawal.Method.values:
        raise invalid("method", f"Unknown method {method!r}; use bank, alipay or wechat.", "invalid_choice")
    if not account.strip():
        raise invalid("account", "The account to pay to is required.", "required")
    if amount <= 0:
        raise invalid("amount", "The amount must be positive.", "min_value")
    if amount != amount.quantize(Decimal("0.01")):
        raise invalid("amount", "The amount has more than 2 decimal places.", "max_decimal_places")
    if amount < tenant.withdraw_min_amount:
        raise invalid("amount", f"The minimum withdrawal is {tenant.withdraw_min_amount} {tenant.currency}.", "below_minimum")
    Balance.objects.bulk_create([Balance(tenant=tenant, distributor=distributor, currency=tenant.currency)], ignore_conflicts=True)
    balance = Balance.objects.select_for_update().get(distributor=distributor)
    # Under the lock: a double click with the same key that got here second sees the first one.
    if idempotency_key and (seen := replay()) is not None:
        return seen, False
    if amount > balance.available:
        raise invalid("amount", f"Only {max(balance.available, ZERO)} {tenant.currency} is available.", "insufficient_funds")
    fee = ar.quantize_money(amount * tenant.withdraw_fee_rate, tenant.rounding)
    w = Withdrawal.objects.create(
        tenant=tenant, distributor=distributor, amount=amount, fee=fee, transfer_amount=amount - fee,
        currency=tenant.currency, method=method, account=account.strip(), account_name=account_name,
        idempotency_key=idempotency_key, request_hash=request_hash, requested_at=timezone.now(),
    )
    entries_post(tenant=tenant, entries=[entry(tenant_id=tenant.pk, distributor_id=distributor.pk, kind=K.WITHDRAWAL_HOLD,
                                               amount=amount, d_available=-amount, d_held=amount, withdrawal=w)])
    _withdrawal_event(w)
    return w, True


def _transition(withdrawal: Withdrawal, *, from_: tuple[str, ...], to: str, actor: str, **fields) -> Withdrawal:
    """Compare-and-set the status: exactly one of concurrent deciders wins; others get 409."""
    now = timezone.now()
    changed = Withdrawal.objects.filter(pk=withdrawal.pk, status__in=from_).update(
        status=to, decided_by=actor, decided_at=now, **fields)
    w = Withdrawal.objects.select_related("tenant", "distributor").get(pk=withdrawal.pk)
    if not changed:
        raise InvalidState(f"A {w.status} withdrawal cannot become {to}.")
    w._change_reason = f"{to} by {actor}"[:100]
    w.save(update_fields=["status"])  # the audit trail (history) records the decision
    return w


@transaction.atomic
def withdrawal_approve(*, withdrawal: Withdrawal, actor: str = "") -> Withdrawal:
    """requested -> approved (the money stays held). 409 from any other status."""
    w = _transition(withdrawal, from_=(Withdrawal.Status.REQUESTED,), to=Withdrawal.Status.APPROVED, actor=actor)
    _withdrawal_event(w)
    return w


@transaction.atomic
def withdrawal_reject(*, withdrawal: Withdrawal, reason: str = "", actor: str = "") -> Withdrawal:
    """requested or approved -> rejected; the held money returns to available. 409 otherwise."""
    w = _transition(withdrawal, from_=(Withdrawal.Status.REQUESTED, Withdrawal.Status.APPROVED),
                    to=Withdrawal.Status.REJECTED, actor=actor, reason=reason)
    entries_post(tenant=w.tenant, entries=[entry(tenant_id=w.tenant_id, distributor_id=w.distributor_id,
                                                 kind=K.WITHDRAWAL_RETURN, amount=w.amount, d_held=-w.amount,
                                                 d_available=w.amount, withdrawal=w)])
    _withdrawal_event(w)
    return w


@transaction.atomic
def withdrawal_pay(*, withdrawal: Withdrawal, payout_reference: str = "", actor: str = "") -> Withdrawal:
    """approved -> paid: held money leaves as the transfer (withdrawn) and the fee (fees).
    Exactly once, whoever clicks: 409 for a withdrawal not approved (or already paid)."""
    w = _transition(withdrawal, from_=(Withdrawal.Status.APPROVED,), to=Withdrawal.Status.PAID, actor=actor,
                    paid_at=timezone.now(), payout_reference=payout_reference)
    moves = [entry(tenant_id=w.tenant_id, distributor_id=w.distributor_id, kind=K.WITHDRAWAL_PAID, amount=w.transfer_amount,
                   d_held=-w.transfer_amount, d_withdrawn=w.transfer_amount, withdrawal=w)]
    if w.fee > 0:
        moves.append(entry(tenant_id=w.tenant_id, distributor_id=w.distributor_id, kind=K.FEE, amount=w.fee,
                           d_held=-w.fee, d_fees=w.fee, withdrawal=w))
    entries_post(tenant=w.tenant, entries=moves)
    _withdrawal_event(w)
    return w


SCHEDULES = (  # (name prefix, task, minutes): django-celery-beat runs each once per tenant
    ("settle", "ledger.tasks.settle_tenant", 15),
    ("sweep", "commissions.tasks.sweep_tenant", 1),
)


def settlement_schedule_ensure(*, tenant) -> None:
    """Make sure django-celery-beat runs this tenant's periodic tasks (enabled while the tenant is
    active): `settle:<slug>` (ledger.tasks.settle_tenant) every 15 minutes and `sweep:<slug>`
    (commissions.tasks.sweep_tenant: accrual and backtests whose message a broker outage lost)
    every minute. Idempotent."""
    import json

    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for prefix, task, minutes in SCHEDULES:
        every, _ = IntervalSchedule.objects.get_or_create(every=minutes, period=IntervalSchedule.MINUTES)
        PeriodicTask.objects.update_or_create(
            name=f"{prefix}:{tenant.slug}",
            defaults={"task": task, "interval": every,
                      "kwargs": json.dumps({"tenant_id": tenant.pk}), "enabled": tenant.is_active},
        )
