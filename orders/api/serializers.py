from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import serializers

from fenxiao.api.fields import (
    AmountField, AwareDateTimeField, ExternalIdField, ModelSerializer, MoneyField, PlainDecimalField, PlainIntegerField,
    StrictSerializer,
)
from fenxiao.currencies import money_str
from fenxiao.money import TENANT
from fenxiao.validators import CHANNEL_MAX_LENGTH, channel_message, channel_ok
from tenants.context import current_tenant
from tenants.models import validate_currency

from ..models import Order, OrderLine, Refund


class LineInputSerializer(StrictSerializer):
    line_id = ExternalIdField()
    sku = serializers.CharField(max_length=64)
    category = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    quantity = PlainIntegerField(min_value=1, max_value=1_000_000)
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
            raise serializers.ValidationError(gettext("Unknown ISO 4217 currency code."), code="invalid_currency") from None


class ChannelField(serializers.CharField):
    """An optional sales channel code (fenxiao.validators.channel_ok): absent, null or "" is none."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", CHANNEL_MAX_LENGTH)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("help_text", "the sales channel, a code of up to 32 lower-case letters, digits, '_' or '-' "
                                       "(mini_program, h5, app, store, ...); left out, null or empty: none")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value and not channel_ok(value):
            raise serializers.ValidationError(channel_message(), code="invalid_channel")
        return value

    def validate_empty_values(self, data):
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


class OrderCreateSerializer(StrictSerializer):
    external_id = ExternalIdField()
    referrer_external_id = ExternalIdField(required=False, allow_null=True, allow_blank=True, default=None)
    buyer_external_id = ExternalIdField(required=False, allow_blank=True, default="")
    currency = CurrencyField()
    # 15 significant digits at most: every database keeps them exactly (SQLite's REAL holds 15)
    exchange_rate = PlainDecimalField(max_digits=15, decimal_places=8, min_value=Decimal("0.00000001"),
                                             required=False, allow_null=True, default=None,
                                             help_text="tenant-currency units per order-currency unit")
    placed_at = AwareDateTimeField()
    paid_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    status = serializers.ChoiceField(choices=[Order.Status.PENDING, Order.Status.PAID], required=False, default=Order.Status.PENDING)
    discount = MoneyField(required=False, default=Decimal("0.00"))
    shipping = MoneyField(required=False, default=Decimal("0.00"))
    tax = MoneyField(required=False, default=Decimal("0.00"))
    non_cash_amount = MoneyField(required=False, default=Decimal("0.00"))
    channel = ChannelField()
    lines = LineInputSerializer(many=True, allow_empty=False, max_length=settings.ORDER_MAX_LINES)

    def validate_lines(self, lines):
        ids = [line["line_id"] for line in lines]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError(gettext("line_id values must be unique within an order."), code="duplicate_line")
        return lines


class OrderLineSerializer(ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["line_id", "sku", "category", "quantity", "unit_price", "discount", "commissionable",
                  "discount_share", "non_cash_share", "net", "refunded_quantity"]
        read_only_fields = fields


class RefundLineOutSerializer(serializers.Serializer):
    line_id = serializers.CharField(source="line.line_id")
    quantity = serializers.IntegerField()


class RefundSerializer(ModelSerializer):
    order_external_id = serializers.CharField(source="order.external_id", read_only=True)
    lines = RefundLineOutSerializer(many=True, read_only=True)

    class Meta:
        model = Refund
        fields = ["external_id", "order_external_id", "kind", "amount", "lines", "shipping", "tax", "reason", "refunded_at", "created_at"]
        read_only_fields = fields


class OrderSerializer(ModelSerializer):
    referrer_external_id = serializers.CharField(source="referrer.external_id", read_only=True, default=None)
    attributed_to = serializers.CharField(source="attributed_to.external_id", read_only=True, default=None)
    lines = OrderLineSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)
    plan_version = serializers.IntegerField(source="plan.version", read_only=True, default=None)

    class Meta:
        model = Order
        fields = [
            "external_id", "status", "referrer_external_id", "buyer_external_id", "attributed_to", "channel", "currency",
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
    line_id = ExternalIdField()
    quantity = PlainIntegerField(min_value=1)


class RefundCreateSerializer(StrictSerializer):
    external_id = ExternalIdField()
    amount = MoneyField(required=False, allow_null=True, default=None)
    lines = RefundLineInputSerializer(many=True, required=False, default=list, max_length=settings.ORDER_MAX_LINES)
    shipping = MoneyField(required=False, default=Decimal("0.00"))
    tax = MoneyField(required=False, default=Decimal("0.00"))
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    refunded_at = AwareDateTimeField(required=False, allow_null=True, default=None)


# --- fast bodies ---------------------------------------------------------------------------------
# The order body of OrderSerializer, built from three `values()` queries and the serializer's own
# field objects (so every value is formatted by the same DRF field): the intake endpoints answer
# hundreds of orders per request, where ModelSerializer's per-instance machinery (nested
# many=True serializers, deep-copied fields) cost more than recording the orders.
# tests/orders/test_batch.py proves the bodies equal OrderSerializer's for varied orders.

_ORDER_SOURCES = {"referrer_external_id": "referrer__external_id", "attributed_to": "attributed_to__external_id",
                  "plan_version": "plan__version"}
_REFUND_SOURCES = {"order_external_id": "order__external_id"}


_FORMATTERS: dict = {}


def _formatter(serializer_class, skip=("lines", "refunds")):
    """[(field name, its to_representation, its currency spec or None)] of a serializer, built
    once per process; money fields (AmountField) are formatted by `_render` with the row's currency."""
    key = (serializer_class, skip)
    if key not in _FORMATTERS:
        fields = serializer_class().fields
        _FORMATTERS[key] = [
            (name, _fast(fields[name]), fields[name].currency if isinstance(fields[name], AmountField) else None)
            for name in serializer_class.Meta.fields if name not in skip
        ]
    return _FORMATTERS[key]


def _fast(field):
    """The field's to_representation, with a shortcut for decimals that already have the field's
    places (rates read from the database): DRF would quantize them to themselves and format them
    with '{:f}', which is what the shortcut does; any other value goes to DRF."""
    from rest_framework.settings import api_settings

    slow = field.to_representation
    if isinstance(field, AmountField) or not (
            isinstance(field, serializers.DecimalField)
            and getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING) and not field.localize
            and field.decimal_places is not None and not getattr(field, "normalize_output", False)):
        return slow
    exponent = -field.decimal_places
    digits = field.max_digits

    def to_representation(value):
        if type(value) is Decimal and value.is_finite():
            sign_digits_exp = value.as_tuple()
            if sign_digits_exp.exponent == exponent and (digits is None or len(sign_digits_exp.digits) <= digits):
                return format(value, "f")
        return slow(value)

    return to_representation


def _render(row: dict, formatters, sources: dict, currencies: dict) -> dict:
    """A body from a values() row; `currencies` maps a money field's currency spec ("currency",
    "order.currency", TENANT) to the code its amounts are in."""
    out = {}
    for name, fmt, currency in formatters:
        value = row[sources.get(name, name)]
        if value is None:
            out[name] = None
        elif currency is None:
            out[name] = fmt(value)
        else:
            out[name] = money_str(value, currencies[currency])
    return out


def order_bodies(pks: list[int], *, new: bool = False) -> dict[int, dict]:
    """{order pk: the body OrderSerializer gives} for orders of the tenant in context, in 4 queries
    whatever their number (orders, lines, refunds, refund lines); 2 with `new` (orders this
    request has just recorded, which have no refunds)."""
    if not pks:
        return {}
    order_fmt = _formatter(OrderSerializer)
    line_fmt = _formatter(OrderLineSerializer)
    refund_fmt = _formatter(RefundSerializer, skip=("lines",))
    order_cols = [_ORDER_SOURCES.get(n, n) for n, _, _ in order_fmt]
    tenant_currency = current_tenant().currency
    order_rows = list(Order.objects.filter(pk__in=pks).values("id", *order_cols))
    currency_of_order = {row["id"]: {"currency": row["currency"], "order.currency": row["currency"], TENANT: tenant_currency}
                         for row in order_rows}
    bodies, lines, refunds = {}, {pk: [] for pk in pks}, {pk: [] for pk in pks}
    for row in OrderLine.objects.filter(order_id__in=pks).order_by("id").values("order_id", *(n for n, _, _ in line_fmt)):
        lines[row["order_id"]].append(_render(row, line_fmt, {}, currency_of_order[row["order_id"]]))
    refund_rows = [] if new else list(Refund.objects.filter(order_id__in=pks).order_by("id").values(
        "id", "order_id", *(_REFUND_SOURCES.get(n, n) for n, _, _ in refund_fmt)))
    if refund_rows:
        from ..models import RefundLine

        refund_lines: dict[int, list] = {}
        for rl in RefundLine.objects.filter(refund_id__in=[r["id"] for r in refund_rows]).order_by("id").values(
                "refund_id", "line__line_id", "quantity"):
            refund_lines.setdefault(rl["refund_id"], []).append({"line_id": rl["line__line_id"], "quantity": rl["quantity"]})
        for r in refund_rows:
            body = _render(r, refund_fmt, _REFUND_SOURCES, currency_of_order[r["order_id"]])
            body = {name: body[name] if name != "lines" else refund_lines.get(r["id"], [])
                    for name in RefundSerializer.Meta.fields}
            refunds[r["order_id"]].append(body)
    for row in order_rows:
        body = _render(row, order_fmt, _ORDER_SOURCES, currency_of_order[row["id"]])
        bodies[row["id"]] = {name: (lines[row["id"]] if name == "lines" else refunds[row["id"]] if name == "refunds" else body[name])
                             for name in OrderSerializer.Meta.fields}
    return bodies


def new_order_body(order: Order, lines: list[OrderLine]) -> dict | None:
    """The body OrderSerializer gives for an order this request has just recorded, from the
    instances in memory (no query), or None when a value it shows is not at hand (then use
    `order_bodies`): the referrer, the attributed distributor when it is the referrer, and the plan
    must be the related instances cached on `order`. Every value goes through the serializer's own
    field (`_formatter`), as in `order_bodies`; tests/orders/test_intake.py proves the 201 body
    equals the order's detail."""
    referrer = Order.referrer.field.get_cached_value(order, None)
    plan = Order.plan.field.get_cached_value(order, None)
    if (order.referrer_id is not None and referrer is None) or (order.plan_id is not None and plan is None):
        return None
    if order.attributed_to_id is not None and order.attributed_to_id != order.referrer_id:
        return None
    currencies = {"currency": order.currency, "order.currency": order.currency, TENANT: current_tenant().currency}
    row = {name: getattr(order, name) for name, _, _ in _formatter(OrderSerializer)
           if name not in _ORDER_SOURCES}
    row["referrer__external_id"] = referrer.external_id if referrer is not None else None
    row["attributed_to__external_id"] = referrer.external_id if order.attributed_to_id is not None else None
    row["plan__version"] = plan.version if plan is not None else None
    body = _render(row, _formatter(OrderSerializer), _ORDER_SOURCES, currencies)
    line_fmt = _formatter(OrderLineSerializer)
    body["lines"] = [_render({name: getattr(line, name) for name, _, _ in line_fmt}, line_fmt, {}, currencies)
                     for line in lines]
    body["refunds"] = []
    return {name: body[name] for name in OrderSerializer.Meta.fields}
