"""Every route of the portal (portal.urls), walked: without a login nothing but the login, join,
reset and programme pages answers anything but the way to the login page; logged in, an object id
that is not mine (here: one nobody has) answers the not-found page; another programme's pages
with my session are its login page. A page added later is walked too."""
from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from tests.portal.conftest import login

pytestmark = pytest.mark.django_db

PUBLIC = {"choose", "login", "logout", "join", "reset"}
SAMPLE = {"slug": "acme", "public_id": "zz_aaaaaaaaaaaaaaaa", "lesson_id": "zz_bbbbbbbbbbbbbbbb", "month": "2026-03",
          "ext": "pdf"}


def portal_routes() -> list[tuple[str, list[str]]]:
    """[(route name, its URL parameters)] of every portal page."""
    (portal,) = [r for r in get_resolver().url_patterns if getattr(r, "namespace", None) == "portal"]
    return [(p.name, list(p.pattern.regex.groupindex)) for p in portal.url_patterns]


def url(name: str, params: list[str], **values) -> str:
    return reverse(f"portal:{name}", kwargs={p: values.get(p, SAMPLE[p]) for p in params})


def test_the_walk_sees_every_page():
    names = {name for name, _ in portal_routes()}
    assert {"home", "team", "withdrawals", "withdrawal-cancel", "statement-file", "material", "poster",
            "lesson-complete", "announcement", "ticket", "ticket-close", "invite-qr"} <= names
    assert len(names) == len(portal_routes()) >= 28


@pytest.mark.parametrize("name, params", [r for r in portal_routes() if r[0] not in PUBLIC])
def test_without_a_login_every_page_leads_to_the_login(client, people, name, params):
    path = url(name, params)
    for method in ("get", "post"):
        r = getattr(client, method)(path)
        assert r.status_code in (302, 405), (method, path, r.status_code)
        if r.status_code == 302:
            assert r["Location"].startswith("/portal/acme/login/?next="), r["Location"]


@pytest.mark.parametrize("name, params", [r for r in portal_routes() if {"public_id", "lesson_id"} & set(r[1])])
def test_an_id_that_is_not_mine_is_not_found(as_alice, name, params):
    path = url(name, params)
    for method in ("get", "post"):
        r = getattr(as_alice, method)(path)
        assert r.status_code in (404, 405), (method, path, r.status_code)
        if r.status_code == 404:
            assert 'id="not-found"' in r.content.decode()


@pytest.mark.parametrize("name, params", [r for r in portal_routes() if r[0] not in PUBLIC and r[0] != "choose"])
def test_my_session_is_no_login_on_another_programmes_pages(client, people, other, name, params):
    assert login(client, "acme", "alice").status_code == 302
    r = client.get(url(name, params, slug="other"))
    assert r.status_code in (302, 405)
    if r.status_code == 302:
        assert r["Location"].startswith("/portal/other/login/")
