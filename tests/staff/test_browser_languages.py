"""The console's two languages in a real browser (headless Chromium driven by Playwright): a browser
set to Chinese gets the Chinese console from the login page on; the "English" button switches
every page after it, "简体中文" switches back. Screenshots of each step (tests/staff/test_browser.py
`screenshot`)."""
import os

import pytest

from tenants.context import tenant_context
from tests.factories import chain, line, paid_order
from tests.staff.test_browser import CHROMIUM_ARGS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chinese_page():
    """A page of a browser whose language is Chinese (it sends Accept-Language: zh-CN)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
            yield page
        finally:
            browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_the_console_follows_the_browser_then_the_chooser(live_server, make_tenant, chinese_page):
    from tenants.services import staff_create

    page = chinese_page
    acme = make_tenant(slug="acme")
    with tenant_context(acme):
        chain(acme, 2)
        paid_order(acme, "BIG", lines=[line(unit_price="12345.60")], referrer_external_id="C1")
    staff_create(tenant=acme, username="pm", role="pm", password="pm-pass-9876")
    base = live_server.url

    page.goto(f"{base}/admin/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "分销管理控制台" in page.inner_text("#header")
    screenshot(page, "languages-1-login-zh")
    page.fill("#id_username", "pm")
    page.fill("#id_password", "pm-pass-9876")
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard-acme")
    dashboard = page.inner_text("#dashboard-acme")
    # GMV 12,345.60; frozen: C1's 10% (1,234.56) and C0's 5% (617.28)
    assert "冻结佣金" in dashboard and "12,345.60" in dashboard and "1,851.84" in dashboard
    screenshot(page, "languages-2-dashboard-zh")

    page.goto(f"{base}/admin/orders/order/")
    assert "12,345.60" in page.inner_text("#result_list") and "计佣基数" in page.inner_text("#result_list")
    # (the admin's stylesheet writes English column headers in capitals: compare without case)
    page.click("#language-en")                       # the chooser: back to this page, in English
    page.wait_for_selector("#result_list")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "commission base" in page.inner_text("#result_list").lower() and "12,345.60" in page.inner_text("#result_list")
    screenshot(page, "languages-3-orders-en")

    page.goto(f"{base}/admin/distributors/distributor/")   # the choice holds on every page after it
    assert "external id" in page.inner_text("#result_list").lower()
    page.click("#language-zh-hans")
    page.wait_for_selector("#result_list")
    assert "外部 ID" in page.inner_text("#result_list") and "正常" in page.inner_text("#result_list")
    screenshot(page, "languages-4-distributors-zh")

    r = page.goto(f"{base}/admin/ledger/ledgerentry/")   # the pm role does not read the ledger: 403, in Chinese
    assert r.status == 403 and page.locator("html").get_attribute("lang") == "zh-hans"
    assert "您没有访问此页面的权限" in page.inner_text("#content-main")
    screenshot(page, "languages-5-no-permission-zh")
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    r = page.goto(f"{base}/admin/ledger/ledgerentry/")
    assert r.status == 403 and page.locator("html").get_attribute("lang") == "en"
    assert "You have no permission for this page" in page.inner_text("#content-main")
    screenshot(page, "languages-6-no-permission-en")
