"""Who may call the incentives API (model permissions, the pm and finance roles, the credential's
kind) and how many queries its hot reads cost: a contest leaderboard, a ranking, a target's
progress and /me/contests/ answer in the same number of queries whatever the number of
distributors and orders (pinned at two tenant sizes)."""
import pytest

from tenants.context import tenant_context
from tests.factories import CommitAPIClient
from tests.incentives.apidata import clock, more_sellers, programme, sellers, staff, staff_client  # noqa: F401

pytestmark = pytest.mark.usefixtures("clock")

CONTEST = {"name": "March", "starts_at": "2026-03-01", "ends_at": "2026-04-01", "measure": "direct_sales",
           "prizes": ["5.00", "3.00"]}
SCHEME = {"name": "M", "measure": "direct_sales", "tiers": [{"threshold": "100.00", "amount": "1.00"}]}
TARGET = {"name": "t", "scope": "team", "distributor_external_id": "A", "measure": "direct_sales", "period": "month",
          "starts_on": "2026-03-01", "goal": "400.00"}

# (method, url, body, the permissions it needs); {c} a contest, {s} a scheme, {t} a target, {g} a grade
ENDPOINTS = [
    ("get", "/api/v1/admin/contests/", None, ["incentives.view_contest"]),
    ("post", "/api/v1/admin/contests/", CONTEST, ["incentives.add_contest"]),
    ("get", "/api/v1/admin/contests/{c}/", None, ["incentives.view_contest"]),
    ("patch", "/api/v1/admin/contests/{c}/", {"name": "x"}, ["incentives.change_contest"]),
    ("get", "/api/v1/admin/contests/{c}/leaderboard/", None, ["incentives.view_contest"]),
    ("post", "/api/v1/admin/contests/{c}/finalize/", {}, ["incentives.change_contest"]),
    ("get", "/api/v1/admin/tier-bonuses/", None, ["incentives.view_tierbonusscheme"]),
    ("post", "/api/v1/admin/tier-bonuses/", SCHEME, ["incentives.add_tierbonusscheme"]),
    ("get", "/api/v1/admin/tier-bonuses/{s}/", None, ["incentives.view_tierbonusscheme"]),
    ("patch", "/api/v1/admin/tier-bonuses/{s}/", {"name": "x"}, ["incentives.change_tierbonusscheme"]),
    ("post", "/api/v1/admin/tier-bonuses/{s}/evaluate/", {"period": "2026-03"}, ["incentives.change_tierbonusscheme"]),
    ("get", "/api/v1/admin/tier-bonuses/{s}/awards/", None, ["incentives.view_tieraward"]),
    ("get", "/api/v1/admin/targets/", None, ["incentives.view_target"]),
    ("post", "/api/v1/admin/targets/", TARGET, ["incentives.add_target"]),
    ("get", "/api/v1/admin/targets/{t}/", None, ["incentives.view_target"]),
    ("patch", "/api/v1/admin/targets/{t}/", {"name": "x"}, ["incentives.change_target"]),
    ("get", "/api/v1/admin/rankings/?measure=direct_sales&from=2026-03-01&to=2026-03-31", None,
     ["distributors.view_distributor", "orders.view_order"]),
    ("get", "/api/v1/admin/grades/{g}/", None, ["distributors.view_grade"]),
    ("post", "/api/v1/admin/grades/evaluate/", {}, ["distributors.change_distributor", "distributors.view_grade"]),
    ("get", "/api/v1/admin/distributors/A/grade-history/", None,
     ["distributors.view_distributor", "distributors.view_gradechange"]),
]


@pytest.fixture
def objects(staff, sellers):
    ids = {"c": staff.post("/api/v1/admin/contests/", CONTEST, format="json").json()["id"],
           "s": staff.post("/api/v1/admin/tier-bonuses/", SCHEME, format="json").json()["id"],
           "t": staff.post("/api/v1/admin/targets/", TARGET, format="json").json()["id"],
           "g": staff.post("/api/v1/admin/grades/", {"code": "gold", "name": "Gold"}, format="json").json()["id"]}
    return ids


def call(client, method, url, body, ids):
    return getattr(client, method)(url.format(**ids), body, format="json")


@pytest.mark.parametrize("method,url,body,perms", ENDPOINTS)
def test_each_staff_endpoint_needs_its_model_permissions(tenant, objects, method, url, body, perms):
    nobody = staff_client(tenant, "nobody", perms=[])
    r = call(nobody, method, url, body, objects)
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "permission_denied"
    for missing in perms:   # each permission it names is needed
        partial = staff_client(tenant, f"without-{missing}", perms=[p for p in perms if p != missing])
        assert call(partial, method, url, body, objects).status_code == 403, missing
    enough = staff_client(tenant, "enough", perms=perms)
    r = call(enough, method, url, body, objects)
    assert r.status_code in (200, 201), r.json()


@pytest.mark.parametrize("method,url,body,perms", ENDPOINTS)
def test_portal_and_partner_credentials_are_no_staff(tenant, objects, sellers, partner, portal_for, method, url, body,
                                                     perms):
    for client in (portal_for(sellers["A"]), partner, CommitAPIClient()):
        assert call(client, method, url, body, objects).status_code in (401, 403)


@pytest.mark.parametrize("url", ["/api/v1/me/contests/", "/api/v1/me/contests/1/leaderboard/", "/api/v1/me/targets/",
                                 "/api/v1/me/rankings/"])
def test_portal_endpoints_need_a_distributor_token(tenant, staff, partner, url):
    for client in (staff, partner, CommitAPIClient()):
        assert client.get(url).status_code in (401, 403)


def test_the_roles_cover_the_incentives(tenant, sellers, programme):
    """pm runs the incentives; finance reads them (to explain the bonus entries) and changes none."""
    from tenants.services import staff_create

    def login(username, role):
        staff_create(tenant=tenant, username=username, role=role, password="pw-ok-12345678")
        token = CommitAPIClient().post("/api/v1/auth/staff-token/", {"username": username, "password": "pw-ok-12345678"},
                                       format="json").json()["access"]
        api = CommitAPIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return api

    pm, finance = login("pm-user", "pm"), login("finance-user", "finance")
    ids = {"c": pm.post("/api/v1/admin/contests/", CONTEST, format="json").json()["id"],
           "s": pm.post("/api/v1/admin/tier-bonuses/", SCHEME, format="json").json()["id"],
           "t": pm.post("/api/v1/admin/targets/", TARGET, format="json").json()["id"],
           "g": pm.post("/api/v1/admin/grades/", {"code": "gold", "name": "Gold"}, format="json").json()["id"]}
    for method, url, body, _ in ENDPOINTS:
        assert call(pm, method, url, body, ids).status_code in (200, 201), url
        allowed = call(finance, method, url, body, ids).status_code
        if method == "get" and "grade" not in url:
            assert allowed == 200, url
        else:
            assert allowed == 403, url


# --- query counts -------------------------------------------------------------------------------
# Authentication costs STAFF_AUTH queries for a staff token (the user with its membership, tenant
# and its own and its groups' permissions) and PORTAL_AUTH for a distributor token (the
# distributor with its tenant). GET /admin/tenant/ and /me/earnings/ prove them below.
STAFF_AUTH, PORTAL_AUTH = 1, 1


@pytest.fixture(params=[2, 12], ids=["small", "larger"])
def grown(request, programme, partner):
    """The programme with 2 or 12 more distributors, each with a March order: the pins must not move."""
    more_sellers(programme["A"].tenant, partner, request.param)
    return {**programme, "extra": request.param}


def test_authentication_costs(staff, grown, portal_for, django_assert_num_queries):
    with django_assert_num_queries(STAFF_AUTH):
        assert staff.get("/api/v1/admin/tenant/").status_code == 200
    me = portal_for(grown["A"])
    with django_assert_num_queries(PORTAL_AUTH + 1):   # the balance row
        assert me.get("/api/v1/me/earnings/").status_code == 200


def test_contest_leaderboard_queries_are_constant(staff, grown, portal_for, django_assert_num_queries):
    cid = staff.post("/api/v1/admin/contests/", CONTEST, format="json").json()["id"]
    me = portal_for(grown["A"])
    # live: the contest with its grades, the leaderboard with the names
    with django_assert_num_queries(STAFF_AUTH + 2):
        live = staff.get(f"/api/v1/admin/contests/{cid}/leaderboard/").json()
    # the portal's: the contest with its grades and whether I am in its frozen ranking (may I see
    # it?), the leaderboard; my standing comes from the page when I am on it, else from my score
    # with my rank (one more)
    with django_assert_num_queries(PORTAL_AUTH + 2):
        mine = me.get(f"/api/v1/me/contests/{cid}/leaderboard/").json()
    with django_assert_num_queries(PORTAL_AUTH + 3):
        assert me.get(f"/api/v1/me/contests/{cid}/leaderboard/?limit=1").json()["mine"] == mine["mine"]
    staff.post(f"/api/v1/admin/contests/{cid}/finalize/", {}, format="json")
    # frozen: the contest with its grades, the results, the names
    with django_assert_num_queries(STAFF_AUTH + 3):
        frozen = staff.get(f"/api/v1/admin/contests/{cid}/leaderboard/").json()
    with django_assert_num_queries(PORTAL_AUTH + 3):   # my standing from the page
        me.get(f"/api/v1/me/contests/{cid}/leaderboard/")
    with django_assert_num_queries(PORTAL_AUTH + 4):   # my standing: my frozen result
        me.get(f"/api/v1/me/contests/{cid}/leaderboard/?limit=1")
    assert [r["distributor_external_id"] for r in live["results"][:3]] == ["B", "A", "C"] == \
        [r["distributor_external_id"] for r in frozen["results"][:3]]
    assert mine["mine"] == {"rank": 2, "score": "200.00", "prize": "3.00"}


def test_ranking_queries_are_constant(staff, grown, portal_for, django_assert_num_queries):
    month = "/api/v1/admin/rankings/?measure=team_sales&from=2026-03-01&to=2026-03-31"
    staff.get(month)   # the first request of a month's ranking makes its board
    with django_assert_num_queries(STAFF_AUTH + 2):   # the board, its top with the names
        r = staff.get(month).json()
    assert [x["distributor_external_id"] for x in r["results"][:2]] == ["B", "A"]
    with django_assert_num_queries(STAFF_AUTH + 2):   # not a whole month: the leaderboard, the names
        r = staff.get("/api/v1/admin/rankings/?measure=team_sales&from=2026-03-01&to=2026-03-30").json()
    assert [x["distributor_external_id"] for x in r["results"][:2]] == ["B", "A"]
    with tenant_context(grown["A"].tenant):
        from tenants.services import tenant_update

        tenant_update(tenant=grown["A"].tenant, show_rankings=True)
    me = portal_for(grown["D"])
    me.get("/api/v1/me/rankings/?period=2026-03&limit=3")   # makes March's direct_sales board
    with django_assert_num_queries(PORTAL_AUTH + 3):   # the board, its top with the names, my rank
        r = me.get("/api/v1/me/rankings/?period=2026-03&limit=3").json()
    assert r["mine"] == {"rank": 4, "score": "100.00"}
    a = portal_for(grown["A"])   # D joined under A this month (April)
    with django_assert_num_queries(PORTAL_AUTH + 4):   # recruits: the leaderboard, the names, my score, my rank
        r = a.get("/api/v1/me/rankings/?measure=new_direct_recruits&limit=3").json()
    assert r["mine"] == {"rank": 1, "score": "1"}


def test_target_progress_queries_are_constant(staff, grown, portal_for, django_assert_num_queries):
    team = staff.post("/api/v1/admin/targets/", TARGET, format="json").json()["id"]
    brand = staff.post("/api/v1/admin/targets/", {"name": "brand", "scope": "tenant", "measure": "active_distributors",
                                                  "period": "month", "starts_on": "2026-03-01", "goal": "10"},
                       format="json").json()["id"]
    with django_assert_num_queries(STAFF_AUTH + 2):   # the target, its measure
        r = staff.get(f"/api/v1/admin/targets/{team}/").json()
    assert (r["value"], r["progress"]) == ("300.00", "0.7500")
    with django_assert_num_queries(STAFF_AUTH + 2):
        r = staff.get(f"/api/v1/admin/targets/{brand}/").json()
    assert r["value"] == str(4 + grown["extra"])   # A, B, C, D and the extra sellers sold in March
    with django_assert_num_queries(PORTAL_AUTH + 3):   # the count, the page, one measure per target
        assert portal_for(grown["A"]).get("/api/v1/me/targets/").json()["count"] == 1


def test_my_contests_queries_are_constant(staff, grown, portal_for, django_assert_num_queries):
    march = staff.post("/api/v1/admin/contests/", CONTEST, format="json").json()["id"]
    staff.post("/api/v1/admin/contests/", dict(CONTEST, name="April", starts_at="2026-04-01", ends_at="2026-05-01"),
               format="json")
    staff.post(f"/api/v1/admin/contests/{march}/finalize/", {}, format="json")
    me = portal_for(grown["C"])
    # the count, the page with the grades; April (live): my score with my rank; March (frozen): my result
    with django_assert_num_queries(PORTAL_AUTH + 4):
        r = me.get("/api/v1/me/contests/").json()
    assert [(c["name"], c["rank"], c["score"], c["prize"]) for c in r["results"]] == [
        ("April", 1, "500.00", "5.00"), ("March", 3, "150.00", None)]
