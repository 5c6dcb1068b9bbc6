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
