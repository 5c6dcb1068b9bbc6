"""Sending work to the Celery broker from a request without letting a broker outage fail it.

The work itself is always in the database first (a `due` order, a `queued` backtest): a message
only says "look now". So when the broker (Redis) is unreachable, the request that committed the
work still answers as if it were up, and the per-tenant sweep (commissions.tasks.sweep_tenant,
every minute) picks the work up once the broker is back. Three pieces:

- `publish(send, what=...)`: runs `send()` (a task's `.delay(...)`), and on a broker error logs a
  warning and returns False instead of raising. After a failure the process does not try again
  for `PAUSE_SECONDS`, so during an outage only one request per process and pause pays the
  (bounded: settings.CELERY_TASK_PUBLISH_RETRY_POLICY and the broker's socket timeouts) wait.
- `claim_flag(key, ttl)` / `clear_flag(key)`: a SET NX EX on the broker's Redis, used to coalesce
  many "look now" messages into one (commissions.tasks.accrual_request): True when this caller set
  the flag (it must send), False when the flag was already set (a message is on its way and will
  see this work), None when there is no Redis broker or it failed (the caller sends anyway).
- `broker_is_eager()`: no broker configured (tests, the embedded default): tasks run in-process.

Domain rules: none (infrastructure); issue 10, item 8.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

log = logging.getLogger(__name__)

PAUSE_SECONDS = 5.0
FLAG_SOCKET_TIMEOUT = 0.5  # seconds: a flag is a single round trip to a local Redis

_down_until = 0.0
_redis = None  # (url, client) of the flag connection, made on first use in each process


def broker_is_eager() -> bool:
    from fenxiao.celery import app

    return bool(app.conf.task_always_eager)


def _errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import RedisError

    return (KombuOperationalError, RedisError, OSError)


def broker_down() -> bool:
    """True within PAUSE_SECONDS of this process's last failed publish (nothing is tried then)."""
    return time.monotonic() < _down_until


def _mark_down(what: str, exc: BaseException) -> None:
    global _down_until
    _down_until = time.monotonic() + PAUSE_SECONDS
    log.warning("broker unreachable, %s not sent (the sweep will pick the work up): %s: %s",
                what, type(exc).__name__, exc)


def publish(send: Callable[[], object], *, what: str) -> bool:
    """Run `send()`; True when it went out, False when the broker failed (logged) or failed within
    the last PAUSE_SECONDS (not tried). Never raises a broker error. In eager mode `send()` runs
    the task in-process and its own errors propagate as usual."""
    if broker_is_eager():
        send()
        return True
    if broker_down():
        return False
    try:
        send()
    except _errors() as exc:
        _mark_down(what, exc)
        return False
    return True


def _flag_client():
    """A redis-py client on the broker's Redis database, or None for another kind of broker."""
    global _redis
    from fenxiao.celery import app

    url = app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    if _redis is None or _redis[0] != url:
        import redis

        _redis = (url, redis.Redis.from_url(url, socket_timeout=FLAG_SOCKET_TIMEOUT,
                                            socket_connect_timeout=FLAG_SOCKET_TIMEOUT))
    return _redis[1]


def claim_flag(key: str, ttl: float) -> bool | None:
    """SET `key` NX with a time to live of `ttl` seconds on the broker's Redis. True: this caller
    set it; False: it was set already; None: no Redis broker, or Redis failed (logged, and the
    process pauses like `publish`), so the caller should send as if it had set it."""
    if broker_down():
        return None
    client = _flag_client()
    if client is None:
        return None
    try:
        return bool(client.set(key, b"1", nx=True, px=int(ttl * 1000)))
    except _errors() as exc:
        _mark_down(f"flag {key}", exc)
        return None


def clear_flag(key: str) -> None:
    """Delete `key` (best effort: a flag that stays simply expires after its ttl)."""
    client = None if broker_is_eager() or broker_down() else _flag_client()
    if client is None:
        return
    try:
        client.delete(key)
    except _errors() as exc:
        log.warning("could not clear %s: %s", key, exc)
