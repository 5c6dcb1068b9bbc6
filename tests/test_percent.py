"""Rates as people read and type them (fenxiao.percent): "10%" for a stored 0.1000, and back."""
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fenxiao.percent import NotAPercentage, parse_percent, percent_str


@pytest.mark.parametrize("rate, shown", [
    ("0.1000", "10%"), ("0.0500", "5%"), ("0.0125", "1.25%"), ("0.0001", "0.01%"), ("1.0000", "100%"), ("0", "0%"),
    ("0.0000", "0%"), ("-0.5000", "-50%"), ("0.1230", "12.3%"),
])
def test_percent_str(rate, shown):
    assert percent_str(D(rate)) == shown


@pytest.mark.parametrize("typed, stored", [
    ("10", "0.1000"), ("10%", "0.1000"), (" 10 % ", "0.1000"), ("１０％", "0.1000"), ("12.5", "0.1250"),
    ("12,25", "0.1225"), ("0.01", "0.0001"), ("0", "0.0000"), ("100", "1.0000"), ("150", "1.5000"),
])
def test_parse_percent(typed, stored):
    value = parse_percent(typed)
    assert str(value) == stored


@pytest.mark.parametrize("typed, message", [
    ("", "Give a percentage, e.g. 10 or 10% (for 10 percent)."),
    ("ten", "Give a percentage, e.g. 10 or 10% (for 10 percent)."),
    ("NaN", "Give a percentage, e.g. 10 or 10% (for 10 percent)."),
    ("Infinity%", "Give a percentage, e.g. 10 or 10% (for 10 percent)."),
    ("-1", "A percentage cannot be negative."),
    ("12.345", "At most 2 decimal places in a percentage (e.g. 12.25%)."),
    ("0.001%", "At most 2 decimal places in a percentage (e.g. 12.25%)."),
])
def test_what_is_no_percentage(typed, message):
    with pytest.raises(NotAPercentage) as exc:
        parse_percent(typed)
    assert str(exc.value) == message


@given(st.integers(min_value=0, max_value=10_000))
def test_every_stored_rate_reads_back_as_itself(units):
    rate = D(units).scaleb(-4)              # 0.0000 .. 1.0000 in steps of 0.0001 (RATE_DECIMAL_PLACES)
    assert parse_percent(percent_str(rate)) == rate
