"""Commission plans (versioned rules), grade overrides, commission records and their reversals.

Domain rules sections 5 (rules) and 6 (arithmetic). Every record keeps a snapshot of what priced it:
the plan version, the beneficiary's grade, the rate and each line's unrounded value.
"""
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from simple_history.models import HistoricalRecords

from fenxiao.history import history_user

from fenxiao.money import RATE_KW, MoneyField
from fenxiao.publicid import PublicIdField
from tenants.managers import TenantOwned, tenant_fk

ZERO = Decimal("0.00")


class RuleKind(models.TextChoices):
    PERCENT = "percent", "percent of the line net"
    FIXED = "fixed", "fixed amount per unit"


class CommissionPlan(TenantOwned):
    """A version of a tenant's commission rules. Published versions are immutable; the one in force
    at time t is the published version with the latest effective_from <= t."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    public_id = PublicIdField(prefix="plan")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateTimeField(null=True, blank=True)
    based_on = tenant_fk("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                         help_text="the version this draft was copied from")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(get_user=history_user, excluded_fields=["created_at"])

    class Meta(TenantOwned.Meta):
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["tenant", "version"], name="plan_tenant_version"),
                       models.UniqueConstraint(fields=["tenant", "public_id"], name="plan_tenant_public_id")]
        indexes = [models.Index(fields=["tenant", "status", "effective_from"], name="plan_tenant_in_force")]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}".strip()


class CommissionRule(TenantOwned):
    """One level's value in a plan, for the default scope or one category or SKU."""

    class Scope(models.TextChoices):
        DEFAULT = "default"
        CATEGORY = "category"
        SKU = "sku"

    plan = tenant_fk(CommissionPlan, on_delete=models.CASCADE, related_name="rules")
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.DEFAULT)
    scope_value = models.CharField(max_length=64, blank=True, default="", help_text="category or SKU; empty for default")
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(3)])
    kind = models.CharField(max_length=8, choices=RuleKind.choices, default=RuleKind.PERCENT)
    value = models.DecimalField(**RATE_KW, validators=[MinValueValidator(Decimal(0))],
                                help_text="percent: fraction with 4 places (0.1000 = 10%); fixed: amount per unit")
    history = HistoricalRecords(get_user=history_user)

    class Meta(TenantOwned.Meta):
        ordering = ["scope", "scope_value", "level"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "plan", "scope", "scope_value", "level"], name="rule_tenant_plan_scope_level"),
        ]


class GradeLevelOverride(TenantOwned):
    """A grade's override of one level's default value (domain rules section 5)."""

    grade = tenant_fk("distributors.Grade", on_delete=models.CASCADE, related_name="overrides")
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(3)])
    kind = models.CharField(max_length=8, choices=RuleKind.choices, default=RuleKind.PERCENT)
    value = models.DecimalField(**RATE_KW, validators=[MinValueValidator(Decimal(0))])
    history = HistoricalRecords(get_user=history_user)

    class Meta(TenantOwned.Meta):
        ordering = ["level"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "grade", "level"], name="gradeoverride_tenant_grade_level"),
        ]


class CommissionRecord(TenantOwned):
    """What one beneficiary earns at one level of one order (tenant currency, whole minor units)."""

    class Status(models.TextChoices):
        FROZEN = "frozen"
        AVAILABLE = "available"
        REVERSED = "reversed"

    order = tenant_fk("orders.Order", on_delete=models.PROTECT, related_name="commission_records")
    beneficiary = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    plan = tenant_fk(CommissionPlan, null=True, on_delete=models.PROTECT, related_name="+")
    grade = tenant_fk("distributors.Grade", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    base = MoneyField(help_text="the order's commission base (tenant currency)")
    rate = models.DecimalField(**RATE_KW, null=True, blank=True, help_text="the percent rate when every line used the same one")
    amount = MoneyField(help_text="as first computed")
    reversed_amount = MoneyField(default=ZERO)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FROZEN)
    lines = models.JSONField(default=list, help_text="per line: rule source, kind, rate, net, unrounded value")
    settles_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # when a service last changed the record (settles_at, settlement, reversal): `?updated_after=`
    # of GET /api/v1/commissions/ (incremental sync)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())  # the default for raw inserts (bench)

    class Meta(TenantOwned.Meta):
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "order", "level"], name="record_tenant_order_level"),
            models.UniqueConstraint(fields=["tenant", "order", "beneficiary"], name="record_tenant_order_beneficiary"),
        ]
        indexes = [
            models.Index(fields=["tenant", "beneficiary", "level"], name="record_tenant_benef_level"),
            models.Index(fields=["tenant", "created_at"], name="record_tenant_created"),
            models.Index(fields=["tenant", "status", "settles_at"], name="record_tenant_status_due"),
            models.Index(fields=["tenant", "updated_at"], name="record_tenant_updated"),  # updated_after
        ]

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.reversed_amount


class CommissionReversal(TenantOwned):
    """An append-only reversal of part of a record, caused by one refund (domain rules section 6)."""

    record = tenant_fk(CommissionRecord, on_delete=models.PROTECT, related_name="reversals")
    refund = tenant_fk("orders.Refund", on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(currency="record.currency")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "record", "refund"], name="reversal_tenant_record_refund"),
        ]
        indexes = [models.Index(fields=["tenant", "refund"], name="reversal_tenant_refund")]


class Backtest(TenantOwned):
    """A plan version (usually a draft) replayed on the orders recorded in a date range: what it
    would have paid against what was paid. Pure computation: nothing is written to the ledger."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    public_id = PublicIdField(prefix="bt")
    plan = tenant_fk(CommissionPlan, on_delete=models.PROTECT, related_name="+")
    date_from = models.DateField(help_text="first local day (tenant time zone) of paid_at, inclusive")
    date_to = models.DateField(help_text="last local day, inclusive")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total_orders = models.PositiveIntegerField(default=0)
    processed_orders = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="backtest_tenant_created")]
        constraints = [models.UniqueConstraint(fields=["tenant", "public_id"], name="backtest_tenant_public_id")]

    @property
    def progress(self) -> float:
        return round(self.processed_orders / self.total_orders, 4) if self.total_orders else (1.0 if self.status == "done" else 0.0)
