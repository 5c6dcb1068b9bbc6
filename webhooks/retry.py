"""When a failed webhook delivery is tried again (domain rules section 10: "retried with
exponential backoff for about 3 days"). Pure functions, no ORM: tested directly.

The waits after the 1st, 2nd, ... failed attempt are RETRY_DELAYS (5 s, 5 min, 30 min, 2 h, 5 h,
then 10 h seven times), each stretched or shrunk by a jitter of at most JITTER (±10%) so that the
deliveries of one outage do not all come back at the same second. 13 attempts in all; the nominal
waits add up to 77 h 35 min 5 s (3.2 days) from the first attempt to the last. After the 13th
failure the delivery has failed and its endpoint is marked failing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

#: the wait after the n-th failed attempt is RETRY_DELAYS[n - 1]; none after the last one
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=5),
    *(timedelta(hours=10),) * 7,
)
#: the most attempts a delivery gets automatically (the first one and every retry)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: the largest share by which a wait is made longer or shorter
JITTER = 0.1


def retry_delay(*, failed_attempts: int, rand: float) -> timedelta | None:
    """The wait before the next attempt after `failed_attempts` (>= 1) attempts have failed, or None
    when no attempt is left (the delivery has failed). `rand` is a number in [0, 1) (random.random()):
    0 gives the shortest wait (nominal x 0.9), 0.5 the nominal one, just under 1 the longest (x 1.1).
    Whole milliseconds. Raises ValueError for failed_attempts < 1 or rand outside [0, 1)."""
    if failed_attempts < 1:
        raise ValueError("failed_attempts counts the attempts made: at least 1")
    if not 0.0 <= rand < 1.0:
        raise ValueError("rand is in [0, 1)")
    if failed_attempts > len(RETRY_DELAYS):
        return None
    nominal = RETRY_DELAYS[failed_attempts - 1]
    factor = 1.0 - JITTER + 2 * JITTER * rand
    return timedelta(milliseconds=round(nominal / timedelta(milliseconds=1) * factor))


def next_attempt_at(*, failed_attempts: int, now: datetime, rand: float) -> datetime | None:
    """When to try again after `failed_attempts` failures, the last at `now`: now + retry_delay(...),
    or None when the delivery has used every attempt (see retry_delay)."""
    delay = retry_delay(failed_attempts=failed_attempts, rand=rand)
    return None if delay is None else now + delay
