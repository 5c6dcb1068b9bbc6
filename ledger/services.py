"""Writes on the ledger (domain rules section 7): settlement, withdrawals, the periodic schedules.
Every function runs inside the caller's transaction (or its own), appends entries and moves the
balances with them (ledger.postings), never updating or deleting an entry.

Settlement is above the commission engine and the incentives (it settles commission records,
counts settled sales and evaluates grade upgrades); the postings every app makes (accrual,
reversal, bonus entries, outbox events) are in ledger.postings, below them, so that
commissions, incentives and distributors post entries without importing this module.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from commissions import arithmetic as ar
from fenxiao.bulk import bulk_insert, instance
from fenxiao.currencies import fits, minor_units, money_str
from fenxiao.exceptions import Conflict, InvalidState, invalid, with_article
from fenxiao.money import places_message

from .models import Balance, LedgerEntry, OutboxEvent, Withdrawal
from .postings import entries_post, entry, event_record, outbox_written

K = LedgerEntry.Kind


# What settlement reads of a record: not its lines or its order's attribution (JSON, the bulk of the rows).
SETTLE_FIELDS = ("id", "tenant_id", "beneficiary_id", "level", "amount", "reversed_amount", "currency",
                 "order__external_id", "beneficiary__external_id")


@transaction.atomic
def settle_due(*, tenant, now: datetime | None = None, chunk: int = 500) -> int:
    """Move every commission record due by `now` from frozen to available (domain rules section 7).

    Due: status frozen and settles_at <= now (settles_at = completed_at + settle_after_days, or
    paid_at + auto_complete_days + settle_after_days for orders never completed), and not held by
    an open risk hold (domain rules section 11: released holds' records settle). The records are
    locked and re-checked, so two runs at once settle each record once; a second run finds nothing.
    Returns how many records settled. Emits `commission.settled` events. The settled orders count
    towards their beneficiaries' lifetime settled sales, and the distributors whose settled sales
    grew are evaluated for a grade upgrade (domain rules section 8).
    """
    from commissions.models import CommissionRecord
    from incentives.figures import figures_on_settlement

    now = now or timezone.now()
    settled = 0
    upgraded_candidates: set[int] = set()  # whose settled sales grew: evaluated for an upgrade
    while True:
        due = list(
            CommissionRecord.objects.select_for_update(of=("self",)).select_related("order", "beneficiary")
            .filter(status=CommissionRecord.Status.FROZEN, settles_at__lte=now)
            .filter(Q(hold__isnull=True) | Q(hold__released_at__isnull=False))  # risk holds (domain 11)
            .order_by("pk")
            .only(*SETTLE_FIELDS)[:chunk]
        )
        if not due:
            if upgraded_candidates:
                from incentives.services import grades_evaluate

                grades_evaluate(distributor_ids=upgraded_candidates, at=now)
            return settled
        entries = []
        for r in due:
            r.status = CommissionRecord.Status.AVAILABLE
            r.settled_at = now
            net = r.amount - r.reversed_amount
            entries.append(entry(tenant_id=r.tenant_id, distributor_id=r.beneficiary_id, kind=K.SETTLEMENT, amount=net,
                                 d_frozen=-net, d_available=net, record=r, at=now))
        CommissionRecord.objects.filter(pk__in=[r.pk for r in due]).update(
            status=CommissionRecord.Status.AVAILABLE, settled_at=now, updated_at=timezone.now())  # the same for every row
        entries_post(tenant=tenant, entries=entries)
        upgraded_candidates |= figures_on_settlement(tenant=tenant, order_ids=sorted({r.order_id for r in due}))
        bulk_insert(OutboxEvent, [
            instance(OutboxEvent, tenant=tenant, type="commission.settled", payload={
                "commission_id": r.pk, "order_external_id": r.order.external_id,
                "beneficiary_external_id": r.beneficiary.external_id, "level": r.level,
                "amount": money_str(r.amount - r.reversed_amount, r.currency), "currency": r.currency,
                "settled_at": now.isoformat()})
            for r in due
        ])
        outbox_written(tenant_id=tenant.pk)
        settled += len(due)


# --- withdrawals -------------------------------------------------------------------------------

def _withdrawal_event(w: Withdrawal) -> None:
    event_record(tenant=w.tenant, type="withdrawal.updated", payload={
        "withdrawal_id": w.public_id, "distributor_external_id": w.distributor.external_id, "status": w.status,
        "amount": money_str(w.amount, w.currency), "fee": money_str(w.fee, w.currency),
        "transfer_amount": money_str(w.transfer_amount, w.currency), "currency": w.currency,
    })


@transaction.atomic
def withdrawal_request(
    *, distributor, amount: Decimal, method: str, account: str, account_name: str = "",
    idempotency_key: str = "", request_hash: str = "",
) -> tuple[Withdrawal, bool]:
    """A distributor asks to withdraw `amount` (tenant currency, whole minor units) to `method`/`account`.

    Returns (withdrawal, created). Holds the money at once (available -> held). The balance row is
    locked first, so concurrent requests and double clicks can never take more than `available`.
    An `idempotency_key` seen before returns the same withdrawal (same request_hash) or raises
    Conflict (409, other body). 400: amount <= 0, finer than the currency's minor unit (over 2
    places in CNY, any in JPY), below withdraw_min_amount or above
    available; unknown method; missing account. 409: the distributor is not active.
    Fee = amount x withdraw_fee_rate rounded by the tenant's mode; transfer = amount - fee.
    Domain rules section 7.
    """
    tenant = distributor.tenant

    def replay() -> Withdrawal | None:
        seen = Withdrawal.objects.filter(distributor=distributor, idempotency_key=idempotency_key).first()
        if seen is not None and seen.request_hash != request_hash:
            raise Conflict(gettext("This Idempotency-Key was used with another request body."))
        return seen

    if idempotency_key and (seen := replay()) is not None:
        return seen, False
    if distributor.status != distributor.Status.ACTIVE:
        raise InvalidState(gettext("%(state)s distributor cannot withdraw.") % {
            "state": with_article(distributor.status).capitalize()})
    if method not in Withdrawal.Method.values:
        raise invalid("method", gettext("Unknown method %(method)r; use bank, alipay or wechat.") % {"method": method},
                      "invalid_choice")
    if not account.strip():
        raise invalid("account", gettext("The account to pay to is required."), "required")
    if amount <= 0:
        raise invalid("amount", gettext("The amount must be positive."), "min_value")
    places = minor_units(tenant.currency)
    if not fits(amount, places):
        raise invalid("amount", places_message(tenant.currency, places), "max_decimal_places")
    if amount < tenant.withdraw_min_amount:
        raise invalid("amount", gettext("The minimum withdrawal is %(amount)s %(currency)s.") % {
            "amount": money_str(tenant.withdraw_min_amount, tenant.currency), "currency": tenant.currency}, "below_minimum")
    Balance.objects.bulk_create([Balance(tenant=tenant, distributor=distributor, currency=tenant.currency)], ignore_conflicts=True)
    balance = Balance.objects.select_for_update().get(distributor=distributor)
    # Under the lock: a double click with the same key that got here second sees the first one.
    if idempotency_key and (seen := replay()) is not None:
        return seen, False
    if amount > balance.available:
        if balance.available <= 0:
            raise invalid("amount", gettext("Nothing is available to withdraw (available: %(amount)s %(currency)s).") % {
                "amount": money_str(balance.available, tenant.currency), "currency": tenant.currency}, "insufficient_funds")
        raise invalid("amount", gettext("Only %(amount)s %(currency)s is available.") % {
            "amount": money_str(balance.available, tenant.currency), "currency": tenant.currency}, "insufficient_funds")
    fee = ar.quantize_money(amount * tenant.withdraw_fee_rate, tenant.rounding, places)
    w = Withdrawal.objects.create(
        tenant=tenant, distributor=distributor, amount=amount, fee=fee, transfer_amount=amount - fee,
        currency=tenant.currency, method=method, account=account.strip(), account_name=account_name,
        idempotency_key=idempotency_key, request_hash=request_hash, requested_at=timezone.now(),
    )
    entries_post(tenant=tenant, entries=[entry(tenant_id=tenant.pk, distributor_id=distributor.pk, kind=K.WITHDRAWAL_HOLD,
                                               amount=amount, d_available=-amount, d_held=amount, withdrawal=w)])
    _withdrawal_event(w)
    return w, True


#: A decision refused by the withdrawal's state, by the status it would have reached.
WITHDRAWAL_REFUSALS = {
    Withdrawal.Status.APPROVED: _("%(state)s withdrawal cannot be approved."),
    Withdrawal.Status.REJECTED: _("%(state)s withdrawal cannot be rejected."),
    Withdrawal.Status.PAID: _("%(state)s withdrawal cannot be paid."),
    Withdrawal.Status.CANCELLED: _("%(state)s withdrawal cannot be cancelled."),
}


def _transition(withdrawal: Withdrawal, *, from_: tuple[str, ...], to: str, actor: str, decision: bool = True,
                note: str = "", **fields) -> Withdrawal:
    """Compare-and-set the status: exactly one of concurrent deciders wins; others get 409.
    A decision (approve, reject) records who and when in decided_by / decided_at; paying does not
    (it keeps the approval's; the payer is in the history: "paid by <actor>"). `note` (why, as
    staff gave it) follows in the history's change reason: "approved by pm: account checked"."""
    if decision:
        fields = {"decided_by": actor, "decided_at": timezone.now(), **fields}
    changed = Withdrawal.objects.filter(pk=withdrawal.pk, status__in=from_).update(status=to, **fields)
    w = Withdrawal.objects.select_related("tenant", "distributor").get(pk=withdrawal.pk)
    if not changed:
        raise InvalidState(WITHDRAWAL_REFUSALS[to] % {"state": with_article(w.status).capitalize()})
    w._change_reason = (f"{to} by {actor}: {note.strip()}" if note.strip() else f"{to} by {actor}")[:100]
    w.save(update_fields=["status"])  # the audit trail (history) records the decision
    return w


@transaction.atomic
def withdrawal_approve(*, withdrawal: Withdrawal, actor: str = "", note: str = "") -> Withdrawal:
    """requested -> approved (the money stays held). 409 from any other status. `note`: why, kept
    in the history's change reason."""
    w = _transition(withdrawal, from_=(Withdrawal.Status.REQUESTED,), to=Withdrawal.Status.APPROVED, actor=actor,
                    note=note)
    _withdrawal_event(w)
    return w


def _held_money_returned(w: Withdrawal) -> Withdrawal:
    """A rejected or cancelled withdrawal's held money back to available (a `withdrawal_return`
    ledger entry) and its event; returns `w`."""
    entries_post(tenant=w.tenant, entries=[entry(tenant_id=w.tenant_id, distributor_id=w.distributor_id,
                                                 kind=K.WITHDRAWAL_RETURN, amount=w.amount, d_held=-w.amount,
                                                 d_available=w.amount, withdrawal=w)])
    _withdrawal_event(w)
    return w


@transaction.atomic
def withdrawal_reject(*, withdrawal: Withdrawal, reason: str = "", actor: str = "") -> Withdrawal:
    """requested or approved -> rejected; the held money returns to available. 409 otherwise."""
    w = _transition(withdrawal, from_=(Withdrawal.Status.REQUESTED, Withdrawal.Status.APPROVED),
                    to=Withdrawal.Status.REJECTED, actor=actor, note=reason, reason=reason)
    return _held_money_returned(w)


@transaction.atomic
def withdrawal_cancel(*, withdrawal: Withdrawal, distributor, actor: str = "") -> Withdrawal:
    """The distributor takes back its own withdrawal while it is `requested` (issue 14): requested
    -> cancelled, the held money returns to available with a `withdrawal_return` ledger entry (as a
    rejection's). 404 for another distributor's withdrawal; 409 `invalid_state` once staff approved
    (or paid, rejected) it, or when it is cancelled already (compare-and-set: a cancel racing an
    approval, one wins). Domain rules section 7."""
    from fenxiao.exceptions import NotFound

    if withdrawal.distributor_id != distributor.pk:
        raise NotFound(gettext("No withdrawal with this id."))
    w = _transition(withdrawal, from_=(Withdrawal.Status.REQUESTED,), to=Withdrawal.Status.CANCELLED,
                    actor=actor or f"distributor:{distributor.external_id}", decision=False)
    return _held_money_returned(w)


@transaction.atomic
def withdrawal_pay(*, withdrawal: Withdrawal, payout_reference: str = "", actor: str = "", note: str = "") -> Withdrawal:
    """approved -> paid: held money leaves as the transfer (withdrawn) and the fee (fees).
    Exactly once, whoever clicks: 409 for a withdrawal not approved (or already paid). Sets
    paid_at (now) and payout_reference; the approval's decided_at / decided_by stay as they were.
    `note`: why or how, kept in the history's change reason."""
    w = _transition(withdrawal, from_=(Withdrawal.Status.APPROVED,), to=Withdrawal.Status.PAID, actor=actor,
                    decision=False, note=note, paid_at=timezone.now(), payout_reference=payout_reference)
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
    ("incentives", "incentives.tasks.incentives_tenant", 15),
    ("ranks", "incentives.tasks.contest_ranks_tenant", 1),
    ("webhooks", "webhooks.tasks.relay_tenant", 1),
)


def settlement_schedule_ensure(*, tenant) -> None:
    """Make sure django-celery-beat runs this tenant's periodic tasks (enabled while the tenant is
    active): `settle:<slug>` (ledger.tasks.settle_tenant) every 15 minutes, `sweep:<slug>`
    (commissions.tasks.sweep_tenant: accrual and backtests whose message a broker outage lost)
    every minute and `incentives:<slug>` (incentives.tasks.incentives_tenant: contests to finalize,
    tier bonus months to evaluate) every 15 minutes and `ranks:<slug>`
    (incentives.tasks.contest_ranks_tenant: the running contests' rank snapshots) every minute
    and `webhooks:<slug>` (webhooks.tasks.relay_tenant: outbox events to deliveries, due
    deliveries and retries sent) every minute. Idempotent."""
    import json

    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for prefix, task, minutes in SCHEDULES:
        every, _ = IntervalSchedule.objects.get_or_create(every=minutes, period=IntervalSchedule.MINUTES)
        PeriodicTask.objects.update_or_create(
            name=f"{prefix}:{tenant.slug}",
            defaults={"task": task, "interval": every,
                      "kwargs": json.dumps({"tenant_id": tenant.pk}), "enabled": tenant.is_active},
        )
