"""The dashboard with its charts in a real browser (issue 12 items 2 and 5): a pm opens it in
Chinese at 1366x900 and in English at 1920x1080, waits until every ECharts chart has drawn its
canvas, and follows a drill-down link to the list behind a figure. Screenshots:
dashboard-zh-1366.png, dashboard-en-1920.png, dashboard-drill-down.png."""
import os
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tenants.context import tenant_context
from tests.factories import chain, line, paid_order
from tests.staff.test_browser import CHROMIUM_ARGS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHARTS = ["chart-sales", "chart-levels", "chart-recruits", "chart-status", "chart-top", "chart-channels", "chart-targets"]
RENDERED = "ids => ids.every(id => document.querySelector('#' + id + ' canvas'))"


@pytest.fixture
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def log_in(page, base):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "pm")
    page.fill("#id_password", "pm-pass-9876")
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard-charts")
    page.wait_for_function(RENDERED, arg=CHARTS)


def test_the_dashboard_draws_its_charts_in_both_languages(live_server, make_tenant, browser):
    from incentives.services import target_create
    from tenants.services import staff_create

    acme, other = make_tenant(slug="acme"), make_tenant(slug="other")
    now = timezone.now()
    with tenant_context(acme):
        chain(acme, 3)
        for ext, ref, price, channel, days in [("O1", "C2", "1200.00", "app", 20), ("O2", "C2", "800.00", "h5", 9),
                                               ("O3", "C1", "450.00", "mini_program", 3), ("O4", "C0", "300.00", "", 1)]:
            at = now - timedelta(days=days)
            paid_order(acme, ext, referrer_external_id=ref, lines=[line(unit_price=price)], placed_at=at, paid_at=at,
                       channel=channel)
        target_create(tenant=acme, name="本月销售目标", scope="tenant", measure="direct_sales", period="month",
                      starts_on=date.today().replace(day=1), goal=Decimal("5000.00"))
    with tenant_context(other):
        chain(other, 1, prefix="SECRET")
    staff_create(tenant=acme, username="pm", role="pm", password="pm-pass-9876")
    base = live_server.url

    zh = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
    log_in(zh, base)
    assert zh.locator("html").get_attribute("lang") == "zh-hans"
    kpis = zh.inner_text("#dashboard-kpis")
    assert "2,750.00" in kpis or "2750.00" in kpis      # net sales of the last 30 days
    assert "SECRET" not in zh.content()
    # no label wraps one letter per line: every tile label is wider than two characters
    widths = zh.eval_on_selector_all(".fx-tile .fx-label", "els => els.map(e => e.getBoundingClientRect().width)")
    assert widths and min(widths) > 60
    screenshot(zh, "dashboard-zh-1366")

    en = browser.new_page(locale="en-US", viewport={"width": 1920, "height": 1080})
    log_in(en, base)
    assert en.locator("html").get_attribute("lang") == "en" and "Net sales" in en.inner_text("#dashboard-kpis")
    screenshot(en, "dashboard-en-1920")

    # drill down: the orders tile opens the orders paid in the range
    en.click("#kpi-orders")
    en.wait_for_selector("#result_list")
    listed = en.inner_text("#result_list")
    assert all(o in listed for o in ("O1", "O2", "O3", "O4")) and "4 orders" in en.content()
    screenshot(en, "dashboard-drill-down")
