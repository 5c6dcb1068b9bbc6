"""Serializer building blocks shared by every app's API: strict bodies, money, rates, aware times."""
import re
from decimal import Decimal

from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know (code `unknown_field`): a typo such as "dicount" must never
    silently price an order on its pre-discount amount."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError({k: [ErrorDetail("Unknown field.", code="unknown_field")] for k in unknown})
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
    """A non-negative amount with at most 2 decimal places, as a decimal string ("200.00")."""
    kwargs.setdefault("min_value", Decimal("0"))
    return PlainDecimalField(max_digits=16, decimal_places=2, **kwargs)


def RateField(**kwargs) -> serializers.DecimalField:  # noqa: N802
    """A rate: a fraction with at most 4 decimal places ("0.1000" = 10%)."""
    kwargs.setdefault("min_value", Decimal("0"))
    return PlainDecimalField(max_digits=9, decimal_places=4, **kwargs)


class AwareDateTimeField(serializers.DateTimeField):
    """RFC 3339 time that must carry an offset (a naive time would be read in the wrong zone)."""

    default_error_messages = {"naive": "Give the time with an offset, e.g. 2026-01-31T10:00:00+08:00."}

    def to_internal_value(self, value):
        if isinstance(value, str):
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


def ExternalIdField(**kwargs) -> serializers.CharField:  # noqa: N802
    """A partner's id: 1..64 characters, no "/" and no control characters (it appears in URLs)."""
    from django.core.validators import RegexValidator

    kwargs.setdefault("max_length", 64)
    kwargs["validators"] = [*kwargs.get("validators", []), RegexValidator(
        r"^[^/\x00-\x1f\x7f]+$", "Use no '/' or control characters.", "invalid_external_id")]
    return serializers.CharField(**kwargs)
