"""Who a portal page speaks for: the distributor logged in on this browser's Django session.

A distributor is not a Django user, so the portal keeps its own session key instead of
django.contrib.auth's, with the same protections Django gives its users' sessions:

- the session key and the CSRF token are rotated at login (`cycle_key`, `rotate_token`: a
  session id or token planted before the login is worthless after it) and the key at logout, which is a POST (CSRF-checked; a link cannot log anyone out);
- the session holds the tenant id, the distributor id and an HMAC of the distributor's password
  hash (`auth_hash`, as Django's `get_session_auth_hash`): a password changed or reset elsewhere
  ends every other session of that distributor at its next request; the page where the
  distributor changes it keeps its own session (`session_refresh`);
- every request reads the distributor fresh through the same function the API's bearer tokens
  use (tenants.authentication.token_distributor): a distributor disabled, or of a tenant
  deactivated, is logged out at once, exactly as its tokens are refused.

A session belongs to one tenant: the pages of another tenant's URL (/portal/<slug>/) treat it as
no login. It can sit beside a staff user's admin login in the same browser; neither touches the
other's keys.
"""
from __future__ import annotations

from django.utils.crypto import constant_time_compare, salted_hmac

SESSION_KEY = "_portal_distributor"


def auth_hash(distributor) -> str:
    """An HMAC (keyed by SECRET_KEY) of the distributor's password hash: changes when the password does."""
    return salted_hmac("fenxiao.portal.session", distributor.password or "", algorithm="sha256").hexdigest()


def session_login(request, distributor) -> None:
    """Log `distributor` in on this browser: a new session key and a new CSRF token (as Django's
    own login: a token or session id planted before the login is worthless after it), then the
    portal's entry (any earlier portal login in this session is replaced)."""
    from django.middleware.csrf import rotate_token

    request.session.cycle_key()
    rotate_token(request)
    request.session[SESSION_KEY] = {"tenant_id": distributor.tenant_id, "distributor_id": distributor.pk,
                                    "hash": auth_hash(distributor)}


def session_refresh(request, distributor) -> None:
    """After the distributor changed its own password here: this session stays logged in (with a
    new key); its other sessions end at their next request."""
    session_login(request, distributor)


def session_logout(request) -> None:
    """End the portal login of this browser (a new session key; a staff login beside it stays)."""
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def session_distributor(request, tenant):
    """The distributor logged in on this browser for `tenant` (a Tenant), with its tenant, grade
    and parent loaded, or None: nobody logged in, a login of another tenant, a password changed
    since, a distributor gone or disabled, or an inactive tenant (the last ones also end the
    session's portal login)."""
    from rest_framework.exceptions import APIException

    from tenants.authentication import token_distributor

    entry = request.session.get(SESSION_KEY)
    if not isinstance(entry, dict) or entry.get("tenant_id") != tenant.pk:
        return None
    try:
        distributor = token_distributor({"tenant_id": entry.get("tenant_id"), "distributor_id": entry.get("distributor_id")})
    except APIException:   # gone, disabled, tenant inactive: refused as its tokens are
        request.session.pop(SESSION_KEY, None)
        return None
    if not constant_time_compare(str(entry.get("hash", "")), auth_hash(distributor)):
        request.session.pop(SESSION_KEY, None)
        return None
    return distributor
