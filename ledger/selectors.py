"""Reads of balances and the journal; the ledger audit behind `manage.py check_ledger`."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext

from fenxiao.currencies import exact_sum
from tenants.context import current_tenant

from .models import BUCKETS, Balance, LedgerEntry, Withdrawal

ZERO = Decimal("0.00")


def earnings_of(*, distributor_id: int) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(balances, net commission by level "1".."3") of a distributor from its Balance row: one
    indexed query whatever its number of records (zeros when nothing was ever journalled)."""
    bal = Balance.objects.filter(distributor_id=distributor_id).first()
    if bal is None:
        return {b: ZERO for b in BUCKETS}, {"1": ZERO, "2": ZERO, "3": ZERO}
    return {b: getattr(bal, b) for b in BUCKETS}, bal.earned_by_level()


def withdrawals_of(*, distributor) -> QuerySet:
    """A distributor's withdrawals, newest first (requested, approved, paid, rejected, cancelled),
    with the distributor loaded: what the portal lists (API /me/withdrawals/ and the pages)."""
    return Withdrawal.objects.filter(distributor=distributor).select_related("distributor").order_by("-id")


def withdrawal_of(*, distributor, public_id: str) -> Withdrawal:
    """One of the distributor's withdrawals by its public id (wd_...), or NotFound (404): another
    distributor's or another tenant's answers exactly like a missing one (domain rules section 1)."""
    found = withdrawals_of(distributor=distributor).filter(public_id=public_id).first()
    if found is None:
        from fenxiao.exceptions import NotFound

        raise NotFound(gettext("No withdrawal with this id."))
    return found


@dataclass
class Drift:
    what: str
    key: str
    expected: Decimal
    actual: Decimal

    def __str__(self) -> str:
        return f"{self.what} {self.key}: ledger says {self.expected}, stored {self.actual}"


def ledger_drift() -> list[Drift]:
    """Recompute, for the tenant in context: every balance from its entries; every commission
    record's net from its accrual/reversal/clawback entries and its settlement from its settlement
    entry; every withdrawal's held/withdrawn/fee money from its entries. Returns what disagrees."""
    from commissions.models import CommissionRecord

    currency = current_tenant().currency

    def _cents(value) -> Decimal:  # a SUM back to exact minor units of the tenant currency
        return exact_sum(value, currency)

    drift: list[Drift] = []
    sums = LedgerEntry.objects.values("distributor_id").annotate(**{b: Sum(f"d_{b}") for b in BUCKETS})
    by_distributor = {row["distributor_id"]: row for row in sums}
    balances = {b.distributor_id: b for b in Balance.objects.all()}
    for distributor_id in set(by_distributor) | set(balances):
        row, bal = by_distributor.get(distributor_id, {}), balances.get(distributor_id)
        for bucket in BUCKETS:
            expected = _cents(row.get(bucket))
            actual = getattr(bal, bucket) if bal else ZERO
            if expected != actual:
                drift.append(Drift(f"balance.{bucket}", f"distributor {distributor_id}", expected, actual))

    per_record = defaultdict(lambda: defaultdict(lambda: ZERO))
    for rec_id, kind, amount in LedgerEntry.objects.filter(record__isnull=False).values_list("record_id", "kind", "amount"):
        per_record[rec_id][kind] += amount
    for r in CommissionRecord.objects.only("id", "amount", "reversed_amount", "status", "settled_at"):
        k = per_record.get(r.pk, {})
        accrued = k.get("accrual", ZERO)
        if accrued != r.amount:
            drift.append(Drift("record.accrual", f"record {r.pk}", r.amount, accrued))
        journal_reversed = k.get("reversal", ZERO) + k.get("clawback", ZERO)
        if journal_reversed != r.reversed_amount:
            drift.append(Drift("record.reversed", f"record {r.pk}", journal_reversed, r.reversed_amount))
        has_settlement = "settlement" in k
        if has_settlement != (r.settled_at is not None):
            drift.append(Drift("record.settled", f"record {r.pk}", Decimal(int(has_settlement)), Decimal(int(r.settled_at is not None))))
        if r.status == "frozen" and r.settled_at is not None or r.status == "available" and r.settled_at is None:
            drift.append(Drift("record.status", f"record {r.pk} ({r.status})", ZERO, ZERO))

    by_level = defaultdict(lambda: ZERO)
    for row in CommissionRecord.objects.values("beneficiary_id", "level").annotate(a=Sum("amount"), r=Sum("reversed_amount")):
        by_level[(row["beneficiary_id"], row["level"])] = _cents(row["a"]) - _cents(row["r"])
    for distributor_id, bal in balances.items():
        for level, stored in bal.earned_by_level().items():
            expected = by_level.get((distributor_id, int(level)), ZERO)
            if expected != stored:
                drift.append(Drift(f"balance.earned_level_{level}", f"distributor {distributor_id}", expected, stored))

    held = _cents(Withdrawal.objects.filter(status__in=["requested", "approved"]).aggregate(t=Sum("amount"))["t"])
    journal_held = _cents(LedgerEntry.objects.aggregate(t=Sum("d_held"))["t"])
    if held != journal_held:
        drift.append(Drift("withdrawals.held", "all", journal_held, held))
    paid = Withdrawal.objects.filter(status="paid").aggregate(t=Sum("transfer_amount"), f=Sum("fee"))
    journal = LedgerEntry.objects.aggregate(w=Sum("d_withdrawn"), f=Sum("d_fees"))
    if _cents(paid["t"]) != _cents(journal["w"]):
        drift.append(Drift("withdrawals.paid", "all", _cents(journal["w"]), _cents(paid["t"])))
    if _cents(paid["f"]) != _cents(journal["f"]):
        drift.append(Drift("withdrawals.fees", "all", _cents(journal["f"]), _cents(paid["f"])))
    return drift


def movements_by_day(*, start, end, distributor_id: int | None = None, channel: str | None = None,
                     by_channel: bool = False) -> list[dict]:
    """The journal of the tenant in context (or of one distributor) between the aware instants
    [start, end), summed per tenant-local day of the entries (their `created_at`: when the money
    moved), kind and commission level: [{"day", "kind", "level" (1..3 for accrual, reversal,
    clawback and settlement entries, else None), "channel" (with `by_channel`: the order's, "" none,
    None for entries of no order), "amount": Decimal >= 0}] in the tenant currency, exact.
    `channel` keeps only the entries of commission records of orders of that channel. One query.
    Domain rules sections 7 and 9 (the reports' commission, bonus and withdrawal figures)."""
    from zoneinfo import ZoneInfo

    from django.db.models import F
    from django.db.models.functions import TruncDate

    tenant = current_tenant()
    qs = LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
    if distributor_id is not None:
        qs = qs.filter(distributor_id=distributor_id)
    if channel:
        qs = qs.filter(record__order__channel=channel)
    extra = {"ch": F("record__order__channel")} if by_channel else {}
    rows = (qs.annotate(day=TruncDate("created_at", tzinfo=ZoneInfo(tenant.timezone)))
            .values("day", "kind", level=F("record__level"), **extra).order_by("day", "kind", "level")
            .annotate(total=Sum("amount")))
    return [{"day": r["day"], "kind": r["kind"], "level": r["level"], "channel": r.get("ch"),
             "amount": exact_sum(r["total"], tenant.currency)} for r in rows]


def balances_before(*, distributor_id: int, at) -> dict[str, Decimal]:
    """A distributor's balances made of its entries created before the aware instant `at` (the
    ledger as it stood then): {bucket: Decimal} for every bucket of ledger.models.BUCKETS, exact in
    the tenant currency. One query."""
    currency = current_tenant().currency
    sums = LedgerEntry.objects.filter(distributor_id=distributor_id, created_at__lt=at).aggregate(
        **{b: Sum(f"d_{b}") for b in BUCKETS})
    return {b: exact_sum(sums[b], currency) for b in BUCKETS}


def entries_between(*, distributor_id: int, start, end) -> list[dict]:
    """A distributor's entries created in [start, end), oldest first: [{"at", "kind", "amount",
    "level", "order_external_id", "refund_external_id", "withdrawal_id" (its public id, wd_...), "memo",
    "deltas": {bucket: Decimal}}] (tenant currency). One query."""
    rows = (LedgerEntry.objects.filter(distributor_id=distributor_id, created_at__gte=start, created_at__lt=end)
            .order_by("created_at", "id")
            .values("created_at", "kind", "amount", "record__level", "record__order__external_id",
                    "refund__external_id", "withdrawal__public_id", "memo", *(f"d_{b}" for b in BUCKETS)))
    return [{"at": r["created_at"], "kind": r["kind"], "amount": r["amount"], "level": r["record__level"],
             "order_external_id": r["record__order__external_id"], "refund_external_id": r["refund__external_id"],
             "withdrawal_id": r["withdrawal__public_id"], "memo": r["memo"], "deltas": {b: r[f"d_{b}"] for b in BUCKETS}}
            for r in rows]


__all__ = ["balances_before", "earnings_of", "entries_between", "ledger_drift", "movements_by_day", "withdrawal_of",
           "withdrawals_of", "Drift"]
