"""The staff API's idempotent incentive writes under requests that really run at once against
PostgreSQL: N finalizes of one contest, N evaluations of one scheme's month. Every request answers
200 with the same body; the prizes and bonuses are credited once (domain rules section 8)."""
import threading

import pytest
from django.db import connection, connections

from incentives.models import ContestResult, TierAward, TierEvaluation
from ledger.models import LedgerEntry
from tenants.context import tenant_context
from tests.factories import CommitAPIClient, distributor
from tests.incentives.apidata import post_order, staff_client

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
N = 6


def at_once(calls):
    """Run each call in its own thread (and database connection), released together."""
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


@pytest.fixture
def january(make_tenant, partner_for):
    """Three sellers with January 2026 orders (direct sales 300.00, 200.00, 100.00) and staff."""
    assert connection.vendor == "postgresql"
    t = make_tenant(slug="pg-incentives")
    with tenant_context(t):
        for ext in ("P1", "P2", "P3"):
            distributor(t, external_id=ext, name=f"Seller {ext}")
    partner = partner_for(t)
    for ext, price in (("P1", "300.00"), ("P2", "200.00"), ("P3", "100.00")):
        post_order(partner, f"O-{ext}", ext, price, "2026-01-10T10:00:00+08:00")
    return t, staff_client(t, "pg-pm")


def clients(staff, n):
    out = []
    for _ in range(n):
        c = CommitAPIClient()
        c._credentials = dict(staff._credentials)
        out.append(c)
    return out


def test_concurrent_finalizes_credit_each_prize_once(january):
    tenant, staff = january
    cid = staff.post("/api/v1/admin/contests/", {"name": "Jan", "starts_at": "2026-01-01", "ends_at": "2026-02-01",
                                                 "measure": "direct_sales", "prizes": ["50.00", "20.00"]},
                     format="json").json()["id"]
    results = at_once([lambda c=c: c.post(f"/api/v1/admin/contests/{cid}/finalize/", {}, format="json")
                       for c in clients(staff, N)])
    assert [r.status_code for r in results] == [200] * N, results
    bodies = [r.json() for r in results]
    assert all(b == bodies[0] for b in bodies) and bodies[0]["status"] == "finalized"
    with tenant_context(tenant):
        assert sorted((e.distributor.external_id, str(e.amount)) for e in LedgerEntry.objects.filter(kind="bonus")) == [
            ("P1", "50.0000"), ("P2", "20.0000")]
        assert ContestResult.objects.count() == 3


def test_concurrent_evaluations_credit_each_bonus_once(january):
    tenant, staff = january
    sid = staff.post("/api/v1/admin/tier-bonuses/", {"name": "Monthly", "measure": "direct_sales", "tiers": [
        {"threshold": "200.00", "amount": "10.00"}, {"threshold": "300.00", "rate": "0.0500"}]}, format="json").json()["id"]
    results = at_once([lambda c=c: c.post(f"/api/v1/admin/tier-bonuses/{sid}/evaluate/", {"period": "2026-01"},
                                          format="json") for c in clients(staff, N)])
    assert [r.status_code for r in results] == [200] * N, results
    bodies = [r.json() for r in results]
    # P1 300.00 x 5% = 15.00; P2 exactly 200.00: 10.00; P3 none
    assert all(b == bodies[0] for b in bodies) and (bodies[0]["awards"], bodies[0]["total"]) == (2, "25.00")
    with tenant_context(tenant):
        assert sorted((e.distributor.external_id, str(e.amount)) for e in LedgerEntry.objects.filter(kind="bonus")) == [
            ("P1", "15.0000"), ("P2", "10.0000")]
        assert (TierAward.objects.count(), TierEvaluation.objects.count()) == (2, 1)
