"""Finance in a real browser (headless Chromium, Playwright): the console's withdrawal list shows
each withdrawal by the id the API and the payout file use (wd_...), and finds it by that id."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ledger.services import settle_due, withdrawal_request
from tenants.context import tenant_context
from tests.factories import chain, line, paid_order
from tests.staff.test_browser import page, screenshot  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_finds_a_withdrawal_by_its_api_id(live_server, make_tenant, page):  # noqa: F811
    from tenants.services import staff_create

    acme = make_tenant(slug="acme")
    with tenant_context(acme):
        (c0,) = chain(acme, 1)
        paid_order(acme, "O1", referrer_external_id="C0", lines=[line(unit_price="1000.00")])
        settle_due(tenant=acme, now=datetime(2027, 1, 1, tzinfo=timezone.utc))
        first, _ = withdrawal_request(distributor=c0, amount=Decimal("30.00"), method="alipay", account="c0@example.com")
        second, _ = withdrawal_request(distributor=c0, amount=Decimal("20.00"), method="bank", account="6222")
    staff_create(tenant=acme, username="fin", role="finance", password="fin-pass-9876")
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "fin")
    page.fill("#id_password", "fin-pass-9876")
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard-acme")

    page.goto(f"{base}/admin/ledger/withdrawal/")
    page.wait_for_selector("#result_list")
    table = page.locator("#result_list").inner_text()
    assert first.public_id in table and second.public_id in table
    screenshot(page, "public-ids-1-withdrawals")
    page.goto(f"{base}/admin/ledger/withdrawal/?q={first.public_id}")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and first.public_id in rows.first.inner_text() and "30.00" in rows.first.inner_text()
    screenshot(page, "public-ids-2-search")
