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
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fenxiao.history import history_user

from fenxiao.money import TENANT, MoneyField
from fenxiao.publicid import PublicIdField
from tenants.managers import TenantOwned, tenant_fk

ZERO = Decimal("0.00")
BUCKETS = ("frozen", "available", "held", "withdrawn", "fees", "total_earned")


class Balance(TenantOwned):
    """A distributor's balances, always equal to the sums of its ledger entries' deltas."""

    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    currency = models.CharField(_("currency"), max_length=3)
    frozen = MoneyField(_("frozen"), default=ZERO)
    available = MoneyField(_("available"), default=ZERO)
    held = MoneyField(_("held"), default=ZERO)
    withdrawn = MoneyField(_("withdrawn"), default=ZERO)
    fees = MoneyField(_("fees"), default=ZERO)
    total_earned = MoneyField(_("total earned"), default=ZERO)
    # Net commission by level (accruals - reversals - clawbacks of the records of that level),
    # kept with the entries so the portal's earnings page reads one row at any volume.
    earned_level_1 = MoneyField(_("earned level 1"), default=ZERO)
    earned_level_2 = MoneyField(_("earned level 2"), default=ZERO)
    earned_level_3 = MoneyField(_("earned level 3"), default=ZERO)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("balance")
        verbose_name_plural = _("balances")
        constraints = [models.UniqueConstraint(fields=["tenant", "distributor"], name="balance_tenant_distributor")]

    def earned_by_level(self) -> dict[str, Decimal]:
        return {"1": self.earned_level_1, "2": self.earned_level_2, "3": self.earned_level_3}


class LedgerEntry(TenantOwned):
    """One append-only journal line: how much moved between which buckets, and why."""

    class Kind(models.TextChoices):
        ACCRUAL = "accrual", _("commission accrued (frozen)")
        REVERSAL = "reversal", _("commission reversed before settlement (frozen)")
        SETTLEMENT = "settlement", _("frozen -> available")
        CLAWBACK = "clawback", _("commission reversed after settlement (available)")
        WITHDRAWAL_HOLD = "withdrawal_hold", _("available -> held")
        WITHDRAWAL_RETURN = "withdrawal_return", _("held -> available (rejected)")
        WITHDRAWAL_PAID = "withdrawal_paid", _("held -> withdrawn (net of fee)")
        FEE = "fee", _("held -> fees")
        BONUS = "bonus", _("bonus or prize (available)")
        ADJUSTMENT = "adjustment", _("manual correction")

    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = MoneyField(_("amount"), help_text=_("the money moved (>= 0); the deltas give its direction"), currency=TENANT)
    d_frozen = MoneyField(_("d frozen"), default=ZERO, currency=TENANT)
    d_available = MoneyField(_("d available"), default=ZERO, currency=TENANT)
    d_held = MoneyField(_("d held"), default=ZERO, currency=TENANT)
    d_withdrawn = MoneyField(_("d withdrawn"), default=ZERO, currency=TENANT)
    d_fees = MoneyField(_("d fees"), default=ZERO, currency=TENANT)
    d_total_earned = MoneyField(_("d total earned"), default=ZERO, currency=TENANT)
    record = tenant_fk("commissions.CommissionRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("record"))
    refund = tenant_fk("orders.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("refund"))
    withdrawal = tenant_fk("ledger.Withdrawal", null=True, blank=True, on_delete=models.PROTECT, related_name="entries", verbose_name=_("withdrawal"))
    memo = models.CharField(_("memo"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("created at"))

    class Meta(TenantOwned.Meta):
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
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
    staff), or cancelled (by the distributor while requested; the held money returns with a
    `withdrawal_return` entry, as for a rejection)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    class Method(models.TextChoices):
        BANK = "bank", _("Bank")
        ALIPAY = "alipay", _("Alipay")
        WECHAT = "wechat", _("Wechat")

    public_id = PublicIdField(prefix="wd")
    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    amount = MoneyField(_("amount"))
    fee = MoneyField(_("fee"))
    transfer_amount = MoneyField(_("transfer amount"), help_text=_("amount - fee"))
    currency = models.CharField(_("currency"), max_length=3)
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    account = models.CharField(_("account"), max_length=200)
    account_name = models.CharField(_("account name"), max_length=200, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, blank=True, default="")
    request_hash = models.CharField(_("request hash"), max_length=64, blank=True, default="")
    reason = models.CharField(_("reason"), max_length=300, blank=True, default="", help_text=_("why rejected"))
    payout_reference = models.CharField(_("payout reference"), max_length=200, blank=True, default="")
    decided_by = models.CharField(_("decided by"), max_length=150, blank=True, default="")
    requested_at = models.DateTimeField(_("requested at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    history = HistoricalRecords(get_user=history_user, excluded_fields=["request_hash", "idempotency_key"])

    class Meta(TenantOwned.Meta):
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["tenant", "distributor", "id"], name="withdrawal_tenant_distributor"),
            models.Index(fields=["tenant", "status"], name="withdrawal_tenant_status"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "distributor", "idempotency_key"], name="withdrawal_idempotency",
                                    condition=~models.Q(idempotency_key="")),
            models.UniqueConstraint(fields=["tenant", "public_id"], name="withdrawal_tenant_public_id"),
        ]

    def __str__(self) -> str:
        """ "#7: 20.00 CNY" (the amount with its currency's places)."""
        from django.utils.translation import gettext

        from fenxiao.currencies import money_str

        amount = money_str(self.amount, self.currency) if self.amount is not None and self.currency else "-"
        return gettext("#%(id)s: %(amount)s %(currency)s") % {"id": self.pk, "amount": amount, "currency": self.currency}


class OutboxEvent(TenantOwned):
    """An event for partner webhooks, written in the same transaction as what it reports."""

    type = models.CharField(_("type"), max_length=64)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "dispatched_at", "id"], name="outbox_tenant_pending")]
