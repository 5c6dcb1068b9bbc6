"""Who may call the reports API (model permissions, the pm and finance roles, the credential's kind)
and how many queries its reads cost: the summary, the channels, a statement and my months answer in
the same number of queries whatever the number of distributors, orders and entries (pinned at two
tenant sizes)."""
import pytest

from tenants.context import tenant_context
from tests.factories import CommitAPIClient, distributor
from tests.reports.conftest import at, post_order, staff_client

SUMMARY = "/api/v1/admin/reports/summary/?from=2026-02-01&to=2026-05-01&interval=month"
SUMMARY_PERMS = ["orders.view_order", "commissions.view_commissionrecord", "ledger.view_withdrawal"]
STATEMENT_PERMS = ["distributors.view_distributor", "ledger.view_balance"]
ENDPOINTS = [
    (SUMMARY, SUMMARY_PERMS),
    (SUMMARY.replace("summary/", "summary.csv"), SUMMARY_PERMS),
    ("/api/v1/admin/reports/channels/?from=2026-02-01&to=2026-05-01",
     ["orders.view_order", "commissions.view_commissionrecord"]),
    ("/api/v1/admin/distributors/B/statements/2026-03/", STATEMENT_PERMS),
    ("/api/v1/admin/distributors/B/statements/2026-03.csv", STATEMENT_PERMS),
    ("/api/v1/admin/distributors/B/statements/2026-03.pdf", STATEMENT_PERMS),
]
PORTAL = ["/api/v1/me/reports/monthly/", "/api/v1/me/statements/2026-03/", "/api/v1/me/statements/2026-03.csv",
          "/api/v1/me/statements/2026-03.pdf"]


@pytest.mark.parametrize("path,perms", ENDPOINTS)
def test_each_staff_endpoint_needs_its_model_permissions(shop, programme, clock_now, path, perms):
    nobody = staff_client(shop, "nobody", perms=[])
    r = nobody.get(path)
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "permission_denied"
    for missing in perms:
        partial = staff_client(shop, f"without-{missing}", perms=[p for p in perms if p != missing])
        assert partial.get(path).status_code == 403, missing
    assert staff_client(shop, "enough", perms=perms).get(path).status_code == 200


def test_pm_and_finance_both_read_the_reports(shop, programme, clock_now):
    from tenants.services import staff_create

    for username, role in (("pm-user", "pm"), ("finance-user", "finance")):
        staff_create(tenant=shop, username=username, role=role, password="pw-ok-12345678")
        token = CommitAPIClient().post("/api/v1/auth/staff-token/", {"username": username, "password": "pw-ok-12345678"},
                                       format="json").json()["access"]
        api = CommitAPIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        for path, _ in ENDPOINTS:
            assert api.get(path).status_code == 200, (role, path)


@pytest.mark.parametrize("path,perms", ENDPOINTS)
def test_portal_and_partner_credentials_are_no_staff(shop, programme, clock_now, partner_for, portal_for, path, perms):
    for client in (portal_for(programme["B"]), partner_for(shop), CommitAPIClient()):
        assert client.get(path).status_code in (401, 403)


@pytest.mark.parametrize("path", PORTAL)
def test_portal_endpoints_need_a_distributor_token(shop, programme, clock_now, partner_for, path):
    for client in (staff_client(shop, "pm"), partner_for(shop), CommitAPIClient()):
        assert client.get(path).status_code in (401, 403)


# --- query counts -------------------------------------------------------------------------------
# Authentication: STAFF_AUTH queries for a staff token (the user with its membership, tenant and
# permissions), PORTAL_AUTH for a distributor token (tests/incentives).
STAFF_AUTH, PORTAL_AUTH = 1, 1


@pytest.fixture(params=[0, 12], ids=["worked", "larger"])
def grown(request, shop, programme, partner_for):
    """The worked programme, and `param` more distributors (B's downlines), each referring an order of
    10.00 on a day of March (a third of them with channel app), and as many more orders of 20.00
    referred by B (B's March gets two entries more for each)."""
    n = request.param
    partner = partner_for(shop)
    with at("2026-01-10T10:00:00+08:00"), tenant_context(shop):
        for i in range(n):
            distributor(shop, programme["B"], external_id=f"X{i}", name=f"Extra {i}")
    for i in range(n):
        when = f"2026-03-{i + 3:02d}T11:00:00+08:00"
        with at(when):
            post_order(partner, f"XO{i}", f"X{i}", "10.00", when, channel="app" if i % 3 == 0 else None)
            post_order(partner, f"BO{i}", "B", "20.00", when)
    return n


@pytest.fixture
def counted(grown, shop, clock_now):
    return staff_client(shop, "pm")


# sales per day and the shipping and tax of orders in another currency, ledger per day, joins per
# day, active distributors per bucket and overall; with a channel: whether it is known, no joins
SUMMARY_QUERIES = 6
CHANNEL_QUERIES = 6
STATEMENT_QUERIES = 3     # the distributor, its ledger before the month, the month's entries


def test_the_summary_costs_the_same_at_any_size(counted, django_assert_num_queries):
    with django_assert_num_queries(STAFF_AUTH + SUMMARY_QUERIES):
        r = counted.get("/api/v1/admin/reports/summary/?from=2026-01-01&to=2026-06-01&interval=day")
    assert r.status_code == 200 and len(r.json()["buckets"]) == 151
    with django_assert_num_queries(STAFF_AUTH + CHANNEL_QUERIES):
        assert counted.get(SUMMARY + "&channel=app").status_code == 200
    with django_assert_num_queries(STAFF_AUTH + 3):
        assert counted.get("/api/v1/admin/reports/channels/?from=2026-02-01&to=2026-05-01").status_code == 200


def test_a_statement_costs_the_same_at_any_size(counted, grown, django_assert_num_queries):
    with django_assert_num_queries(STAFF_AUTH + STATEMENT_QUERIES):
        r = counted.get("/api/v1/admin/distributors/B/statements/2026-03/")
    assert r.status_code == 200 and len(r.json()["entries"]) == 5 + 2 * grown   # BO<i> at level 1, XO<i> at level 2
    with django_assert_num_queries(STAFF_AUTH + STATEMENT_QUERIES):
        assert counted.get("/api/v1/admin/distributors/B/statements/2026-03.csv").status_code == 200


def test_my_months_cost_the_same_at_any_size(grown, programme, clock_now, portal_for, django_assert_num_queries):
    me = portal_for(programme["B"])
    with django_assert_num_queries(PORTAL_AUTH + 2):
        assert me.get("/api/v1/me/reports/monthly/?year=2026").status_code == 200
    with django_assert_num_queries(PORTAL_AUTH + 2):
        assert me.get("/api/v1/me/statements/2026-03/").status_code == 200
