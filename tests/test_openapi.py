"""The OpenAPI schema documents the contract's paths and builds without warnings; docs are served."""
import pytest
from django.core.management import call_command

CONTRACT_PATHS = [
    "/api/v1/distributors/", "/api/v1/distributors/{external_id}/", "/api/v1/customers/",
    "/api/v1/orders/", "/api/v1/orders/{external_id}/", "/api/v1/orders/{external_id}/pay/",
    "/api/v1/orders/{external_id}/complete/", "/api/v1/orders/{external_id}/cancel/",
    "/api/v1/orders/{external_id}/refunds/", "/api/v1/orders/{external_id}/commissions/", "/api/v1/commissions/",
    "/api/v1/auth/token/", "/api/v1/me/", "/api/v1/me/downlines/", "/api/v1/me/team/summary/",
    "/api/v1/me/earnings/", "/api/v1/me/commissions/",
    # incentives (spec/api.md "Incentives, reports, relationship and webhooks")
    "/api/v1/admin/contests/", "/api/v1/admin/contests/{public_id}/", "/api/v1/admin/contests/{public_id}/leaderboard/",
    "/api/v1/admin/contests/{public_id}/finalize/", "/api/v1/admin/tier-bonuses/", "/api/v1/admin/tier-bonuses/{public_id}/",
    "/api/v1/admin/tier-bonuses/{public_id}/evaluate/", "/api/v1/admin/tier-bonuses/{public_id}/awards/", "/api/v1/admin/targets/",
    "/api/v1/admin/targets/{public_id}/", "/api/v1/admin/rankings/", "/api/v1/admin/grades/evaluate/",
    "/api/v1/admin/distributors/{external_id}/grade-history/", "/api/v1/me/contests/",
    "/api/v1/me/contests/{public_id}/leaderboard/", "/api/v1/me/targets/", "/api/v1/me/rankings/",
    # reports (the same table)
    "/api/v1/admin/reports/summary/", "/api/v1/admin/reports/summary.csv", "/api/v1/admin/reports/channels/",
    "/api/v1/admin/distributors/{external_id}/statements/{month}/",
    "/api/v1/admin/distributors/{external_id}/statements/{month}.csv",
    "/api/v1/admin/distributors/{external_id}/statements/{month}.pdf", "/api/v1/me/reports/monthly/",
    "/api/v1/me/statements/{month}/", "/api/v1/me/statements/{month}.csv", "/api/v1/me/statements/{month}.pdf",
    # webhooks (domain rules section 10)
    "/api/v1/webhook-endpoints/", "/api/v1/webhook-endpoints/{endpoint_id}/",
    "/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret/", "/api/v1/webhook-endpoints/{endpoint_id}/deliveries/",
    "/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/replay/",
    # sandbox test clock (issue 13 item 2)
    "/api/v1/sandbox/clock/",
    # support and relationship (spec/api.md; issue 14)
    "/api/v1/admin/materials/", "/api/v1/admin/materials/{public_id}/", "/api/v1/admin/announcements/",
    "/api/v1/admin/announcements/{public_id}/", "/api/v1/admin/feedback/", "/api/v1/admin/feedback/{public_id}/reply/",
    "/api/v1/admin/feedback/{public_id}/close/", "/api/v1/me/invite/", "/api/v1/me/invite/qr.png", "/api/v1/me/materials/",
    "/api/v1/me/materials/{public_id}/poster.png", "/api/v1/me/announcements/", "/api/v1/me/feedback/",
    "/api/v1/me/earn-preview/", "/api/v1/me/password/", "/api/v1/auth/password-reset/",
    "/api/v1/me/withdrawals/{public_id}/cancel/", "/api/v1/me/downlines/contribution/",
]


def test_schema_builds_cleanly_and_lists_the_contract(tmp_path, db):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in CONTRACT_PATHS:
        assert f"  {path}:" in text, path
    assert "ApiKey:" in text and "DistributorBearer:" in text


@pytest.mark.parametrize("url", ["/api/v1/schema/", "/api/v1/docs/"])
def test_schema_and_docs_are_served(client, db, url):
    assert client.get(url).status_code == 200


def test_every_operation_describes_itself(db):
    """No operation inherits the docstring of a base view (five used to describe the tenant
    middleware, TenantViewMixin, instead of themselves: issue 10)."""
    import inspect

    from drf_spectacular.generators import SchemaGenerator
    from rest_framework import generics, views

    from fenxiao.api import base

    schema = SchemaGenerator().get_schema(request=None, public=True)
    base_docs = {inspect.getdoc(cls) for _, cls in inspect.getmembers(base, inspect.isclass)} | {
        inspect.getdoc(views.APIView), inspect.getdoc(generics.GenericAPIView)}
    base_docs.discard(None)
    assert "Sets the tenant from the credential after authentication; resets it after the response." in base_docs
    descriptions = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            text = (operation.get("description") or "").strip()
            assert text, f"{method.upper()} {path} has no description"
            assert text not in base_docs, f"{method.upper()} {path} describes a base view: {text!r}"
            descriptions.setdefault(text, []).append(f"{method.upper()} {path}")
    shared = {text: ops for text, ops in descriptions.items() if len(ops) > 1}
    assert shared == {}, shared
    info = schema["info"]["description"]
    assert "UTF-8" in info and "415" in info and "client_error" in info and "invalid_external_id" in info


def test_the_token_endpoints_keep_simplejwts_documented_shapes(db):
    """fenxiao's subclasses of SimpleJWT's token serializers (tenants.api) are documented as
    SimpleJWT's own: the same component names, the tokens in the answer."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    body = schema["paths"]["/api/v1/auth/staff-token/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TokenObtainPair"}
    pair = components["TokenObtainPair"]["properties"]
    assert {k: v.get("readOnly", False) for k, v in pair.items()} == \
        {"username": False, "password": False, "access": True, "refresh": True}
    body = schema["paths"]["/api/v1/auth/token/refresh/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TokenRefresh"}
    assert {k: v.get("readOnly", False) for k, v in components["TokenRefresh"]["properties"].items()} == \
        {"access": True, "refresh": False}
