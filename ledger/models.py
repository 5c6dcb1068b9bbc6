"""The money lifecycle (domain rules section 7): an append-only journal per distributor, the
balances kept in step with it, withdrawals, and the outbox of events for partner webhooks.

A LedgerEntry moves money between a distributor's buckets:

    frozen       accrued commission not yet settled (冻结)
    available    settled, withdrawable; may go negative after a clawback (可提现)
    held         requested withdrawals not yet paid or rejected (提现中)
    withdrawn    transferred to the distributor (already net of fees) (已提现)
    fees         withdrawal fees kept by the tenant
    total_earned net commission and bonuses ever earned (accruals - reversals - clawbacks + bonuses)

Entries are never updated or deleted; Balance rows are updated with F() in the same transaction
as the entries, under row locks taken in primary-key order, and `check_ledger` proves they agree.
"""
from decimal import Decimal

from django.db import models
from simple_history.models import HistoricalRecords

from fenxiao.history import history_user

from fenxiao.money import TENANT, MoneyField
from tenants.managers import TenantOwned, tenant_fk

ZERO = Decimal("0.00")
BUCKETS = ("frozen", "available", "held", "withdrawn", "fees", "total_earned")


class Balance(TenantOwned):
    """A distributor's balances, always equal to the sums of its ledger entries' deltas."""

    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    frozen = MoneyField(default=ZERO)
    available = MoneyField(default=ZERO)
    held = MoneyField(default=ZERO)
    withdrawn = MoneyField(default=ZERO)
    fees = MoneyField(default=ZERO)
    total_earned = MoneyField(default=ZERO)
    # Net commission by level (accruals - reversals - clawbacks of the records of that level),
    # kept with the entries so the portal's earnings page reads one row at any volume.
    earned_level_1 = MoneyField(default=ZERO)
    earned_level_2 = MoneyField(default=ZERO)
    earned_level_3 = MoneyField(default=ZERO)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantOwned.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "distributor"], name="balance_tenant_distributor")]

    def earned_by_level(self) -> dict[str, Decimal]:
        return {"1": self.earned_level_1, "2": self.earned_level_2, "3": self.earned_level_3}


class LedgerEntry(TenantOwned):
    """One append-only journal line: how much moved between which buckets, and why."""

    class Kind(models.TextChoices):
        ACCRUAL = "accrual", "commission accrued (frozen)"
        REVERSAL = "reversal", "commission reversed before settlement (frozen)"
        SETTLEMENT = "settlement", "frozen -> available"
        CLAWBACK = "clawback", "commission reversed after settlement (available)"
        WITHDRAWAL_HOLD = "withdrawal_hold", "available -> held"
        WITHDRAWAL_RETURN = "withdrawal_return", "held -> available (rejected or cancelled)"
        WITHDRAWAL_PAID = "withdrawal_paid", "held -> withdrawn (net of fee)"
        FEE = "fee", "held -> fees"
        BONUS = "bonus", "bonus or prize (available)"
        ADJUSTMENT = "adjustment", "manual correction"

    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = MoneyField(help_text="the money moved (>= 0); the deltas give its direction", currency=TENANT)
    d_frozen = MoneyField(default=ZERO, currency=TENANT)
    d_available = MoneyField(default=ZERO, currency=TENANT)
    d_held = MoneyField(default=ZERO, currency=TENANT)
    d_withdrawn = MoneyField(default=ZERO, currency=TENANT)
    d_fees = MoneyField(default=ZERO, currency=TENANT)
    d_total_earned = MoneyField(default=ZERO, currency=TENANT)
    record = tenant_fk("commissions.CommissionRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refund = tenant_fk("orders.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    withdrawal = tenant_fk("ledger.Withdrawal", null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    memo = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta(TenantOwned.Meta):
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["tenant", "distributor", "id"], name="entry_tenant_distributor"),
            models.Index(fields=["tenant", "record"], name="entry_tenant_record"),
            models.Index(fields=["tenant", "withdrawal"], name="entry_tenant_withdrawal"),
            models.Index(fields=["tenant", "refund"], name="entry_tenant_refund"),
        ]
        constraints = [
            # a record accrues and settles at most once; a withdrawal moves through each step once
            models.UniqueConstraint(fields=["tenant", "record", "kind"], name="entry_once_per_record",
                                    condition=models.Q(kind__in=["accrual", "settlement"])),
            models.UniqueConstraint(fields=["tenant", "withdrawal", "kind"], name="entry_once_per_withdrawal",
                                    condition=models.Q(withdrawal__isnull=False)),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="entry_amount_not_negative"),
        ]

    def deltas(self) -> dict[str, Decimal]:
        return {b: getattr(self, f"d_{b}") for b in BUCKETS}


class Withdrawal(TenantOwned):
    """A distributor's request to be paid out: requested -> approved -> paid, or rejected (by
    staff), or cancelled (by the distributor while requested)."""

    class Status(models.TextChoices):
        REQUESTED = "requested"
        APPROVED = "approved"
        PAID = "paid"
        REJECTED = "rejected"
        CANCELLED = "cancelled"

    class Method(models.TextChoices):
        BANK = "bank"
        ALIPAY = "alipay"
        WECHAT = "wechat"

    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+")
    amount = MoneyField()
    fee = MoneyField()
    transfer_amount = MoneyField(help_text="amount - fee")
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=8, choices=Method.choices)
    account = models.CharField(max_length=200)
    account_name = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    request_hash = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(max_length=300, blank=True, default="", help_text="why rejected")
    payout_reference = models.CharField(max_length=200, blank=True, default="")
    decided_by = models.CharField(max_length=150, blank=True, default="")
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(get_user=history_user, excluded_fields=["request_hash", "idempotency_key"])

    class Meta(TenantOwned.Meta):
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["tenant", "distributor", "id"], name="withdrawal_tenant_distributor"),
            models.Index(fields=["tenant", "status"], name="withdrawal_tenant_status"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "distributor", "idempotency_key"], name="withdrawal_idempotency",
                                    condition=~models.Q(idempotency_key="")),
        ]


class OutboxEvent(TenantOwned):
    """An event for partner webhooks, written in the same transaction as what it reports."""

    type = models.CharField(max_length=64)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "dispatched_at", "id"], name="outbox_tenant_pending")]
