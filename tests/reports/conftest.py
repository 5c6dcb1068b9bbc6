"""The worked programme of the reports tests (domain rules sections 7-9), on a Shanghai tenant (CNY,
plan 10% / 5% / 2%, settle 7 days after completion, orders never completed count as completed 14
days after payment, withdrawal fee 1%). Every event happens with the clock at its time (the
ledger journals money when it moves), all times +08:00:

Distributors: R 张三 (root, joined 2026-01-10), A 李四 (R's downline, joined 02-01), B 王小明 (A's
downline, joined 02-15), C (root, joined 03-01 00:00:00, the local-midnight start of March),
D (root, joined 04-01 00:00:00), E (applied 03-10, still pending: never counted).

  02-28 23:59:59  O1 channel app, referred by B, 100.00: B 10.00, A 5.00, R 2.00 (February's)
  03-01 00:00:00  O2 channel h5, B, 200.00 + shipping 10.00 + tax 5.00: B 20.00, A 10.00, R 4.00
  03-02 09:00     O3 no channel, referred by A, 50.00: A 5.00, R 2.50 (Monday: a new week)
  03-25 12:00     settlement: O1, O2, O3 settle (17.00 + 34.00 + 7.50 = 58.50)
  03-26 10:00     B asks to withdraw 25.00 (fee 0.25); approved 03-27
  03-31 23:59:59  O4 channel app, B, 300.00: B 30.00, A 15.00, R 6.00 (March's last second)
  04-01 00:00:00  O5 channel app, A, 80.00: A 8.00, R 4.00 (April's first)
  04-02 09:00     B's withdrawal paid: 24.75 transferred, 0.25 fee
  04-02 10:00     O4 refunded in full before settlement: reversals 30.00, 15.00, 6.00
  04-10 12:00     O2 refunded 50.00 of goods (and its 10.00 shipping) after settlement: clawbacks
                  B 5.00, A 2.50, R 1.00 (each record keeps 3/4)
  04-15 12:00     tier bonus for March (direct sales >= 100.00 pays 5.00): B (150.00) gets 5.00
  04-25 12:00     settlement: O5 settles (12.00); O4's records are reversed in full: nothing
The reports are read on 2026-05-05 12:00.
"""
from datetime import datetime
from decimal import Decimal

import pytest
import time_machine

from tenants.context import tenant_context
from tests.factories import CommitAPIClient, committed, distributor, order_json

NOW = "2026-05-05T12:00:00+08:00"
FENXIAO_APPS = ["tenants", "distributors", "orders", "commissions", "ledger", "incentives"]


def at(iso: str):
    """The clock at a local time (frozen)."""
    return time_machine.travel(datetime.fromisoformat(iso), tick=False)


def post_order(partner, external_id, referrer, price, paid_at, channel=None, **extra):
    body = order_json(external_id, referrer_external_id=referrer, status="paid", paid_at=paid_at, placed_at=paid_at,
                      lines=[{"line_id": "1", "sku": "SKU-1", "quantity": 1, "unit_price": price}], **extra)
    if channel is not None:
        body["channel"] = channel
    r = partner.post("/api/v1/orders/", body, format="json")
    assert r.status_code == 201, r.json()
    return r.json()


def staff_client(tenant, username, perms=None):
    """A staff token client of `tenant` (every model permission of fenxiao's apps, or `perms`)."""
    from django.contrib.auth.models import Permission, User

    from tenants.models import StaffMembership

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
def shop(make_tenant):
    return make_tenant(slug="shop", withdraw_fee_rate=Decimal("0.0100"))


@pytest.fixture
def people(shop):
    """The distributors of the module docstring: {external_id: Distributor}."""
    from distributors.services import DistributorInput, distributor_register

    def join(ext, name, when, parent=None):
        d, _ = distributor_register(tenant=shop, data=DistributorInput(
            external_id=ext, name=name, parent_external_id=parent, joined_at=datetime.fromisoformat(when)))
        return d

    with at("2026-01-10T10:00:00+08:00"), tenant_context(shop):
        out = {"R": join("R", "张三", "2026-01-10T10:00:00+08:00")}
        out["A"] = join("A", "李四", "2026-02-01T10:00:00+08:00", "R")
        out["B"] = join("B", "王小明", "2026-02-15T10:00:00+08:00", "A")
        out["C"] = join("C", "Carol", "2026-03-01T00:00:00+08:00")
        out["D"] = join("D", "Dave", "2026-04-01T00:00:00+08:00")
        shop.enrollment = "application"
        shop.save(update_fields=["enrollment"])
        out["E"] = join("E", "Eve", "2026-03-10T10:00:00+08:00")
        assert out["E"].status == "pending"
        shop.enrollment = "open"
        shop.save(update_fields=["enrollment"])
    return out


@pytest.fixture
def programme(shop, people, partner_for, portal_for):
    """Every event of the module docstring, each at its time; returns the people. The clock is
    left at NOW for the test."""
    from incentives.services import month_of, tier_bonus_evaluate, tier_scheme_create
    from ledger.models import Withdrawal
    from ledger.services import settle_due, withdrawal_approve, withdrawal_pay

    partner = partner_for(shop)
    with at("2026-02-01T10:00:00+08:00"), tenant_context(shop):
        scheme = tier_scheme_create(tenant=shop, name="March", measure="direct_sales",
                                    tiers=[{"threshold": "100.00", "amount": "5.00"}])
    with at("2026-02-28T23:59:59+08:00"):
        post_order(partner, "O1", "B", "100.00", "2026-02-28T23:59:59+08:00", channel="app")
    with at("2026-03-01T00:00:00+08:00"):
        post_order(partner, "O2", "B", "200.00", "2026-03-01T00:00:00+08:00", channel="h5", shipping="10.00", tax="5.00")
    with at("2026-03-02T09:00:00+08:00"):
        post_order(partner, "O3", "A", "50.00", "2026-03-02T09:00:00+08:00")
    with at("2026-03-25T12:00:00+08:00"), tenant_context(shop):
        assert settle_due(tenant=shop) == 8
    with at("2026-03-26T10:00:00+08:00"):
        r = portal_for(people["B"]).post("/api/v1/me/withdrawals/", {"amount": "25.00", "method": "alipay",
                                                                     "account": "b@example.com"}, format="json")
        assert r.status_code == 201 and r.json()["fee"] == "0.25", r.json()
        withdrawal_id = r.json()["id"]
    with at("2026-03-27T10:00:00+08:00"), tenant_context(shop), committed():
        withdrawal_approve(withdrawal=Withdrawal.objects.get(pk=withdrawal_id), actor="finance")
    with at("2026-03-31T23:59:59+08:00"):
        post_order(partner, "O4", "B", "300.00", "2026-03-31T23:59:59+08:00", channel="app")
    with at("2026-04-01T00:00:00+08:00"):
        post_order(partner, "O5", "A", "80.00", "2026-04-01T00:00:00+08:00", channel="app")
    with at("2026-04-02T09:00:00+08:00"), tenant_context(shop), committed():
        withdrawal_pay(withdrawal=Withdrawal.objects.get(pk=withdrawal_id), payout_reference="ALIPAY-1", actor="finance")
    with at("2026-04-02T10:00:00+08:00"):
        r = partner.post("/api/v1/orders/O4/refunds/", {"external_id": "RF-O4", "amount": "300.00"}, format="json")
        assert r.status_code == 201, r.json()
    with at("2026-04-10T12:00:00+08:00"):
        r = partner.post("/api/v1/orders/O2/refunds/", {"external_id": "RF-O2", "amount": "50.00", "shipping": "10.00"},
                         format="json")
        assert r.status_code == 201, r.json()
    with at("2026-04-15T12:00:00+08:00"), tenant_context(shop), committed():
        _, awards, _ = tier_bonus_evaluate(scheme=scheme, period=month_of("2026-03"), actor="pm")
        assert [(a.distributor_id, a.amount) for a in awards] == [(people["B"].pk, Decimal("5.00"))]
    with at("2026-04-25T12:00:00+08:00"), tenant_context(shop):
        assert settle_due(tenant=shop) == 2
    return people


@pytest.fixture
def clock_now():
    with at(NOW) as traveller:
        yield traveller


@pytest.fixture
def staff(shop, programme, clock_now):
    return staff_client(shop, "pm")


@pytest.fixture
def portal_b(programme, clock_now, portal_for):
    return portal_for(programme["B"])
