"""Risk rules as plain arithmetic (domain rules section 11), with worked values and properties."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

from hypothesis import given, strategies as st

from risk.rules import busiest_hour, refund_rate, refund_rate_exceeded, velocity_exceeded

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=timezone.utc)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def test_more_than_the_limit_within_an_hour_trips_exactly_at_the_limit_does_not():
    times = [at(0), at(20), at(40)]
    assert velocity_exceeded(times, [at(40)], 3) is None             # 3 in the hour: not more than 3
    hit = velocity_exceeded(times + [at(50)], [at(50)], 3)
    assert (hit.count, hit.start, hit.end) == (4, at(-10), at(50))   # 4 in (09:50, 10:50]
    assert velocity_exceeded(times + [at(60)], [at(60)], 3) is None  # 10:00 left the hour (10:00, 11:00]
    assert velocity_exceeded(times + [at(50)], [at(50)], None) is None  # the rule is off


def test_the_busiest_hour_must_hold_a_new_order():
    """Old bursts do not trip the rule again: only hours holding an order being accrued count."""
    old = [at(m) for m in range(0, 50, 10)]                          # 5 orders 10:00-10:40
    assert velocity_exceeded(old + [at(90)], [at(90)], 3) is None    # (10:30, 11:30] holds 10:40 and 11:30
    hit = velocity_exceeded(old + [at(50)], [at(50)], 3)             # (09:50, 10:50] holds all 6
    assert (hit.count, hit.end) == (6, at(50))
    hit = velocity_exceeded(old + [at(5)], [at(5)], 3)               # a late 10:05: (09:20, 10:20] holds 4 first
    assert (hit.count, hit.start, hit.end) == (4, at(-40), at(20))


def test_refund_rate_needs_ten_orders_and_more_than_the_limit():
    assert refund_rate(D("1000.00"), D("700.00")) == D("0.3000")
    assert refund_rate_exceeded(10, D("1000.00"), D("700.00"), D("0.2500")) == D("0.3000")
    assert refund_rate_exceeded(10, D("1000.00"), D("750.00"), D("0.2500")) is None   # exactly the limit: not above
    assert refund_rate_exceeded(9, D("900.00"), D("0.00"), D("0.2500")) is None       # fewer than 10 orders
    assert refund_rate_exceeded(10, D("1000.00"), D("0.00"), None) is None            # the rule is off
    assert refund_rate(D("0.00"), D("0.00")) == D("0.0000")


@given(st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=40), st.data())
def test_the_busiest_hour_counts_what_a_brute_force_counts(minutes, data):
    times = [at(m) for m in minutes]
    new = data.draw(st.lists(st.sampled_from(times), min_size=1, max_size=5))
    got = busiest_hour(times, new)
    best = 0
    for q in times:
        if any(q - timedelta(hours=1) < n <= q for n in new):
            best = max(best, sum(1 for t in times if q - timedelta(hours=1) < t <= q))
    assert got.count == best


@given(st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=40), st.data(), st.integers(1, 6))
def test_the_trip_is_the_first_hour_over_the_limit_as_a_brute_force_finds_it(minutes, data, limit):
    times = [at(m) for m in minutes]
    new = data.draw(st.lists(st.sampled_from(times), min_size=1, max_size=5))
    want = None
    for q in sorted(times):
        inside = [t for t in times if q - timedelta(hours=1) < t <= q]
        if len(inside) > limit and any(q - timedelta(hours=1) < n <= q for n in new):
            want = (len(inside), q)
            break
    got = velocity_exceeded(times, new, limit)
    assert (None if got is None else (got.count, got.end)) == want
