"""Rates as people read and type them (CONVENTIONS, interfaces for people: "10%" for a stored
0.1000). Rates are stored as fractions with 4 places (domain rules section 5: 0.1000 = 10%), so a
percentage has at most 2 places ("12.25%"). Pure: no ORM.

- `percent_str(Decimal("0.1000"))` -> "10%", 0.0125 -> "1.25%", 0 -> "0%"
- `parse_percent("10")`, `parse_percent("10%")`, `parse_percent(" 12,5 ％")` -> Decimal("0.1000"), ..., 0.1250
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

#: Places of a stored rate (a fraction): settings.RATE_DECIMAL_PLACES.
RATE_PLACES = 4
_RATE_UNIT = Decimal(1).scaleb(-RATE_PLACES)


class NotAPercentage(ValueError):
    """Text that is not a percentage a rate can hold; str() is the person-facing message."""


def percent_number(rate: Decimal) -> str:
    """The number of a percentage, without the sign: 0.1000 -> "10", 0.0125 -> "1.25"."""
    return format((Decimal(rate) * 100).normalize(), "f")


def percent_str(rate: Decimal | None) -> str:
    """A stored rate (a fraction) as a percentage: 0.1000 -> "10%", 0.0125 -> "1.25%"; None -> "-"."""
    if rate is None:
        return "-"
    return f"{percent_number(rate)}%"


def parse_percent(text) -> Decimal:
    """A percentage as typed ("10", "10%", "12.5 %", full-width "１０％", a decimal comma) -> the
    stored fraction with 4 places (Decimal("0.1000")). Raises NotAPercentage (a message for
    people) for text that is no number, a negative one, or one with more than 2 decimal places."""
    import unicodedata

    raw = unicodedata.normalize("NFKC", str(text if text is not None else "")).strip()
    if raw.endswith("%"):
        raw = raw[:-1].strip()
    raw = raw.replace(",", ".")
    try:
        number = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise NotAPercentage(_("Give a percentage, e.g. 10 or 10% (for 10 percent).")) from None
    if not number.is_finite():
        raise NotAPercentage(_("Give a percentage, e.g. 10 or 10% (for 10 percent)."))
    if number < 0:
        raise NotAPercentage(_("A percentage cannot be negative."))
    fraction = number / 100
    if fraction != fraction.quantize(_RATE_UNIT):
        raise NotAPercentage(_("At most 2 decimal places in a percentage (e.g. 12.25%)."))
    return fraction.quantize(_RATE_UNIT)
