"""Request-rate throttles of the API (DRF throttle classes on the shared Django cache).

ApiKeyRateThrottle is set on every partner view (fenxiao.api.base.PartnerAPIView and
PartnerGenericView): each API key may make `Tenant.api_rate_per_minute` requests per clock minute
(blank: settings.PARTNER_API_RATE_PER_MINUTE, 6000 by default). Over it the answer is 429
{"type": "client_error", "errors": [{"code": "throttled", ...}]} with Retry-After (seconds to the
next minute). Its cost on the partner hot path is one cache operation (one Redis round trip in
production, fenxiao.ratelimit.counter_incr) and no query: the tenant comes with the key.
"""
from __future__ import annotations

import math
import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from fenxiao.ratelimit import counter_incr

WINDOW = 60  # seconds


def api_key_rate_limit(tenant) -> int:
    """Requests per minute allowed to each API key of `tenant`."""
    return getattr(tenant, "api_rate_per_minute", None) or settings.PARTNER_API_RATE_PER_MINUTE


class ApiKeyRateThrottle(BaseThrottle):
    """Fixed one-minute windows per API key (a burst across a minute boundary can reach twice the
    rate for a moment; the limit is about sustained load, not a security boundary)."""

    def allow_request(self, request, view) -> bool:
        principal = request.user
        api_key = getattr(principal, "api_key", None) or request.auth
        key_id = getattr(api_key, "pk", None) or getattr(api_key, "prefix", None)
        tenant = getattr(principal, "tenant", None)
        if key_id is None or tenant is None:
            return True  # not a partner request: authentication has refused it already
        now = time.time()
        window = int(now // WINDOW)
        self._wait = (window + 1) * WINDOW - now
        return counter_incr(f"apikey-rate:{key_id}:{window}", ttl=WINDOW + 1) <= api_key_rate_limit(tenant)

    def wait(self) -> float:
        return max(1, math.ceil(self._wait))
