"""Counters on the shared Django cache for rate limits and lockouts (tenants.login_guard,
fenxiao.api.throttles).

A counter is one cache key incremented atomically: on Redis (CACHE_URL=redis://..., what
production runs) `SET key 0 EX ttl NX` + `INCR key` in one round trip, so every gunicorn worker
and host counts into the same number and none is lost; elsewhere (the per-process memory cache
of the demo and the tests) incr/add under the backend's lock. A counter expires `ttl` seconds
after its first increment.
"""
from __future__ import annotations

import hashlib

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle


def cache():
    return caches["default"]


def counter_incr(key: str, *, ttl: int) -> int:
    """Add 1 to the counter `key` (created with a lifetime of `ttl` seconds) and return its new
    value. Atomic across processes on Redis, within a process on the memory cache."""
    c = cache()
    if isinstance(c, RedisCache):
        full = c.make_and_validate_key(key)
        pipe = c._cache.get_client(full, write=True).pipeline(transaction=True)
        pipe.set(full, 0, ex=ttl, nx=True)  # the backend stores integers unpickled: "0" reads as 0
        pipe.incr(full)
        return int(pipe.execute()[1])
    for _ in range(3):
        try:
            return c.incr(key)
        except ValueError:  # missing (or expired in between): create it; a lost race increments instead
            if c.add(key, 1, ttl):
                return 1
    return c.incr(key)


def digest(*parts: str) -> str:
    """A short, fixed-length cache-key part for text an attacker chooses (usernames, addresses)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:40]


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or with NUM_PROXIES=n proxies in front the n-th address
    from the right of X-Forwarded-For (what our own proxy appended; anything to its left the
    client may have written). DRF's throttle identification, with NUM_PROXIES always set."""
    return BaseThrottle().get_ident(request) or "unknown"
