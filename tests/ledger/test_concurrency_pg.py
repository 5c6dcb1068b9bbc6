"""No overdraw, no double payment, no double settlement: threads in parallel on PostgreSQL."""
from datetime import datetime, timezone
from decimal import Decimal as D

import pytest
from rest_framework.exceptions import APIException

from ledger.models import Balance, LedgerEntry, Withdrawal
from ledger.services import settle_due, withdrawal_approve, withdrawal_pay, withdrawal_request
from orders.services import order_record
from tenants.context import tenant_context
from tests.factories import chain, line, order_input
from tests.integration.test_concurrency_pg import N, run_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
LATER = datetime(2027, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def funded(make_tenant):
    """A distributor with 100.00 available."""
    t = make_tenant(slug="pgl")
    with tenant_context(t):
        (d,) = chain(t, 1)
        order_record(tenant=t, data=order_input("O1", referrer_external_id="C0", status="paid", lines=[line(unit_price="1000.00")]))
        settle_due(tenant=t, now=LATER)
        assert Balance.objects.get(distributor=d).available == D("100.00")
    return t, d


def test_concurrent_requests_never_overdraw(funded):
    t, d = funded
    results = run_parallel(t, [lambda: withdrawal_request(distributor=d, amount=D("30.00"), method="bank", account="x")] * N)
    ok = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, APIException) and r.status_code == 400]
    assert (len(ok), len(refused)) == (3, N - 3), results
    with tenant_context(t):
        bal = Balance.objects.get(distributor=d)
        assert (bal.available, bal.held) == (D("10.00"), D("90.00"))


def test_double_click_with_one_idempotency_key_holds_once(funded):
    t, d = funded
    results = run_parallel(t, [lambda: withdrawal_request(distributor=d, amount=D("60.00"), method="bank", account="x",
                                                          idempotency_key="click", request_hash="h")] * N)
    assert all(isinstance(r, tuple) for r in results), results
    assert len({w.pk for w, _ in results}) == 1
    with tenant_context(t):
        assert Withdrawal.objects.count() == 1
        assert Balance.objects.get(distributor=d).held == D("60.00")


def test_two_staff_approving_and_paying_at_once_pay_once(funded):
    t, d = funded
    with tenant_context(t):
        w, _ = withdrawal_request(distributor=d, amount=D("50.00"), method="bank", account="x")
    approved = run_parallel(t, [lambda: withdrawal_approve(withdrawal=w, actor="a")] * N)
    assert sum(isinstance(r, Withdrawal) for r in approved) == 1
    paid = run_parallel(t, [lambda: withdrawal_pay(withdrawal=w, actor="b")] * N)
    assert sum(isinstance(r, Withdrawal) for r in paid) == 1
    assert all(isinstance(r, Withdrawal) or getattr(r, "status_code", None) == 409 for r in paid)
    with tenant_context(t):
        bal = Balance.objects.get(distributor=d)
        assert (bal.available, bal.held, bal.withdrawn) == (D("50.00"), D("0.00"), D("50.00"))
        assert LedgerEntry.objects.filter(kind="withdrawal_paid").count() == 1


def test_settlement_run_twice_at_once_settles_once(make_tenant):
    t = make_tenant(slug="pgs")
    with tenant_context(t):
        chain(t, 3)
        for i in range(20):
            order_record(tenant=t, data=order_input(f"O{i}", referrer_external_id="C2", status="paid"))
    results = run_parallel(t, [lambda: settle_due(tenant=t, now=LATER)] * 4)
    assert sorted(results) == [0, 0, 0, 60], results
    with tenant_context(t):
        assert LedgerEntry.objects.filter(kind="settlement").count() == 60
        assert sorted(Balance.objects.values_list("available", flat=True)) == [D("40.00"), D("100.00"), D("200.00")]
