"""Reports on the real data (issue 12, scope 1): the Global Superstore orders replayed month by
month with the clock in each month (so the ledger journals each event's money in its own month),
then the monthly summary of every year and the monthly statements of a few distributors through
the staff API, checked to the cent against an independent computation from the CSV files.

The replay (fenxiao's services, as the import command uses them), at the end of each local month
(its last day, 23:00 +08:00): the month's orders recorded, paid at Order Date 10:00; the orders
shipped that month completed at Ship Date 18:00; the returns of the month refunded in full (two
days after completion; never shipped: 14 + 2 days after payment); the previous month's tier bonus
evaluated; the month's withdrawals of DIST-0001 (fee 2%: 200.00 in 2016-06 paid, 100.00 in 2017-03
rejected, 500.00 in 2017-12 paid); then settlement, which settles what fell due that month (a
return always comes before its order falls due). Monthly figures are what this replay keeps
exact; a day replay gives the same months (and costs the CI several minutes more).

The expected figures are computed here from the CSV rows with plain code that shares nothing with
fenxiao (the record amounts of tests.integration.test_superstore, the direct sales and tier awards
of tests.integration.test_superstore_incentives, both independent of the project), per domain rules
sections 7-9:
- sales: an order's value (the sum of its line nets) in the local month of its Order Date; a
  returned order is refunded in full (refunded_sales), not counted in `orders`;
- commission accrued per level in the month of the order, reversed in the month of its refund;
  settled in the month it fell due (Ship Date + 7 days, or Order Date + 21 days), unless returned;
- every event at its own time below: the replay journals it later in the same month, which changes
  no month's figure;
- bonuses in the month the scheme was evaluated (the month after the one it pays for);
- a statement's balances: accruals frozen, settled to available, reversals from frozen, bonuses
  available, withdrawals held then paid (transfer withdrawn, fee to fees) or returned.
"""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import SHARED_SUPERSTORE
from tests.integration.test_superstore import _csv, expected_records, independent_orders
from tests.integration.test_superstore_incentives import TIERS, independent_direct_sales, tier_award

SHANGHAI = ZoneInfo("Asia/Shanghai")
FEE_RATE = Fraction(2, 100)
WITHDRAWALS = [  # (who, cents, asked, decided, paid?)
    ("DIST-0001", 20000, datetime(2016, 6, 5, 12, tzinfo=SHANGHAI), datetime(2016, 6, 8, 12, tzinfo=SHANGHAI), True),
    ("DIST-0001", 10000, datetime(2017, 3, 5, 12, tzinfo=SHANGHAI), datetime(2017, 3, 6, 12, tzinfo=SHANGHAI), False),
    ("DIST-0001", 50000, datetime(2017, 12, 5, 12, tzinfo=SHANGHAI), datetime(2017, 12, 7, 12, tzinfo=SHANGHAI), True),
]
STATEMENT_OF = ("DIST-0001", "CS-12490", "GH-14425")
END = datetime(2019, 3, 1, 12, tzinfo=SHANGHAI)     # when the reports are read


def month_of(t) -> date:
    local = t.astimezone(SHANGHAI) if isinstance(t, datetime) else t
    return date(local.year, local.month, 1)


def money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


# -- the independent computation --------------------------------------------------------------------

def at_local(day: str, hour: int) -> datetime:
    return datetime.strptime(day, "%m/%d/%Y").replace(hour=hour, tzinfo=SHANGHAI)


def order_times(directory):
    """{Order ID: (paid, completed or None, refunded or None, due)} from orders.csv and returns.csv."""
    returned = {r["Order ID"] for r in _csv(directory / "returns.csv")}
    out = {}
    for r in _csv(directory / "orders.csv"):
        paid = at_local(r["Order Date"], 10)
        done = at_local(r["Ship Date"], 18) if r["Ship Date"] else None
        refund = ((done or paid + timedelta(days=14)) + timedelta(days=2)) if r["Order ID"] in returned else None
        due = done + timedelta(days=7) if done else paid + timedelta(days=21)
        out[r["Order ID"]] = (paid, done, refund, due)
    return out


def expected_months(directory) -> dict[date, dict]:
    """{month: figures} of the tenant summary, independently."""
    times = order_times(directory)
    months: dict = defaultdict(lambda: {"orders": 0, "sales": 0, "refunded": 0, "accrued": [0, 0, 0],
                                        "reversed": [0, 0, 0], "settled": 0, "bonuses": 0, "new": 0, "active": set(),
                                        "withdrawals": 0, "fees": 0})
    for order_id, (_buyer, lines) in independent_orders(directory).items():
        value = sum(net for _, net in lines)
        cents = int(value * 100)
        assert Fraction(cents, 100) == value
        paid, _, refund, _ = times[order_id]
        m = months[month_of(paid)]
        m["sales"] += cents
        if refund is None:
            m["orders"] += 1 if cents > 0 else 0
        else:
            m["refunded"] += cents
    for (order_id, level), (_who, cents, _net) in expected_records(directory).items():
        paid, _, refund, due = times[order_id]
        months[month_of(paid)]["accrued"][level - 1] += cents
        if refund is not None:
            months[month_of(refund)]["reversed"][level - 1] += cents
        else:
            months[month_of(due)]["settled"] += cents
    for (year, month), per in independent_direct_sales(directory).items():
        for who, (cents, _) in per.items():
            if cents > 0:
                months[date(year, month, 1)]["active"].add(who)
            award = tier_award(cents)
            if award is not None:
                months[month_of(date(year + (month == 12), month % 12 + 1, 1))]["bonuses"] += int(Decimal(award[1]) * 100)
    for r in _csv(directory / "distributors.csv"):
        months[month_of(date.fromisoformat(r["joined_on"]))]["new"] += 1
    for _who, cents, _asked, decided, paid in WITHDRAWALS:
        if paid:
            months[month_of(decided)]["withdrawals"] += cents
            months[month_of(decided)]["fees"] += math.floor(cents * FEE_RATE)
    return months


def expected_journal(directory, who: str) -> list[tuple[datetime, str, int, dict]]:
    """A distributor's money events, independently: (time, movement, cents, {balance: delta})."""
    times = order_times(directory)
    out = []
    for (order_id, _level), (beneficiary, cents, _net) in expected_records(directory).items():
        if beneficiary != who:
            continue
        paid, _, refund, due = times[order_id]
        out.append((paid, "commission_accrued", cents, {"frozen": cents, "total_earned": cents}))
        if refund is not None:
            out.append((refund, "commission_reversed", cents, {"frozen": -cents, "total_earned": -cents}))
        else:
            settled = datetime.combine(due.date(), time(23), SHANGHAI)
            out.append((settled, "commission_settled", cents, {"frozen": -cents, "available": cents}))
    for (year, month), per in independent_direct_sales(directory).items():
        award = tier_award(per.get(who, (0, None))[0])
        if award is not None:
            cents = int(Decimal(award[1]) * 100)
            when = datetime(year + (month == 12), month % 12 + 1, 25, 12, tzinfo=SHANGHAI)
            out.append((when, "bonuses", cents, {"available": cents, "total_earned": cents}))
    for w, cents, asked, decided, paid in WITHDRAWALS:
        if w != who:
            continue
        out.append((asked, "withdrawals_requested", cents, {"available": -cents, "held": cents}))
        if paid:
            fee = math.floor(cents * FEE_RATE)
            out.append((decided, "withdrawals_paid", cents - fee, {"held": fee - cents, "withdrawn": cents - fee}))
            out.append((decided, "withdrawal_fees", fee, {"held": -fee, "fees": fee}))
        else:
            out.append((decided, "withdrawals_returned", cents, {"held": -cents, "available": cents}))
    return sorted(out, key=lambda e: e[0])


BALANCES = ("frozen", "available", "held", "withdrawn", "fees", "total_earned")


def expected_statement(journal, month: date) -> dict:
    start = datetime.combine(month, time.min, SHANGHAI)
    end = datetime.combine(date(month.year + (month.month == 12), month.month % 12 + 1, 1), time.min, SHANGHAI)
    opening = {b: 0 for b in BALANCES}
    moves: dict = defaultdict(int)
    closing = {b: 0 for b in BALANCES}
    for when, kind, cents, deltas in journal:
        if when < end:
            for b, d in deltas.items():
                closing[b] += d
                if when < start:
                    opening[b] += d
            if when >= start:
                moves[kind] += cents
    return {"opening": {b: money(v) for b, v in opening.items()}, "closing": {b: money(v) for b, v in closing.items()},
            "movements": {k: money(moves[k]) for k in ("commission_accrued", "commission_reversed", "commission_settled",
                                                       "bonuses", "withdrawals_requested", "withdrawals_returned",
                                                       "withdrawals_paid", "withdrawal_fees")}}


# -- the replay -------------------------------------------------------------------------------------

def replay(directory, slug: str) -> None:
    """Every event of the data, month by month (see the module docstring), through the services."""
    import time_machine

    from commissions.services import plan_publish
    from distributors.models import Distributor
    from distributors.services import DistributorInput, customer_bind, distributor_register
    from incentives.services import tier_bonus_evaluate, tier_scheme_create
    from ledger.services import settle_due, withdrawal_approve, withdrawal_pay, withdrawal_reject, withdrawal_request
    from orders import superstore
    from orders.management.commands.import_superstore import (
        CATEGORY_RULES, DEFAULT_RULES, PLAN_EFFECTIVE_FROM, TENANT_SETTINGS,
    )
    from orders.models import Order
    from orders.services import (
        LineInput, OrderInput, RefundInput, orders_complete_batch, orders_record_batch, refunds_create_batch,
    )
    from tenants.context import tenant_context
    from tenants.services import tenant_create

    orders = sorted(superstore.read_orders(directory), key=lambda o: (o.order_date, o.order_id))
    returned = set(superstore.read_returns(directory))
    months: dict[date, dict[str, list]] = defaultdict(lambda: {"orders": [], "complete": [], "refund": []})
    for o in orders:
        paid = o.placed_at(SHANGHAI)
        months[month_of(paid)]["orders"].append(o)
        done = o.completed_at(SHANGHAI)
        if done is not None:
            months[month_of(done)]["complete"].append((done, o))
        if o.order_id in returned:
            refund = (done or paid + timedelta(days=14)) + timedelta(days=2)
            months[month_of(refund)]["refund"].append((refund, o))
    first, last = min(months), max(months)

    with time_machine.travel(datetime(2014, 5, 1, tzinfo=SHANGHAI), tick=False) as clock:
        tenant = tenant_create(slug=slug, name="Superstore reports", withdraw_fee_rate=Decimal("0.0200"), **TENANT_SETTINGS)
        with tenant_context(tenant):
            plan_publish(tenant=tenant, default=DEFAULT_RULES, categories=CATEGORY_RULES,
                         effective_from=PLAN_EFFECTIVE_FROM, name="Superstore")
            people = {}
            for row in superstore.read_distributors(directory):
                people[row.external_id], _ = distributor_register(tenant=tenant, data=DistributorInput(
                    external_id=row.external_id, name=row.name, parent_external_id=row.parent_external_id,
                    joined_at=superstore.local_datetime(row.joined_on, time.min, tenant.timezone)))
            for row in superstore.read_customers(directory):
                customer_bind(tenant=tenant, external_id=row.external_id, referrer=people[row.referrer_external_id])
            scheme = tier_scheme_create(tenant=tenant, name="Monthly tiers", measure="direct_sales", tiers=TIERS)
            recorded: dict[str, Order] = {}
            month = first
            while month <= date(last.year + (last.month == 12), last.month % 12 + 1, 1):   # one more: settle the rest
                following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
                at = datetime.combine(following - timedelta(days=1), time(23), SHANGHAI)   # the month's last day
                clock.move_to(at)
                todo = months.get(month, {"orders": [], "complete": [], "refund": []})
                if todo["orders"]:
                    items = [OrderInput(external_id=o.order_id, currency=tenant.currency, placed_at=o.placed_at(SHANGHAI),
                                        paid_at=o.placed_at(SHANGHAI), status=Order.Status.PAID,
                                        buyer_external_id=o.customer_id,
                                        lines=[LineInput(line_id=li.row_id, sku=li.sku, category=li.category,
                                                         quantity=li.quantity, unit_price=li.unit_price,
                                                         discount=li.discount) for li in o.lines])
                             for o in todo["orders"]]
                    for o, result in zip(todo["orders"], orders_record_batch(tenant=tenant, items=items)):
                        assert isinstance(result, tuple) and result[1], (o.order_id, result)
                        recorded[o.order_id] = result[0]
                if todo["complete"]:
                    done = [(recorded[o.order_id], when) for when, o in sorted(todo["complete"], key=lambda e: e[0])]
                    assert all(isinstance(r, Order) for r in orders_complete_batch(tenant=tenant, items=done))
                if todo["refund"]:
                    items = [(recorded[o.order_id], RefundInput(external_id=f"RET-{o.order_id}", amount=o.goods_total,
                                                                refunded_at=when))
                             for when, o in sorted(todo["refund"], key=lambda e: e[0])]
                    assert all(isinstance(r, tuple) and r[1] for r in refunds_create_batch(tenant=tenant, items=items))
                previous = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
                if first <= previous <= last:
                    clock.move_to(at + timedelta(minutes=10))
                    tier_bonus_evaluate(scheme=scheme, period=previous, actor="replay")
                for who, cents, asked, _decided, paid in WITHDRAWALS:
                    if month_of(asked) != month:
                        continue
                    clock.move_to(at + timedelta(minutes=20))
                    w, _ = withdrawal_request(distributor=Distributor.objects.get(pk=people[who].pk),
                                              amount=Decimal(cents) / 100, method="bank", account="6222 0000")
                    w = withdrawal_approve(withdrawal=w, actor="finance")
                    if paid:
                        withdrawal_pay(withdrawal=w, payout_reference=f"P-{asked:%Y%m}", actor="finance")
                    else:
                        withdrawal_reject(withdrawal=w, reason="test", actor="finance")
                clock.move_to(at + timedelta(minutes=30))
                settle_due(tenant=tenant)
                month = following


def staff_client(tenant):
    from django.contrib.auth.models import Permission, User

    from tenants.models import StaffMembership
    from tests.factories import CommitAPIClient

    user = User.objects.create_user("reports-pm", password="pw-reports-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=[
        "orders", "commissions", "ledger", "distributors"]))
    StaffMembership.objects.create(user=user, tenant=tenant)
    token = CommitAPIClient().post("/api/v1/auth/staff-token/", {"username": "reports-pm", "password": "pw-reports-1"},
                                   format="json").json()["access"]
    api = CommitAPIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


@pytest.mark.slow
@pytest.mark.superstore
@pytest.mark.django_db(transaction=True)
def test_monthly_summary_and_statements_on_the_superstore_replay():
    import time_machine

    from tenants.models import Tenant

    replay(SHARED_SUPERSTORE, "superstore-reports")
    tenant = Tenant.objects.get(slug="superstore-reports")
    want = expected_months(SHARED_SUPERSTORE)
    with time_machine.travel(END, tick=False):
        api = staff_client(tenant)
        checked = 0
        for year in range(2014, 2020):
            r = api.get("/api/v1/admin/reports/summary/", {"from": f"{year}-01-01", "to": f"{year + 1}-01-01",
                                                            "interval": "month"})
            assert r.status_code == 200, r.json()
            for bucket in r.json()["buckets"]:
                w = want.get(date.fromisoformat(bucket["start"]))
                if w is None:
                    assert bucket["sales"] == "0.00" and bucket["commission"]["accrued"] == "0.00", bucket["start"]
                    continue
                got = (bucket["orders"], bucket["sales"], bucket["refunded_sales"], bucket["net_sales"],
                       [bucket["commission_by_level"][lv]["accrued"] for lv in "123"],
                       [bucket["commission_by_level"][lv]["reversed"] for lv in "123"],
                       bucket["commission_settled"], bucket["bonuses"], bucket["new_distributors"],
                       bucket["active_distributors"], bucket["withdrawals_paid"], bucket["withdrawal_fees"])
                assert got == (w["orders"], money(w["sales"]), money(w["refunded"]), money(w["sales"] - w["refunded"]),
                               [money(c) for c in w["accrued"]], [money(c) for c in w["reversed"]], money(w["settled"]),
                               money(w["bonuses"]), w["new"], len(w["active"]), money(w["withdrawals"]),
                               money(w["fees"])), bucket["start"]
                checked += 1
        assert checked >= 48
        # the data refunds orders in a later month than their own: checked above per month
        times = order_times(SHARED_SUPERSTORE)
        assert sum(1 for paid, _, refund, _ in times.values() if refund and month_of(refund) != month_of(paid)) > 20
        months = sorted(m for m in want if m.year >= 2014)
        for who in STATEMENT_OF:
            journal = expected_journal(SHARED_SUPERSTORE, who)
            for month in months:
                r = api.get(f"/api/v1/admin/distributors/{who}/statements/{month:%Y-%m}/")
                assert r.status_code == 200, r.json()
                body, exp = r.json(), expected_statement(journal, month)
                assert body["opening"] == exp["opening"], (who, month)
                assert body["closing"] == exp["closing"], (who, month)
                assert {k: body["movements"][k] for k in exp["movements"]} == exp["movements"], (who, month)
                assert body["movements"]["commission_clawed_back"] == "0.00"   # every return came before settlement
        # pinned literals (computed once with the independent code above: a regression on both sides
        # would still show): DIST-0001's December 2017 (a withdrawal of 500.00 paid: 490.00 + 10.00 fee)
        dec = api.get("/api/v1/admin/distributors/DIST-0001/statements/2017-12/").json()
        assert dec["closing"] == {"frozen": "248.87", "available": "15429.86", "held": "0.00", "withdrawn": "686.00",
                                  "fees": "14.00", "total_earned": "16378.73"}
        assert [dec["movements"][k] for k in ("commission_accrued", "commission_reversed", "commission_settled",
                                               "bonuses", "withdrawals_paid", "withdrawal_fees")] == [
            "596.54", "33.80", "595.89", "20.00", "490.00", "10.00"]
        month = api.get("/api/v1/admin/reports/summary/", {"from": "2017-12-01", "to": "2018-01-01",
                                                            "interval": "month"}).json()["total"]
        assert (month["orders"], month["sales"], month["refunded_sales"], month["commission_by_level"]["1"],
                month["commission_settled"], month["bonuses"], month["active_distributors"]) == (
            145, "97378.76", "1855.11", {"accrued": "8490.43", "reversed": "209.84", "net": "8280.59"}, "12303.19",
            "1077.31", 90)
        # the replay's totals, pinned (the import's: tests.integration.test_superstore)
        total_accrued = sum(sum(w["accrued"]) for w in want.values())
        total_reversed = sum(sum(w["reversed"]) for w in want.values())
        assert money(total_accrued - total_reversed) == "461409.47"
