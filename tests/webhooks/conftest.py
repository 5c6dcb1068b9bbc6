"""Fixtures of the webhook tests: a real local HTTP receiver (pytest-httpserver) and a tenant with a
three-level chain (helpers.py has the rest)."""
import pytest

from tenants.context import tenant_context
from tests.factories import chain


@pytest.fixture
def receiver(httpserver):
    """pytest-httpserver's server on 127.0.0.1 (cleared after each test)."""
    return httpserver


@pytest.fixture
def shop(make_tenant, partner_for):
    """Tenant "shop" (10% / 5% / 2%) with the chain C0 <- C1 <- C2 and its partner client."""
    t = make_tenant(slug="shop")
    with tenant_context(t):
        chain(t, 3)
    return t, partner_for(t)

