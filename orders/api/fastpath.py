"""A fast path for validating the common, well-formed order body of the batch intake.

`order_create_fast(item)` returns exactly what `OrderCreateSerializer().run_validation(item)`
returns (same keys, values, types and decimal places), or None whenever the item is anything but
plainly well formed (a missing or unknown key, a number where a string is usual, blanks, a float,
an exchange rate, ...): the caller then validates it with the serializer, which also words every
error. It accepts nothing the serializer refuses: tests/orders/test_fastpath.py checks both
claims with Hypothesis against the serializer on valid and mutated bodies.

Why: DRF's generic field machinery costs about 6 microseconds per field, 30 fields per order,
which was a third of the batch endpoint's CPU (docs/performance.md).
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime

from fenxiao.api.fields import RFC3339, external_id_ok
from fenxiao.currencies import MAX_PLACES
from fenxiao.validators import channel_ok
from tenants.models import validate_currency

from .serializers import LineInputSerializer, OrderCreateSerializer

_MONEY = re.compile(r"[0-9]{1,14}(?:\.[0-9]{1,4})?")                  # MoneyField: 18 digits, 4 places, >= 0
_BAD_TEXT = re.compile(r"[\x00\ud800-\udfff]")                      # CharField's null and surrogate validators
_MONEY_UNIT = Decimal(1).scaleb(-MAX_PLACES)                        # MoneyField's quantum
_ZERO = Decimal("0.00")                                            # the serializer's default
_REQUIRED_ORDER = frozenset({"external_id", "currency", "placed_at", "lines"})
_REQUIRED_LINE = frozenset({"line_id", "sku", "unit_price"})


@lru_cache(maxsize=256)
def _currency_ok(code: str) -> bool:
    try:
        validate_currency(code)
    except DjangoValidationError:
        return False
    return True


class _Fields:
    """The serializer's own field objects, for the conversions that must be identical (time zone,
    choice values); built once."""

    def __init__(self):
        fields = OrderCreateSerializer().fields
        self.order_keys = frozenset(fields)
        self.line_keys = frozenset(LineInputSerializer().fields)
        self.placed_at = fields["placed_at"]
        self.status_values = fields["status"].choice_strings_to_values
        self.max_lines = fields["lines"].max_length


_FIELDS: _Fields | None = None


def _text(value, *, blank: bool, max_length: int = 64):
    """A CharField's value (stripped), or None to fall back."""
    if type(value) is not str:
        return None
    s = value.strip()
    if (not s and not blank) or len(s) > max_length or _BAD_TEXT.search(s):
        return None
    return s


def _id(value, *, blank: bool):
    """An ExternalIdField's value (edge spaces stripped), or None to fall back: the serializer then
    refuses it with `invalid_external_id` (fenxiao.api.fields.external_id_ok, the one definition)."""
    if type(value) is not str:
        return None
    s = value.strip(" ")
    if (not s and not blank) or len(s) > 64 or not external_id_ok(s):
        return None
    return s


def _money(value):
    if type(value) is str and _MONEY.fullmatch(value):
        return Decimal(value).quantize(_MONEY_UNIT)
    return None


def _time(value):
    if type(value) is not str or value != value.strip() or not RFC3339.fullmatch(value):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    try:
        return _FIELDS.placed_at.enforce_timezone(parsed)
    except Exception:  # noqa: BLE001 - the serializer words it (overflow)
        return None


def _line(item):
    if type(item) is not dict or not item.keys() <= _FIELDS.line_keys or not _REQUIRED_LINE <= item.keys():
        return None
    line_id = _id(item["line_id"], blank=False)
    sku = _text(item["sku"], blank=False)
    unit_price = _money(item["unit_price"])
    if line_id is None or sku is None or unit_price is None:
        return None
    category = _text(item["category"], blank=True) if "category" in item else ""
    quantity = item.get("quantity", None)
    if category is None or type(quantity) is not int or not 1 <= quantity <= 1_000_000:
        return None
    discount = _money(item["discount"]) if "discount" in item else _ZERO
    commissionable = item.get("commissionable", True)
    if discount is None or type(commissionable) is not bool:
        return None
    return {"line_id": line_id, "sku": sku, "category": category, "quantity": quantity, "unit_price": unit_price,
            "discount": discount, "commissionable": commissionable}


def order_create_fast(item) -> dict | None:
    """The serializer's validated data for a plainly well-formed order body, else None."""
    global _FIELDS
    if _FIELDS is None:
        _FIELDS = _Fields()
    if type(item) is not dict or not item.keys() <= _FIELDS.order_keys or not _REQUIRED_ORDER <= item.keys():
        return None
    external_id = _id(item["external_id"], blank=False)
    if external_id is None:
        return None
    referrer = item.get("referrer_external_id")
    if referrer is not None:
        referrer = _id(referrer, blank=True)
        if referrer is None:
            return None
    buyer = _id(item["buyer_external_id"], blank=True) if "buyer_external_id" in item else ""
    currency = item["currency"]
    if buyer is None or type(currency) is not str or not _currency_ok(currency):
        return None
    if item.get("exchange_rate") is not None:
        return None
    placed_at = _time(item["placed_at"])
    paid_at = item.get("paid_at")
    if paid_at is not None:
        paid_at = _time(paid_at)
        if paid_at is None:
            return None
    status = item.get("status", "pending")
    status = _FIELDS.status_values.get(status) if type(status) is str else None
    if placed_at is None or status is None:
        return None
    amounts = {}
    for name in ("discount", "shipping", "tax", "non_cash_amount"):
        amounts[name] = _money(item[name]) if name in item else _ZERO
        if amounts[name] is None:
            return None
    channel = item.get("channel", "")
    if type(channel) is not str or (channel and not channel_ok(channel)):
        return None   # null, blanks, a malformed code: the serializer decides and words it
    raw_lines = item["lines"]
    if type(raw_lines) is not list or not 1 <= len(raw_lines) <= _FIELDS.max_lines:
        return None
    lines = []
    for raw in raw_lines:
        line = _line(raw)
        if line is None:
            return None
        lines.append(line)
    if len({line["line_id"] for line in lines}) != len(lines):
        return None
    return {"external_id": external_id, "referrer_external_id": referrer, "buyer_external_id": buyer,
            "currency": currency, "exchange_rate": None, "placed_at": placed_at, "paid_at": paid_at, "status": status,
            **amounts, "channel": channel, "lines": lines}
