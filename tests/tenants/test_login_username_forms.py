"""The login limits key an account on the username as authentication uses it (tenants.login_guard):
every form of one username that logs in as it (spaces around it, full-width or other NFKC
compatibility characters for staff) counts towards one lockout, and none logs in while it is
locked. Found by review: " demo-pm" and "ｄｅｍｏ-pm" were counted apart and logged in during a lock."""
import unicodedata

import pytest
import time_machine
from django.contrib.auth.forms import UsernameField
from django.contrib.auth.models import User
from hypothesis import example, given
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import AccessToken

from tenants.login_guard import STAFF_USERNAME_MAX, staff_account, staff_username
from tenants.models import StaffMembership
from tests.factories import CommitAPIClient, distributor

STAFF_TOKEN = "/api/v1/auth/staff-token/"
TOKEN = "/api/v1/auth/token/"
T0 = "2026-03-02 10:00:05+00:00"
PASSWORD = "pm-pass-12345"

# every one of these authenticates as "demo-pm" (stripped, then NFKC as Django's login form does)
STAFF_VARIANTS = [
    "demo-pm ",                 # trailing space
    " demo-pm",                 # leading space
    "\tdemo-pm\n",              # other whitespace
    "\u3000demo-pm\u00a0",      # ideographic space, no-break space
    "ｄｅｍｏ-pm",              # full-width letters
    "demo－ｐｍ",               # full-width hyphen-minus and letters, mixed with ASCII
    "\U0001d5bdemo-pm",         # MATHEMATICAL SANS-SERIF SMALL D
    " ｄｅｍｏ－ｐｍ\u3000",    # all of it at once
]


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = len(STAFF_VARIANTS)
    settings.LOGIN_FAILURES_PER_ADDRESS = 100
    settings.LOGIN_LOCKOUT_SECONDS = 600
    settings.LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS = 1000
    settings.LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT = 1000
    return settings


@pytest.fixture
def demo_pm(tenant):
    user = User.objects.create_user("demo-pm", password=PASSWORD, is_staff=True)
    StaffMembership.objects.create(user=user, tenant=tenant)
    return user


def staff_token(username, password=PASSWORD, addr="10.0.0.1"):
    return CommitAPIClient().post(STAFF_TOKEN, {"username": username, "password": password}, format="json",
                                  REMOTE_ADDR=addr)


def admin_login(client, username, password=PASSWORD, addr="10.0.0.1"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=addr)


def test_the_variants_are_one_username():
    assert {staff_username(v) for v in STAFF_VARIANTS} == {"demo-pm"}
    assert {staff_account(v) for v in STAFF_VARIANTS} == {staff_account("demo-pm")}
    assert staff_account("Demo-pm") != staff_account("demo-pm")   # Django usernames are case-sensitive
    assert [staff_account(v) for v in (None, "", "  \u3000", 7)] == [None, None, None, None]


def test_staff_token_failures_under_every_form_lock_one_account_and_no_form_logs_in(limits, demo_pm):
    with time_machine.travel(T0, tick=False) as clock:
        for i, variant in enumerate(STAFF_VARIANTS):   # one wrong password per form, each from its own address
            assert staff_token(variant, "wrong", addr=f"10.0.1.{i}").status_code == 401, variant
        for i, variant in enumerate(["demo-pm", *STAFF_VARIANTS]):   # the account is locked under every form
            r = staff_token(variant, addr=f"10.0.2.{i}")
            assert r.status_code == 429 and r["Retry-After"] == "600", (variant, r.content)
        clock.shift(600)
        # the lock over, each form logs in as demo-pm (as it does at the admin login)
        for i, variant in enumerate(STAFF_VARIANTS):
            r = staff_token(variant, addr=f"10.0.3.{i}")
            assert r.status_code == 200, (variant, r.content)
            assert AccessToken(r.json()["access"])["user_id"] == str(demo_pm.pk)


def test_admin_login_failures_under_every_form_lock_one_account_and_no_form_logs_in(limits, demo_pm, client):
    with time_machine.travel(T0, tick=False) as clock:
        for i, variant in enumerate(STAFF_VARIANTS):
            r = admin_login(client, variant, "wrong", addr=f"10.0.1.{i}")
            assert r.status_code == 200 and "_auth_user_id" not in client.session, variant
        for i, variant in enumerate(["demo-pm", *STAFF_VARIANTS]):
            r = admin_login(client, variant, addr=f"10.0.2.{i}")
            assert r.status_code == 429 and "_auth_user_id" not in client.session, variant
            assert staff_token(variant, addr=f"10.0.3.{i}").status_code == 429, variant   # shared with the API
        clock.shift(600)
        r = admin_login(client, STAFF_VARIANTS[-1])
        assert r.status_code == 302 and client.session["_auth_user_id"] == str(demo_pm.pk)


def test_staff_token_and_admin_failures_under_mixed_forms_add_up(limits, demo_pm, client):
    limits.LOGIN_FAILURES_PER_ACCOUNT = 4
    with time_machine.travel(T0, tick=False):
        assert staff_token("ｄｅｍｏ-pm ", "wrong", addr="10.0.4.1").status_code == 401
        assert admin_login(client, " demo-pm", "wrong", addr="10.0.4.2").status_code == 200
        assert staff_token("demo-pm\u3000", "wrong", addr="10.0.4.3").status_code == 401
        assert staff_token("demo-pm", addr="10.0.4.4").status_code == 200   # 3 failures: not yet locked
        assert admin_login(client, "demo－pm", "wrong", addr="10.0.4.5").status_code == 200
        assert staff_token("demo-pm ", addr="10.0.4.6").status_code == 429
        assert admin_login(client, "ｄｅｍｏ-pm", addr="10.0.4.7").status_code == 429


# -- distributors: the token serializer strips; the lookup is exact (no NFKC, case-sensitive) ------------------


@pytest.fixture
def alice(in_tenant):
    return distributor(in_tenant, external_id="alice", password="alice-pass-1")


def distributor_token(username, password="alice-pass-1", addr="10.0.0.1", tenant="acme"):
    return CommitAPIClient().post(TOKEN, {"tenant": tenant, "username": username, "password": password},
                                  format="json", REMOTE_ADDR=addr)


def test_distributor_failures_under_every_form_that_logs_in_lock_one_account(limits, alice):
    """The distributor token keys the gate, the lookup and the failure count on the serializer's
    stripped username (and tenant slug). Forms that are another username to the exact lookup
    (full-width, other case) never log in as alice, locked or not."""
    same = ["alice ", " alice", "\talice\n", "\u3000alice\u00a0"]
    other = ["ａｌｉｃｅ", "Alice", "ALICE", "alıce"]
    limits.LOGIN_FAILURES_PER_ACCOUNT = len(same) + 1
    with time_machine.travel(T0, tick=False) as clock:
        for i, variant in enumerate(other):   # neither logs in nor counts towards alice's account
            assert distributor_token(variant, addr=f"10.0.5.{i}").status_code == 401, variant
            assert distributor_token(variant, "wrong", addr=f"10.0.5.{i}").status_code == 401, variant
        for i, variant in enumerate(same):
            assert distributor_token(variant, "wrong", addr=f"10.0.6.{i}").status_code == 401, variant
        assert distributor_token(" alice ", addr="10.0.6.9").status_code == 200   # 4 failures: not locked
        assert distributor_token("alice\u3000", "wrong", tenant=" acme", addr="10.0.6.10").status_code == 401
        for i, variant in enumerate(["alice", *same]):
            r = distributor_token(variant, addr=f"10.0.7.{i}")
            assert r.status_code == 429 and r["Retry-After"] == "600", variant
        for i, variant in enumerate(other):
            assert distributor_token(variant, addr=f"10.0.8.{i}").status_code == 401, variant
        clock.shift(600)
        assert [distributor_token(v, addr="10.0.9.1").status_code for v in same] == [200] * len(same)


# -- the normaliser: what Django's login form authenticates, and a fixed point ---------------------------------


@given(st.text(max_size=160) | st.text(alphabet=" \t\u3000\u00a0\u00a8\u00b4\u02d8\ufe70ｄemo-pm", max_size=12))
@example("\u00a8demo")        # NFKC gives " \u0308demo": whitespace reappears at the start
@example("demo\u00a0\u00a8")  # and at the end
@example("\ufdfa" * 10)       # 10 characters that NFKC makes 180 (over Django's 150)
def test_staff_username_is_the_login_forms_name_and_a_fixed_point(raw):
    form = UsernameField(max_length=STAFF_USERNAME_MAX).to_python(raw)   # what the admin form authenticates
    name = staff_username(raw)
    assert staff_username(name) == name
    assert staff_username(form) == name   # the gate (raw input) and the counter (form's value) agree
    if form == form.strip():              # any name a user can have (stored stripped and NFKC)
        assert name == form
    if len(raw.strip()) <= STAFF_USERNAME_MAX:
        assert unicodedata.is_normalized("NFKC", name)
