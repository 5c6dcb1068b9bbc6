"""The portal's money pages (issue 14 item 5): the home page's balances and today's and this
month's earnings (the figures /me/earnings/ and /me/reports/monthly/ answer), withdrawals (request,
a double tap requesting once, cancel while requested; below the minimum, not a number, cancelling
an approved one or another distributor's: a clear message, nothing written), monthly statements
with their PDF and CSV, and the earn calculator (a negative price refused)."""
from __future__ import annotations

import io
import re
from decimal import Decimal as D

import pytest

from ledger.models import Balance, LedgerEntry, Withdrawal
from tenants.context import tenant_context
from tests.portal.conftest import login

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page's visible text, tags dropped and spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", body)


def by_id(response, element_id: str) -> str:
    """The text of the element with this id (up to its closing tag's nesting: good enough for the
    cards and numbers the tests read)."""
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    start = html.index(">", start) + 1
    depth, i = 1, start
    tag = re.search(r"<(\w+)[^>]*id=\"" + re.escape(element_id) + '"', html).group(1)
    while depth:
        nxt_open = html.find(f"<{tag}", i)
        nxt_close = html.find(f"</{tag}>", i)
        if nxt_open != -1 and nxt_open < nxt_close:
            depth, i = depth + 1, nxt_open + 1
        else:
            depth, i = depth - 1, nxt_close + 1
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start:i - 1])).strip()


def test_home_shows_my_balances_and_todays_and_this_months_earnings(as_alice, acme, people):
    r = as_alice.get("/portal/acme/")
    assert r.status_code == 200
    assert by_id(r, "available") == "0.00"
    assert (by_id(r, "frozen"), by_id(r, "held"), by_id(r, "withdrawn")) == ("80.00", "0.00", "0.00")
    # today (03-10): O3's 50.00 (alice's own order); this month: 50.00 + 10.00 (O2) + 20.00 (O1)
    assert by_id(r, "today") == "Earned today 50.00 1 order through my link"
    assert by_id(r, "this-month") == "Earned this month 80.00 Team sales 1,700.00"
    assert by_id(r, "earned-total") == ("Earned in all 80.00 CNY Level 1: sales through my own link 50.00 "
                                        "Level 2: sales of my direct downlines 10.00 Level 3: sales of their downlines 20.00")
    # the same figures as the API's
    api = as_alice.post("/api/v1/auth/token/", {"tenant": "acme", "username": "alice", "password": "portal-pass-2026"},
                        content_type="application/json").json()["access"]
    earnings = as_alice.get("/api/v1/me/earnings/", HTTP_AUTHORIZATION=f"Bearer {api}").json()
    assert (earnings["frozen"], earnings["available"], earnings["total_earned"]) == ("80.00", "0.00", "80.00")
    month = as_alice.get("/api/v1/me/reports/monthly/", HTTP_AUTHORIZATION=f"Bearer {api}").json()["months"][-1]
    assert (month["month"], month["earned"], month["team_sales"]) == ("2026-03", "80.00", "1700.00")


def test_home_after_settlement(client, settled):
    login(client, "acme", "alice")
    r = client.get("/portal/acme/")
    assert (by_id(r, "available"), by_id(r, "frozen")) == ("80.00", "0.00")


def test_the_home_page_costs_a_fixed_number_of_queries(as_alice, django_assert_num_queries):
    """The session, the distributor with its tenant (as a token would), the balance row, the
    month's and the day's figures (two each), the unread count: 9."""
    with django_assert_num_queries(9):
        assert as_alice.get("/portal/acme/").status_code == 200


# --- withdrawals ---------------------------------------------------------------------------------

def form_token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def balance(acme, who) -> tuple[D, D]:
    with tenant_context(acme):
        b = Balance.objects.get(distributor=who)
        return b.available, b.held


def test_i_request_a_withdrawal_once_however_often_i_tap(client, acme, settled):
    alice = settled["alice"]
    login(client, "acme", "alice")
    page = client.get("/portal/acme/withdrawals/")
    assert by_id(page, "available") == "80.00"
    body = {"token": form_token(page), "amount": "５０.00", "method": "alipay", "account": "alice@pay", "account_name": "王"}
    r = client.post("/portal/acme/withdrawals/", body)
    assert r.status_code == 302 and r["Location"].startswith("/portal/acme/withdrawals/?done=wd_")
    again = client.post("/portal/acme/withdrawals/", body)        # the same form sent twice
    assert again.status_code == 302 and again["Location"] == r["Location"]
    with tenant_context(acme):
        (w,) = Withdrawal.objects.filter(distributor=alice)
    assert (w.amount, w.fee, w.transfer_amount, w.method, w.account, w.status) == (
        D("50.00"), D("0.00"), D("50.00"), "alipay", "alice@pay", "requested")
    assert balance(acme, alice) == (D("30.00"), D("50.00"))
    listed = client.get(r["Location"])
    assert 'id="withdrawal-done"' in listed.content.decode()
    assert f'data-id="{w.public_id}" data-status="requested"' in listed.content.decode()


@pytest.mark.parametrize("amount, message, status", [
    ("5.00", "The minimum withdrawal is 10.00 CNY.", 400),
    ("80.01", "Only 80.00 CNY is available.", 400),
    ("12.345", "CNY amounts have at most 2 decimal places.", 400),
    ("-20", "The amount must be positive.", 400),
    ("twenty", "Give the amount as a number, e.g. 100.00.", 400),
])
def test_a_refused_withdrawal_says_why_and_holds_nothing(client, acme, settled, amount, message, status):
    login(client, "acme", "alice")
    page = client.get("/portal/acme/withdrawals/")
    r = client.post("/portal/acme/withdrawals/", {"token": form_token(page), "amount": amount, "method": "bank",
                                                  "account": "6222 0000"})
    assert r.status_code == status
    assert message in by_id(r, "field-amount")
    with tenant_context(acme):
        assert not Withdrawal.objects.exists()
    assert balance(acme, settled["alice"]) == (D("80.00"), D("0.00"))


def test_a_withdrawal_without_an_account_is_refused(client, acme, settled):
    login(client, "acme", "alice")
    page = client.get("/portal/acme/withdrawals/")
    r = client.post("/portal/acme/withdrawals/", {"token": form_token(page), "amount": "20", "method": "bank", "account": " "})
    assert r.status_code == 400 and "The account to pay to is required." in by_id(r, "field-account")
    with tenant_context(acme):
        assert not Withdrawal.objects.exists()


def request(acme, who, amount="30.00") -> Withdrawal:
    from ledger.services import withdrawal_request

    with tenant_context(acme):
        w, _ = withdrawal_request(distributor=who, amount=D(amount), method="wechat", account="wx-1")
    return w


def test_i_cancel_a_requested_withdrawal_and_the_money_comes_back(client, acme, settled):
    alice = settled["alice"]
    w = request(acme, alice)
    login(client, "acme", "alice")
    r = client.post(f"/portal/acme/withdrawals/{w.public_id}/cancel/")
    assert r.status_code == 302 and r["Location"] == f"/portal/acme/withdrawals/?cancelled={w.public_id}"
    assert balance(acme, alice) == (D("80.00"), D("0.00"))
    with tenant_context(acme):
        assert Withdrawal.objects.get(pk=w.pk).status == "cancelled"
        entries = LedgerEntry.objects.count()
    again = client.post(f"/portal/acme/withdrawals/{w.public_id}/cancel/")
    assert again.status_code == 409
    assert by_id(again, "withdrawal-refused") == "A cancelled withdrawal cannot be cancelled."
    with tenant_context(acme):
        assert LedgerEntry.objects.count() == entries


def test_cancelling_an_approved_withdrawal_is_refused_and_nothing_is_written(client, acme, settled):
    from ledger.services import withdrawal_approve

    alice = settled["alice"]
    w = request(acme, alice)
    with tenant_context(acme):
        withdrawal_approve(withdrawal=w, actor="fin")
        entries = LedgerEntry.objects.count()
    login(client, "acme", "alice")
    page = client.get("/portal/acme/withdrawals/")
    assert f'/withdrawals/{w.public_id}/cancel/' not in page.content.decode()     # no button offered
    r = client.post(f"/portal/acme/withdrawals/{w.public_id}/cancel/")
    assert r.status_code == 409
    assert by_id(r, "withdrawal-refused") == "An approved withdrawal cannot be cancelled."
    with tenant_context(acme):
        assert Withdrawal.objects.get(pk=w.pk).status == "approved" and LedgerEntry.objects.count() == entries
    assert balance(acme, alice) == (D("50.00"), D("30.00"))


def test_another_distributors_withdrawal_is_not_found(client, acme, settled, other):
    w = request(acme, settled["alice"])
    login(client, "acme", "eve")
    for path in (f"/portal/acme/withdrawals/{w.public_id}/cancel/", "/portal/acme/withdrawals/wd_aaaaaaaaaaaaaaaa/cancel/"):
        r = client.post(path)
        assert r.status_code == 404 and 'id="not-found"' in r.content.decode()
    assert w.public_id not in client.get("/portal/acme/withdrawals/").content.decode()
    with tenant_context(acme):
        assert Withdrawal.objects.get(pk=w.pk).status == "requested"
    # another programme's distributor, with its own session
    login(client, "other", "mallory")
    assert client.post(f"/portal/other/withdrawals/{w.public_id}/cancel/").status_code == 404


# --- statements ----------------------------------------------------------------------------------

def test_my_statement_of_a_month_with_its_pdf_and_csv(as_alice, acme, people):
    from pypdf import PdfReader

    listing = as_alice.get("/portal/acme/statements/")
    assert 'data-month="2026-03"' in listing.content.decode()
    r = as_alice.get("/portal/acme/statements/2026-03/")
    assert r.status_code == 200
    assert "Commission earned 80.00" in by_id(r, "statement-movements")
    assert by_id(r, "statement-balances").startswith("Opening Closing Frozen 0.00 80.00 Available 0.00 0.00")
    pdf = as_alice.get("/portal/acme/statements/2026-03.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert 'filename="statement-alice-2026-03.pdf"' in pdf["Content-Disposition"]
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Alice Wang" in words and "80.00" in words
    csv = as_alice.get("/portal/acme/statements/2026-03.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv") and "80.00" in csv.content.decode()
    assert as_alice.get("/portal/acme/statements/?month=2026-03").headers["Location"] == "/portal/acme/statements/2026-03/"


@pytest.mark.parametrize("month, message", [("2026-04", "2026-04 has not begun yet."), ("2026-13", "")])
def test_a_month_not_begun_or_malformed_says_so(as_alice, month, message):
    r = as_alice.get(f"/portal/acme/statements/{month}/")
    assert r.status_code == 400 and 'id="statement-error"' in r.content.decode()
    if message:
        assert by_id(r, "statement-error") == message
    assert as_alice.get(f"/portal/acme/statements/{month}.pdf").status_code in (400, 404)


# --- what I would earn ---------------------------------------------------------------------------

def test_the_earn_calculator_prices_a_product_per_level(as_alice):
    r = as_alice.get("/portal/acme/preview/", {"price": "￥199.90", "quantity": "2", "category": "", "sku": ""})
    assert r.status_code == 200
    # base 399.80: 10% / 5% / 2%, rounded down to the fen
    assert by_id(r, "preview-result") == ("You would earn commission base 399.80 Sold through my own link (10%) 39.98 "
                                          "Sold by a direct downline (5%) 19.99 Sold by a downline's downline (2%) 7.99")


@pytest.mark.parametrize("price, quantity, field, message", [
    ("-5", "1", "price", "A price cannot be negative."),
    ("1.005", "1", "price", "CNY amounts have at most 2 decimal places."),
    ("cheap", "1", "price", "Give the price as a number, e.g. 199.00."),
    ("10", "0", "quantity", "The quantity must be at least 1."),
    ("10", "1.5", "quantity", "Give the quantity as a whole number, e.g. 1."),
])
def test_the_earn_calculator_refuses_bad_input_with_a_message(as_alice, price, quantity, field, message):
    r = as_alice.get("/portal/acme/preview/", {"price": price, "quantity": quantity})
    assert r.status_code == 400
    assert message in by_id(r, f"field-{field}")
    assert 'id="preview-result"' not in r.content.decode()
