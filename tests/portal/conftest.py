"""The portal's fixtures: a programme `acme` (CNY, 10% / 5% / 2%, minimum withdrawal 10.00) with
alice at the head of a three-level team (alice -> bob -> carol -> dave) and eve beside her, each
with a portal password; three orders in March 2026 (local time, Asia/Shanghai) recorded on three
different days, and the clock held at 2026-03-10 12:00 local:

    O1 paid 03-02 by carol, 1000.00: carol L1 100.00, bob L2 50.00, alice L3 20.00
    O2 paid 03-05 by bob,    200.00: bob L1 20.00, alice L2 10.00
    O3 paid 03-10 by alice,  500.00: alice L1 50.00

so alice earned 80.00 this month, 50.00 of it today, all frozen; `settled` makes it available.
Another programme `other` has mallory. Pages are opened with Django's test client (`login`)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tenants.context import tenant_context
from tests.factories import distributor, line, paid_order

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=SH)
PASSWORD = "portal-pass-2026"


def local(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SH)


@pytest.fixture
def clock():
    """The clock held at NOW (2026-03-10 12:00 Shanghai); `clock.move_to(t)` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def acme(make_tenant):
    return make_tenant(slug="acme", withdraw_min_amount=D("10.00"))


@pytest.fixture
def people(acme, clock):
    """{name: Distributor} of acme: alice -> bob -> carol -> dave, and eve (no upline); the three
    orders of the module docstring, each recorded on its day."""
    from distributors.services import distributor_set_password

    with tenant_context(acme):
        alice = distributor(acme, external_id="alice", name="Alice Wang")
        bob = distributor(acme, alice, external_id="bob", name="Bob Li")
        carol = distributor(acme, bob, external_id="carol", name="张小红")
        dave = distributor(acme, carol, external_id="dave", name="Dave Zhao")
        eve = distributor(acme, external_id="eve", name="Eve Chen")
        for d in (alice, bob, carol, dave, eve):
            distributor_set_password(distributor=d, password=PASSWORD)
        for day, ext, who, amount in ((2, "O1", "carol", "1000.00"), (5, "O2", "bob", "200.00"),
                                      (10, "O3", "alice", "500.00")):
            clock.move_to(local(day))
            paid_order(acme, ext, referrer_external_id=who, lines=[line(unit_price=amount)], paid_at=local(day),
                       placed_at=local(day))
        clock.move_to(NOW)
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "eve": eve}


@pytest.fixture
def settled(acme, people, clock):
    """Every commission of the three orders settled (as the beat would on 2026-04-01): alice's
    80.00 is available. The clock stays at NOW."""
    from ledger.services import settle_due

    with tenant_context(acme):
        assert settle_due(tenant=acme, now=local(1, 12, month=4)) == 6
    return people


@pytest.fixture
def other(make_tenant, clock):
    """Another programme with mallory (same password)."""
    from distributors.services import distributor_set_password

    tenant = make_tenant(slug="other")
    with tenant_context(tenant):
        mallory = distributor(tenant, external_id="mallory", name="Mallory")
        distributor_set_password(distributor=mallory, password=PASSWORD)
    return tenant


@pytest.fixture
def client():
    """Django's test client, asking for English (the messages the tests compare are the source
    strings); tests of the languages make their own."""
    from django.test import Client

    return Client(headers={"Accept-Language": "en"})


def login(client, slug: str, username: str, password: str = PASSWORD):
    """Log in on /portal/<slug>/login/; returns the response (302 home when right)."""
    return client.post(f"/portal/{slug}/login/", {"username": username, "password": password})


@pytest.fixture
def as_alice(client, people):
    assert login(client, "acme", "alice").status_code == 302
    return client
