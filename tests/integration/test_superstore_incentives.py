"""Incentives on the real data (issue 11, scope 9): the full Global Superstore import, then a sales
contest over one local month and a tier bonus scheme evaluated for each month of a year, through
the staff API, checked to the cent against an independent computation from the CSV files.

The expected figures are computed here from the CSV rows with plain code that shares nothing with
fenxiao (no measures, no selectors, no arithmetic module), per domain rules section 8:
- an order's level-1 beneficiary: a customer's bound referrer; a buyer who is a distributor pays
  its upline (self-purchase commission off);
- its value: the sum of its line nets (tests.integration.test_superstore.independent_orders, the
  same independent code that checks the commission records), 0 for a returned order (refunded in
  full before the evaluation);
- it belongs to the local (Asia/Shanghai) month of its Order Date (paid at 10:00 local);
- direct sales: the sum of the values of the orders a distributor is level 1 of; an order counts
  when its value is above 0; ties go to whoever reached the score first (the latest paid_at of the
  orders counted), then to the lower distributor id;
- a tier: the highest threshold reached (inclusive) pays its amount or its rate of the sales,
  rounded down to the cent (the tenant's rounding).
"""
from __future__ import annotations

import io
import math
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import SHARED_SUPERSTORE
from tests.integration.test_superstore import _csv, independent_orders, run_import

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONTEST_MONTH = (2017, 12)
BONUS_YEAR = 2017
PRIZES = ["1000.00", "500.00", "200.00"]
TIERS = [{"threshold": "500.00", "amount": "20.00"}, {"threshold": "2000.00", "rate": "0.0100"},
         {"threshold": "5000.00", "rate": "0.0200"}]


def independent_direct_sales(directory) -> dict[tuple[int, int], dict[str, tuple[int, datetime]]]:
    """{(year, month): {distributor: (direct sales in cents, paid_at of its last counted order)}}."""
    parent = {r["external_id"]: (r["parent_external_id"] or None) for r in _csv(directory / "distributors.csv")}
    referrer = {r["external_id"]: r["referrer_external_id"] for r in _csv(directory / "customers.csv")}
    returned = {r["Order ID"] for r in _csv(directory / "returns.csv")}
    dates = {r["Order ID"]: r["Order Date"] for r in _csv(directory / "orders.csv")}
    out: dict = defaultdict(dict)
    for order_id, (buyer, lines) in independent_orders(directory).items():
        level1 = parent[buyer] if buyer in parent else referrer.get(buyer)
        if level1 is None:
            continue
        value = 0 if order_id in returned else sum(net for _, net in lines)
        cents = int(value * 100)
        assert Fraction(cents, 100) == value
        paid = datetime.strptime(dates[order_id], "%m/%d/%Y").replace(hour=10, tzinfo=SHANGHAI)
        month = out[(paid.year, paid.month)]
        total, last = month.get(level1, (0, None))
        month[level1] = (total + cents, max(filter(None, [last, paid if cents > 0 else None]), default=None))
    return out


def money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def tier_award(cents: int) -> tuple[str, str] | None:
    """(threshold, award) of the highest tier reached, independently."""
    reached = None
    for t in TIERS:
        if cents >= int(Decimal(t["threshold"]) * 100):
            reached = t
    if reached is None:
        return None
    award = int(Decimal(reached["amount"]) * 100) if "amount" in reached else math.floor(
        Fraction(cents) * Fraction(reached["rate"]))
    return reached["threshold"], money(award)


def staff_client(tenant):
    from django.contrib.auth.models import Permission, User

    from tenants.models import StaffMembership
    from tests.factories import CommitAPIClient

    user = User.objects.create_user("superstore-pm", password="pw-superstore-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["incentives", "distributors"]))
    StaffMembership.objects.create(user=user, tenant=tenant)
    token = CommitAPIClient().post("/api/v1/auth/staff-token/", {"username": "superstore-pm", "password": "pw-superstore-1"},
                                   format="json").json()["access"]
    api = CommitAPIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def all_pages(api, url):
    rows = []
    while url:
        page = api.get(url).json()
        rows += page["results"]
        url = page["next"]
    return rows


@pytest.mark.slow
@pytest.mark.superstore
@pytest.mark.django_db(transaction=True)
def test_a_month_contest_and_a_year_of_tier_bonuses_on_the_superstore_data():
    from distributors.models import Distributor
    from ledger.models import LedgerEntry
    from tenants.context import tenant_context
    from tenants.models import Tenant

    run_import(SHARED_SUPERSTORE, "superstore", now="2018-07-01T00:00:00+08:00")
    tenant = Tenant.objects.get(slug="superstore")
    api = staff_client(tenant)
    expected = independent_direct_sales(SHARED_SUPERSTORE)
    with tenant_context(tenant):
        ids = dict(Distributor.objects.values_list("external_id", "pk"))

    # -- the contest: December 2017, local time ------------------------------------------------
    year, month = CONTEST_MONTH
    r = api.post("/api/v1/admin/contests/", {"name": "December sprint", "starts_at": f"{year}-{month:02d}-01",
                                               "ends_at": f"{year + 1}-01-01", "measure": "direct_sales",
                                               "prizes": PRIZES}, format="json")
    assert r.status_code == 201, r.json()
    contest_id = r.json()["id"]
    want = sorted(((who, cents, last) for who, (cents, last) in expected[CONTEST_MONTH].items() if cents > 0),
                  key=lambda x: (-x[1], x[2], ids[x[0]]))
    assert len(want) > 20
    board = all_pages_leaderboard(api, contest_id)
    assert [(row["rank"], row["distributor_external_id"], row["score"]) for row in board] == [
        (i, who, money(cents)) for i, (who, cents, _) in enumerate(want, start=1)]
    assert [row["prize"] for row in board[:4]] == [*PRIZES, None]
    r = api.post(f"/api/v1/admin/contests/{contest_id}/finalize/", format="json")
    assert r.status_code == 200, r.json()
    assert api.post(f"/api/v1/admin/contests/{contest_id}/finalize/", format="json").status_code == 200   # once
    with tenant_context(tenant):
        prizes = sorted((e.distributor.external_id, str(e.amount)) for e in
                        LedgerEntry.objects.filter(kind="bonus", memo__startswith=f"contest {contest_id} ")
                        .select_related("distributor"))
    assert prizes == sorted((who, f"{Decimal(p):.4f}") for (who, _, _), p in zip(want, PRIZES))

    # -- tier bonuses: every month of 2017 --------------------------------------------------------
    r = api.post("/api/v1/admin/tier-bonuses/", {"name": "Monthly tiers", "measure": "direct_sales", "tiers": TIERS},
                 format="json")
    assert r.status_code == 201, r.json()
    scheme = r.json()["id"]
    got, want_awards = set(), set()
    for m in range(1, 13):
        period = f"{BONUS_YEAR}-{m:02d}"
        r = api.post(f"/api/v1/admin/tier-bonuses/{scheme}/evaluate/", {"period": period}, format="json")
        assert r.status_code == 200, r.json()
        for row in all_pages(api, f"/api/v1/admin/tier-bonuses/{scheme}/awards/?period={period}"):
            got.add((period, row["distributor_external_id"], row["measure_value"], row["threshold"], row["amount"]))
        for who, (cents, _) in expected[(BONUS_YEAR, m)].items():
            award = tier_award(cents)
            if award is not None:
                want_awards.add((period, who, money(cents), award[0], award[1]))
    assert len(want_awards) > 50
    assert got == want_awards
    # again: nothing more
    assert api.post(f"/api/v1/admin/tier-bonuses/{scheme}/evaluate/", {"period": "2017-06"}, format="json").status_code == 200
    with tenant_context(tenant):
        total = sum(LedgerEntry.objects.filter(kind="bonus", memo__startswith=f"tier bonus {scheme} ")
                    .values_list("amount", flat=True), Decimal(0))
    assert total == sum(Decimal(a[4]) for a in want_awards)
    from django.core.management import call_command

    call_command("check_ledger", "--tenant", "superstore", stdout=io.StringIO())
    call_command("check_measures", "--tenant", "superstore", stdout=io.StringIO())


def all_pages_leaderboard(api, contest_id: int) -> list[dict]:
    rows, offset = [], 0
    while True:
        page = api.get(f"/api/v1/admin/contests/{contest_id}/leaderboard/?limit=100&offset={offset}").json()
        rows += page["results"]
        if len(page["results"]) < 100:
            return rows
        offset += 100
