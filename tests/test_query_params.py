"""Unknown query parameters answer 400 on every GET of the API (fenxiao.api.base.TenantViewMixin):
a generic walk over every route of the router, and the other side of it: every query parameter
the OpenAPI schema documents for a GET is accepted (so a view that reads a parameter it forgot
to declare fails here, not in a partner's integration)."""
import pytest

from tests.factories import chain
from tests.routes import api_routes

GET_ROUTES = [r for r in api_routes() if hasattr(r.view, "get") and r.kind != "public"]


@pytest.fixture
def callers(in_tenant, partner, portal_for):
    from tests.incentives.apidata import staff_client

    from django.contrib.auth.models import Permission, User

    (d,) = chain(in_tenant, 1)
    staff = staff_client(in_tenant, "walker")
    # staff_client grants the core apps' permissions; the walk reaches risk's, webhooks' and relations' views too
    User.objects.get(username="walker").user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["risk", "webhooks", "relations"]))
    return {"partner": partner, "portal": portal_for(d), "staff": staff}


def test_the_walk_covers_the_lists():
    names = {r.name for r in GET_ROUTES}
    assert {"distributor-list", "order-list", "commission-list", "me-commissions", "me-ledger", "me-withdrawals",
            "staff-distributors", "staff-withdrawals", "staff-contests", "staff-tier-bonus-awards", "me-downlines",
            "staff-rankings", "me-rankings"} <= names
    assert len(GET_ROUTES) >= 40


@pytest.mark.parametrize("route", GET_ROUTES, ids=lambda r: r.name)
def test_every_get_refuses_an_unknown_query_parameter(callers, route):
    r = callers[route.kind].get(route.path(), {"bogus_param": "1"})
    assert r.status_code == 400, (route.template, r.status_code, r.content[:300])
    body = r.json()
    assert body["type"] == "validation_error"
    assert [(e["code"], e["attr"]) for e in body["errors"]] == [("unknown_parameter", "bogus_param")]


def documented_query_parameters() -> list[tuple[str, str]]:
    """(path template, parameter) of every query parameter the schema documents for a GET."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    out = []
    for path, ops in schema["paths"].items():
        for p in ops.get("get", {}).get("parameters", []):
            if p["in"] == "query":
                out.append((path, p["name"]))
    return out


def test_every_documented_query_parameter_is_read(callers):
    """Each GET's documented query parameters pass the unknown-parameter check (their values may
    still be refused: only `unknown_parameter` is looked for)."""
    documented = documented_query_parameters()
    assert ("/api/v1/commissions/", "updated_after") in documented and ("/api/v1/orders/", "cursor") in documented
    by_path = {}
    for r in GET_ROUTES:
        by_path["/api/v1/" + r.template.replace("<str:public_id>", "{public_id}").replace("<str:external_id>", "{external_id}")
                .replace("<int:pk>", "{id}")] = r
    unknown = []
    for path, name in documented:
        route = by_path.get(path)
        if route is None:
            continue  # a public route (the schema itself)
        r = callers[route.kind].get(route.path(), {name: "1"})
        if r.status_code == 400 and any(e["code"] == "unknown_parameter" for e in r.json()["errors"]):
            unknown.append((path, name))
    assert unknown == []
