"""The Superstore import, checked to the cent against an independent computation from the CSV rows.

The expected figures are computed in this module with plain code that shares nothing with the
project (no commissions.arithmetic, no services, no orders.superstore), straight from the data's
README and domain rules sections 3-6:

- a line's net = quantity x unit_price - line discount, unit_price = Sales / (Quantity x (1 - Discount))
  (an exact cent), line discount = Quantity x unit_price x Discount rounded half-up to 0.01;
- attribution: a customer's bound referrer is level 1; a buyer who is a distributor pays its upline
  as level 1 (self-purchase commission off); levels 2 and 3 are the next distributors up the tree;
- rates 10% / 5% / 2%, Technology lines 6% / 3% / 1%;
- a record = the exact sum of its lines' values rounded down once to 0.01; 0.00 makes no record;
- a returned order is refunded in full, so each of its records nets to 0.00.

The results are compared with the CommissionRecord rows, and a few figures are also pinned as
literals (so a regression in both the importer and this code would still be caught).
"""
from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from tests.conftest import REPO, SHARED_SUPERSTORE
from tests.factories import committed

SAMPLE = REPO / "fenxiao" / "sample_data" / "superstore"
DEFAULT_RATES = {1: Fraction("0.10"), 2: Fraction("0.05"), 3: Fraction("0.02")}
CATEGORY_RATES = {"Technology": {1: Fraction("0.06"), 2: Fraction("0.03"), 3: Fraction("0.01")}}


# -- the independent computation -------------------------------------------------------------------

def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("latin-1"), newline="")))


def independent_orders(directory: Path) -> dict[str, tuple[str, list[tuple[str, Fraction]]]]:
    """{Order ID: (buyer, [(category, line net), ...])} from orders.csv."""
    out: dict[str, tuple[str, list]] = {}
    for r in _csv(directory / "orders.csv"):
        quantity, rate = int(r["Quantity"]), Fraction(r["Discount"])
        unit = Fraction(r["Sales"]) / (quantity * (1 - rate))
        assert (unit * 100).denominator == 1, r["Row ID"]
        discount_cents = math.floor(quantity * unit * rate * 100 + Fraction(1, 2))  # half-up, >= 0
        out.setdefault(r["Order ID"], (r["Customer ID"], []))[1].append(
            (r["Category"], quantity * unit - Fraction(discount_cents, 100))
        )
    return out


def expected_records(directory: Path) -> dict[tuple[str, int], tuple[str, int, int]]:
    """{(Order ID, level): (beneficiary external_id, amount in cents, net in cents)} from the CSVs."""
    parent = {r["external_id"]: (r["parent_external_id"] or None) for r in _csv(directory / "distributors.csv")}
    referrer = {r["external_id"]: r["referrer_external_id"] for r in _csv(directory / "customers.csv")}
    returned = {r["Order ID"] for r in _csv(directory / "returns.csv")}
    out = {}
    for order_id, (who, order_lines) in independent_orders(directory).items():
        first = parent[who] if who in parent else referrer.get(who)
        chain = []
        while first is not None and len(chain) < 3:
            chain.append(first)
            first = parent[first]
        for level, beneficiary in enumerate(chain, start=1):
            value = sum(net * CATEGORY_RATES.get(cat, DEFAULT_RATES)[level] for cat, net in order_lines)
            cents = math.floor(value * 100)
            if cents > 0:
                out[(order_id, level)] = (beneficiary, cents, 0 if order_id in returned else cents)
    return out


def net_by_level(records) -> dict[int, Decimal]:
    totals = {1: 0, 2: 0, 3: 0}
    for (_, level), (_, _, net) in records.items():
        totals[level] += net
    return {level: Decimal(c) / 100 for level, c in totals.items()}


def distributor_net_by_level(records, external_id: str) -> dict[int, Decimal]:
    totals = {1: 0, 2: 0, 3: 0}
    for (_, level), (who, _, net) in records.items():
        if who == external_id:
            totals[level] += net
    return {level: Decimal(c) / 100 for level, c in totals.items()}


# -- what the database holds -------------------------------------------------------------------------

def _cents(value: Decimal) -> int:
    return int(value * 100)


def db_records(slug: str) -> dict[tuple[str, int], tuple[str, int, int]]:
    from commissions.models import CommissionRecord
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(slug=slug)):
        rows = CommissionRecord.objects.values_list(
            "order__external_id", "level", "beneficiary__external_id", "amount", "reversed_amount"
        )
        return {(o, lvl): (b, _cents(a), _cents(a - r)) for o, lvl, b, a, r in rows}


def run_import(directory: Path, slug: str, now: str | None = None) -> str:
    out = io.StringIO()
    with committed():  # runs the commission tasks the import enqueues on commit, as a real commit would
        call_command("import_superstore", str(directory), tenant=slug, quiet=True, stdout=out,
                     **({"now": now} if now else {}))
    return out.getvalue()


SETTLE_NOW = "2017-07-01T00:00:00+08:00"
BEFORE_ALL = "2014-01-01T00:00:00+08:00"


def expected_balances(directory: Path, now: datetime) -> dict[str, tuple[int, int]]:
    """{distributor: (frozen cents, available cents)} as of `now`, independently: a record settles
    at Ship Date 18:00 local + 7 days, or, never shipped, Order Date 10:00 + 14 + 7 days; returned
    orders are refunded 2 days after shipping, before they settle, so they hold nothing."""
    shanghai = ZoneInfo("Asia/Shanghai")
    rows = {r["Order ID"]: r for r in _csv(directory / "orders.csv")}

    def at(day: str, hour: int):
        return datetime.strptime(day, "%m/%d/%Y").replace(hour=hour, tzinfo=shanghai)

    out: dict[str, list[int]] = {}
    for (order_id, _level), (who, _amount, net) in expected_records(directory).items():
        r = rows[order_id]
        due = at(r["Ship Date"], 18) + timedelta(days=7) if r["Ship Date"] else at(r["Order Date"], 10) + timedelta(days=21)
        slot = out.setdefault(who, [0, 0])
        slot[1 if due <= now else 0] += net
    return {k: (v[0], v[1]) for k, v in out.items()}


def db_balances(slug: str) -> dict[str, tuple[int, int]]:
    from ledger.models import Balance
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(slug=slug)):
        return {b.distributor.external_id: (_cents(b.frozen), _cents(b.available))
                for b in Balance.objects.select_related("distributor") if b.total_earned or b.frozen or b.available}


def check_balances(directory: Path, slug: str, now: str) -> dict[str, tuple[int, int]]:
    """Per-distributor frozen / available to the cent, and a clean check_ledger."""
    want = {k: v for k, v in expected_balances(directory, datetime.fromisoformat(now)).items() if v != (0, 0)}
    got = db_balances(slug)
    assert got == want, sorted(set(got.items()) ^ set(want.items()))[:6]
    call_command("check_ledger", "--tenant", slug, stdout=io.StringIO())
    return want


def db_state(slug: str) -> dict:
    """Everything the import writes, as comparable values (ids included: a rerun must not rewrite)."""
    from commissions.models import CommissionPlan, CommissionRecord, CommissionReversal
    from distributors.models import Customer, Distributor
    from orders.models import Order, OrderLine, Refund
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(slug=slug)):
        return {
            "plans": list(CommissionPlan.objects.values_list("id", "version")),
            "distributors": list(Distributor.objects.values_list("id", "external_id", "parent_id", "invite_code", "joined_at")),
            "customers": list(Customer.objects.values_list("id", "external_id", "referrer_id", "bound_at")),
            "orders": list(Order.objects.values_list("id", "external_id", "status", "paid_at", "completed_at",
                                                     "goods_total", "refunded_amount", "net_base", "updated_at")),
            "lines": OrderLine.objects.count(),
            "refunds": list(Refund.objects.values_list("id", "external_id", "amount", "refunded_at")),
            "records": list(CommissionRecord.objects.values_list("id", "amount", "reversed_amount", "status", "settles_at")),
            "reversals": list(CommissionReversal.objects.values_list("id", "record_id", "amount")),
        }


def check_against_csv(directory: Path, slug: str) -> dict[tuple[str, int], tuple[str, int, int]]:
    """Assert the database holds exactly the independently computed records; returns them."""
    from commissions.selectors import earnings_by_level
    from distributors.models import Distributor
    from orders.models import Order, Refund
    from tenants.context import tenant_context
    from tenants.models import Tenant

    expected = expected_records(directory)
    got = db_records(slug)
    missing, extra = expected.keys() - got.keys(), got.keys() - expected.keys()
    assert not missing and not extra, (sorted(missing)[:5], sorted(extra)[:5])
    wrong = {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
    assert not wrong, list(wrong.items())[:5]

    orders_csv = _csv(directory / "orders.csv")
    order_ids = {r["Order ID"] for r in orders_csv}
    returned = {r["Order ID"] for r in _csv(directory / "returns.csv")}
    buyers = {r["Order ID"]: r["Customer ID"] for r in orders_csv}
    shanghai = ZoneInfo("Asia/Shanghai")

    def at(day: str, hour: int):
        return datetime.strptime(day, "%m/%d/%Y").replace(hour=hour, tzinfo=shanghai) if day else None

    placed = {r["Order ID"]: at(r["Order Date"], 10) for r in orders_csv}
    completed = {r["Order ID"]: at(r["Ship Date"], 18) for r in orders_csv}
    goods = {o: sum(net for _, net in lines) for o, (_, lines) in independent_orders(directory).items()}
    with tenant_context(Tenant.objects.get(slug=slug)):
        assert Order.objects.count() == len(order_ids)
        orders = {o.external_id: o for o in Order.objects.all()}
        assert {o: (x.status, x.placed_at, x.paid_at, x.completed_at, x.goods_total) for o, x in orders.items()} == {
            o: ("refunded" if o in returned else "completed" if completed[o] else "paid",
                placed[o], placed[o], completed[o], Decimal(goods[o].numerator * 100 // goods[o].denominator) / 100)
            for o in order_ids
        }
        refunds = {r.external_id: (r.order.external_id, r.amount, r.refunded_at)
                   for r in Refund.objects.select_related("order")}
        assert refunds == {
            f"RET-{o}": (o, orders[o].goods_total, completed[o] + timedelta(days=2)) for o in returned
        }
        # Self-purchase commission is off: a distributor never earns on its own purchases.
        assert not [k for k, (who, _, _) in got.items() if who == buyers[k[0]]]
        # The portal's per-level figures (selector, SQL sums) agree with the records, per distributor.
        beneficiaries = {who for who, _, _ in got.values()}
        for d in Distributor.objects.filter(external_id__in=beneficiaries):
            want = distributor_net_by_level(expected, d.external_id)
            assert earnings_by_level(beneficiary_id=d.pk) == {str(k): v for k, v in want.items()}, d.external_id
    return expected


FULL_DIST_0001_BALANCE = (1200229, 1176889)  # 12002.29 frozen + 11768.89 available = 23771.18 net, as of SETTLE_NOW
SAMPLE_DIST_0001_BALANCE = (88995, 39597)  # 889.95 frozen + 395.97 available = 1285.92 net


def pinned(**levels: str) -> dict[int, Decimal]:
    return {int(k[1:]): Decimal(v) for k, v in levels.items()}


# -- (a) the full data ------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.superstore
@pytest.mark.django_db(transaction=True)
def test_full_superstore_import_matches_an_independent_computation():
    """Real commits (transactional test): the commission task of each chunk runs as it commits."""
    out = run_import(SHARED_SUPERSTORE, "superstore", now=SETTLE_NOW)
    expected = check_against_csv(SHARED_SUPERSTORE, "superstore")
    balances = check_balances(SHARED_SUPERSTORE, "superstore", SETTLE_NOW)
    frozen, available = sum(f for f, _ in balances.values()), sum(a for _, a in balances.values())
    assert frozen + available == 46140947    # = the net total below, in cents
    assert balances["DIST-0001"] == FULL_DIST_0001_BALANCE
    # The PM console's backtest on the same import (one import of the full data serves both checks):
    # Technology L1 6% -> 8% must report exactly the independently computed delta.
    from tests.staff.test_backtest import independent_delta, run_backtest

    bt, _ = run_backtest("superstore", SHARED_SUPERSTORE, imported=True)
    want = independent_delta(SHARED_SUPERSTORE)
    assert {int(k): Decimal(v["delta"]) for k, v in bt["results"]["by_level"].items()} == want
    assert Decimal(bt["results"]["actual"]) == Decimal("461409.47")
    got = db_records("superstore")

    # Pinned literals (computed once with the independent code above; both sides must match them).
    assert len({r["Order ID"] for r in _csv(SHARED_SUPERSTORE / "orders.csv")}) == 5436
    assert len(expected) == len(got) == 15117
    net = {1: Decimal("281439.24"), 2: Decimal("135941.98"), 3: Decimal("44028.25")}
    assert net_by_level(expected) == net_by_level(got) == net
    summary = [line.split() for line in out.splitlines()]
    assert ["orders", "5436", "5436"] in summary and ["refunds", "296", "296"] in summary
    assert ["commission", "records", "15117", "15117"] in summary
    assert ["level", "1", "304218.33", "22779.09", "281439.24"] in summary
    assert ["total", "498810.01", "37400.54", "461409.47"] in summary
    for external_id, levels in {
        # a root with downlines 12 / 24 / 18 deep; 74 of its records are on returned orders
        "DIST-0001": pinned(L1="4787.68", L2="11496.48", L3="7487.02"),
        # a distributor who also buys (8 orders, which pay its upline SC-20680); downlines 4 / 7 / 8
        "CS-12490": pinned(L1="4060.23", L2="4144.98", L3="2035.93"),
        # Technology-heavy (26% of the lines it earns on) with downlines at 3 levels, 14 returned
        "GH-14425": pinned(L1="2846.55", L2="2138.07", L3="972.91"),
        # Technology-heavy: 32% of the lines it earns on (the average is 22%); no downlines
        "DIST-0011": pinned(L1="2152.47", L2="0.00", L3="0.00"),
        # also a buyer (5 orders); 5 of its 41 level-1 records are on returned orders
        "FA-14230": pinned(L1="1580.60", L2="0.00", L3="0.00"),
    }.items():
        assert distributor_net_by_level(expected, external_id) == levels, external_id
        assert distributor_net_by_level(got, external_id) == levels, external_id


# -- (b) the bundled sample -------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_bundled_sample_import_matches_an_independent_computation():
    out = run_import(SAMPLE, "sample", now=SETTLE_NOW)
    expected = check_against_csv(SAMPLE, "sample")
    balances = check_balances(SAMPLE, "sample", SETTLE_NOW)
    assert balances["DIST-0001"] == SAMPLE_DIST_0001_BALANCE
    got = db_records("sample")

    assert len({r["Order ID"] for r in _csv(SAMPLE / "orders.csv")}) == 163
    assert len({r["Order ID"] for r in _csv(SAMPLE / "returns.csv")}) == 10
    assert len(expected) == len(got) == 406
    net = {1: Decimal("6631.89"), 2: Decimal("3031.27"), 3: Decimal("604.07")}
    assert net_by_level(expected) == net_by_level(got) == net
    summary = [line.split() for line in out.splitlines()]
    assert ["orders", "163", "163"] in summary and ["refunds", "10", "10"] in summary
    assert ["total", "11586.25", "1319.02", "10267.23"] in summary
    from distributors.models import Distributor
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(slug="sample")):  # the one non-ASCII name (UTF-8 in the file)
        assert Distributor.objects.get(external_id="AH-10690").name == "Anna H\u00e4berlin"
    for external_id, levels in {
        "DIST-0001": pinned(L1="388.92", L2="809.03", L3="87.97"),   # the demo login
        "CS-12490": pinned(L1="121.19", L2="433.26", L3="0.00"),     # also a buyer
        "DM-13525": pinned(L1="479.60", L2="0.00", L3="33.95"),
    }.items():
        assert distributor_net_by_level(expected, external_id) == levels, external_id
        assert distributor_net_by_level(got, external_id) == levels, external_id


# -- (c) idempotency --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_importing_twice_creates_nothing_new():
    """Inside one test transaction (the `db` fixture): the tasks run when `committed()` ends, after
    the import's own settlement step, so the first run settles nothing; settling as of a time before
    every order keeps the second run's settlement step from settling them either."""
    run_import(SAMPLE, "twice", now=BEFORE_ALL)
    before = db_state("twice")
    out = run_import(SAMPLE, "twice", now=BEFORE_ALL)

    assert db_state("twice") == before
    assert len(before["records"]) == 406 and len(before["plans"]) == 1
    summary = [line.split() for line in out.splitlines()]
    for row in (["distributors", "160", "0"], ["customers", "18", "0"], ["orders", "163", "0"],
                ["completed", "orders", "163", "0"], ["refunds", "10", "0"], ["commission", "records", "406", "0"]):
        assert row in summary, row
    check_against_csv(SAMPLE, "twice")


@pytest.mark.django_db
def test_limit_imports_the_first_orders_and_only_their_returns():
    from datetime import datetime

    with committed():
        call_command("import_superstore", str(SAMPLE), tenant="limited", limit=40, quiet=True, stdout=io.StringIO())
    rows = _csv(SAMPLE / "orders.csv")
    first = {o for _, o in sorted({(datetime.strptime(r["Order Date"], "%m/%d/%Y"), r["Order ID"]) for r in rows})[:40]}
    expected = {k: v for k, v in expected_records(SAMPLE).items() if k[0] in first}
    assert db_records("limited") == expected
    returned = {r["Order ID"] for r in _csv(SAMPLE / "returns.csv")} & first
    assert len(returned) == 5
    from orders.models import Refund
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(slug="limited")):
        assert set(Refund.objects.values_list("external_id", flat=True)) == {f"RET-{o}" for o in returned}


@pytest.mark.django_db
def test_refuses_an_existing_tenant_with_other_settings():
    from django.core.management.base import CommandError

    from tenants.services import tenant_create

    tenant_create(slug="cny-shop", name="CNY shop")  # defaults: CNY
    with pytest.raises(CommandError, match="currency='CNY'"):
        call_command("import_superstore", str(SAMPLE), tenant="cny-shop", quiet=True, stdout=io.StringIO())


# -- load_demo --------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_load_demo_sets_up_logins_and_a_working_api_key():
    import re

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from distributors.models import Distributor
    from tenants.context import tenant_context
    from tenants.models import StaffMembership, Tenant, TenantApiKey
    from tests.factories import CommitAPIClient

    out = io.StringIO()
    call_command("load_demo", quiet=True, stdout=out)
    text = out.getvalue()
    key = re.search(r"Partner API key \(new, shown only now\): (\S+)", text).group(1)
    order = re.search(r"/api/v1/orders/([^/]+)/commissions/", text).group(1)
    assert "username DIST-0001, password demo-pass-123" in text
    demo = Tenant.objects.get(slug="demo")
    assert demo.name == "Demo Store"

    partner = CommitAPIClient()
    partner.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    r = partner.get(f"/api/v1/orders/{order}/commissions/")
    assert r.status_code == 200 and [x["level"] for x in r.json()] == [1, 2, 3]
    portal = CommitAPIClient()
    login = {"tenant": "demo", "username": "DIST-0001", "password": "demo-pass-123"}
    r = portal.post("/api/v1/auth/token/", login, format="json")
    assert r.status_code == 200, r.content
    portal.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
    # 388.92 from the sample's orders, + 50.00: 10% of the fresh 500.00 sprint order DIST-0001 referred
    assert portal.get("/api/v1/me/earnings/").json()["by_level"] == {"1": "438.92", "2": "809.03", "3": "87.97"}
    # the portal's pages (issue 14): the printed address, the same login, and the invite link binding a newcomer
    from django.test import Client

    assert re.search(r"Distributor portal \(.*\): http://127\.0\.0\.1:8000/portal/demo/  log in as DIST-0001 / "
                     r"demo-pass-123", text)
    phone = Client()
    assert phone.post("/portal/demo/login/", {"username": "DIST-0001", "password": "demo-pass-123"}).status_code == 302
    assert phone.get("/portal/demo/").status_code == 200

    User = get_user_model()
    assert User.objects.get(username="admin").is_superuser
    pm = User.objects.get(username="demo-pm")
    assert pm.is_staff and not pm.is_superuser and StaffMembership.objects.get(user=pm).tenant == demo
    apps = ("tenants", "distributors", "orders", "commissions", "ledger", "incentives",   # ledger: withdrawal decisions
            "relations", "webhooks", "risk")            # distributor support, endpoints and deliveries, risk holds
    assert set(pm.user_permissions.all()) == set(Permission.objects.filter(content_type__app_label__in=apps))

    incentives = demo_incentives(demo)
    mine = {c["name"].rsplit(" ", 3)[0] if c["name"].startswith("Four-week") else c["name"]: (c["status"], c["rank"], c["score"], c["prize"])
            for c in portal.get("/api/v1/me/contests/").json()["results"]}
    assert mine == {"Four-week sprint": ("running", 3, "500.00", "50.00"),
                    "June 2018 sales contest": ("finalized", None, "0.00", None)}
    assert "/api/v1/me/contests/" in text and "/api/v1/me/targets/" in text
    assert "22 distributor(s) moved up this run" in text
    # Chinese first, then English, and how to switch (README "Languages")
    assert "演示租户：demo（Demo Store）" in text and "Demo tenant: demo (Demo Store)" in text
    assert "/i18n/setlang/" in text and "curl -s -H 'Accept-Language: zh-hans'" in text
    for line_ in ("/admin/incentives/tierbonusscheme/", "/admin/incentives/target/", "finished contest", "running contest"):
        assert line_ in text

    # Again: nothing new but a fresh key; passwords already set are left alone.
    with tenant_context(demo):
        Distributor.objects.filter(external_id="DIST-0002").update(password="")
        hashes = dict(Distributor.objects.values_list("external_id", "password"))
    out = io.StringIO()
    call_command("load_demo", quiet=True, stdout=out)
    assert "  1 distributor passwords set this run" in out.getvalue()
    assert demo_incentives(demo) == incentives           # the same contests, prizes, awards, targets and grades
    assert "0 distributor(s) moved up this run" in out.getvalue()
    assert TenantApiKey.objects.filter(tenant=demo, name="demo").count() == 2
    assert User.objects.filter(username__in=["admin", "demo-pm"]).count() == 2
    with tenant_context(demo):
        after = dict(Distributor.objects.values_list("external_id", "password"))
    assert {k: v for k, v in after.items() if k != "DIST-0002"} == {k: v for k, v in hashes.items() if k != "DIST-0002"}
    assert after["DIST-0002"] != ""
    invite = re.search(r"DIST-0001's invite link \(.*\): (http://127\.0\.0\.1:8000/portal/demo/join/\?code=\w+)",
                       out.getvalue()).group(1)
    newcomer = Client()
    r = newcomer.post(invite.removeprefix("http://127.0.0.1:8000"), {
        "name": "Newcomer", "username": "new-from-demo", "password": "orchid-valley-17", "password2": "orchid-valley-17"})
    assert r.status_code == 302
    with tenant_context(demo):
        joined = Distributor.objects.get(external_id="new-from-demo")
        assert joined.parent.external_id == "DIST-0001"


def demo_incentives(demo) -> dict:
    """What load_demo sets up of the incentives (domain rules section 8), with its figures, read back
    from the tables: the June 2018 contest finalized with its prizes paid, the running sprint's live
    leaderboard, the tier scheme's awards over 2018, the targets' progress, the grades. Checked to
    the cent against the sample data (fenxiao/sample_data/superstore, USD, Asia/Shanghai)."""
    from decimal import Decimal as D

    from django.db.models import Count

    from distributors.models import Distributor, Grade, GradeChange
    from incentives.models import Contest, ContestResult, Target, TierAward, TierBonusScheme, TierEvaluation
    from incentives.services import contest_leaderboard, target_progress
    from ledger.models import LedgerEntry
    from orders.models import Order
    from tenants.context import tenant_context

    with tenant_context(demo):
        ext = dict(Distributor.objects.values_list("pk", "external_id"))
        finished = Contest.objects.get(name="June 2018 sales contest")
        sprint = Contest.objects.get(name__startswith="Four-week sprint")
        scheme = TierBonusScheme.objects.get(name="Monthly direct sales bonus")
        out = {
            "finished": (finished.finalized_by, [(r.rank, ext[r.distributor_id], r.score, r.prize) for r in
                                                 ContestResult.objects.filter(contest=finished).order_by("rank")]),
            "sprint": (sprint.finalized_at, [(r.rank, ext[r.distributor_id], r.score, p) for r, p in
                                             contest_leaderboard(contest=sprint)]),
            "live orders": Order.objects.filter(external_id__startswith="LIVE-").count(),
            "months evaluated": sorted(f"{p:%Y-%m}" for p in TierEvaluation.objects.filter(scheme=scheme)
                                       .values_list("period", flat=True)),
            "awards": sorted((f"{a.period:%Y-%m}", ext[a.distributor_id], a.measure_value, a.amount)
                             for a in TierAward.objects.filter(scheme=scheme)),
            "bonus entries": sorted(LedgerEntry.objects.filter(kind="bonus").values_list("amount", flat=True)),
            "targets": sorted((t.name.split(" 20")[0] if "Sprint" in t.name or "DIST" in t.name else t.name,
                               target_progress(t).value, t.goal, target_progress(t).status)
                              for t in Target.objects.all()),
            "grades": sorted(Grade.objects.values_list("code", "rank", "min_direct_sales", "min_direct_downlines",
                                                       "min_team_sales")),
            "graded": sorted(Distributor.objects.filter(grade__isnull=False).values_list("grade__code").annotate(
                n=Count("id"))),
            "upgrades": GradeChange.objects.filter(kind="upgrade").count(),
        }
    assert out["finished"] == ("load_demo", [
        (1, "JL-15175", D("3410.1700"), D("300.00")), (2, "DIST-0007", D("3169.8300"), D("200.00")),
        (3, "SC-20770", D("1288.0800"), D("100.00")), (4, "DIST-0008", D("1009.2100"), D("0")),
        (5, "DIST-0060", D("552.1100"), D("0")), (6, "DIST-0034", D("135.4300"), D("0")),
        (7, "DIST-0004", D("23.2200"), D("0"))])
    # JL-15175 and DIST-0008 both at 600.00: JL-15175's last order is a day older, so it ranks first
    assert out["sprint"] == (None, [(1, "JL-15175", D("600.00"), D("200.00")), (2, "DIST-0008", D("600.00"), D("100.00")),
                                    (3, "DIST-0001", D("500.00"), D("50.00")), (4, "TB-21175", D("120.00"), None)])
    assert out["live orders"] == 6
    assert out["months evaluated"] == [f"2018-{m:02d}" for m in range(1, 13)]
    # tiers: >= 500.00 pays 15.00, >= 1500.00 pays 40.00, >= 3000.00 pays 2% (rounded down)
    assert out["awards"] == [
        ("2018-01", "DIST-0004", D("843.3000"), D("15.00")), ("2018-01", "JK-15730", D("639.3700"), D("15.00")),
        ("2018-03", "DIST-0060", D("858.9700"), D("15.00")), ("2018-03", "KB-16600", D("1187.5300"), D("15.00")),
        ("2018-03", "RW-19690", D("729.9600"), D("15.00")), ("2018-04", "DIST-0001", D("777.0800"), D("15.00")),
        ("2018-05", "CS-12490", D("530.6800"), D("15.00")),
        ("2018-06", "DIST-0007", D("3169.8300"), D("63.39")),          # 2% of 3169.83 = 63.3966 -> 63.39
        ("2018-06", "DIST-0008", D("1009.2100"), D("15.00")), ("2018-06", "DIST-0060", D("552.1100"), D("15.00")),
        ("2018-06", "JL-15175", D("3410.1700"), D("68.20")),           # 2% of 3410.17 = 68.2034 -> 68.20
        ("2018-06", "SC-20770", D("1288.0800"), D("15.00")),
        ("2018-08", "DIST-0001", D("997.0800"), D("15.00")), ("2018-08", "RW-19690", D("3868.9600"), D("77.37")),
        ("2018-09", "DIST-0004", D("695.8800"), D("15.00")), ("2018-12", "SP-20620", D("1135.5600"), D("15.00"))]
    assert sum(a[3] for a in out["awards"]) == D("403.96")
    assert out["bonus entries"] == sorted([D("300.00"), D("200.00"), D("100.00")] + [a[3] for a in out["awards"]])
    # the sprint's window holds only the fresh orders: 420 + 180 (DIST-0008), 350 + 250 (JL-15175),
    # 500 (DIST-0001), 120 (TB-21175) = 1820.00; the pace is 13 to 14 days of 28 whenever the demo loads
    assert out["targets"] == [
        ("2018 net sales", D("25221.84"), D("25000.0000"), "met"),
        ("DIST-0001 direct sales", D("500.00"), D("1000.0000"), "on_track"),
        ("DIST-0004 team orders", D("2"), D("6.0000"), "behind"),
        ("Sprint net sales", D("1820.00"), D("3000.0000"), "ahead")]
    assert out["grades"] == [("gold", 2, D("4000.0000"), 2, None), ("platinum", 3, None, None, D("10000.0000")),
                             ("silver", 1, D("1000.0000"), None, None)]
    # settled team sales >= 10000.00: DIST-0001 28707.31, SC-20680 11951.06, CS-12490 11114.04 (platinum);
    # direct >= 4000.00 with 2+ active direct downlines: DM-13525, HZ-14950, DIST-0007 (gold; DIST-0008,
    # RW-19690, JL-15175 and SP-20620 sell more but have fewer downlines); direct >= 1000.00: 16 (silver)
    assert out["graded"] == [("gold", 3), ("platinum", 3), ("silver", 16)] and out["upgrades"] == 22
    return out


# -- the parsing module ------------------------------------------------------------------------------

def test_superstore_parsing_helpers(tmp_path):
    from datetime import date

    from orders import superstore as ss

    # Row 3592: Sales 14.355, Quantity 2, Discount 0.45 -> unit 13.05, discount 11.745 -> 11.75 (half-up).
    assert ss.unit_price(Decimal("14.355"), 2, Decimal("0.45")) == Decimal("13.05")
    assert ss.line_discount(2, Decimal("13.05"), Decimal("0.45")) == Decimal("11.75")
    with pytest.raises(ss.SuperstoreError, match="not an exact cent"):
        ss.unit_price(Decimal("10.00"), 3, Decimal("0"))
    assert ss.parse_us_date("8/27/2017") == date(2017, 8, 27)

    (tmp_path / "distributors.csv").write_bytes(
        "external_id,name,parent_external_id,joined_on\r\n"
        "C,Anna H\u00e4berlin,P,2014-06-02\r\nP,Parent,,2014-06-01\r\n".encode("utf-8")
    )
    got = ss.read_distributors(tmp_path)
    assert [(d.external_id, d.name, d.parent_external_id) for d in got] == [
        ("P", "Parent", None), ("C", "Anna H\u00e4berlin", "P"),
    ]
    (tmp_path / "distributors.csv").write_bytes(b"external_id,name,parent_external_id,joined_on\r\nP,Z\xfcrich,,2014-06-01\r\n")
    assert ss.read_distributors(tmp_path)[0].name == "Z\u00fcrich"  # Latin-1 when the bytes are not UTF-8
    (tmp_path / "returns.csv").write_bytes(b"Order ID,Returned\r\nB,Yes\r\nA,Yes\r\nB,Yes\r\n")
    assert ss.read_returns(tmp_path) == ["B", "A"]
