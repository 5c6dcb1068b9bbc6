"""Currencies and their minor units (domain rules, preamble: every amount is in its currency's
minor units, ISO 4217: CNY and USD 2 places, JPY and KRW 0, KWD and BHD 3).

The exponents come from the `iso4217` package (the ISO 4217 maintenance agency's published table,
not a hand-written one). Babel's CLDR data is not used for this: CLDR gives the digits shops
*display* (IDR, HUF, COP: 0), which differ from ISO 4217's minor units (2) for a few currencies.

Pure: no ORM, no Django. Money columns store up to MAX_PLACES places (the largest ISO 4217
exponent, 4: CLF, UYW); every stored amount is a whole number of its currency's minor units, and
`money_str` writes it with exactly that currency's places.
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

import iso4217

#: The most places any ISO 4217 currency has (CLF, UYW): the places of every money column.
MAX_PLACES = 4


class UnknownCurrency(ValueError):
    """Not an ISO 4217 currency code with minor units (e.g. "ZZZ", "usd", or XAU / XXX, which
    ISO 4217 lists without minor units: precious metals, funds and test codes are not money here)."""


@lru_cache(maxsize=None)
def minor_units(code: str) -> int:
    """The ISO 4217 exponent of `code` (an upper-case alphabetic code): 2 for "CNY", 0 for "JPY",
    3 for "KWD". Raises UnknownCurrency for anything else."""
    if not isinstance(code, str) or len(code) != 3 or not code.isascii() or not code.isupper():
        raise UnknownCurrency(f"{code!r} is not an ISO 4217 currency code.")
    try:
        exponent = iso4217.Currency(code).exponent
    except ValueError:
        raise UnknownCurrency(f"{code!r} is not an ISO 4217 currency code.") from None
    if exponent is None:
        raise UnknownCurrency(f"{code} has no minor units in ISO 4217 (not a currency fenxiao handles).")
    return exponent


def is_currency(code) -> bool:
    """True for an ISO 4217 code with minor units (see `minor_units`)."""
    try:
        minor_units(code)
    except UnknownCurrency:
        return False
    return True


@lru_cache(maxsize=None)
def _unit(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def minor_unit(code: str) -> Decimal:
    """One minor unit of `code` as a Decimal: Decimal("0.01") for CNY, Decimal("1") for JPY,
    Decimal("0.001") for KWD."""
    return _unit(minor_units(code))


def fits(value: Decimal, places: int) -> bool:
    """True when `value` is a whole number of minor units of a currency with `places` places
    ("1234.50" does not fit 0 places; "1234.00" does)."""
    return value == value.quantize(_unit(places)) if value.is_finite() else False


def money_str(value: Decimal, code: str) -> str:
    """`value` written with exactly the places of `code`: "123.40" (CNY), "123" (JPY), "1.250"
    (KWD). Raises ValueError when `value` is not a whole number of minor units (a stored amount
    never is; showing it rounded would hide a defect)."""
    places = minor_units(code)
    if not fits(value, places):
        raise ValueError(f"{value} is not a whole number of {code} minor units")
    out = value.quantize(_unit(places))
    return format(out.copy_abs() if out.is_zero() else out, "f")  # never "-0.00"


def exact_sum(value, code: str) -> Decimal:
    """A database SUM() of amounts in `code`, back to exact minor units (None -> 0). PostgreSQL sums
    numerics exactly; SQLite sums in floating point, whose error on such sums (amounts up to 10^12,
    fenxiao's limit) is far below half a minor unit, so quantizing restores the exact total."""
    out = Decimal(value or 0).quantize(_unit(minor_units(code)))
    return out.copy_abs() if out.is_zero() else out


__all__ = ["exact_sum", "MAX_PLACES", "UnknownCurrency", "fits", "is_currency", "minor_unit", "minor_units", "money_str"]
