"""A staff token's user, membership, tenant and permissions are read fresh on every request
(tenants.authentication.staff_user: one raw statement): what changes in
the database between two requests decides the second one, and each refusal answers as
SimpleJWT's and Django's own checks did."""
from django.contrib.auth.models import Group, Permission, User

from tenants.models import StaffMembership
from tests.factories import CommitAPIClient

PASSWORD = "pw-12345678"


def token_client(username):
    token = CommitAPIClient().post("/api/v1/auth/staff-token/", {"username": username, "password": PASSWORD},
                                   format="json").json()["access"]
    api = CommitAPIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def make_staff(tenant, username, *codenames):
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    StaffMembership.objects.create(user=user, tenant=tenant)
    return user


def error(r):
    return r.status_code, r.json()["errors"][0]["code"]


def test_a_deleted_or_deactivated_user_is_refused_on_the_next_request(tenant):
    gone, off = make_staff(tenant, "gone", "view_tenant"), make_staff(tenant, "off", "view_tenant")
    a, b = token_client("gone"), token_client("off")
    assert a.get("/api/v1/admin/tenant/").status_code == b.get("/api/v1/admin/tenant/").status_code == 200
    gone.delete()
    off.is_active = False
    off.save()
    assert error(a.get("/api/v1/admin/tenant/")) == (401, "user_not_found")
    assert error(b.get("/api/v1/admin/tenant/")) == (401, "user_inactive")


def test_the_membership_decides_the_tenant_on_every_request(tenant, make_tenant):
    user = make_staff(tenant, "mover", "view_tenant")
    api = token_client("mover")
    assert api.get("/api/v1/admin/tenant/").json()["slug"] == tenant.slug
    other = make_tenant(slug="other")
    StaffMembership.objects.filter(user=user).update(tenant=other)
    assert api.get("/api/v1/admin/tenant/").json()["slug"] == "other"
    StaffMembership.objects.filter(user=user).delete()   # staff of no tenant
    assert error(api.get("/api/v1/admin/tenant/")) == (403, "permission_denied")


def test_own_and_group_permissions_count_and_a_revoked_one_at_once(tenant):
    user = make_staff(tenant, "grouped")
    api = token_client("grouped")
    assert error(api.get("/api/v1/admin/tenant/")) == (403, "permission_denied")
    viewers = Group.objects.create(name="viewers")
    viewers.permissions.add(Permission.objects.get(codename="view_tenant"))
    user.groups.add(viewers)
    assert api.get("/api/v1/admin/tenant/").status_code == 200            # through the group
    user.groups.remove(viewers)
    assert api.get("/api/v1/admin/tenant/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_tenant"))
    assert api.get("/api/v1/admin/tenant/").status_code == 200            # its own
    user.user_permissions.clear()
    assert api.get("/api/v1/admin/tenant/").status_code == 403


def test_a_superuser_member_needs_no_permission_rows(tenant):
    boss = User.objects.create_superuser("boss", password=PASSWORD)
    StaffMembership.objects.create(user=boss, tenant=tenant)
    assert token_client("boss").get("/api/v1/admin/tenant/").status_code == 200


def test_a_staff_token_reads_its_user_with_membership_tenant_and_permissions_in_one_query(
        tenant, django_assert_num_queries):
    make_staff(tenant, "counted", "view_tenant")
    api = token_client("counted")
    with django_assert_num_queries(1):
        assert api.get("/api/v1/admin/tenant/").status_code == 200


def test_a_console_session_gets_its_permissions_fresh_too(tenant):
    """A staff user signed in to the console (a session, no token) calling the staff API: its
    permissions come from one raw statement (tenants.authentication.load_permissions), read on
    every request."""
    from django.test import Client

    user = make_staff(tenant, "console-user")
    browser = Client()
    browser.force_login(user)
    assert browser.get("/api/v1/admin/tenant/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_tenant"))
    assert browser.get("/api/v1/admin/tenant/").json()["slug"] == tenant.slug
    user.user_permissions.clear()
    assert browser.get("/api/v1/admin/tenant/").status_code == 403
