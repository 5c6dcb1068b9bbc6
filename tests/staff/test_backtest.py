"""Backtests: a draft plan replayed on the Superstore orders reports the exact delta (issue: console)."""
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.management import call_command

from commissions.models import Backtest
from ledger.models import LedgerEntry
from tenants.models import Tenant
from tests.integration.test_superstore import (
    CATEGORY_RATES, DEFAULT_RATES, SAMPLE, _csv, independent_orders, run_import,
)
from tests.staff.test_staff_api import staff_for

TECH_8 = {"Technology": {1: Fraction("0.08"), 2: Fraction("0.03"), 3: Fraction("0.01")}}


def independent_delta(directory) -> dict[int, Decimal]:
    """Per level: sum over kept (non-returned) orders of floor(new) - floor(old), from the CSV rows."""
    parent = {r["external_id"]: (r["parent_external_id"] or None) for r in _csv(directory / "distributors.csv")}
    referrer = {r["external_id"]: r["referrer_external_id"] for r in _csv(directory / "customers.csv")}
    returned = {r["Order ID"] for r in _csv(directory / "returns.csv")}
    delta = {1: 0, 2: 0, 3: 0}
    for order_id, (who, lines) in independent_orders(directory).items():
        if order_id in returned:
            continue
        first = parent[who] if who in parent else referrer.get(who)
        level = 0
        while first is not None and level < 3:
            level += 1
            old = sum(net * CATEGORY_RATES.get(c, DEFAULT_RATES)[level] for c, net in lines)
            new = sum(net * TECH_8.get(c, DEFAULT_RATES)[level] for c, net in lines)
            delta[level] += math.floor(new * 100) - math.floor(old * 100)
            first = parent[first]
    return {k: Decimal(v) / 100 for k, v in delta.items()}


def run_backtest(slug, directory, imported=False):
    """Import (unless already done), then backtest Technology L1 at 8% through the staff API."""
    from django.contrib.auth.models import User

    if not imported:
        run_import(directory, slug)
    tenant = Tenant.objects.get(slug=slug)
    staff = staff_for(tenant, f"pm-{slug}")
    entries_before = LedgerEntry.unscoped.count()
    plans = staff.get("/api/v1/admin/plans/").json()["results"]
    v1 = plans[-1]
    rules = [dict(r, value="0.0800") if (r["scope_value"], r["level"]) == ("Technology", 1) else r for r in v1["rules"]]
    draft = staff.post("/api/v1/admin/plans/", {"name": "tech 8%", "rules": rules}, format="json").json()
    r = staff.post("/api/v1/admin/backtests/", {"plan_id": draft["id"], "date_from": "2015-01-01", "date_to": "2018-12-31"},
                   format="json")
    assert r.status_code == 201, r.json()
    bt = staff.get(f"/api/v1/admin/backtests/{r.json()['id']}/").json()
    assert bt["status"] == "done" and bt["progress"] == 1.0
    assert LedgerEntry.unscoped.count() == entries_before          # nothing written to the ledger
    csv_text = staff.get(f"/api/v1/admin/backtests/{bt['id']}.csv").content.decode()
    User.objects.filter(username=f"pm-{slug}").delete()
    return bt, csv_text


@pytest.mark.django_db(transaction=True)
def test_backtest_on_the_sample_reports_the_exact_delta():
    bt, csv_text = run_backtest("bt-sample", SAMPLE)
    want = independent_delta(SAMPLE)
    res = bt["results"]
    assert {int(k): Decimal(v["delta"]) for k, v in res["by_level"].items()} == want
    assert want[2] == want[3] == Decimal("0.00") and want[1] > 0
    assert Decimal(res["delta"]) == sum(want.values())
    assert Decimal(res["actual"]) == Decimal("10267.23")             # what was paid, net (the import test's figure)
    assert Decimal(res["delta"]) == Decimal("490.59")                # pinned: independent and product agree on it
    assert res["by_category"]["Furniture"]["delta"] == "0.00" and Decimal(res["by_category"]["Technology"]["delta"]) > 0
    lines = csv_text.splitlines()
    assert lines[0] == "distributor_id,distributor_external_id,actual,backtest,delta"
    assert sum(Decimal(x.split(",")[4]) for x in lines[1:]) == Decimal(res["delta"])


@pytest.mark.parametrize("body,attr,code", [
    ({"date_from": "2018-01-02", "date_to": "2018-01-01"}, "date_to", "reversed_range"),
    ({"date_from": "2000-01-01", "date_to": "2018-01-01"}, "date_to", "range_too_long"),
    ({"date_from": "", "date_to": "2018-01-01"}, "date_from", "invalid"),
])
def test_bad_backtests(tenant, body, attr, code):
    staff = staff_for(tenant, "pm")
    plan_id = staff.get("/api/v1/admin/plans/").json()["results"][0]["id"]
    r = staff.post("/api/v1/admin/backtests/", dict(body, plan_id=plan_id), format="json")
    assert r.status_code == 400 and {"attr": attr, "code": code} in [{"attr": e["attr"], "code": e["code"]} for e in r.json()["errors"]]
    assert Backtest.unscoped.count() == 0
    call_command("check_ledger")


def test_category_sums_are_exact_or_raise():
    """backtest._add: unprorated values sum as Decimals that never round silently; prorated ones as
    Fractions; together exactly the sum of value x factor."""
    from decimal import Inexact

    from commissions.backtest import _add

    sums = {"actual": Fraction(0), "actual_d": Decimal("0.00")}
    for _ in range(3):
        _add(sums, "actual", Decimal("0.1000000000000000000000000000001"), None)
    _add(sums, "actual", Decimal("1.00"), Fraction(1, 3))
    assert sums["actual"] + Fraction(sums["actual_d"]) == Fraction(3) * Fraction("0.1000000000000000000000000000001") + Fraction(1, 3)
    sums["actual_d"] = Decimal("1E+60")
    with pytest.raises(Inexact):                     # 81 digits would be needed: it refuses to round
        _add(sums, "actual", Decimal("1E-21"), None)
