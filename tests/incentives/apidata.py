"""Fixtures of the incentives API tests (imported by the test modules that use them, so that the
clock never reaches other tests of the package): a fixed clock, staff clients with the model permissions,
and a programme with worked March and April orders posted through the partner API.

The clock is 2026-04-20 12:00 in Shanghai (04:00 UTC): March is over (its contest ended, its
default finalize_at, April 8, has passed), April runs (19.5 of its 30 days elapsed: expected pace
0.6500), May is ahead.

Distributors (roots unless said): A "张三", B "Alice", C "王小明", D "Dave" (A's downline).
Orders, each one line whose commission base is its price (CNY):
  OA1 A 100.00 paid 2026-03-01 00:00 +08:00   (the local-midnight start of March: counts)
  OA2 A 100.00 paid 2026-03-10 10:00
  OB1 B 300.00 paid 2026-03-05 10:00
  OC1 C 150.00 paid 2026-03-20 10:00
  OC2 C 500.00 paid 2026-04-01 00:00 +08:00   (the local-midnight end of March: April's)
  OC3 C 400.00 paid 2026-02-28 23:59:59 +08:00 (the last second of February: not March's)
  OD1 D 100.00 paid 2026-03-15 10:00          (A's team at level 2)
March direct sales: B 300.00 (last order 03-05), A 200.00 (03-10), C 150.00, D 100.00.
March team sales: A 300.00 (last 03-15), B 300.00 (03-05), C 150.00, D 100.00.
"""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.contrib.auth.models import Permission, User

from tenants.models import StaffMembership
from tests.factories import CommitAPIClient, distributor, order_json

NOW = datetime(2026, 4, 20, 4, 0, tzinfo=timezone.utc)  # 2026-04-20 12:00 +08:00
FENXIAO_APPS = ["tenants", "distributors", "orders", "commissions", "ledger", "incentives"]

ORDERS = [("OA1", "A", "100.00", "2026-03-01T00:00:00+08:00"), ("OA2", "A", "100.00", "2026-03-10T10:00:00+08:00"),
          ("OB1", "B", "300.00", "2026-03-05T10:00:00+08:00"), ("OC1", "C", "150.00", "2026-03-20T10:00:00+08:00"),
          ("OC2", "C", "500.00", "2026-04-01T00:00:00+08:00"), ("OC3", "C", "400.00", "2026-02-28T23:59:59+08:00"),
          ("OD1", "D", "100.00", "2026-03-15T10:00:00+08:00")]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def staff_client(tenant, username, perms=None):
    """A staff token client of `tenant`. `perms`: None grants every model permission of fenxiao's
    apps; else a list of "app_label.codename"."""
    user = User.objects.create_user(username, password="pw-12345678", is_staff=True)
    if perms is None:
        user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=FENXIAO_APPS))
    else:
        user.user_permissions.set([Permission.objects.get(content_type__app_label=p.split(".")[0],
                                                          codename=p.split(".")[1]) for p in perms])
    StaffMembership.objects.create(user=user, tenant=tenant)
    token = CommitAPIClient().post("/api/v1/auth/staff-token/", {"username": username, "password": "pw-12345678"},
                                   format="json").json()["access"]
    api = CommitAPIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


@pytest.fixture
def staff(tenant):
    return staff_client(tenant, "pm")


def post_order(partner, external_id, referrer, price, paid_at, currency="CNY"):
    r = partner.post("/api/v1/orders/", order_json(
        external_id, referrer_external_id=referrer, status="paid", paid_at=paid_at, currency=currency,
        placed_at=paid_at,
        lines=[{"line_id": "1", "sku": "SKU-1", "quantity": 1, "unit_price": price}]), format="json")
    assert r.status_code == 201, r.json()
    return r


@pytest.fixture
def sellers(tenant):
    """The distributors of the module docstring, without orders: {external_id: Distributor}."""
    from tenants.context import tenant_context

    with tenant_context(tenant):
        people = {"A": distributor(tenant, external_id="A", name="张三"), "B": distributor(tenant, external_id="B", name="Alice"),
                  "C": distributor(tenant, external_id="C", name="王小明")}
        people["D"] = distributor(tenant, people["A"], external_id="D", name="Dave")
    return people


@pytest.fixture
def programme(sellers, partner):
    """The distributors and orders of the module docstring; returns {external_id: Distributor}."""
    for ext, who, price, paid_at in ORDERS:
        post_order(partner, ext, who, price, paid_at)
    return sellers


def more_sellers(tenant, partner, n, prefix="X"):
    """`n` more distributors, each with one March order of 10.00 (to grow the tenant)."""
    from tenants.context import tenant_context

    with tenant_context(tenant):
        for i in range(n):
            distributor(tenant, external_id=f"{prefix}{i}", name=f"Extra {i}")
    for i in range(n):
        post_order(partner, f"{prefix}O{i}", f"{prefix}{i}", "10.00",
                   (datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc) + timedelta(minutes=i)).isoformat())
