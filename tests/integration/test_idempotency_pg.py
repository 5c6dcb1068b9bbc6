"""Concurrent duplicates with one Idempotency-Key have one effect and get one answer: threads in
parallel on PostgreSQL, each with its own connection, posting through the API at once (the
second and later wait on the key's row, then replay the first answer)."""
from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from incentives.models import Contest
from ledger.models import Balance, LedgerEntry, Withdrawal
from ledger.services import settle_due, withdrawal_request
from orders.services import order_record
from tenants.context import tenant_context
from tenants.models import IdempotencyRecord
from tests.factories import chain, line, order_input
from tests.integration.test_concurrency_pg import N, run_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def funded(make_tenant, portal_for):
    """A distributor with 100.00 available, its portal client and a staff client."""
    from tests.incentives.apidata import staff_client

    t = make_tenant(slug="pgi")
    with tenant_context(t):
        (d,) = chain(t, 1)
        order_record(tenant=t, data=order_input("O1", referrer_external_id="C0", status="paid",
                                                lines=[line(unit_price="1000.00")]))
        settle_due(tenant=t, now=datetime(2027, 1, 1, tzinfo=timezone.utc))
    return t, d, portal_for(d), staff_client(t, "pm")


def answers(results):
    bad = [r for r in results if isinstance(r, BaseException)]
    assert not bad, bad
    return {(r.status_code, r.content, r.get("Idempotent-Replayed")) for r in results}


def test_a_double_click_on_withdraw_holds_once(funded, portal_for):
    t, d, _, _ = funded
    clients = [portal_for(d) for _ in range(N)]   # one client (and token) per thread
    body = {"amount": "60.00", "method": "bank", "account": "6222"}
    results = run_parallel(t, [lambda c=c: c.post("/api/v1/me/withdrawals/", body, format="json",
                                                  HTTP_IDEMPOTENCY_KEY="click") for c in clients])
    got = answers(results)
    assert {(status, replayed) for status, _, replayed in got} == {(201, None), (201, "true")}
    assert len({content for _, content, _ in got}) == 1          # one answer, byte for byte
    with tenant_context(t):
        assert Withdrawal.objects.count() == 1
        bal = Balance.objects.get(distributor=d)
        assert (bal.available, bal.held) == (D("40.00"), D("60.00"))
        assert IdempotencyRecord.unscoped.get(key="click").status_code == 201


def test_two_staff_clicks_on_approve_with_one_key_approve_once_and_answer_alike(funded):
    from tests.incentives.apidata import staff_client

    t, d, _, _ = funded
    with tenant_context(t):
        w, _ = withdrawal_request(distributor=d, amount=D("50.00"), method="bank", account="x")
    staff = [staff_client(t, f"pm{i}") for i in range(N)]
    # the same user's clicks share a key; give every thread the first user's token
    token = staff[0]._credentials["HTTP_AUTHORIZATION"]
    for c in staff:
        c.credentials(HTTP_AUTHORIZATION=token)
    results = run_parallel(t, [lambda c=c: c.post(f"/api/v1/admin/withdrawals/{w.public_id}/approve/",
                                                  HTTP_IDEMPOTENCY_KEY="approve-1") for c in staff])
    got = answers(results)
    assert {status for status, _, _ in got} == {200} and len({content for _, content, _ in got}) == 1
    with tenant_context(t):
        assert Withdrawal.objects.get().status == "approved"
        assert Withdrawal.history.filter(id=w.pk, status="approved").count() == 1
        assert LedgerEntry.objects.filter(withdrawal=w).count() == 1   # the hold only


def test_a_contest_created_at_once_with_one_key_is_created_once(funded):
    t, _, _, staff = funded
    token = staff._credentials["HTTP_AUTHORIZATION"]
    from tests.factories import CommitAPIClient

    clients = []
    for _ in range(N):
        c = CommitAPIClient()
        c.credentials(HTTP_AUTHORIZATION=token)
        clients.append(c)
    body = {"name": "March", "starts_at": "2026-03-01", "ends_at": "2026-04-01", "measure": "direct_sales",
            "prizes": ["50.00"]}
    results = run_parallel(t, [lambda c=c: c.post("/api/v1/admin/contests/", body, format="json",
                                                  HTTP_IDEMPOTENCY_KEY="c-1") for c in clients])
    got = answers(results)
    assert {status for status, _, _ in got} == {201} and len({content for _, content, _ in got}) == 1
    with tenant_context(t):
        assert Contest.objects.count() == 1
