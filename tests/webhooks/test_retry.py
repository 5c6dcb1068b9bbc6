"""The retry schedule of webhook deliveries (domain rules section 10: exponential backoff for about
3 days), a pure function tested on exact values."""
from datetime import datetime, timedelta, timezone

import pytest

from webhooks.retry import JITTER, MAX_ATTEMPTS, RETRY_DELAYS, next_attempt_at, retry_delay

T = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_the_nominal_schedule_grows_then_stays_at_ten_hours_for_about_three_days():
    nominal = [retry_delay(failed_attempts=n, rand=0.5) for n in range(1, MAX_ATTEMPTS)]
    assert nominal == [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                       timedelta(hours=5)] + [timedelta(hours=10)] * 7
    assert MAX_ATTEMPTS == 13
    assert sum(nominal, timedelta()) == timedelta(hours=77, minutes=35, seconds=5)   # 3.23 days
    assert retry_delay(failed_attempts=13, rand=0.5) is None                          # then it has failed


@pytest.mark.parametrize("failed,rand,expected", [
    (1, 0.0, timedelta(seconds=4.5)),            # 5 s x 0.9
    (1, 0.25, timedelta(seconds=4.75)),          # 5 s x 0.95
    (1, 0.75, timedelta(seconds=5.25)),
    (2, 0.0, timedelta(seconds=270)),            # 5 min x 0.9
    (4, 0.9, timedelta(hours=2) * 1.08),         # 2 h x (0.9 + 0.2 x 0.9) = 7776 s
    (12, 0.5, timedelta(hours=10)),
    (12, 0.999, timedelta(milliseconds=39_592_800)),   # 10 h x 1.0998
])
def test_jitter_is_at_most_ten_percent_either_way(failed, rand, expected):
    assert retry_delay(failed_attempts=failed, rand=rand) == expected


def test_every_jittered_wait_stays_within_its_band():
    for n, nominal in enumerate(RETRY_DELAYS, start=1):
        for rand in (0.0, 0.1, 0.5, 0.9, 0.999999):
            wait = retry_delay(failed_attempts=n, rand=rand)
            assert nominal * (1 - JITTER) <= wait <= nominal * (1 + JITTER)


def test_the_whole_schedule_lasts_between_2_9_and_3_6_days_whatever_the_jitter():
    shortest = sum((retry_delay(failed_attempts=n, rand=0.0) for n in range(1, MAX_ATTEMPTS)), timedelta())
    longest = sum((retry_delay(failed_attempts=n, rand=0.999999) for n in range(1, MAX_ATTEMPTS)), timedelta())
    assert shortest == timedelta(hours=69, minutes=49, seconds=34, milliseconds=500)
    assert timedelta(days=3.5) < longest < timedelta(days=3.6)


def test_next_attempt_at_adds_the_wait_and_ends_after_the_last_attempt():
    assert next_attempt_at(failed_attempts=1, now=T, rand=0.5) == T + timedelta(seconds=5)
    assert next_attempt_at(failed_attempts=3, now=T, rand=0.0) == T + timedelta(minutes=27)
    assert next_attempt_at(failed_attempts=MAX_ATTEMPTS, now=T, rand=0.5) is None


@pytest.mark.parametrize("failed,rand", [(0, 0.5), (-1, 0.5), (1, 1.0), (1, -0.1)])
def test_bad_arguments_are_refused(failed, rand):
    with pytest.raises(ValueError):
        retry_delay(failed_attempts=failed, rand=rand)
