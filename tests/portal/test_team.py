"""The portal's team and standing pages (issue 14 item 5): each of my 3 levels with what every
downline brought me this month, the contests I can see with my rank and a board of masked names,
the rankings when the brand shows them, my targets' progress, my invite link and its QR code
(decoded back to the link); another distributor's or programme's contest by URL: 404."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal as D

import pytest

from tenants.context import tenant_context
from tests.portal.conftest import local, login
from tests.portal.test_money import by_id

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("level, rows", [
    ("1", [("bob", "Bob Li", "+10.00", "200.00")]),
    ("2", [("carol", "张小红", "+20.00", "1,000.00")]),
    ("3", [("dave", "Dave Zhao", "0", "0.00")]),
])
def test_each_level_of_my_team_with_what_each_brought_me(as_alice, level, rows):
    r = as_alice.get(f"/portal/acme/team/?level={level}")
    assert r.status_code == 200
    assert by_id(r, "levels") == "1 Level 1 1 Level 2 1 Level 3"
    html = r.content.decode()
    found = []
    for external_id, name, brought, sales in rows:
        assert f'data-external-id="{external_id}"' in html
        row = html[html.index(f'data-external-id="{external_id}"'):]
        row = row[:row.index("</li>")]
        assert name in row and brought in row and f"sales {sales}" in row
        found.append(external_id)
    assert html.count('class="downline"') == len(found)
    assert by_id(r, "contribution") == ("This month's commission 80.00 CNY Level 1: sales through my own link 50.00 "
                                        "Level 2: sales of my direct downlines 10.00 Level 3: sales of their downlines 20.00")


def test_a_team_page_past_the_end_shows_the_last_page(as_alice):
    r = as_alice.get("/portal/acme/team/?level=9&page=99")
    assert r.status_code == 200 and 'data-external-id="bob"' in r.content.decode()


@pytest.fixture
def march_contest(acme, people):
    from incentives.services import contest_create

    with tenant_context(acme):
        return contest_create(tenant=acme, name="March sprint", starts_at=local(1, 0), ends_at=local(1, 0, month=4),
                              measure="direct_sales", prizes=["100.00", "50.00"])


def test_my_contests_and_a_board_with_other_peoples_names_masked(as_alice, march_contest):
    listing = as_alice.get("/portal/acme/contests/")
    assert listing.status_code == 200
    card = listing.content.decode()
    card = card[card.index(f'data-contest="{march_contest.public_id}"'):]
    card = card[:card.index("</a>")]
    assert "March sprint" in card and "2026-03-01 – 2026-03-31" in card
    assert 'class="num my-rank">2<' in card and "500.00" in card and "50.00" in card
    r = as_alice.get(f"/portal/acme/contests/{march_contest.public_id}/")
    assert r.status_code == 200
    # direct sales in March: carol 1000.00, alice 500.00, bob 200.00
    assert by_id(r, "board") == "1 张*红 1,000.00 prize 100.00 2 Alice Wang me 500.00 prize 50.00 3 B****i 200.00"
    assert by_id(r, "my-rank") == "2"
    assert "carol" not in r.content.decode() and "Bob Li" not in r.content.decode()


def test_a_contest_i_cannot_see_is_not_found(client, acme, people, other, march_contest):
    from distributors.models import Grade
    from incentives.services import contest_create

    with tenant_context(acme):
        gold = Grade.objects.create(tenant=acme, code="gold", name="Gold", rank=1)
        gold_only = contest_create(tenant=acme, name="Gold club", starts_at=local(1, 0), ends_at=local(1, 0, month=4),
                                   measure="direct_sales", prizes=["10.00"], grades=[gold])
    with tenant_context(other):
        theirs = contest_create(tenant=other, name="Theirs", starts_at=local(1, 0), ends_at=local(1, 0, month=4),
                                measure="direct_sales", prizes=["10.00"])
    login(client, "acme", "eve")
    assert client.get(f"/portal/acme/contests/{march_contest.public_id}/").status_code == 200
    for public_id in (gold_only.public_id, theirs.public_id, "contest_aaaaaaaaaaaaaaaa"):
        r = client.get(f"/portal/acme/contests/{public_id}/")
        assert r.status_code == 404 and "Gold club" not in r.content.decode() and "Theirs" not in r.content.decode()
    assert "Gold club" not in client.get("/portal/acme/contests/").content.decode()


def test_rankings_only_when_the_brand_shows_them(as_alice, acme):
    from tenants.services import tenant_update

    r = as_alice.get("/portal/acme/rankings/")
    assert r.status_code == 403 and 'id="rankings-hidden"' in r.content.decode()
    tenant_update(tenant=acme, show_rankings=True)
    r = as_alice.get("/portal/acme/rankings/?measure=team_sales")
    assert r.status_code == 200
    # team sales in March: alice 1700.00 (every order), bob 1200.00 (O1, O2), carol 1000.00
    html = r.content.decode()
    assert "A********g" not in html and "Alice Wang" in html and "B****i" in html and "张*红" in html
    assert html.index("Alice Wang") < html.index("B****i") < html.index("张*红")


def test_my_targets_with_their_progress(as_alice, acme, people):
    from incentives.services import target_create

    with tenant_context(acme):
        target_create(tenant=acme, name="March direct", scope="distributor", measure="direct_sales", period="month",
                      starts_on=date(2026, 3, 1), goal=D("1000.00"), distributor=people["alice"])
        target_create(tenant=acme, name="Bob's own", scope="distributor", measure="direct_sales", period="month",
                      starts_on=date(2026, 3, 1), goal=D("1000.00"), distributor=people["bob"])
    r = as_alice.get("/portal/acme/targets/")
    html = r.content.decode()
    assert r.status_code == 200 and "March direct" in html and "Bob's own" not in html
    # 500.00 of 1000.00 = 50%; expected by 03-10 12:00: 9.5 of 31 days = 30.6% (down to 4 places: 0.3064)
    assert "<b>500.00</b> / 1,000.00" in html and "50.0%" in html and 'style="left:30.6%"' in html
    assert 'data-status="ahead"' in html


def test_my_invite_link_and_its_qr_code(as_alice, people):
    import zxingcpp
    from PIL import Image

    alice = people["alice"]
    r = as_alice.get("/portal/acme/invite/")
    url = f"http://127.0.0.1:8000/portal/acme/join/?code={alice.invite_code}"
    assert r.status_code == 200 and by_id(r, "invite-url") == url and by_id(r, "invite-code") == alice.invite_code
    png = as_alice.get("/portal/acme/invite/qr.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert code.text == url
