"""Per-API-key request rate (fenxiao.api.throttles.ApiKeyRateThrottle) and the tenant setting that
raises it; the shared counter (fenxiao.ratelimit) on Redis."""
import threading
from unittest import mock

import pytest
import time_machine

from fenxiao import ratelimit
from tenants.models import Tenant
from tests.factories import order_json

T0 = "2026-03-02 10:00:20+00:00"  # 20 s into a clock minute


def test_each_key_gets_the_default_rate_per_minute_then_429_with_retry_after(settings, tenant, partner, partner_for):
    settings.PARTNER_API_RATE_PER_MINUTE = 3
    other_key = partner_for(tenant)
    with time_machine.travel(T0, tick=False) as clock:
        assert [partner.get("/api/v1/orders/").status_code for _ in range(3)] == [200, 200, 200]
        r = partner.post("/api/v1/orders/", order_json("O-THROTTLED"), format="json")
        assert r.status_code == 429 and r["Retry-After"] == "40"
        assert r.json() == {"type": "client_error", "errors": [
            {"code": "throttled", "detail": "Request was throttled. Expected available in 40 seconds.", "attr": None}]}
        assert other_key.get("/api/v1/orders/").status_code == 200          # per key, not per tenant
        clock.shift(40)                                                     # the next minute
        assert partner.get("/api/v1/orders/").status_code == 200
    from orders.models import Order

    assert not Order.unscoped.filter(external_id="O-THROTTLED").exists()    # the refused POST wrote nothing


def test_the_tenant_setting_raises_the_rate(settings, tenant, partner):
    settings.PARTNER_API_RATE_PER_MINUTE = 2
    tenant.api_rate_per_minute = 60
    tenant.save()
    with time_machine.travel(T0, tick=False):
        assert {partner.get("/api/v1/orders/").status_code for _ in range(60)} == {200}
        assert partner.get("/api/v1/orders/").status_code == 429


def test_a_partner_request_costs_one_counter_increment(settings, partner):
    with mock.patch("fenxiao.api.throttles.counter_incr", wraps=ratelimit.counter_incr) as incr:
        partner.get("/api/v1/orders/")
        partner.get("/api/v1/distributors/")
    assert [c.args[0].split(":")[0] for c in incr.call_args_list] == ["apikey-rate", "apikey-rate"]


def test_the_setting_in_the_staff_api_is_validated(tenant):
    from tests.staff.test_staff_api import staff_for

    staff = staff_for(tenant, "pm")
    r = staff.patch("/api/v1/admin/tenant/", {"api_rate_per_minute": 20000}, format="json")
    assert r.status_code == 200 and r.json()["api_rate_per_minute"] == 20000
    for bad in [59, 1_000_001, "lots", -5]:
        r = staff.patch("/api/v1/admin/tenant/", {"api_rate_per_minute": bad}, format="json")
        assert r.status_code == 400 and r.json()["errors"][0]["attr"] == "api_rate_per_minute", (bad, r.json())
    assert Tenant.objects.get(pk=tenant.pk).api_rate_per_minute == 20000
    r = staff.patch("/api/v1/admin/tenant/", {"api_rate_per_minute": None}, format="json")
    assert r.status_code == 200 and r.json()["api_rate_per_minute"] is None   # back to the platform default


def test_counter_on_the_memory_cache_expires():
    with time_machine.travel(T0, tick=False) as clock:
        assert [ratelimit.counter_incr("t:mem", ttl=10) for _ in range(3)] == [1, 2, 3]
        clock.shift(11)
        assert ratelimit.counter_incr("t:mem", ttl=10) == 1


@pytest.mark.redis
def test_counter_on_redis_is_shared_and_atomic_across_clients(settings, redis_url):
    """Eight threads, each with its own cache client (as gunicorn workers or hosts have), on one
    Redis: no increment lost, one count; the key expires with its first increment's ttl."""
    import uuid

    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url,
                                   "KEY_PREFIX": f"fenxiao-test-{uuid.uuid4().hex}"}}
    key = "t:shared"
    results: list[int] = []

    def worker():
        for _ in range(50):
            results.append(ratelimit.counter_incr(key, ttl=30))
        caches["default"].close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(1, 401))
    cache = caches["default"]
    assert cache.get(key) == 400
    client = cache._cache.get_client(write=False)
    assert 0 < client.ttl(cache.make_key(key)) <= 30
    cache.delete(key)
