"""Commission plans (versioned rules), grade overrides, commission records and their reversals.

Domain rules sections 5 (rules) and 6 (arithmetic). Every record keeps a snapshot of what priced it:
the plan version, the beneficiary's grade, the rate and each line's unrounded value.
"""
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fenxiao.history import history_user

from fenxiao.money import RATE_KW, MoneyField
from tenants.managers import TenantOwned, tenant_fk

ZERO = Decimal("0.00")


class RuleKind(models.TextChoices):
    PERCENT = "percent", _("percent of the line net")
    FIXED = "fixed", _("fixed amount per unit")


class CommissionPlan(TenantOwned):
    """A version of a tenant's commission rules. Published versions are immutable; the one in force
    at time t is the published version with the latest effective_from <= t."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateTimeField(_("effective from"), null=True, blank=True)
    based_on = tenant_fk("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                         help_text=_("the version this draft was copied from"), verbose_name=_("based on"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user, excluded_fields=["created_at"])

    class Meta(TenantOwned.Meta):
        verbose_name = _("commission plan")
        verbose_name_plural = _("commission plans")
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["tenant", "version"], name="plan_tenant_version")]
        indexes = [models.Index(fields=["tenant", "status", "effective_from"], name="plan_tenant_in_force")]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}".strip()


class CommissionRule(TenantOwned):
    """One level's value in a plan, for the default scope or one category or SKU."""

    class Scope(models.TextChoices):
        DEFAULT = "default", _("Default")
        CATEGORY = "category", _("Category")
        SKU = "sku", _("SKU")

    plan = tenant_fk(CommissionPlan, on_delete=models.CASCADE, related_name="rules", verbose_name=_("plan"))
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.DEFAULT)
    scope_value = models.CharField(_("scope value"), max_length=64, blank=True, default="", help_text=_("category or SKU; empty for default"))
    level = models.PositiveSmallIntegerField(_("level"), validators=[MinValueValidator(1), MaxValueValidator(3)])
    kind = models.CharField(_("kind"), max_length=8, choices=RuleKind.choices, default=RuleKind.PERCENT)
    value = models.DecimalField(_("value"), **RATE_KW, validators=[MinValueValidator(Decimal(0))],
                                help_text=_("percent: fraction with 4 places (0.1000 = 10%); fixed: amount per unit"))
    history = HistoricalRecords(get_user=history_user)

    class Meta(TenantOwned.Meta):
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        ordering = ["scope", "scope_value", "level"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "plan", "scope", "scope_value", "level"], name="rule_tenant_plan_scope_level"),
        ]

    def __str__(self) -> str:
        """ "Technology, level 2: 3%" (commissions.console.rule_label)."""
        from .console import rule_label

        return rule_label(self)


class GradeLevelOverride(TenantOwned):
    """A grade's override of one level's default value (domain rules section 5)."""

    grade = tenant_fk("distributors.Grade", on_delete=models.CASCADE, related_name="overrides", verbose_name=_("grade"))
    level = models.PositiveSmallIntegerField(_("level"), validators=[MinValueValidator(1), MaxValueValidator(3)])
    kind = models.CharField(_("kind"), max_length=8, choices=RuleKind.choices, default=RuleKind.PERCENT)
    value = models.DecimalField(_("value"), **RATE_KW, validators=[MinValueValidator(Decimal(0))])
    history = HistoricalRecords(get_user=history_user)

    class Meta(TenantOwned.Meta):
        verbose_name = _("grade level override")
        verbose_name_plural = _("grade level overrides")
        ordering = ["level"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "grade", "level"], name="gradeoverride_tenant_grade_level"),
        ]

    def __str__(self) -> str:
        """ "level 1: 12%" (the grade's override of that level's default value)."""
        from django.utils.translation import gettext

        from .console import value_str

        currency = self.tenant.currency if self.kind == RuleKind.FIXED and self.tenant_id else None
        return gettext("level %(level)d: %(value)s") % {"level": self.level,
                                                         "value": value_str(self.kind, self.value, currency)}


class CommissionRecord(TenantOwned):
    """What one beneficiary earns at one level of one order (tenant currency, whole minor units)."""

    class Status(models.TextChoices):
        FROZEN = "frozen", _("Frozen")
        AVAILABLE = "available", _("Available")
        REVERSED = "reversed", _("Reversed")

    order = tenant_fk("orders.Order", on_delete=models.PROTECT, related_name="commission_records", verbose_name=_("order"))
    beneficiary = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+", verbose_name=_("beneficiary"))
    level = models.PositiveSmallIntegerField(_("level"))
    plan = tenant_fk(CommissionPlan, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan"))
    grade = tenant_fk("distributors.Grade", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("grade"))
    currency = models.CharField(_("currency"), max_length=3)
    base = MoneyField(_("base"), help_text=_("the order's commission base (tenant currency)"))
    rate = models.DecimalField(_("rate"), **RATE_KW, null=True, blank=True, help_text=_("the percent rate when every line used the same one"))
    amount = MoneyField(_("amount"), help_text=_("as first computed"))
    reversed_amount = MoneyField(_("reversed amount"), default=ZERO)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.FROZEN)
    lines = models.JSONField(_("lines"), default=list, help_text=_("per line: rule source, kind, rate, net, unrounded value"))
    settles_at = models.DateTimeField(_("settles at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    hold = tenant_fk("risk.RiskHold", null=True, blank=True, on_delete=models.PROTECT, related_name="records",
                     verbose_name=_("risk hold"),
                     help_text=_("the risk hold open on the beneficiary when it accrued: settles only once released"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("commission record")
        verbose_name_plural = _("commission records")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "order", "level"], name="record_tenant_order_level"),
            models.UniqueConstraint(fields=["tenant", "order", "beneficiary"], name="record_tenant_order_beneficiary"),
        ]
        indexes = [
            models.Index(fields=["tenant", "beneficiary", "level"], name="record_tenant_benef_level"),
            models.Index(fields=["tenant", "created_at"], name="record_tenant_created"),
            models.Index(fields=["tenant", "status", "settles_at"], name="record_tenant_status_due"),
        ]

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.reversed_amount


class CommissionReversal(TenantOwned):
    """An append-only reversal of part of a record, caused by one refund (domain rules section 6)."""

    record = tenant_fk(CommissionRecord, on_delete=models.PROTECT, related_name="reversals", verbose_name=_("record"))
    refund = tenant_fk("orders.Refund", on_delete=models.PROTECT, related_name="+", verbose_name=_("refund"))
    amount = MoneyField(_("amount"), currency="record.currency")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("commission reversal")
        verbose_name_plural = _("commission reversals")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "record", "refund"], name="reversal_tenant_record_refund"),
        ]
        indexes = [models.Index(fields=["tenant", "refund"], name="reversal_tenant_refund")]


class Backtest(TenantOwned):
    """A plan version (usually a draft) replayed on the orders recorded in a date range: what it
    would have paid against what was paid. Pure computation: nothing is written to the ledger."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    plan = tenant_fk(CommissionPlan, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan"))
    date_from = models.DateField(_("date from"), help_text=_("first local day (tenant time zone) of paid_at, inclusive"))
    date_to = models.DateField(_("date to"), help_text=_("last local day, inclusive"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    total_orders = models.PositiveIntegerField(_("total orders"), default=0)
    processed_orders = models.PositiveIntegerField(_("processed orders"), default=0)
    results = models.JSONField(_("results"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True, default="")
    created_by = models.CharField(_("created by"), max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("backtest")
        verbose_name_plural = _("backtests")
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="backtest_tenant_created")]

    def __str__(self) -> str:
        """ "#3: v2, 2026-01-01 – 2026-01-31" (the plan's version and the local days replayed)."""
        from django.utils.translation import gettext

        return gettext("#%(id)s: v%(version)s, %(start)s – %(end)s") % {
            "id": self.pk, "version": self.plan.version if self.plan_id else "?", "start": self.date_from, "end": self.date_to}

    @property
    def progress(self) -> float:
        return round(self.processed_orders / self.total_orders, 4) if self.total_orders else (1.0 if self.status == "done" else 0.0)
