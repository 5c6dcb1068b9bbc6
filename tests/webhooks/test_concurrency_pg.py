"""Two relay runs of one tenant at once against PostgreSQL (domain rules section 10: each event is
delivered once to each subscribed endpoint): the events are fanned out with SKIP LOCKED, a
delivery is unique per (event, endpoint), and due deliveries are claimed with SKIP LOCKED, so the
receivers get every event exactly once however the runs interleave."""
import json
import threading

import pytest
from django.db import connection, connections

from tenants.context import tenant_context
from tests.factories import chain
from webhooks.models import Delivery

from .helpers import post_paid_order, relay, subscribe

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.parametrize("runs", [2, 4])
def test_relays_at_once_deliver_each_event_once_per_endpoint(make_tenant, partner_for, receiver, runs):
    assert connection.vendor == "postgresql"
    tenant = make_tenant(slug=f"pg-hooks-{runs}")
    with tenant_context(tenant):
        chain(tenant, 3)
    partner = partner_for(tenant)
    receiver.expect_request("/a", method="POST").respond_with_data("ok")
    receiver.expect_request("/b", method="POST").respond_with_data("ok")
    subscribe(tenant, receiver.url_for("/a"))
    subscribe(tenant, receiver.url_for("/b"), ["order.commissions_created", "withdrawal.updated"])
    for i in range(12):
        post_paid_order(partner, f"O{i:02d}")
    results = at_once([lambda: relay(tenant) for _ in range(runs)])
    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["events"] for r in results) == 12
    assert sum(r["deliveries"] for r in results) == 24
    for path in ("/a", "/b"):
        orders = sorted(json.loads(req.get_data())["data"]["order_external_id"] for req, _ in receiver.log
                        if req.path == path)
        assert orders == [f"O{i:02d}" for i in range(12)], path
    ids = [req.headers["webhook-id"] for req, _ in receiver.log]
    assert len(ids) == len(set(ids)) == 24
    with tenant_context(tenant):
        assert Delivery.objects.filter(status="succeeded").count() == 24
