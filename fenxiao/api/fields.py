"""Serializer building blocks shared by every app's API: strict bodies, money, rates, aware times."""
import re
from decimal import Decimal

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, gettext_lazy as _

from fenxiao.currencies import MAX_PLACES, money_str
from fenxiao.validators import EXTERNAL_ID_MESSAGE, external_id_ok, validate_external_id  # noqa: F401 (one definition)
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know (code `unknown_field`): a typo such as "dicount" must never
    silently price an order on its pre-discount amount."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError({k: [ErrorDetail(gettext("Unknown field."), code="unknown_field")] for k in unknown})
        return super().to_internal_value(data)


_PLAIN_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class PlainDecimalField(serializers.DecimalField):
    """A decimal written plainly: ASCII digits, an optional sign and point. "5_4", "1E+2", " 5 " and
    full-width digits, which Python's Decimal would accept, are refused (code `invalid`)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not _PLAIN_DECIMAL.match(data):
            self.fail("invalid")
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


_PLAIN_INTEGER = re.compile(r"^-?[0-9]+$")


class PlainIntegerField(serializers.IntegerField):
    """A whole number as a JSON number or plain ASCII digits: "1_0" and full-width "１", which
    Python's int() would read as 10 and 1, are refused (code `invalid`), as are booleans."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and not _PLAIN_INTEGER.match(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


def MoneyField(**kwargs) -> serializers.DecimalField:  # noqa: N802 (field factory)
    """A non-negative amount as a decimal string ("200.00"), with at most 4 decimal places (the most
    any ISO 4217 currency has); the service that knows the currency refuses amounts finer than its
    minor unit (`max_decimal_places`: "1234.50" JPY, "1.005" USD)."""
    kwargs.setdefault("min_value", Decimal("0"))
    return PlainDecimalField(max_digits=14 + MAX_PLACES, decimal_places=MAX_PLACES, **kwargs)


class AmountField(PlainDecimalField):
    """An amount in an answer, written with exactly its currency's places ("123.40" CNY, "123" JPY,
    "1.250" KWD). `currency` says where the currency code is, as on fenxiao.money.MoneyField: an
    attribute path of the object ("currency", "order.currency") or TENANT (the tenant in context).
    ModelSerializer (below) gives every money column one of these."""

    def __init__(self, *, currency: str = "currency", **kwargs):
        from fenxiao.money import MONEY_KW

        self.currency = currency
        kwargs.update(max_digits=MONEY_KW["max_digits"], decimal_places=MAX_PLACES)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        from fenxiao.amounts import currency_of

        value = super().get_attribute(instance)
        return None if value is None else (value, currency_of(instance, self.currency))

    def to_representation(self, value):
        amount, currency = value
        return money_str(amount, currency)


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, writing every money column (fenxiao.money.MoneyField) with its
    currency's places through AmountField."""

    def build_standard_field(self, field_name, model_field):
        from fenxiao.money import MoneyField as ModelMoneyField

        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, ModelMoneyField):
            return AmountField, {**kwargs, "currency": model_field.currency}
        return field_class, kwargs


def RateField(**kwargs) -> serializers.DecimalField:  # noqa: N802
    """A rate: a fraction with at most 4 decimal places ("0.1000" = 10%)."""
    kwargs.setdefault("min_value", Decimal("0"))
    return PlainDecimalField(max_digits=9, decimal_places=4, **kwargs)


#: RFC 3339's date-time (extended format, ASCII digits): Python's own ISO parser also takes the
#: basic format ("20261129T100000+0800") and Unicode digits ("２０２６-..."), which no partner means.
RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?")


class AwareDateTimeField(serializers.DateTimeField):
    """RFC 3339 time that must carry an offset (a naive time would be read in the wrong zone)."""

    default_error_messages = {"naive": _("Give the time with an offset, e.g. 2026-01-31T10:00:00+08:00.")}

    def to_internal_value(self, value):
        if isinstance(value, str):
            if not RFC3339.fullmatch(value.strip()):
                self.fail("invalid", format="RFC 3339")
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well-formed but impossible: Feb 30, month 13, offset +25:00
                self.fail("invalid", format="RFC 3339")
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        try:
            return super().to_internal_value(value)
        except (ValueError, OverflowError):
            self.fail("invalid", format="RFC 3339")


class _ExternalIdCharField(serializers.CharField):
    """Strips ASCII spaces at the edges only ("  P1  " is "P1", as before): a tab, a line separator
    or a no-break space at an edge is refused like one inside, not silently cut off (str.strip()
    would cut them, and "P1\u2028" would have become the same order as "P1")."""

    def __init__(self, **kwargs):
        kwargs["trim_whitespace"] = False
        super().__init__(**kwargs)
        self.validators.insert(0, validate_external_id)

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str):
            data = data.strip(" ")
        return super().run_validation(data)


def ExternalIdField(**kwargs) -> serializers.CharField:  # noqa: N802
    """A partner's id, or a reference to one (parent, referrer, buyer, line): up to 64 characters,
    edge spaces stripped, refused with code `invalid_external_id` when `external_id_ok` says no."""
    kwargs.setdefault("max_length", 64)
    return _ExternalIdCharField(**kwargs)
