"""Login abuse (tenants.login_guard): rate limits, lockouts per account and per address, the 429
answer, the admin's lockout page, no username enumeration by timing, strong hashers."""
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher, PBKDF2PasswordHasher
from django.contrib.auth.models import User
from django.utils import translation

from tenants.login_guard import LoginThrottled, refusal_message
from tenants.models import StaffMembership
from tests.factories import CommitAPIClient, distributor

TOKEN = "/api/v1/auth/token/"
STAFF_TOKEN = "/api/v1/auth/staff-token/"
T0 = "2026-03-02 10:00:05+00:00"  # 5 s into a clock minute


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    settings.LOGIN_LOCKOUT_SECONDS = 600
    settings.LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS = 100
    settings.LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT = 100
    return settings


@pytest.fixture
def alice(in_tenant):
    return distributor(in_tenant, external_id="alice", password="alice-pass-1")


def login(username="alice", password="alice-pass-1", addr="10.0.0.1", tenant="acme", **extra):
    return CommitAPIClient().post(TOKEN, {"tenant": tenant, "username": username, "password": password},
                                  format="json", REMOTE_ADDR=addr, **extra)


def staff_login(username, password, addr="10.0.0.1"):
    return CommitAPIClient().post(STAFF_TOKEN, {"username": username, "password": password}, format="json",
                                  REMOTE_ADDR=addr)


def assert_throttled(r, retry_after: int, detail: str):
    assert r.status_code == 429, r.content
    assert r.json() == {"type": "client_error", "errors": [{"code": "throttled", "detail": detail, "attr": None}]}
    assert r["Retry-After"] == str(retry_after)


LOCKED_10_MIN = "Too many failed logins: this account or address is locked. Try again in 10 minutes."


def test_an_account_is_locked_after_n_failures_then_unlocked_after_the_lockout(limits, alice):
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(3):
            assert login(password="wrong").status_code == 401
        # the right password is refused too while the account is locked: 429, nothing issued
        assert_throttled(login(), 600, LOCKED_10_MIN)
        clock.shift(599)
        assert_throttled(login(), 1, "Too many failed logins: this account or address is locked. Try again in 1 minute.")
        clock.shift(1)
        r = login()
        assert r.status_code == 200 and set(r.json()) == {"access", "refresh"}


def test_an_account_is_locked_by_failures_from_many_addresses(limits, alice):
    with time_machine.travel(T0, tick=False):
        for i in range(3):
            assert login(password="wrong", addr=f"10.0.1.{i}").status_code == 401
        assert_throttled(login(addr="10.0.9.9"), 600, LOCKED_10_MIN)     # a fourth, fresh address
        # another tenant's distributor with the same username is another account
        assert login(tenant="other", addr="10.0.9.9").status_code == 401


def test_an_address_is_locked_by_failures_across_many_accounts(limits, alice):
    with time_machine.travel(T0, tick=False):
        for i in range(5):
            assert login(username=f"nobody{i}", password="x", addr="10.0.0.7").status_code == 401
        assert_throttled(login(addr="10.0.0.7"), 600, LOCKED_10_MIN)     # alice from that address: refused
        assert login(addr="10.0.0.8").status_code == 200                  # alice elsewhere: fine


def test_a_successful_login_resets_no_counter(limits, alice, in_tenant):
    """An attacker cannot interleave: neither the victim's login nor the attacker's own clears the
    failures counted so far."""
    distributor(in_tenant, external_id="mallory", password="mallory-pass-1")
    with time_machine.travel(T0, tick=False):
        # two guesses on alice's account from the attacker's address, then alice logs in elsewhere
        for _ in range(2):
            assert login(password="guess", addr="10.6.6.6").status_code == 401
        assert login(addr="10.0.0.1").status_code == 200
        assert login(password="guess", addr="10.6.6.6").status_code == 401   # the third failure locks
        assert login(addr="10.0.0.1").status_code == 429
        # the attacker's address: 3 failures so far; logging in to its own account clears nothing
        assert login(username="mallory", password="mallory-pass-1", addr="10.6.6.6").status_code == 200
        for i in range(2):
            assert login(username=f"x{i}", password="guess", addr="10.6.6.6").status_code == 401
        assert login(username="mallory", password="mallory-pass-1", addr="10.6.6.6").status_code == 429


def test_attempts_per_minute_per_address_and_per_account(settings, alice):
    settings.LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS = 4
    settings.LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT = 2
    with time_machine.travel(T0, tick=False) as clock:
        assert [login(addr="10.0.0.1").status_code for _ in range(2)] == [200, 200]
        # the account's third attempt this minute, even from another address and right
        assert_throttled(login(addr="10.0.0.2"), 55, "Too many login attempts. Try again in 55 seconds.")
        assert [login(username=f"u{i}", addr="10.0.0.1").status_code for i in range(2)] == [401, 401]
        r = login(username="u9", addr="10.0.0.1")   # the address's fifth attempt
        assert r.status_code == 429 and r["Retry-After"] == "55"
        clock.shift(55)                              # the next minute
        assert login(addr="10.0.0.1").status_code == 200


def test_x_forwarded_for_is_ignored_without_a_proxy_and_read_from_the_right_behind_one(limits, alice, settings):
    with time_machine.travel(T0, tick=False):
        for i in range(5):   # a client writing its own X-Forwarded-For stays one address (REMOTE_ADDR)
            login(username=f"n{i}", password="x", addr="10.0.0.7", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}")
        assert login(addr="10.0.0.7", HTTP_X_FORWARDED_FOR="9.9.9.9").status_code == 429
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    with time_machine.travel(T0, tick=False):
        # behind one proxy (REMOTE_ADDR is the proxy): the address it appended, not what the client wrote
        for i in range(5):
            login(username=f"m{i}", password="x", addr="172.16.0.1", HTTP_X_FORWARDED_FOR=f"6.6.6.{i}, 10.1.1.1")
        assert login(addr="172.16.0.1", HTTP_X_FORWARDED_FOR="7.7.7.7, 10.1.1.1").status_code == 429
        assert login(addr="172.16.0.1", HTTP_X_FORWARDED_FOR="10.1.1.1, 10.1.1.2").status_code == 200


def test_bad_bodies_are_400_and_count_nothing(limits, alice):
    with time_machine.travel(T0, tick=False):
        for _ in range(6):
            r = login(username="", password="")
            assert r.status_code == 400 and r.json()["type"] == "validation_error"
        assert login().status_code == 200


# -- staff: token endpoint and admin login share one account --------------------------------------------------


@pytest.fixture
def pm(tenant):
    user = User.objects.create_user("pm", password="pm-pass-12345", is_staff=True)
    StaffMembership.objects.create(user=user, tenant=tenant)
    return user


def test_staff_token_lockout(limits, pm):
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            r = staff_login("pm", "wrong")
            assert r.status_code == 401 and r.json()["errors"][0]["code"] == "no_active_account"
        assert_throttled(staff_login("pm", "pm-pass-12345"), 600, LOCKED_10_MIN)
        assert staff_login("other", "x", addr="10.0.0.2").status_code == 401


def test_admin_login_failures_lock_the_staff_token_and_the_page_says_so_in_chinese_and_english(limits, pm, client):
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            r = client.post("/admin/login/", {"username": "pm", "password": "wrong"}, REMOTE_ADDR="10.0.0.3")
            assert r.status_code == 200 and not r.wsgi_request.user.is_authenticated
        r = client.post("/admin/login/", {"username": "pm", "password": "pm-pass-12345"}, REMOTE_ADDR="10.0.0.3")
        assert r.status_code == 429 and r["Retry-After"] == "600"
        page = r.content.decode()
        assert "登录失败次数过多，该账号或地址已被暂时锁定，请在 10 分钟后重试。" in page
        assert LOCKED_10_MIN in page
        assert "_auth_user_id" not in client.session
        # the same account through the API, from another address
        assert staff_login("pm", "pm-pass-12345", addr="10.0.0.4").status_code == 429


def test_admin_login_still_logs_in(limits, pm, client):
    r = client.post("/admin/login/?next=/admin/", {"username": "pm", "password": "pm-pass-12345"})
    assert r.status_code == 302 and client.session["_auth_user_id"] == str(pm.pk)


def test_refusal_messages_in_both_languages():
    with translation.override("zh-hans"):
        assert refusal_message("rate", 30) == "登录尝试过于频繁，请在 30 秒后重试。"
        assert refusal_message("locked", 61) == "登录失败次数过多，该账号或地址已被暂时锁定，请在 2 分钟后重试。"
    with translation.override("en"):
        assert refusal_message("rate", 1) == "Too many login attempts. Try again in 1 second."
        assert str(LoginThrottled(wait=60, reason="locked").detail) == \
            "Too many failed logins: this account or address is locked. Try again in 1 minute."


# -- no enumeration by timing: one run of the hasher whatever is wrong --------------------------------------


def hasher_runs(fn) -> int:
    with mock.patch.object(MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode) as enc:
        fn()
    return enc.call_count


def test_every_wrong_distributor_credential_costs_one_hash(alice, in_tenant):
    from distributors.models import Distributor
    from distributors.services import distributor_status_step

    distributor(in_tenant, external_id="nopass", password="")
    gone = distributor(in_tenant, external_id="gone", password="gone-pass-1")
    distributor_status_step(distributor=gone, action="disable", reason="test", actor="test")
    assert Distributor.objects.get(external_id="gone").status == "disabled"
    cases = {
        "unknown tenant": dict(tenant="nope"),
        "unknown username": dict(username="bob"),
        "no password set": dict(username="nopass", password="anything"),
        "disabled": dict(username="gone", password="gone-pass-1"),
        "wrong password": dict(password="wrong"),
    }
    for name, kw in cases.items():
        responses = []
        assert hasher_runs(lambda: responses.append(login(**kw))) == 1, name
        assert responses[0].status_code == 401, name
    assert hasher_runs(lambda: login()) == 1


def test_every_wrong_staff_credential_costs_one_hash(pm):
    User.objects.create_user("idle", password="idle-pass-12345", is_staff=True, is_active=False)
    for username, password in [("nobody", "x"), ("pm", "wrong"), ("idle", "idle-pass-12345")]:
        assert hasher_runs(lambda: staff_login(username, password)) == 1, username


def test_the_product_hashes_passwords_strongly():
    """The tests use MD5 for speed (conftest); the product's settings keep Django's default list,
    PBKDF2-SHA256 first with Django's iteration count (1,000,000 in Django 5.2)."""
    import importlib

    from django.conf import global_settings

    product = importlib.import_module("fenxiao.settings")
    hashers = getattr(product, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)
    assert hashers[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    assert "MD5PasswordHasher" not in " ".join(hashers)
    assert PBKDF2PasswordHasher.iterations >= 1_000_000


class FastPBKDF2(PBKDF2PasswordHasher):
    iterations = 1000  # PBKDF2 as the product uses it, cheap enough for a test


def test_a_weak_stored_distributor_hash_is_upgraded_on_the_next_right_login(settings, alice):
    from django.contrib.auth.hashers import make_password

    from distributors.models import Distributor

    Distributor.unscoped.filter(pk=alice.pk).update(password=make_password("alice-pass-1"))  # MD5
    settings.PASSWORD_HASHERS = [f"{__name__}.FastPBKDF2", "django.contrib.auth.hashers.MD5PasswordHasher"]
    assert login(password="wrong").status_code == 401
    assert Distributor.unscoped.get(pk=alice.pk).password.startswith("md5$")
    assert login().status_code == 200
    assert Distributor.unscoped.get(pk=alice.pk).password.startswith("pbkdf2_sha256$1000$")
    assert login().status_code == 200
