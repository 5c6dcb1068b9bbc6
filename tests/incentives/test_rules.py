"""incentives.rules: the tie rule, masking, tiers, prizes, progress and local windows (domain rules
section 8) with worked values, and Hypothesis properties."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentives import rules as r

UTC = timezone.utc
T = datetime(2026, 3, 1, tzinfo=UTC)


def test_tie_rule_worked():
    scores = [r.Score(7, D("100.00"), T + timedelta(hours=2)), r.Score(3, D("100.00"), T + timedelta(hours=1)),
              r.Score(5, D("250.00"), T + timedelta(days=3)), r.Score(2, D("100.00"), T + timedelta(hours=2)),
              r.Score(9, D("0"), None)]
    assert [(x.rank, x.distributor_id) for x in r.rank(scores)] == [(1, 5), (2, 3), (3, 2), (4, 7), (5, 9)]


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(1, 50)), unique_by=lambda t: t[2]))
def test_ranks_are_a_total_order(rows):
    scores = [r.Score(i, D(s), T + timedelta(minutes=m)) for s, m, i in rows]
    ranked = r.rank(scores)
    assert [x.rank for x in ranked] == list(range(1, len(rows) + 1))
    assert r.rank(reversed(scores)) == ranked  # input order never matters
    for a, b in zip(ranked, ranked[1:]):
        assert (a.score, -a.reached_at.timestamp(), -a.distributor_id) > (b.score, -b.reached_at.timestamp(), -b.distributor_id)


@pytest.mark.parametrize("name,masked", [("张三", "张*"), ("王小明", "王*明"), ("欧阳娜娜", "欧**娜"), ("Alice", "A***e"),
                                         ("Al", "A*"), ("X", "*"), ("", "*"), ("  Bob  ", "B*b")])
def test_mask_name(name, masked):
    assert r.mask_name(name) == masked


TIERS = [r.Tier(D("1000.00"), amount=D("50.00")), r.Tier(D("5000.00"), rate=D("0.0200")), r.Tier(D("10000.00"), amount=D("300.00"))]


@pytest.mark.parametrize("value,threshold,award", [
    ("999.99", None, "0.00"), ("1000.00", "1000.00", "50.00"),          # exactly at the threshold pays it
    ("4999.99", "1000.00", "50.00"), ("5000.00", "5000.00", "100.00"),  # 2% of 5000.00
    ("7777.77", "5000.00", "155.55"),                                   # 155.5554 down
    ("10000.00", "10000.00", "300.00"), ("99999.99", "10000.00", "300.00"),  # only the highest tier pays
])
def test_tier_award(value, threshold, award):
    tier, amount = r.tier_award(D(value), TIERS, rounding="down", places=2)
    assert (tier.threshold if tier else None, amount) == (D(threshold) if threshold else None, D(award))
    assert str(amount) == award


def test_tier_rate_rounding_modes_and_yen():
    assert str(r.tier_award(D("7777.77"), TIERS, rounding="half_up", places=2)[1]) == "155.56"
    yen = [r.Tier(D("1000"), rate=D("0.0150"))]
    assert str(r.tier_award(D("1033"), yen, rounding="down", places=0)[1]) == "15"   # 15.495


@pytest.mark.parametrize("tiers,problem", [
    ([], ("tiers", "required")),
    ([r.Tier(D("0"), amount=D("1"))], ("tiers.0.threshold", "min_value")),
    ([r.Tier(D("10"), amount=D("1")), r.Tier(D("10"), amount=D("2"))], ("tiers.1.threshold", "not_increasing")),
    ([r.Tier(D("10"), amount=D("1")), r.Tier(D("5"), amount=D("2"))], ("tiers.1.threshold", "not_increasing")),
    ([r.Tier(D("10"))], ("tiers.0", "amount_or_rate")),
    ([r.Tier(D("10"), amount=D("1"), rate=D("0.1"))], ("tiers.0", "amount_or_rate")),
    ([r.Tier(D("10"), rate=D("1.0001"))], ("tiers.0.rate", "invalid_rate")),
    ([r.Tier(D("10"), rate=D("0"))], ("tiers.0.rate", "invalid_rate")),
    ([r.Tier(D("10"), amount=D("1.005"))], ("tiers.0.amount", "invalid_amount")),
    ([r.Tier(D("10"), amount=D("-1"))], ("tiers.0.amount", "invalid_amount")),
])
def test_tiers_problems(tiers, problem):
    assert r.tiers_problems(tiers, places=2)[:2] == problem


def test_valid_tiers_and_prizes():
    assert r.tiers_problems(TIERS, places=2) is None
    assert r.prizes_problems([D("500.00"), D("300.00"), D("300.00"), D("0")], places=2) is None
    assert r.prizes_problems([D("500"), D("600")], places=2)[:2] == ("prizes.1", "not_decreasing")
    assert r.prizes_problems([D("-1")], places=2)[:2] == ("prizes.0", "min_value")
    assert r.prizes_problems([D("1.001")], places=2)[:2] == ("prizes.0", "max_decimal_places")
    assert r.prizes_problems([D("1.5")], places=0)[:2] == ("prizes.0", "max_decimal_places")
    assert [r.prize_for(k, [D("5"), D("3")]) for k in (1, 2, 3, 0)] == [D("5"), D("3"), None, None]


@pytest.mark.parametrize("value,now_day,status,progress,expected", [
    ("0", 1, "on_track", "0.0000", "0.0000"),           # the period has not begun
    ("500", 16, "on_track", "0.5000", "0.5000"),        # half done half way
    ("560", 16, "ahead", "0.5600", "0.5000"),           # more than 10% ahead of pace
    ("440", 16, "behind", "0.4400", "0.5000"),
    ("460", 16, "on_track", "0.4600", "0.5000"),
    ("1000", 10, "met", "1.0000", "0.3000"),
    ("999.99", 31, "behind", "0.9999", "1.0000") ,      # the period is over and the goal was missed
])
def test_progress(value, now_day, status, progress, expected):
    start, end = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)   # 30 days
    now = start + timedelta(days=now_day - 1) if now_day < 31 else end + timedelta(days=1)
    p = r.progress_of(D(value), D("1000"), start=start, end=end, now=now)
    assert (p.status, str(p.progress), str(p.expected)) == (status, progress, expected)


def test_windows_are_local():
    start, end = r.month_window("Asia/Shanghai", 2026, 12)
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (datetime(2026, 11, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))
    q = r.quarter_window("Asia/Shanghai", 2026, 4)
    assert (q[0].date(), q[1].date()) == (date(2026, 10, 1), date(2027, 1, 1))
    y = r.year_window("America/New_York", 2026)
    assert y[0].astimezone(UTC) == datetime(2026, 1, 1, 5, tzinfo=UTC)
    # 2026-03-31 16:30 UTC is already April 1st in Shanghai
    assert r.local_day(datetime(2026, 3, 31, 16, 30, tzinfo=UTC), "Asia/Shanghai") == date(2026, 4, 1)


@pytest.mark.parametrize("end,days,tz,expected", [
    # spring forward in New York on 2026-03-08: 7 local days are 167 hours
    ("2026-03-05T00:00:00-05:00", 7, "America/New_York", "2026-03-12T00:00:00-04:00"),
    ("2026-03-05T05:00:00+00:00", 7, "America/New_York", "2026-03-12T00:00:00-04:00"),   # the same instant in UTC
    # fall back on 2026-11-01: 7 local days are 169 hours
    ("2026-10-30T00:00:00-04:00", 7, "America/New_York", "2026-11-06T00:00:00-05:00"),
    ("2026-06-30T16:00:00+00:00", 7, "Asia/Shanghai", "2026-07-08T00:00:00+08:00"),
    ("2026-06-30T16:00:00+00:00", 0, "Asia/Shanghai", "2026-07-01T00:00:00+08:00"),
])
def test_days_after_counts_local_days(end, days, tz, expected):
    from incentives.rules import days_after

    assert days_after(datetime.fromisoformat(end), days, tz).isoformat() == expected
