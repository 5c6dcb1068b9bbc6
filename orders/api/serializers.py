from decimal import Decimal

from django.conf import settings
from rest_framework import serializers

from fenxiao.api.fields import ExternalIdField, AwareDateTimeField, MoneyField, StrictSerializer
from tenants.models import validate_currency

from ..models import Order, OrderLine, Refund


class LineInputSerializer(StrictSerializer):
    line_id = serializers.CharField(max_length=64)
    sku = serializers.CharField(max_length=64)
    category = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_price = MoneyField()
    discount = MoneyField(required=False, default=Decimal("0.00"))
    commissionable = serializers.BooleanField(required=False, default=True)


class CurrencyField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("min_length", 3)
        super().__init__(**kwargs)
        self.validators.append(self._iso)

    @staticmethod
    def _iso(value):
        from django.core.exceptions import ValidationError as DjangoValidationError

        try:
            validate_currency(value)
        except DjangoValidationError:
            raise serializers.ValidationError("Unknown ISO 4217 currency code.", code="invalid_currency") from None


class OrderCreateSerializer(StrictSerializer):
    external_id = ExternalIdField()
    referrer_external_id = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True, default=None)
    buyer_external_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    currency = CurrencyField()
    exchange_rate = serializers.DecimalField(max_digits=18, decimal_places=8, min_value=Decimal("0.00000001"),
                                             required=False, allow_null=True, default=None,
                                             help_text="tenant-currency units per order-currency unit")
    placed_at = AwareDateTimeField()
    paid_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    status = serializers.ChoiceField(choices=[Order.Status.PENDING, Order.Status.PAID], required=False, default=Order.Status.PENDING)
    discount = MoneyField(required=False, default=Decimal("0.00"))
    shipping = MoneyField(required=False, default=Decimal("0.00"))
    tax = MoneyField(required=False, default=Decimal("0.00"))
    non_cash_amount = MoneyField(required=False, default=Decimal("0.00"))
    lines = LineInputSerializer(many=True, allow_empty=False, max_length=settings.ORDER_MAX_LINES)

    def validate_lines(self, lines):
        ids = [line["line_id"] for line in lines]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError("line_id values must be unique within an order.", code="duplicate_line")
        return lines


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["line_id", "sku", "category", "quantity", "unit_price", "discount", "commissionable",
                  "discount_share", "non_cash_share", "net", "refunded_quantity"]
        read_only_fields = fields


class RefundLineOutSerializer(serializers.Serializer):
    line_id = serializers.CharField(source="line.line_id")
    quantity = serializers.IntegerField()


class RefundSerializer(serializers.ModelSerializer):
    order_external_id = serializers.CharField(source="order.external_id", read_only=True)
    lines = RefundLineOutSerializer(many=True, read_only=True)

    class Meta:
        model = Refund
        fields = ["external_id", "order_external_id", "kind", "amount", "lines", "shipping", "tax", "reason", "refunded_at", "created_at"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    referrer_external_id = serializers.CharField(source="referrer.external_id", read_only=True, default=None)
    attributed_to = serializers.CharField(source="attributed_to.external_id", read_only=True, default=None)
    lines = OrderLineSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)
    plan_version = serializers.IntegerField(source="plan.version", read_only=True, default=None)

    class Meta:
        model = Order
        fields = [
            "external_id", "status", "referrer_external_id", "buyer_external_id", "attributed_to", "currency",
            "exchange_rate", "placed_at", "paid_at", "completed_at", "cancelled_at", "discount", "shipping", "tax",
            "non_cash_amount", "goods_total", "commission_base", "net_base", "refunded_amount", "refunded_shipping",
            "refunded_tax", "plan_version", "commission_state", "lines", "refunds", "created_at",
        ]
        read_only_fields = fields


class PaySerializer(StrictSerializer):
    paid_at = AwareDateTimeField()


class CompleteSerializer(StrictSerializer):
    completed_at = AwareDateTimeField()


class CancelSerializer(StrictSerializer):
    cancelled_at = AwareDateTimeField(required=False, allow_null=True, default=None)


class RefundLineInputSerializer(StrictSerializer):
    line_id = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1)


class RefundCreateSerializer(StrictSerializer):
    external_id = ExternalIdField()
    amount = MoneyField(required=False, allow_null=True, default=None)
    lines = RefundLineInputSerializer(many=True, required=False, default=list, max_length=settings.ORDER_MAX_LINES)
    shipping = MoneyField(required=False, default=Decimal("0.00"))
    tax = MoneyField(required=False, default=Decimal("0.00"))
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    refunded_at = AwareDateTimeField(required=False, allow_null=True, default=None)
