"""A product manager in a real browser (headless Chromium driven by Playwright): logs in, edits a
rate, meets the guardrail for an over-cap plan, runs a preview, and cannot see another tenant."""
import os

import pytest
from django.contrib.auth.models import Permission, User

from tenants.context import tenant_context
from tenants.models import StaffMembership
from tests.factories import chain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_pm_console_in_a_browser(live_server, make_tenant, page):
    acme, other = make_tenant(slug="acme"), make_tenant(slug="other")
    with tenant_context(acme):
        chain(acme, 2)
    with tenant_context(other):
        chain(other, 1, prefix="SECRET")
    pm = User.objects.create_user("pm", password="pm-pass-123", is_staff=True)
    pm.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["distributors", "commissions"]))
    StaffMembership.objects.create(user=pm, tenant=acme)
    base = live_server.url

    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "pm")
    page.fill("#id_password", "pm-pass-123")
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard-acme")

    # a draft whose level-1 rate breaks the cap: the guardrail answers on the form, nothing saved
    page.goto(f"{base}/admin/commissions/commissionplan/add/")
    page.fill("#id_name", "autumn")
    page.select_option("#id_rules-0-scope", "default")
    page.fill("#id_rules-0-level", "1")
    page.select_option("#id_rules-0-kind", "percent")
    page.fill("#id_rules-0-value", "0.6000")
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote, .errorlist")
    assert "above max_total_rate 0.5000" in page.content()
    from commissions.models import CommissionPlan, CommissionRule

    assert CommissionPlan.unscoped.filter(tenant=acme).count() == 1
    # edit the rate and save: the draft is created
    page.fill("#id_rules-0-value", "0.1200")
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist")
    assert "was added successfully" in page.content()
    draft = CommissionPlan.unscoped.get(tenant=acme, version=2)
    assert (draft.status, [str(v) for v in CommissionRule.unscoped.filter(plan=draft).values_list("value", flat=True)]) == (
        "draft", ["0.1200"])

    # preview an order referred by C1 under the plan in force (10% / 5%)
    page.goto(f"{base}/admin/commissions/commissionplan/preview/")
    page.fill("#id_distributor", "C1")
    page.click("#preview-submit")
    page.wait_for_selector("#preview-result")
    table = page.locator("#preview-result").inner_text()
    assert "C1" in table and "10.00" in table and "C0" in table and "5.00" in table

    # another tenant's distributor is invisible, by search and by id
    page.goto(f"{base}/admin/distributors/distributor/?q=SECRET")
    page.wait_for_selector("#changelist")
    assert "SECRET0" not in page.content() and "0 distributors" in page.content()
    from distributors.models import Distributor

    secret = Distributor.unscoped.get(external_id="SECRET0")
    response = page.goto(f"{base}/admin/distributors/distributor/{secret.pk}/change/")
    assert response.status == 404 and "SECRET0" not in page.content()     # like a missing id
