"""Orders posted by partner systems, their lines and refunds (domain rules sections 3, 4 and 6)."""
from decimal import Decimal

from django.db import models

from fenxiao.money import FX_KW, TENANT, MoneyField
from tenants.managers import TenantOwned, tenant_fk

ZERO = Decimal("0.00")


class Order(TenantOwned):
    """An order; amounts in the order `currency`, `commission_base` in the tenant currency."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PAID = "paid"
        COMPLETED = "completed"
        CANCELLED = "cancelled"
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"

    class CommissionState(models.TextChoices):
        NONE = "none", "not due (unpaid)"
        DUE = "due", "due: a task will compute it"
        DONE = "done", "computed"

    class RefundMode(models.TextChoices):
        NONE = "", "no refund yet"
        LINES = "lines"
        AMOUNT = "amount"

    external_id = models.CharField(max_length=64)
    referrer = tenant_fk("distributors.Distributor", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    buyer_external_id = models.CharField(max_length=64, blank=True, default="")
    currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(**FX_KW, default=Decimal(1))
    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    discount = MoneyField(default=ZERO)
    shipping = MoneyField(default=ZERO)
    tax = MoneyField(default=ZERO)
    non_cash_amount = MoneyField(default=ZERO)
    goods_total = MoneyField(default=ZERO, help_text="lines - line discounts - order discount")
    base_order_currency = MoneyField(default=ZERO)
    commission_base = MoneyField(default=ZERO, help_text="tenant currency", currency=TENANT)
    net_base = MoneyField(default=ZERO, help_text="commission base kept after refunds (tenant currency)", currency=TENANT)
    attributed_to = tenant_fk(
        "distributors.Distributor", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="the level-1 candidate (whose sales this order counts as), active or not",
    )
    refund_mode = models.CharField(max_length=8, choices=RefundMode.choices, blank=True, default="")
    refunded_amount = MoneyField(default=ZERO, help_text="goods money refunded (order currency)")
    refunded_shipping = MoneyField(default=ZERO)
    refunded_tax = MoneyField(default=ZERO)
    # Fixed when the order is recorded (domain rules section 3): plan version and beneficiary chain.
    plan = tenant_fk("commissions.CommissionPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    attribution = models.JSONField(default=dict, blank=True)
    commission_state = models.CharField(max_length=4, choices=CommissionState.choices, default=CommissionState.NONE)
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="order_tenant_external_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status"], name="order_tenant_status"),
            models.Index(fields=["tenant", "paid_at"], name="order_tenant_paid_at"),
            # only the orders waiting for accrual (few at any time): the accrual's claim finds its
            # chunk here by id, the sweep finds the stragglers; a full (tenant, state) index made
            # the planner scan every due order of the tenant for each chunk during a flash sale
            models.Index(fields=["tenant", "id"], condition=models.Q(commission_state="due"), name="order_tenant_due"),
            models.Index(fields=["tenant", "buyer_external_id"], name="order_tenant_buyer"),
            models.Index(fields=["tenant", "attributed_to", "paid_at"], name="order_tenant_attributed"),
            models.Index(fields=["tenant", "updated_at"], name="order_tenant_updated"),  # updated_after
        ]

    def __str__(self) -> str:
        return self.external_id


class OrderLine(TenantOwned):
    """One line; `net` is its commissionable net (order currency) after allocated order amounts."""

    order = tenant_fk(Order, on_delete=models.CASCADE, related_name="lines")
    line_id = models.CharField(max_length=64)
    sku = models.CharField(max_length=64)
    category = models.CharField(max_length=64, blank=True, default="")
    quantity = models.PositiveIntegerField()
    unit_price = MoneyField(currency="order.currency")
    discount = MoneyField(default=ZERO, currency="order.currency")
    commissionable = models.BooleanField(default=True)
    discount_share = MoneyField(default=ZERO, currency="order.currency")
    non_cash_share = MoneyField(default=ZERO, currency="order.currency")
    net = MoneyField(default=ZERO, currency="order.currency")
    refunded_quantity = models.PositiveIntegerField(default=0)

    class Meta(TenantOwned.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "order", "line_id"], name="orderline_tenant_order_line"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.sku} x{self.quantity}"

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount


class Refund(TenantOwned):
    """A refund of goods (by `amount` or by lines), plus shipping/tax that never touch the base."""

    class Kind(models.TextChoices):
        LINES = "lines"
        AMOUNT = "amount"

    order = tenant_fk(Order, on_delete=models.PROTECT, related_name="refunds")
    external_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = MoneyField(default=ZERO, help_text="goods money (order currency)", currency="order.currency")
    shipping = MoneyField(default=ZERO, currency="order.currency")
    tax = MoneyField(default=ZERO, currency="order.currency")
    reason = models.CharField(max_length=300, blank=True, default="")
    refunded_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="refund_tenant_external_id"),
        ]
        indexes = [models.Index(fields=["tenant", "order"], name="refund_tenant_order")]

    def __str__(self) -> str:
        return self.external_id


class RefundLine(TenantOwned):
    refund = tenant_fk(Refund, on_delete=models.CASCADE, related_name="lines")
    line = tenant_fk(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta(TenantOwned.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "refund", "line"], name="refundline_tenant_refund_line"),
        ]
        indexes = [models.Index(fields=["tenant", "line"], name="refundline_tenant_line")]
