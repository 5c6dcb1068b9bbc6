"""Public ids (issue 13 scope 6; fenxiao.publicid): the ids of withdrawals, plans, backtests,
contests, tier bonus schemes and targets in URLs and bodies are opaque and say nothing about other
tenants' volume. Before: a new tenant's first withdrawal was number 4 when another had made three."""
import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.db import connection

from commissions.models import CommissionPlan
from fenxiao.publicid import PUBLIC_ID_RE, new_public_id
from incentives.models import Contest
from ledger.models import Withdrawal
from ledger.services import settle_due
from tenants.context import tenant_context
from orders.services import order_record
from tests.factories import chain, line, order_input, order_json
from tests.incentives.apidata import staff_client

LATER = datetime(2027, 1, 1, tzinfo=timezone.utc)


def test_a_public_id_is_a_prefix_and_16_random_base32_characters():
    ids = {new_public_id("wd") for _ in range(1000)}
    assert len(ids) == 1000 and all(re.fullmatch(r"wd_[a-z2-7]{16}", i) for i in ids)
    assert all(PUBLIC_ID_RE.fullmatch(i) for i in ids)


@pytest.fixture
def two_shops(make_tenant, partner_for, portal_for):
    """Tenants A (busy: 3 withdrawals, 2 plans, a contest) and B (new), each with a distributor
    with 100.00 available."""
    out = {}
    for slug in ("a", "b"):
        t = make_tenant(slug=slug)
        with tenant_context(t):
            (d,) = chain(t, 1)
        partner = partner_for(t)
        assert partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", status="paid",
                                                          paid_at="2026-01-15T10:00:00+08:00",
                                                          lines=[{"line_id": "1", "sku": "S", "quantity": 1,
                                                                  "unit_price": "1000.00"}]), format="json").status_code == 201
        with tenant_context(t):
            settle_due(tenant=t, now=LATER)
        out[slug] = {"tenant": t, "portal": portal_for(d), "staff": staff_client(t, f"pm-{slug}")}
    a = out["a"]
    for _ in range(3):
        assert a["portal"].post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "bank", "account": "x"},
                                format="json").status_code == 201
    for _ in range(2):
        a["staff"].post("/api/v1/admin/plans/", {"name": "busy"}, format="json")
    return out


def test_a_new_tenants_ids_reveal_nothing_of_another_tenants_volume(two_shops):
    b = two_shops["b"]
    w = b["portal"].post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "bank", "account": "x"}, format="json").json()
    plan = b["staff"].post("/api/v1/admin/plans/", {"name": "first"}, format="json").json()
    contest = b["staff"].post("/api/v1/admin/contests/", {"name": "c", "starts_at": "2026-03-01", "ends_at": "2026-04-01",
                                                          "measure": "direct_sales"}, format="json").json()
    scheme = b["staff"].post("/api/v1/admin/tier-bonuses/", {"name": "t", "measure": "direct_sales",
                                                             "tiers": [{"threshold": "1.00", "amount": "1.00"}]},
                             format="json").json()
    target = b["staff"].post("/api/v1/admin/targets/", {"name": "g", "scope": "tenant", "measure": "direct_sales",
                                                        "period": "month", "starts_on": "2026-03-01", "goal": "1.00"},
                             format="json").json()
    backtest = b["staff"].post("/api/v1/admin/backtests/", {"plan_id": plan["id"], "date_from": "2026-01-01",
                                                            "date_to": "2026-01-31"}, format="json").json()
    got = {"wd": w["id"], "plan": plan["id"], "contest": contest["id"], "tier": scheme["id"], "target": target["id"],
           "bt": backtest["id"]}
    for prefix, value in got.items():
        assert re.fullmatch(rf"{prefix}_[a-z2-7]{{16}}", value), (prefix, value)
    with tenant_context(b["tenant"]):
        w_row = Withdrawal.objects.get(public_id=w["id"])
        assert w_row.pk >= 4    # the integer key counts every tenant's rows: it never leaves the server
    # each is what the URLs take
    assert b["portal"].get(f"/api/v1/me/withdrawals/{w['id']}/").json()["id"] == w["id"]
    assert b["staff"].get(f"/api/v1/admin/plans/{plan['id']}/").json()["id"] == plan["id"]
    assert b["staff"].get(f"/api/v1/admin/contests/{contest['id']}/").json()["id"] == contest["id"]
    assert b["staff"].get(f"/api/v1/admin/tier-bonuses/{scheme['id']}/").json()["id"] == scheme["id"]
    assert b["staff"].get(f"/api/v1/admin/targets/{target['id']}/").json()["id"] == target["id"]
    assert b["staff"].get(f"/api/v1/admin/backtests/{backtest['id']}/").json()["id"] == backtest["id"]
    assert b["staff"].get(f"/api/v1/admin/backtests/{backtest['id']}.csv").status_code == 200
    # the integer key is not an id of the API any more
    assert b["portal"].get(f"/api/v1/me/withdrawals/{w_row.pk}/").status_code == 404
    assert b["staff"].post(f"/api/v1/admin/withdrawals/{w_row.pk}/approve/").status_code == 404


def test_ids_in_every_body_and_event_are_public(two_shops):
    from ledger.models import OutboxEvent

    b = two_shops["b"]
    wid = b["portal"].post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "bank", "account": "x"},
                           format="json").json()["id"]
    assert b["staff"].post(f"/api/v1/admin/withdrawals/{wid}/approve/").json()["id"] == wid
    export = b["staff"].get("/api/v1/admin/withdrawals/export.csv").content.decode().splitlines()
    assert export[1].startswith(f"{wid},C0,")
    hold = b["portal"].get("/api/v1/me/ledger/").json()["results"][0]
    assert (hold["kind"], hold["withdrawal_id"]) == ("withdrawal_hold", wid)
    with tenant_context(b["tenant"]):
        events = [e.payload["withdrawal_id"] for e in OutboxEvent.objects.filter(type="withdrawal.updated")]
    assert events == [wid, wid]


def test_another_tenants_public_id_is_404_like_a_missing_one(two_shops):
    a, b = two_shops["a"], two_shops["b"]
    theirs = a["portal"].get("/api/v1/me/withdrawals/").json()["results"][0]["id"]
    a_plan = a["staff"].get("/api/v1/admin/plans/").json()["results"][0]["id"]
    for client, method, url in [(b["staff"], "post", f"/api/v1/admin/withdrawals/{theirs}/approve/"),
                                (b["portal"], "get", f"/api/v1/me/withdrawals/{theirs}/"),
                                (b["staff"], "get", f"/api/v1/admin/plans/{a_plan}/"),
                                (b["staff"], "post", f"/api/v1/admin/plans/{a_plan}/publish/")]:
        r = getattr(client, method)(url, {}, format="json")
        missing = getattr(client, method)(url.replace(theirs, new_public_id("wd")).replace(a_plan, new_public_id("plan")),
                                          {}, format="json")
        assert r.status_code == missing.status_code == 404 and r.json() == missing.json()
    r = b["staff"].post("/api/v1/admin/backtests/", {"plan_id": a_plan, "date_from": "2026-01-01", "date_to": "2026-01-31"},
                        format="json")
    assert r.status_code == 404


@pytest.mark.slow   # migrates the whole schema back and forth (~90 s): CI runs it (--run-slow)
@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_every_existing_row_its_own_id(make_tenant):
    """Rows made before the public ids (ledger 0005, commissions 0007, incentives 0004) each get
    their own id on migrating, and their audit history the same one."""
    from django.db.migrations.executor import MigrationExecutor

    from incentives.services import contest_create
    from ledger.services import withdrawal_request

    t = make_tenant(slug="old")
    with tenant_context(t):
        (d,) = chain(t, 1)
        order_record(tenant=t, data=order_input("O1", referrer_external_id="C0", status="paid",
                                                lines=[line(unit_price="1000.00")]))
        settle_due(tenant=t, now=LATER)
        for _ in range(3):
            withdrawal_request(distributor=d, amount=Decimal("10.00"), method="bank", account="x")
        for i in range(2):
            contest_create(tenant=t, name=f"c{i}", measure="direct_sales", prizes=[],
                           starts_at=datetime(2026, 2, 28, 16, tzinfo=timezone.utc),   # local midnights
                           ends_at=datetime(2026, 3, 31, 16, tzinfo=timezone.utc))
    before = [("ledger", "0005_sweep_schedules"), ("commissions", "0007_money_minor_units"),
              ("incentives", "0004_contest_rank_snapshot")]
    executor = MigrationExecutor(connection)
    latest = [key for key in executor.loader.graph.leaf_nodes() if key[0] in ("ledger", "commissions", "incentives")]
    executor.migrate(before)
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    with tenant_context(t):
        for model, n in ((Withdrawal, 3), (CommissionPlan, 1), (Contest, 2)):
            ids = list(model.objects.values_list("public_id", flat=True))
            assert len(ids) == len(set(ids)) == n and all(PUBLIC_ID_RE.fullmatch(i) for i in ids), (model, ids)
            for row in model.objects.all():
                assert set(model.history.filter(id=row.pk).values_list("public_id", flat=True)) == {row.public_id}


def test_support_ids_are_public_too(two_shops):
    """Materials, lessons, announcements and feedback tickets (issue 14) carry public ids as well:
    mat_, lesson_, ann_, fb_; the URLs take them and the integer key answers 404."""
    from django.contrib.auth.models import Permission, User

    from relations.models import Material

    b = two_shops["b"]
    User.objects.get(username="pm-b").user_permissions.add(*Permission.objects.filter(content_type__app_label="relations"))
    course = b["staff"].post("/api/v1/admin/materials/", {"kind": "course", "title": "入门", "lessons": [
        {"title": "第一课"}]}, format="json").json()
    news = b["staff"].post("/api/v1/admin/announcements/", {"title": "通知", "body": "你好"}, format="json").json()
    ticket = b["portal"].post("/api/v1/me/feedback/", {"subject": "提现", "body": "何时到账？"}, format="json").json()
    got = {"mat": course["id"], "lesson": course["lessons"][0]["id"], "ann": news["id"], "fb": ticket["id"]}
    for prefix, value in got.items():
        assert re.fullmatch(rf"{prefix}_[a-z2-7]{{16}}", value), (prefix, value)
    assert b["portal"].get(f"/api/v1/me/materials/{course['id']}/").json()["id"] == course["id"]
    done = b["portal"].post(f"/api/v1/me/materials/{course['id']}/lessons/{got['lesson']}/complete/", {}, format="json")
    assert done.status_code == 200 and done.json()["lesson_id"] == got["lesson"]
    assert b["staff"].get(f"/api/v1/admin/announcements/{news['id']}/").json()["id"] == news["id"]
    assert b["portal"].get(f"/api/v1/me/feedback/{ticket['id']}/").json()["id"] == ticket["id"]
    with tenant_context(b["tenant"]):
        pk = Material.objects.get(public_id=course["id"]).pk
    assert b["portal"].get(f"/api/v1/me/materials/{pk}/").status_code == 404
    assert b["staff"].get(f"/api/v1/admin/materials/{pk}/").status_code == 404
