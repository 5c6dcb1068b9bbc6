"""The portal's login, session and account pages (issue 14 item 5): the API's credentials and login
guard, a session rotated at login and ended by POST only, CSRF on every form, a session that ends
when the password changes elsewhere or the distributor is disabled, one tenant per session;
joining through an invite link (bound under the right upline, per bind_mode); password change
and the one-time reset link (used twice or expired: a clear message, nothing written)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from distributors.models import Distributor
from tenants.context import tenant_context
from tests.portal.conftest import NOW, PASSWORD, login

pytestmark = pytest.mark.django_db


def test_a_page_without_login_goes_to_the_login_page_and_back_after_it(client, people):
    r = client.get("/portal/acme/team/?level=2")
    assert r.status_code == 302 and r["Location"] == "/portal/acme/login/?next=%2Fportal%2Facme%2Fteam%2F%3Flevel%3D2"
    page = client.get(r["Location"])
    assert page.status_code == 200 and 'name="next" value="/portal/acme/team/?level=2"' in page.content.decode()
    r = client.post("/portal/acme/login/", {"username": "alice", "password": PASSWORD, "next": "/portal/acme/team/?level=2"})
    assert r.status_code == 302 and r["Location"] == "/portal/acme/team/?level=2"
    # a next outside this programme's portal is ignored
    client.post("/portal/acme/logout/")
    r = client.post("/portal/acme/login/", {"username": "alice", "password": PASSWORD, "next": "https://evil.example/x"})
    assert r["Location"] == "/portal/acme/"
    client.post("/portal/acme/logout/")
    r = client.post("/portal/acme/login/", {"username": "alice", "password": PASSWORD, "next": "/portal/other/"})
    assert r["Location"] == "/portal/acme/"


def test_wrong_credentials_say_so_once_and_log_nobody_in(client, people):
    for username, password in (("alice", "wrong-password"), ("nobody", PASSWORD), ("", "")):
        r = login(client, "acme", username, password)
        assert r.status_code == 400
    assert "Wrong username or password." in login(client, "acme", "alice", "nope").content.decode()
    assert "_portal_distributor" not in client.session
    assert client.get("/portal/acme/").status_code == 302


def test_login_rotates_the_session_and_logout_is_a_post(client, people):
    client.get("/portal/acme/login/")
    client.session.save()
    before = client.cookies["sessionid"].value
    assert login(client, "acme", "alice").status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    assert client.get("/portal/acme/").status_code == 200
    assert client.get("/portal/acme/logout/").status_code == 405        # a link cannot log anyone out
    assert client.get("/portal/acme/").status_code == 200
    r = client.post("/portal/acme/logout/")
    assert r.status_code == 302 and r["Location"] == "/portal/acme/login/"
    assert client.cookies["sessionid"].value != after
    assert client.get("/portal/acme/").status_code == 302


def test_every_form_needs_its_csrf_token(people):
    browser = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
    page = browser.get("/portal/acme/login/")
    assert browser.post("/portal/acme/login/", {"username": "alice", "password": PASSWORD}).status_code == 403
    token = page.cookies["csrftoken"].value
    r = browser.post("/portal/acme/login/", {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert r.status_code == 302
    assert browser.cookies["csrftoken"].value != token                 # a new token with the login
    # logged in (the token rotates with the login): the withdrawal form without a token is refused
    assert browser.post("/portal/acme/withdrawals/", {"amount": "10.00", "method": "alipay", "account": "a"}).status_code == 403
    assert browser.post("/portal/acme/logout/").status_code == 403


def test_the_login_guard_of_the_api_limits_the_page_too(client, people, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        assert login(client, "acme", "alice", "bad-guess-1").status_code == 400
    r = login(client, "acme", "alice")                  # even the right password: locked out
    assert r.status_code == 429
    assert "Too many failed logins" in r.content.decode()
    assert "_portal_distributor" not in client.session
    # the API's token endpoint counts the same account
    api = client.post("/api/v1/auth/token/", {"tenant": "acme", "username": "alice", "password": PASSWORD},
                      content_type="application/json")
    assert api.status_code == 429


def test_a_password_changed_elsewhere_or_a_disabled_distributor_ends_the_session(client, people, acme):
    from distributors.services import distributor_set_password, distributor_update

    alice = people["alice"]
    assert login(client, "acme", "alice").status_code == 302
    with tenant_context(acme):
        distributor_set_password(distributor=alice, password="another-pass-77")
    assert client.get("/portal/acme/").status_code == 302
    assert login(client, "acme", "alice", "another-pass-77").status_code == 302
    assert client.get("/portal/acme/").status_code == 200
    with tenant_context(acme):
        distributor_update(distributor=Distributor.objects.get(pk=alice.pk), status="disabled", reason="left")
    assert client.get("/portal/acme/").status_code == 302
    assert login(client, "acme", "alice", "another-pass-77").status_code == 400   # as the API refuses it


def test_a_session_belongs_to_its_programme(client, people, other):
    assert login(client, "other", "mallory").status_code == 302
    assert client.get("/portal/other/").status_code == 200
    r = client.get("/portal/acme/")
    assert r.status_code == 302 and r["Location"].startswith("/portal/acme/login/")
    assert client.get("/portal/nosuch/").status_code == 404
    assert login(client, "acme", "mallory").status_code == 400    # usernames are per programme


def test_pages_speak_chinese_first_and_english_on_request(people, settings):
    settings.LANGUAGE_CODE = "zh-hans"          # the product's fallback (tests/settings.py says en)
    client = Client()
    r = client.get("/portal/acme/login/")
    assert r["Content-Language"] == "zh-hans" and '<html lang="zh-hans">' in r.content.decode()
    r = client.get("/portal/acme/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert r["Content-Language"] == "en" and "Log in" in r.content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/portal/acme/login/"})
    r = client.get("/portal/acme/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert r["Content-Language"] == "zh-hans"                   # the chooser's choice wins


def test_pages_are_not_cached(as_alice):
    r = as_alice.get("/portal/acme/")
    assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"]


# --- joining through an invite link --------------------------------------------------------------

def join(client, code, username="newbie", **extra):
    body = {"invite_code": code, "name": "新人小王", "phone": "13800000000", "username": username,
            "password": "tulip-sunrise-88", "password2": "tulip-sunrise-88", **extra}
    return client.post(f"/portal/acme/join/?code={code}", body)


def test_registering_through_the_invite_link_binds_the_newcomer_under_the_inviter(client, people, acme):
    bob = people["bob"]
    page = client.get(f"/portal/acme/join/?code={bob.invite_code.lower()}")
    assert page.status_code == 200 and "B****i" in page.content.decode()     # the inviter, masked
    r = join(client, bob.invite_code)
    assert r.status_code == 302 and r["Location"] == "/portal/acme/?welcome=1"
    with tenant_context(acme):
        newbie = Distributor.objects.get(external_id="newbie")
        assert (newbie.username, newbie.name, newbie.phone, newbie.status) == ("newbie", "新人小王", "13800000000", "active")
        assert (newbie.parent_id, newbie.ancestor_2_id, newbie.ancestor_3_id) == (bob.pk, people["alice"].pk, None)
        assert Distributor.objects.get(pk=bob.pk).downline_count_1 == 2
    assert client.get("/portal/acme/").status_code == 200               # logged in at once
    assert login(Client(headers={"Accept-Language": "en"}), "acme", "newbie", "tulip-sunrise-88").status_code == 302


@pytest.mark.parametrize("change, attr, message", [
    ({"username": "alice"}, "username", "This username is taken: choose another."),
    ({"username": "two words"}, "username", 'A username has at most 64 characters, without spaces or "/".'),
    ({"name": "  "}, "name", "Give your name."),
    ({"password": "12345678901", "password2": "12345678901"}, "password", "This password is entirely numeric."),
    ({"password2": "something-else-9"}, "password2", "The two passwords differ."),
])
def test_a_refused_registration_says_why_and_writes_nothing(client, people, acme, change, attr, message):
    before = Distributor.unscoped.count()
    r = join(client, people["bob"].invite_code, **change)
    assert r.status_code == 400
    assert message in r.content.decode().replace("&quot;", '"')
    assert Distributor.unscoped.count() == before
    assert "_portal_distributor" not in client.session


def test_an_unknown_invite_code_is_refused(client, people):
    before = Distributor.unscoped.count()
    r = join(client, "NOPE2345")
    assert r.status_code == 400 and "No distributor has this invite code." in r.content.decode()
    assert Distributor.unscoped.count() == before


def test_under_application_enrollment_the_newcomer_waits_for_approval(client, people, acme):
    from tenants.services import tenant_update

    tenant_update(tenant=acme, enrollment="application")
    r = join(client, people["bob"].invite_code)
    assert r.status_code == 200 and 'id="join-pending"' in r.content.decode()
    with tenant_context(acme):
        newbie = Distributor.objects.get(external_id="newbie")
    assert (newbie.status, newbie.parent_id) == ("pending", people["bob"].pk)
    assert "_portal_distributor" not in client.session


def test_a_logged_in_distributor_joins_a_team_as_the_bind_mode_allows(client, people, acme):
    eve, alice = people["eve"], people["alice"]
    assert login(client, "acme", "eve").status_code == 302
    page = client.get(f"/portal/acme/join/?code={alice.invite_code}")
    assert 'name="action" value="bind"' in page.content.decode()
    r = client.post(f"/portal/acme/join/?code={alice.invite_code}", {"invite_code": alice.invite_code, "action": "bind"})
    assert r.status_code == 200 and 'id="join-bound"' in r.content.decode()
    with tenant_context(acme):
        assert Distributor.objects.get(pk=eve.pk).parent_id == alice.pk     # when_unbound: eve had none
    # bound now: another team's code is refused (when_unbound), nothing changes
    bob = people["bob"]
    r = client.post(f"/portal/acme/join/?code={bob.invite_code}", {"invite_code": bob.invite_code, "action": "bind"})
    assert r.status_code == 409 and "already bound" in r.content.decode()
    with tenant_context(acme):
        assert Distributor.objects.get(pk=eve.pk).parent_id == alice.pk


def test_joining_my_own_team_is_refused(client, people, acme):
    from tenants.services import tenant_update

    tenant_update(tenant=acme, bind_mode="always")
    assert login(client, "acme", "alice").status_code == 302
    carol = people["carol"]
    r = client.post(f"/portal/acme/join/?code={carol.invite_code}", {"invite_code": carol.invite_code, "action": "bind"})
    assert r.status_code == 400 and "own ancestor" in r.content.decode()
    with tenant_context(acme):
        assert Distributor.objects.get(pk=people["alice"].pk).parent_id is None


# --- passwords -----------------------------------------------------------------------------------

def test_i_change_my_password_and_my_other_sessions_end(client, people):
    other_phone = Client(headers={"Accept-Language": "en"})
    assert login(client, "acme", "alice").status_code == 302
    assert login(other_phone, "acme", "alice").status_code == 302
    r = client.post("/portal/acme/password/", {"old_password": "wrong", "new_password": "lotus-garden-55",
                                               "new_password2": "lotus-garden-55"})
    assert r.status_code == 400 and "The current password is wrong." in r.content.decode()
    r = client.post("/portal/acme/password/", {"old_password": PASSWORD, "new_password": "lotus-garden-55",
                                               "new_password2": "lotus-garden-55"})
    assert r.status_code == 200 and 'id="password-done"' in r.content.decode()
    assert client.get("/portal/acme/").status_code == 200                 # this one stays
    assert other_phone.get("/portal/acme/").status_code == 302            # the other one ended
    assert login(Client(headers={"Accept-Language": "en"}), "acme", "alice", "lotus-garden-55").status_code == 302


def issue_reset(acme, who, hours=24):
    from relations.services import password_reset_issue

    with tenant_context(acme):
        _reset, token, link = password_reset_issue(distributor=who, hours=hours, actor="pm")
    return token, link


def test_a_reset_link_sets_a_new_password_once(client, people, acme):
    token, link = issue_reset(acme, people["bob"])
    assert link.endswith(f"/portal/acme/reset/?token={token}")
    page = client.get(f"/portal/acme/reset/?token={token}")
    assert page.status_code == 200 and 'name="token"' in page.content.decode()
    new = {"token": token, "new_password": "maple-harbour-31", "new_password2": "maple-harbour-31"}
    r = client.post("/portal/acme/reset/", new)
    assert r.status_code == 200 and 'id="reset-done"' in r.content.decode()
    assert login(Client(headers={"Accept-Language": "en"}), "acme", "bob", "maple-harbour-31").status_code == 302
    with tenant_context(acme):
        hashed = Distributor.objects.get(pk=people["bob"].pk).password
    again = client.post("/portal/acme/reset/", {**new, "new_password": "other-words-77", "new_password2": "other-words-77"})
    assert again.status_code == 400 and "This reset link has been used already." in again.content.decode()
    with tenant_context(acme):
        assert Distributor.objects.get(pk=people["bob"].pk).password == hashed     # nothing written


def test_an_expired_reset_link_is_refused(client, people, acme, clock):
    token, _link = issue_reset(acme, people["bob"], hours=1)
    clock.move_to(NOW + timedelta(hours=1, seconds=1))
    r = client.post("/portal/acme/reset/", {"token": token, "new_password": "maple-harbour-31",
                                            "new_password2": "maple-harbour-31"})
    assert r.status_code == 400 and "This reset link has expired: ask for a new one." in r.content.decode()
    assert login(Client(headers={"Accept-Language": "en"}), "acme", "bob").status_code == 302                      # the old password stands


def test_the_portal_root_asks_for_the_programme_code(client, people):
    assert client.get("/portal/").status_code == 200
    r = client.get("/portal/", {"tenant": " ACME "})
    assert r.status_code == 302 and r["Location"] == "/portal/acme/login/"
    r = client.get("/portal/", {"tenant": "nosuch"})
    assert r.status_code == 404 and "No programme has this code." in r.content.decode()


def test_sign_ups_from_one_address_are_limited_per_minute(people, acme, settings):
    """JOIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS (here 3) sign-up attempts per client address and clock
    minute, right or wrong: the next one is refused on the form (429) and writes nothing; another
    address still signs up, and the next minute the first one may again."""
    import time_machine

    settings.JOIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS = 3
    code = people["bob"].invite_code
    before = Distributor.unscoped.count()
    with time_machine.travel("2026-06-01T10:00:05+00:00", tick=False) as clock:
        one = Client(REMOTE_ADDR="203.0.113.7", headers={"Accept-Language": "en"})
        assert [join(one, code, username=f"u{i}", password2="nope-differs").status_code for i in range(3)] == [400] * 3
        r = join(one, code, username="spam")
        assert r.status_code == 429
        assert "Too many sign-ups from this network. Try again in 55 seconds." in r.content.decode()
        assert Distributor.unscoped.count() == before
        other = Client(REMOTE_ADDR="198.51.100.9")
        assert join(other, code, username="fine").status_code == 302
        zh = Client(REMOTE_ADDR="203.0.113.7", headers={"Accept-Language": "zh-hans"})
        r = join(zh, code, username="spam2")
        assert r.status_code == 429 and "来自此网络的注册过于频繁，请 55 秒后再试。" in r.content.decode()
        clock.move_to("2026-06-01T10:01:00+00:00")
        assert join(one, code, username="later").status_code == 302
    assert Distributor.unscoped.count() == before + 2
