"""Login abuse protection for the distributor token endpoint, the staff token endpoint and the admin
login (README "Login limits").

Before a password is checked, `login_gate` counts the attempt and may refuse it (429 in the
contract's error shape with Retry-After, or the admin's lockout page):

- rate: at most LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS attempts per client address and
  LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT per account in each clock minute, right or wrong;
- lockout: after LOGIN_FAILURES_PER_ACCOUNT wrong passwords for one account (from any number of
  addresses), that account is locked; after LOGIN_FAILURES_PER_ADDRESS wrong passwords from one
  address (across any number of accounts), that address is locked. Failures are counted over
  LOGIN_LOCKOUT_SECONDS from the first one; a lockout lasts LOGIN_LOCKOUT_SECONDS.

A successful login resets nothing: an attacker who owns one account cannot clear the failures
its guesses left on its address (or on anyone's account) by logging in between guesses, and a
victim's login does not give an attacker a fresh set of guesses. Counters live in the shared
Django cache (fenxiao.ratelimit), so every gunicorn worker and host sees the same numbers.

An account is "d:<tenant slug>/<username>" for a distributor (usernames are per tenant) and
"s:<username>" for a Django user (the staff token and the admin login share it). Wrong staff
passwords are counted from Django's `user_login_failed` signal, which `authenticate()` sends for
both the admin form and the staff token endpoint; distributors are counted by their endpoint.

The account is always keyed on the username as authentication will look it up, never on the raw
input: otherwise " pm", "pm " or the full-width "ｐｍ" (which Django's login form strips and
NFKC-normalises to "pm") would be counted and locked apart from "pm" while logging in as it. Staff
names go through `staff_username` at the gate, at the staff token endpoint's authentication and in
the failure counter; a distributor's username is the token serializer's (stripped) value, the one
`distributor_authenticate` looks up exactly, used for the gate, the lookup and the counter alike.
"""
from __future__ import annotations

import math
import time
import unicodedata

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework import exceptions

from fenxiao.ratelimit import cache, client_address, counter_incr, digest

RATE_WINDOW = 60  # seconds: the per-minute attempt counters


class LoginThrottled(exceptions.Throttled):
    """429 {"type": "client_error", "errors": [{"code": "throttled", ...}]} with Retry-After.
    `reason` is "locked" (too many failures) or "rate" (too many attempts this minute)."""

    default_code = "throttled"

    def __init__(self, *, wait: int, reason: str):
        self.reason = reason
        self.wait = wait
        # APIException's constructor: DRF's Throttled would append its own English "Expected available in ..."
        exceptions.APIException.__init__(self, detail=refusal_message(reason, wait))


def refusal_message(reason: str, wait: int) -> str:
    """The refusal in the active language (zh-hans catalogue in tenants/locale)."""
    if reason == "locked":
        minutes = max(1, math.ceil(wait / 60))
        return ngettext(
            "Too many failed logins: this account or address is locked. Try again in %(minutes)d minute.",
            "Too many failed logins: this account or address is locked. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    return ngettext(
        "Too many login attempts. Try again in %(seconds)d second.",
        "Too many login attempts. Try again in %(seconds)d seconds.",
        wait,
    ) % {"seconds": wait}


LOCKOUT_TITLE = _("Login temporarily refused")


def distributor_account(tenant_slug: str, username: str) -> str:
    """The lockout account of a distributor login (usernames are unique per tenant only)."""
    return "d:" + digest(tenant_slug, username)


STAFF_USERNAME_MAX = 150  # django.contrib.auth User.username's max_length: longer input never authenticates


def staff_username(raw: str) -> str:
    """The Django username that a login with `raw` authenticates as: stripped and NFKC-normalised as
    Django's login form does (AuthenticationForm's UsernameField; users are stored NFKC-normalised
    by AbstractBaseUser.normalize_username), e.g. " ｄｅｍｏ-pm " -> "demo-pm". The staff token
    endpoint authenticates this form too. Input longer than STAFF_USERNAME_MAX after stripping is
    only stripped (as Django does: never normalised, never authenticated).

    Idempotent (a fixed point: staff_username(staff_username(x)) == staff_username(x)), so the gate,
    which sees the raw input, and the failure counter, which sees the form's cleaned value, compute
    the same account whatever was typed."""
    name = raw.strip()
    if len(name) > STAFF_USERNAME_MAX:
        return name
    name = unicodedata.normalize("NFKC", name)
    # NFKC can leave whitespace at an end (U+00A8 DIAERESIS -> " \u0308"): strip again until stable;
    # each round is strictly shorter, so this ends
    return name if name == name.strip() else staff_username(name)


def staff_account(username) -> str | None:
    """The lockout account of a Django user (staff token and admin login) for the username as typed
    or as authenticated (`staff_username` of it), or None when there is no username (not a
    non-empty string after normalising: nothing is authenticated)."""
    if not isinstance(username, str):
        return None
    name = staff_username(username)
    return "s:" + digest(name) if name else None


def _address_key(request) -> str:
    return "a:" + digest(client_address(request))


def login_gate(request, account: str | None) -> None:
    """Call before checking a password. Refuses with LoginThrottled (429, Retry-After in seconds)
    while the account or the client address is locked out, or when this attempt is over the
    per-minute rate of either; otherwise counts the attempt. `account` None (no username in the
    request) checks the address only. One cache read plus one increment per counter."""
    now = time.time()
    keys = [_address_key(request)] + ([account] if account else [])
    locks = cache().get_many([f"login-lock:{k}" for k in keys])
    until = max((float(v) for v in locks.values()), default=0.0)
    if until > now:
        raise LoginThrottled(wait=math.ceil(until - now), reason="locked")
    window = int(now // RATE_WINDOW)
    limits = [settings.LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS] + (
        [settings.LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT] if account else [])
    for key, limit in zip(keys, limits):
        if counter_incr(f"login-rate:{key}:{window}", ttl=RATE_WINDOW + 1) > limit:
            raise LoginThrottled(wait=max(1, math.ceil((window + 1) * RATE_WINDOW - now)), reason="rate")


def join_gate(request) -> int:
    """Call before a sign-up through an invite link (the portal's join page): counts the attempt
    against the client address and returns 0 when it may go on, else the seconds until the next
    clock minute when this address is over JOIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS attempts this
    minute (each sign-up hashes a password and may write a distributor: a script must not do it
    at will). One increment."""
    now = time.time()
    window = int(now // RATE_WINDOW)
    if counter_incr(f"join-rate:{_address_key(request)}:{window}", ttl=RATE_WINDOW + 1) > settings.JOIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS:
        return max(1, math.ceil((window + 1) * RATE_WINDOW - now))
    return 0


def join_refusal(wait: int) -> str:
    """The refusal of a sign-up over the limit, in the active language."""
    return ngettext(
        "Too many sign-ups from this network. Try again in %(seconds)d second.",
        "Too many sign-ups from this network. Try again in %(seconds)d seconds.",
        wait,
    ) % {"seconds": wait}


def login_failed(request, account: str | None) -> None:
    """Call after a wrong credential: one more failure for the account and for the client address
    (`request` None: the account only). The failure that reaches LOGIN_FAILURES_PER_ACCOUNT (or
    LOGIN_FAILURES_PER_ADDRESS) locks the account (the address) for LOGIN_LOCKOUT_SECONDS."""
    ttl = settings.LOGIN_LOCKOUT_SECONDS
    counted = []
    if account:
        counted.append((account, settings.LOGIN_FAILURES_PER_ACCOUNT))
    if request is not None:
        counted.append((_address_key(request), settings.LOGIN_FAILURES_PER_ADDRESS))
    until = time.time() + ttl
    locks = {f"login-lock:{key}": until for key, limit in counted
             if counter_incr(f"login-fail:{key}", ttl=ttl) >= limit}
    if locks:
        cache().set_many(locks, ttl)


def on_user_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """django.contrib.auth's `user_login_failed` receiver: a wrong staff password in the admin
    form or at POST /api/v1/auth/staff-token/ (the credentials arrive with the password masked)."""
    from django.contrib.auth import get_user_model

    login_failed(request, staff_account(credentials.get(get_user_model().USERNAME_FIELD)))
