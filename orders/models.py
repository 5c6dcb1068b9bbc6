"""Orders posted by partner systems, their lines and refunds (domain rules sections 3, 4 and 6)."""
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from fenxiao.money import FX_KW, TENANT, MoneyField
from fenxiao.validators import validate_channel
from tenants.managers import TenantOwned, tenant_fk

ZERO = Decimal("0.00")


class Order(TenantOwned):
    """An order; amounts in the order `currency`, `commission_base` in the tenant currency."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially Refunded")
        REFUNDED = "refunded", _("Refunded")

    class CommissionState(models.TextChoices):
        NONE = "none", _("not due (unpaid)")
        DUE = "due", _("due: a task will compute it")
        DONE = "done", _("computed")

    class RefundMode(models.TextChoices):
        NONE = "", _("no refund yet")
        LINES = "lines", _("Lines")
        AMOUNT = "amount", _("Amount")

    external_id = models.CharField(_("external id"), max_length=64)
    referrer = tenant_fk("distributors.Distributor", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("referrer"))
    buyer_external_id = models.CharField(_("buyer external id"), max_length=64, blank=True, default="")
    channel = models.CharField(
        _("channel"), max_length=32, blank=True, default="", db_default="", validators=[validate_channel],
        help_text=_("the sales channel the partner names (mini_program, h5, app, store, ...); empty: none"))
    currency = models.CharField(_("currency"), max_length=3)
    exchange_rate = models.DecimalField(_("exchange rate"), **FX_KW, default=Decimal(1))
    placed_at = models.DateTimeField(_("placed at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    discount = MoneyField(_("discount"), default=ZERO)
    shipping = MoneyField(_("shipping"), default=ZERO)
    tax = MoneyField(_("tax"), default=ZERO)
    non_cash_amount = MoneyField(_("non cash amount"), default=ZERO)
    goods_total = MoneyField(_("goods total"), default=ZERO, help_text=_("lines - line discounts - order discount"))
    base_order_currency = MoneyField(_("base order currency"), default=ZERO)
    commission_base = MoneyField(_("commission base"), default=ZERO, help_text=_("tenant currency"), currency=TENANT)
    net_base = MoneyField(_("net base"), default=ZERO, help_text=_("commission base kept after refunds (tenant currency)"), currency=TENANT)
    attributed_to = tenant_fk(
        "distributors.Distributor", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("the level-1 candidate (whose sales this order counts as), active or not"), verbose_name=_("attributed to"),
    )
    refund_mode = models.CharField(_("refund mode"), max_length=8, choices=RefundMode.choices, blank=True, default="")
    refunded_amount = MoneyField(_("refunded amount"), default=ZERO, help_text=_("goods money refunded (order currency)"))
    refunded_shipping = MoneyField(_("refunded shipping"), default=ZERO)
    refunded_tax = MoneyField(_("refunded tax"), default=ZERO)
    # Fixed when the order is recorded (domain rules section 3): plan version and beneficiary chain.
    plan = tenant_fk("commissions.CommissionPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan"))
    attribution = models.JSONField(_("attribution"), default=dict, blank=True)
    commission_state = models.CharField(_("commission state"), max_length=4, choices=CommissionState.choices, default=CommissionState.NONE)
    content_hash = models.CharField(_("content hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("order")
        verbose_name_plural = _("orders")
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
            # the reports' channel filter and "is this channel known" (orders without one: not indexed)
            models.Index(fields=["tenant", "channel", "paid_at"], condition=~models.Q(channel=""),
                         name="order_tenant_channel"),
        ]

    def __str__(self) -> str:
        return self.external_id


class OrderLine(TenantOwned):
    """One line; `net` is its commissionable net (order currency) after allocated order amounts."""

    order = tenant_fk(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    line_id = models.CharField(_("line id"), max_length=64)
    sku = models.CharField(_("sku"), max_length=64)
    category = models.CharField(_("category"), max_length=64, blank=True, default="")
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = MoneyField(_("unit price"), currency="order.currency")
    discount = MoneyField(_("discount"), default=ZERO, currency="order.currency")
    commissionable = models.BooleanField(_("commissionable"), default=True)
    discount_share = MoneyField(_("discount share"), default=ZERO, currency="order.currency")
    non_cash_share = MoneyField(_("non cash share"), default=ZERO, currency="order.currency")
    net = MoneyField(_("net"), default=ZERO, currency="order.currency")
    refunded_quantity = models.PositiveIntegerField(_("refunded quantity"), default=0)

    class Meta(TenantOwned.Meta):
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
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
        LINES = "lines", _("Lines")
        AMOUNT = "amount", _("Amount")

    order = tenant_fk(Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("order"))
    external_id = models.CharField(_("external id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    amount = MoneyField(_("amount"), default=ZERO, help_text=_("goods money (order currency)"), currency="order.currency")
    shipping = MoneyField(_("shipping"), default=ZERO, currency="order.currency")
    tax = MoneyField(_("tax"), default=ZERO, currency="order.currency")
    reason = models.CharField(_("reason"), max_length=300, blank=True, default="")
    refunded_at = models.DateTimeField(_("refunded at"))
    content_hash = models.CharField(_("content hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="refund_tenant_external_id"),
        ]
        indexes = [models.Index(fields=["tenant", "order"], name="refund_tenant_order")]

    def __str__(self) -> str:
        return self.external_id


class RefundLine(TenantOwned):
    refund = tenant_fk(Refund, on_delete=models.CASCADE, related_name="lines", verbose_name=_("refund"))
    line = tenant_fk(OrderLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("line"))
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta(TenantOwned.Meta):
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "refund", "line"], name="refundline_tenant_refund_line"),
        ]
        indexes = [models.Index(fields=["tenant", "line"], name="refundline_tenant_line")]
