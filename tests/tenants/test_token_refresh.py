"""POST /api/v1/auth/token/refresh/ (tenants.api.TokenRefreshView): a refresh token mints an access
token only for a holder who could use it. Found by review: a disabled distributor's refresh token
still minted access tokens (refused only when used)."""
import pytest
from django.contrib.auth.models import User
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from distributors.services import distributor_status_step
from tenants.api import distributor_tokens
from tenants.models import StaffMembership, Tenant
from tests.factories import CommitAPIClient, distributor

REFRESH = "/api/v1/auth/token/refresh/"
REFUSED = {"type": "client_error", "errors": [{"code": "authentication_failed",
                                               "detail": "Distributor not found or disabled.", "attr": None}]}


def refresh(token):
    return CommitAPIClient().post(REFRESH, {"refresh": str(token)}, format="json")


def me(access):
    client = CommitAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/v1/me/")


@pytest.fixture
def alice(in_tenant):
    return distributor(in_tenant, external_id="alice", password="alice-pass-1")


def test_an_active_distributors_refresh_mints_a_working_access_token_in_one_query(alice, django_assert_num_queries):
    tokens = distributor_tokens(alice)
    with django_assert_num_queries(1):   # the distributor and its tenant, read fresh
        r = refresh(tokens["refresh"])
    assert r.status_code == 200 and set(r.json()) == {"access"}
    access = AccessToken(r.json()["access"])
    assert (access["tenant_id"], access["distributor_id"]) == (alice.tenant_id, alice.pk)
    assert me(r.json()["access"]).json()["external_id"] == "alice"


def test_a_disabled_distributors_refresh_token_mints_nothing(alice):
    tokens = distributor_tokens(alice)
    distributor_status_step(distributor=alice, action="disable", reason="test", actor="test")
    r = refresh(tokens["refresh"])
    assert r.status_code == 401 and r.json() == REFUSED
    assert r["WWW-Authenticate"] == 'Bearer realm="api"'
    assert me(tokens["access"]).status_code == 401   # as its access token is refused


def test_a_frozen_distributor_refreshes_as_it_uses_the_portal(alice):
    """Freezing stops earning and withdrawing, not the portal: its access tokens work, so does refresh."""
    tokens = distributor_tokens(alice)
    frozen = distributor_status_step(distributor=alice, action="freeze", reason="test", actor="test")
    assert frozen.status == "frozen"
    r = refresh(tokens["refresh"])
    assert r.status_code == 200 and me(r.json()["access"]).status_code == 200


def test_an_inactive_tenants_distributor_refresh_token_mints_nothing(alice, in_tenant):
    tokens = distributor_tokens(alice)
    Tenant.objects.filter(pk=in_tenant.pk).update(is_active=False)   # a superuser's admin edit
    r = refresh(tokens["refresh"])
    assert r.status_code == 401 and r.json() == REFUSED


def test_a_deleted_distributors_or_a_forged_claims_refresh_token_mints_nothing(alice, in_tenant, make_tenant):
    other = make_tenant(slug="other")
    moved = RefreshToken()
    moved["tenant_id"], moved["distributor_id"] = other.pk, alice.pk    # signed, but not this tenant's distributor
    assert refresh(moved).json() == REFUSED
    garbled = RefreshToken()
    garbled["tenant_id"], garbled["distributor_id"] = in_tenant.pk, "x"
    r = refresh(garbled)
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "token_not_valid"
    gone = RefreshToken()
    gone["tenant_id"], gone["distributor_id"] = in_tenant.pk, alice.pk + 1000
    assert refresh(gone).status_code == 401
    bad = refresh("not-a-token")
    assert bad.status_code == 401 and bad.json()["errors"][0]["code"] == "token_not_valid"


@pytest.fixture
def pm(tenant):
    user = User.objects.create_user("pm", password="pm-pass-12345", is_staff=True)
    StaffMembership.objects.create(user=user, tenant=tenant)
    return user


def test_staff_refresh_tokens_of_active_inactive_and_deleted_users(pm):
    token = RefreshToken.for_user(pm)
    r = refresh(token)
    assert r.status_code == 200 and AccessToken(r.json()["access"])["user_id"] == str(pm.pk)
    User.objects.filter(pk=pm.pk).update(is_active=False)
    r = refresh(token)
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "no_active_account"
    pm.delete()
    r = refresh(token)   # SimpleJWT alone: User.DoesNotExist, a 500
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "no_active_account"
