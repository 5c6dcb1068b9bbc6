"""Sandbox twins and their test clock (issue 13 item 2): a sandbox tenant has its own data, test
keys (test_...) and a clock that, moved forward, runs settlement and the incentive jobs as of its
time. Live keys never reach sandbox data nor the reverse; live tenants have no clock.

Worked values: the live tenant "acme" pays 10% / 5% / 2%; its sandbox copies that plan. A paid
order of 100.00 referred by A (a root) freezes 10.00 for A; never completed, it settles
paid_at + auto_complete_days (14) + settle_after_days (7) = 21 days later, so advancing the clock
30 days settles it: A's available 10.00, frozen 0.00.
"""
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from tenants.context import tenant_context
from tenants.models import Tenant, TenantApiKey
from tests.factories import CommitAPIClient, distributor, order_json

NOW = datetime(2026, 5, 1, 4, 0, tzinfo=timezone.utc)  # 2026-05-01 12:00 +08:00
CLOCK = "/api/v1/sandbox/clock/"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sandbox(tenant, clock):
    from tenants.services import sandbox_create

    twin, created = sandbox_create(tenant=tenant)
    assert created
    return twin


def key_client(key):
    client = CommitAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def test_key(sandbox):
    from tenants.services import api_key_create

    return api_key_create(tenant=sandbox, name="dev")[1]


@pytest.fixture
def live_key(tenant):
    from tenants.services import api_key_create

    return api_key_create(tenant=tenant, name="shop")[1]


def post_paid(client, external_id, referrer="A", price="100.00", paid_at="2026-05-01T10:00:00+08:00"):
    return client.post("/api/v1/orders/", order_json(
        external_id, referrer_external_id=referrer, status="paid", paid_at=paid_at, placed_at=paid_at,
        lines=[{"line_id": "1", "sku": "SKU-1", "quantity": 1, "unit_price": price}]), format="json")


def balance(tenant, external_id):
    from distributors.models import Distributor
    from ledger.models import Balance

    with tenant_context(tenant):
        b = Balance.objects.get(distributor=Distributor.objects.get(external_id=external_id))
        return b.frozen, b.available


def test_the_sandbox_is_a_twin_with_the_settings_and_the_plan(tenant, sandbox):
    from commissions.selectors import plan_in_force

    assert (sandbox.slug, sandbox.is_sandbox, sandbox.live_tenant_id, sandbox.clock_at) == (
        "acme-sandbox", True, tenant.pk, None)
    assert (sandbox.currency, sandbox.levels, sandbox.settle_after_days, sandbox.auto_complete_days) == (
        tenant.currency, tenant.levels, 7, 14)
    assert not Tenant.objects.get(pk=tenant.pk).is_sandbox
    with tenant_context(sandbox):
        plan = plan_in_force(at=NOW)
        rules = sorted((r.scope, r.level, r.kind, r.value) for r in plan.rules.all())
    assert plan.tenant_id == sandbox.pk and plan.effective_from == NOW
    assert rules == [("default", 1, "percent", Decimal("0.1000")), ("default", 2, "percent", Decimal("0.0500")),
                     ("default", 3, "percent", Decimal("0.0200"))]


def test_a_sandbox_key_is_marked_test_and_a_live_key_is_not(sandbox, test_key, live_key):
    row = TenantApiKey.objects.get(name="dev")
    assert test_key.startswith("test_" + row.prefix + ".") and not live_key.startswith("test_")
    assert key_client(test_key).get("/api/v1/orders/").status_code == 200
    assert key_client(live_key).get("/api/v1/orders/").status_code == 200
    # the mark must match the key's tenant: a test key without it, a live key with it, are refused
    assert key_client(test_key.removeprefix("test_")).get("/api/v1/orders/").status_code == 401
    assert key_client("test_" + live_key).get("/api/v1/orders/").status_code == 401


def test_the_clock_settles_what_is_due_30_days_later(tenant, sandbox, test_key):
    with tenant_context(sandbox):
        distributor(sandbox, external_id="A")
    api = key_client(test_key)
    assert post_paid(api, "S1").status_code == 201
    assert balance(sandbox, "A") == (Decimal("10.00"), Decimal("0.00"))
    assert api.get(CLOCK).json() == {"clock_at": "2026-05-01T04:00:00Z"}  # real time until moved

    r = api.post(CLOCK, {"advance": "P30D"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json() == {"clock_at": "2026-05-31T04:00:00Z", "ran": {"settled": 1, "contests": 0, "months": 0}}
    assert balance(sandbox, "A") == (Decimal("0.00"), Decimal("10.00"))
    assert Tenant.objects.get(pk=sandbox.pk).clock_at == NOW + timedelta(days=30)
    assert api.get(CLOCK).json() == {"clock_at": "2026-05-31T04:00:00Z"}
    # seconds, and "to": the clock moves on from its own time, not the real one; nothing more is due
    r = api.post(CLOCK, {"advance": 3600}, format="json")
    assert r.json() == {"clock_at": "2026-05-31T05:00:00Z", "ran": {"settled": 0, "contests": 0, "months": 0}}
    r = api.post(CLOCK, {"to": "2026-06-01T00:00:00+08:00"}, format="json")
    assert r.status_code == 200 and r.json()["clock_at"] == "2026-05-31T16:00:00Z"


def test_the_clock_settles_only_what_is_due_by_its_time(sandbox, test_key):
    """20 days after payment the order is not due (21 days): nothing settles; one day more, it does."""
    with tenant_context(sandbox):
        distributor(sandbox, external_id="A")
    api = key_client(test_key)
    post_paid(api, "S1", paid_at="2026-05-01T12:00:00+08:00")
    assert api.post(CLOCK, {"advance": "P20D"}, format="json").json()["ran"]["settled"] == 0
    assert balance(sandbox, "A") == (Decimal("10.00"), Decimal("0.00"))
    assert api.post(CLOCK, {"advance": "P1D"}, format="json").json()["ran"]["settled"] == 1
    assert balance(sandbox, "A") == (Decimal("0.00"), Decimal("10.00"))


@pytest.mark.parametrize("body, attr, code", [
    ({"advance": "-P1D"}, "advance", "clock_backwards"),
    ({"advance": -60}, "advance", "clock_backwards"),
    ({"to": "2026-05-10T00:00:00+08:00"}, "to", "clock_backwards"),
    ({"advance": "P3661D"}, "advance", "clock_too_far"),
    ({"advance": "thirty days"}, "advance", "invalid"),
    ({"advance": True}, "advance", "invalid"),
    ({"to": "tomorrow"}, "to", "invalid"),
    ({}, "non_field_errors", "advance_or_to"),
    ({"advance": "P1D", "to": "2026-07-01T00:00:00+08:00"}, "non_field_errors", "advance_or_to"),
    ({"advance": "P1D", "speed": 2}, "speed", "unknown_field"),
])
def test_bad_moves_are_refused_and_change_nothing(sandbox, test_key, body, attr, code):
    with tenant_context(sandbox):
        distributor(sandbox, external_id="A")
    api = key_client(test_key)
    post_paid(api, "S1")
    assert api.post(CLOCK, {"advance": "P10D"}, format="json").status_code == 200  # at 2026-05-11 12:00 +08:00
    r = api.post(CLOCK, body, format="json")
    assert r.status_code == 400, r.json()
    error = r.json()["errors"][0]
    assert (r.json()["type"], error["code"], error["attr"]) == ("validation_error", code, attr)
    assert Tenant.objects.get(pk=sandbox.pk).clock_at == NOW + timedelta(days=10)
    assert balance(sandbox, "A") == (Decimal("10.00"), Decimal("0.00"))


def test_a_live_key_has_no_clock(tenant, sandbox, live_key):
    api = key_client(live_key)
    for r in (api.get(CLOCK), api.post(CLOCK, {"advance": "P30D"}, format="json"),
              api.post(CLOCK, {"nonsense": 1}, format="json")):
        assert r.status_code == 403
        assert (r.json()["type"], r.json()["errors"][0]["code"]) == ("client_error", "not_sandbox")
    assert Tenant.objects.get(pk=tenant.pk).clock_at is None


def test_live_and_sandbox_keys_never_see_each_others_orders(tenant, sandbox, test_key, live_key):
    with tenant_context(sandbox):
        distributor(sandbox, external_id="A")
    with tenant_context(tenant):
        distributor(tenant, external_id="A")
    live, test = key_client(live_key), key_client(test_key)
    assert post_paid(test, "S1").status_code == 201
    assert post_paid(live, "L1").status_code == 201
    assert test.get("/api/v1/orders/S1/").status_code == 200 and live.get("/api/v1/orders/L1/").status_code == 200
    assert live.get("/api/v1/orders/S1/").status_code == 404
    assert test.get("/api/v1/orders/L1/").status_code == 404
    assert [o["external_id"] for o in live.get("/api/v1/orders/").json()["results"]] == ["L1"]
    assert [o["external_id"] for o in test.get("/api/v1/orders/").json()["results"]] == ["S1"]
    # the sandbox's clock moves the sandbox's money only
    test.post(CLOCK, {"advance": "P30D"}, format="json")
    assert balance(sandbox, "A") == (Decimal("0.00"), Decimal("10.00"))
    assert balance(tenant, "A") == (Decimal("10.00"), Decimal("0.00"))


def test_the_command_creates_the_twin_once(tenant, clock):
    out = StringIO()
    call_command("create_sandbox", "acme", stdout=out)
    call_command("create_sandbox", "acme", "--key", "dev", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["created: acme-sandbox", "exists: acme-sandbox"]
    assert lines[2].startswith("test_") and key_client(lines[2]).get(CLOCK).status_code == 200
    assert Tenant.objects.filter(live_tenant=tenant).count() == 1
    with pytest.raises(CommandError):
        call_command("create_sandbox", "acme-sandbox")
    with pytest.raises(CommandError):
        call_command("create_sandbox", "nope")


def test_the_console_action_creates_the_twin_and_shows_a_test_key(tenant, clock, admin_client):
    r = admin_client.post("/admin/tenants/tenant/", {"action": "create_sandbox", "_selected_action": [tenant.pk]},
                          follow=True)
    assert r.status_code == 200
    sandbox = Tenant.objects.get(live_tenant=tenant)
    texts = [str(m) for m in r.context["messages"]]
    assert len(texts) == 1 and "acme-sandbox" in texts[0]
    key = next(word for word in texts[0].split() if word.startswith("test_")).rstrip(".")
    assert TenantApiKey.objects.get(tenant=sandbox).name == "console"
    assert key_client(key).get(CLOCK).status_code == 200


def test_the_twin_copies_the_live_programme_grades_schemes_and_contests_not_yet_ended(tenant, clock):
    """The sandbox starts with the live rules that decide money (README "Partner quick start"):
    grades with their conditions and level overrides, tier bonus schemes, and the contests that
    have not ended at NOW (2026-05-01 12:00 +08:00), eligibility matched by grade code; a contest
    already over (even one not finalized yet) and the live data are not copied. Worked value: a
    gold distributor of the sandbox earns gold's 12% override at level 1 on 100.00: 12.00."""
    from commissions.models import GradeLevelOverride
    from commissions.services import grade_override_set
    from distributors.models import Grade
    from incentives.models import Contest, TierBonusScheme
    from incentives.services import contest_create, contest_finalize, tier_scheme_create
    from tenants.services import api_key_create, sandbox_create

    at = lambda day: datetime.fromisoformat(f"2026-{day}T00:00:00+08:00")  # noqa: E731
    with tenant_context(tenant):
        Grade.objects.create(tenant=tenant, code="silver", name="Silver", rank=1, min_direct_sales=Decimal("1000.00"))
        gold = Grade.objects.create(tenant=tenant, code="gold", name="Gold", rank=2, min_direct_downlines=2,
                                    min_team_sales=Decimal("5000.00"))
        grade_override_set(grade=gold, level=1, kind="percent", value=Decimal("0.1200"))
        tier_scheme_create(tenant=tenant, name="Monthly", measure="direct_sales",
                           tiers=[{"threshold": "500.00", "amount": "15.00"}, {"threshold": "3000.00", "rate": "0.0200"}])
        tier_scheme_create(tenant=tenant, name="Old", measure="team_sales", tiers=[{"threshold": "100.00", "amount": "1.00"}],
                           is_active=False)
        done = contest_create(tenant=tenant, name="March", starts_at=at("03-01"), ends_at=at("04-01"),
                              measure="direct_sales", prizes=["10.00"])
        contest_finalize(contest=done, now=at("04-20"))
        contest_create(tenant=tenant, name="April", starts_at=at("04-01"), ends_at=at("05-01"), measure="order_count",
                       prizes=["5.00"])                                # ended at NOW's local midnight: not copied
        running = contest_create(tenant=tenant, name="May gold", starts_at=at("04-25"), ends_at=at("05-10"),
                                 measure="team_sales", prizes=["300.00", "100.00"], min_score=Decimal("50.00"),
                                 grades=[gold], finalize_at=at("05-20"))
        contest_create(tenant=tenant, name="June", starts_at=at("06-01"), ends_at=at("07-01"),
                       measure="new_direct_recruits", prizes=["20.00"])
        distributor(tenant, external_id="LIVE-1")
    twin, created = sandbox_create(tenant=tenant)
    assert created
    with tenant_context(twin):
        assert [(g.code, g.name, g.rank, g.min_direct_sales, g.min_direct_downlines, g.min_team_sales)
                for g in Grade.objects.order_by("rank")] == [
            ("silver", "Silver", 1, Decimal("1000.00"), None, None), ("gold", "Gold", 2, None, 2, Decimal("5000.00"))]
        assert [(o.grade.code, o.level, o.kind, o.value) for o in GradeLevelOverride.objects.select_related("grade")] == [
            ("gold", 1, "percent", Decimal("0.1200"))]
        assert [(s.name, s.measure, s.tiers, s.is_active) for s in TierBonusScheme.objects.order_by("name")] == [
            ("Monthly", "direct_sales", [{"threshold": "500.00", "amount": "15.00"}, {"threshold": "3000.00", "rate": "0.0200"}],
             True),
            ("Old", "team_sales", [{"threshold": "100.00", "amount": "1.00"}], False)]
        copies = list(Contest.objects.order_by("starts_at"))
        assert [(c.name, c.measure, c.starts_at, c.ends_at, c.finalize_at, c.prizes, c.min_score,
                 [g.code for g in c.grades.all()], c.finalized_at) for c in copies] == [
            ("May gold", "team_sales", at("04-25"), at("05-10"), at("05-20"), ["300.00", "100.00"], Decimal("50.0000"),
             ["gold"], None),
            ("June", "new_direct_recruits", at("06-01"), at("07-01"), at("07-08"), ["20.00"], None, [], None)]
        assert copies[0].public_id != running.public_id and copies[0].grades.get().tenant_id == twin.pk
        from distributors.models import Distributor
        assert not Distributor.objects.exists()
        distributor(twin, external_id="G", grade="gold")
    api = key_client(api_key_create(tenant=twin, name="dev")[1])
    assert post_paid(api, "S1", referrer="G").status_code == 201
    assert balance(twin, "G") == (Decimal("12.00"), Decimal("0.00"))
    # a second call copies nothing again
    assert sandbox_create(tenant=tenant) == (twin, False)
    with tenant_context(twin):
        assert (Grade.objects.count(), TierBonusScheme.objects.count(), Contest.objects.count()) == (2, 2, 2)
