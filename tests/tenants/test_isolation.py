"""Tenancy (domain rules section 1): another tenant's object is a 404, lists never leak, the tenant
comes from the credential, and tenant-scoped queries fail closed without one."""
import pytest

from orders.models import Order
from tenants.context import TenantNotSet, tenant_context
from tenants.models import Tenant
from tenants.services import api_key_create, api_key_revoke
from tests.factories import CommitAPIClient, chain, distributor, order_json, paid_order

PAID = {"status": "paid", "paid_at": "2026-01-15T10:05:00+08:00"}


@pytest.fixture
def two_tenants(make_tenant, partner_for):
    a, b = make_tenant(slug="a"), make_tenant(slug="b")
    with tenant_context(b):
        chain(b, 3, prefix="B")
        paid_order(b, "BO1", referrer_external_id="B2")
        from distributors.services import customer_bind
        from distributors.models import Distributor

        customer_bind(tenant=b, external_id="BK", referrer=Distributor.objects.get(external_id="B0"))
    with tenant_context(a):
        chain(a, 1, prefix="A")
    return partner_for(a), partner_for(b), a, b


DETAIL_URLS = [
    ("get", "/api/v1/distributors/B0/"), ("patch", "/api/v1/distributors/B0/"),
    ("get", "/api/v1/customers/BK/"),
    ("get", "/api/v1/orders/BO1/"), ("get", "/api/v1/orders/BO1/commissions/"), ("get", "/api/v1/orders/BO1/refunds/"),
    ("post", "/api/v1/orders/BO1/pay/"), ("post", "/api/v1/orders/BO1/complete/"), ("post", "/api/v1/orders/BO1/cancel/"),
    ("post", "/api/v1/orders/BO1/refunds/"),
]


@pytest.mark.parametrize("method,url", DETAIL_URLS)
def test_other_tenants_objects_are_404_like_missing_ones(two_tenants, method, url):
    client_a, client_b, _, _ = two_tenants
    r = getattr(client_a, method)(url, {}, format="json")
    missing = getattr(client_a, method)(url.replace("B0", "ZZ").replace("BO1", "ZZ").replace("BK", "ZZ"), {}, format="json")
    assert r.status_code == missing.status_code == 404
    assert r.json() == missing.json()
    assert getattr(client_b, "get")(url if method == "get" else "/api/v1/orders/BO1/").status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/distributors/", "/api/v1/orders/", "/api/v1/commissions/"])
def test_lists_never_leak(two_tenants, url):
    client_a, client_b, _, _ = two_tenants
    a_ids = str(client_a.get(url).json()["results"])
    assert "B0" not in a_ids and "BO1" not in a_ids
    assert len(client_b.get(url).json()["results"]) >= 1


def test_references_to_other_tenants_are_unknown(two_tenants):
    client_a, _, _, _ = two_tenants
    r = client_a.post("/api/v1/orders/", order_json("X", referrer_external_id="B2"), format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "unknown_distributor"
    r = client_a.post("/api/v1/distributors/", {"external_id": "N", "name": "n", "parent_external_id": "B0"}, format="json")
    assert r.status_code == 400
    r = client_a.patch("/api/v1/distributors/A0/", {"parent_external_id": "B0"}, format="json")
    assert r.status_code == 400


def test_same_external_ids_live_side_by_side(two_tenants):
    client_a, _, _, _ = two_tenants
    assert client_a.post("/api/v1/orders/", order_json("BO1", **PAID), format="json").status_code == 201
    with tenant_context(Tenant.objects.get(slug="b")):
        assert Order.objects.get(external_id="BO1").lines.get().unit_price == 100


def test_portal_token_sees_only_its_tenant(two_tenants, portal_for):
    _, _, a, b = two_tenants
    with tenant_context(b):
        from distributors.models import Distributor

        b0 = Distributor.objects.get(external_id="B0")
    me = portal_for(b0)
    assert me.get("/api/v1/me/earnings/").json()["by_level"]["3"] == "2.00"
    assert me.get("/api/v1/orders/BO1/").status_code in (401, 403)   # a distributor token is not a partner key


def test_credentials(two_tenants):
    _, _, a, _ = two_tenants
    anon = CommitAPIClient()
    r = anon.get("/api/v1/orders/")
    assert r.status_code == 401 and r.json()["type"] == "client_error"
    anon.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")
    assert anon.get("/api/v1/orders/").status_code == 401
    key_row, key = api_key_create(tenant=a, name="temp")
    anon.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert anon.get("/api/v1/orders/").status_code == 200
    api_key_revoke(api_key=key_row)
    assert anon.get("/api/v1/orders/").status_code == 401
    anon.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert anon.get("/api/v1/me/").status_code == 401


def test_distributor_login(make_tenant):
    t = make_tenant(slug="shop")
    with tenant_context(t):
        distributor(t, external_id="D1", password="s3cret-pass")
    client = CommitAPIClient()
    bad = [{"tenant": "shop", "username": "D1", "password": "wrong"},
           {"tenant": "other", "username": "D1", "password": "s3cret-pass"},
           {"tenant": "shop", "username": "D2", "password": "s3cret-pass"}]
    for body in bad:
        assert client.post("/api/v1/auth/token/", body, format="json").status_code == 401
    tokens = client.post("/api/v1/auth/token/", {"tenant": "shop", "username": "D1", "password": "s3cret-pass"}, format="json").json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/v1/me/").json()["external_id"] == "D1"
    refreshed = CommitAPIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200 and "access" in refreshed.json()


def test_scoped_managers_fail_closed_without_a_tenant(db):
    with pytest.raises(TenantNotSet):
        list(Order.objects.all())
    assert list(Order.unscoped.all()) == []


def test_tenant_settings_are_validated(db):
    from django.core.exceptions import ValidationError

    from tenants.services import tenant_create

    for bad in ({"levels": 4}, {"currency": "ZZZ"}, {"timezone": "Mars/Base"}, {"rounding": "up"},
                {"max_total_rate": "1.5"}, {"bind_mode": "never"}, {"withdraw_fee_rate": "-0.1"}):
        with pytest.raises(ValidationError):
            tenant_create(slug="bad", name="bad", **bad)
    assert not Tenant.objects.filter(slug="bad").exists()
    t = tenant_create(slug="ok", name="ok")
    assert (t.currency, t.timezone, t.levels, t.rounding, t.bind_mode, str(t.max_total_rate), str(t.withdraw_min_amount)) == \
        ("CNY", "Asia/Shanghai", 3, "down", "when_unbound", "0.5000", "10.00")


def test_unmatched_api_url_is_json_404(client, db):
    r = client.get("/api/v1/nothing-here/")
    assert r.status_code == 404 and r.json()["type"] == "client_error"


# --- incentives (domain rules section 8): staff, portal and key credentials of tenant A against B's ids ---

@pytest.fixture
def incentive_tenants(two_tenants, portal_for):
    """Tenant B with a finalized and a running contest, an evaluated tier scheme, a target, a grade
    and a grade history (B0 upgraded); tenant A's staff, distributor and partner key clients.
    Returns (clients of A, {name: id of B's object})."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from distributors.models import Distributor, Grade
    from distributors.services import distributor_grade_set
    from incentives import services as incentives
    from tests.incentives.apidata import staff_client

    key_a, _, a, b = two_tenants
    with tenant_context(b):
        shanghai = ZoneInfo("Asia/Shanghai")   # BO1 was paid on January 15, local time: B2 wins 10.00
        march = incentives.contest_create(tenant=b, name="B March", starts_at=datetime(2026, 1, 15, tzinfo=shanghai),
                                          ends_at=datetime(2026, 1, 16, tzinfo=shanghai), measure="direct_sales",
                                          prizes=["10.00"])
        incentives.contest_finalize(contest=march)
        scheme = incentives.tier_scheme_create(tenant=b, name="B tiers", measure="team_sales",
                                               tiers=[{"threshold": "1.00", "amount": "1.00"}])
        incentives.tier_bonus_evaluate(scheme=scheme, period=incentives.month_of("2026-01"))
        b0 = Distributor.objects.get(external_id="B0")
        target = incentives.target_create(tenant=b, name="B0 Jan", scope="team", measure="direct_sales", period="month",
                                          starts_on=datetime(2026, 1, 1).date(), goal="100.00", distributor=b0)
        grade = Grade.objects.create(tenant=b, code="gold", name="Gold", rank=1)
        distributor_grade_set(distributor=b0, grade=grade, kind="manual", reason="test")
    with tenant_context(a):
        a0 = Distributor.objects.get(external_id="A0")
    clients = {"staff": staff_client(a, "a-staff"), "portal": portal_for(a0), "key": key_a,
               "staff_b": staff_client(b, "b-staff")}
    return clients, {"contest": march.public_id, "scheme": scheme.public_id, "target": target.public_id, "grade": grade.pk}


STAFF_DETAIL_URLS = [
    ("get", "/api/v1/admin/contests/{contest}/"), ("patch", "/api/v1/admin/contests/{contest}/"),
    ("get", "/api/v1/admin/contests/{contest}/leaderboard/"), ("post", "/api/v1/admin/contests/{contest}/finalize/"),
    ("get", "/api/v1/admin/tier-bonuses/{scheme}/"), ("patch", "/api/v1/admin/tier-bonuses/{scheme}/"),
    ("post", "/api/v1/admin/tier-bonuses/{scheme}/evaluate/"), ("get", "/api/v1/admin/tier-bonuses/{scheme}/awards/"),
    ("get", "/api/v1/admin/targets/{target}/"), ("patch", "/api/v1/admin/targets/{target}/"),
    ("get", "/api/v1/admin/grades/{grade}/"), ("patch", "/api/v1/admin/grades/{grade}/"),
    ("get", "/api/v1/admin/distributors/B0/grade-history/"),
]


@pytest.mark.parametrize("method,url", STAFF_DETAIL_URLS)
def test_other_tenants_incentives_are_404_for_staff_like_missing_ones(incentive_tenants, method, url):
    clients, ids = incentive_tenants
    body = {"period": "2026-01"} if url.endswith("evaluate/") else {}
    r = getattr(clients["staff"], method)(url.format(**ids), body, format="json")
    missing = getattr(clients["staff"], method)(url.format(**{k: 999999 for k in ids}).replace("B0", "ZZ"), body,
                                                format="json")
    assert r.status_code == missing.status_code == 404
    assert r.json() == missing.json()


def test_other_tenants_incentives_are_404_for_distributors_and_refused_for_keys(incentive_tenants):
    clients, ids = incentive_tenants
    portal, key = clients["portal"], clients["key"]
    r = portal.get(f"/api/v1/me/contests/{ids['contest']}/leaderboard/")
    assert r.status_code == 404 and r.json() == portal.get("/api/v1/me/contests/999999/leaderboard/").json()
    assert portal.get("/api/v1/me/contests/").json()["count"] == 0
    assert portal.get("/api/v1/me/targets/").json()["count"] == 0
    for method, url in STAFF_DETAIL_URLS:   # a partner key is no staff credential, whatever the id
        assert getattr(key, method)(url.format(**ids), {}, format="json").status_code in (401, 403), url
    assert key.get(f"/api/v1/me/contests/{ids['contest']}/leaderboard/").status_code in (401, 403)


@pytest.mark.parametrize("url", ["/api/v1/admin/contests/", "/api/v1/admin/tier-bonuses/", "/api/v1/admin/targets/",
                                 "/api/v1/admin/grades/",
                                 "/api/v1/admin/rankings/?measure=direct_sales&from=2026-01-01&to=2026-12-31"])
def test_incentive_lists_never_leak(incentive_tenants, url):
    clients, _ = incentive_tenants
    r = clients["staff"].get(url)
    assert r.status_code == 200 and r.json()["results"] == []
    assert len(clients["staff_b"].get(url).json()["results"]) >= 1   # B's own staff see B's


def test_staff_cannot_reach_other_tenants_objects_through_references(incentive_tenants):
    clients, ids = incentive_tenants
    staff = clients["staff"]
    r = staff.post("/api/v1/admin/contests/", {"name": "x", "starts_at": "2026-03-01", "ends_at": "2026-04-01",
                                               "measure": "direct_sales", "grades": ["gold"]}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "unknown_grade"       # B's grade code
    r = staff.post("/api/v1/admin/targets/", {"name": "x", "scope": "distributor", "distributor_external_id": "B0",
                                              "measure": "direct_sales", "period": "month", "starts_on": "2026-03-01",
                                              "goal": "1.00"}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "unknown_distributor"
    assert staff.post("/api/v1/admin/grades/evaluate/", {}, format="json").json() == {"upgraded": 0}
    with tenant_context(Tenant.objects.get(slug="b")):
        from incentives.models import Contest, Target, TierBonusScheme

        assert Contest.objects.get(public_id=ids["contest"]).name == "B March"
        assert TierBonusScheme.objects.get(public_id=ids["scheme"]).name == "B tiers"
        assert Target.objects.get(public_id=ids["target"]).name == "B0 Jan"
