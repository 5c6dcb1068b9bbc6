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
    page.select_option("#id_rules-0-level", "1")             # "level 1 (the referrer)"
    page.select_option("#id_rules-0-kind", "percent")
    page.fill("#id_rules-0-value", "60")                    # a percentage (issue 12): 60%
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote, .errorlist")
    assert "above max_total_rate 0.5000" in page.content()
    from commissions.models import CommissionPlan, CommissionRule

    assert CommissionPlan.unscoped.filter(tenant=acme).count() == 1
    # edit the rate and save: the draft is created
    page.fill("#id_rules-0-value", "12%")
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


def screenshot(page, name: str) -> None:
    """Save the page (whole length) as <FENXIAO_SCREENSHOTS or tests/screenshots>/<name>.png, for a
    person to look at; the folder is git-ignored."""
    from pathlib import Path

    folder = Path(os.environ.get("FENXIAO_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_pm_runs_the_incentives_in_a_browser(live_server, make_tenant, page):
    """Issue 11 (console): the PM opens a contest with its live leaderboard, finalizes it and sees the
    prizes paid; evaluates a month of a tier scheme; opens a target with its progress bar."""
    from datetime import date, datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from distributors.models import Distributor
    from incentives.models import ContestResult
    from incentives.services import contest_create, target_create, tier_scheme_create
    from ledger.models import LedgerEntry
    from tenants.services import staff_create
    from tests.factories import line, paid_order

    sh = ZoneInfo("Asia/Shanghai")
    acme = make_tenant(slug="acme")
    with tenant_context(acme):
        chain(acme, 4)
        for ext, ref, amount, day in [("O1", "C2", "600.00", 10), ("O2", "C3", "700.00", 15), ("O3", "C2", "100.00", 20),
                                      ("O4", "C1", "300.00", 31)]:
            at = datetime(2026, 1, day, 12, tzinfo=sh)
            paid_order(acme, ext, referrer_external_id=ref, lines=[line(unit_price=amount)], placed_at=at, paid_at=at)
        contest = contest_create(tenant=acme, name="January sprint", starts_at=datetime(2026, 1, 1, tzinfo=sh),
                                 ends_at=datetime(2026, 2, 1, tzinfo=sh), measure="direct_sales",
                                 prizes=["500.00", "300.00", "100.00"])
        scheme = tier_scheme_create(tenant=acme, name="Monthly bonus", measure="direct_sales", tiers=[
            {"threshold": "300.00", "amount": "20.00"}, {"threshold": "700.00", "rate": "0.0300"}])
        target_create(tenant=acme, name="C2 January", scope="distributor", measure="direct_sales",
                               period="month", starts_on=date(2026, 1, 1), goal=Decimal("1000.00"),
                               distributor=Distributor.objects.get(external_id="C2"))
    staff_create(tenant=acme, username="pm", role="pm", password="pm-pass-9876")
    base = live_server.url

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "pm")
    page.fill("#id_password", "pm-pass-9876")
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard-acme")

    # the contest list, then the contest with its live leaderboard
    page.goto(f"{base}/admin/incentives/contest/")
    page.click("text=January sprint")
    page.wait_for_selector("#leaderboard")
    rows = page.locator("#leaderboard tbody tr").all_inner_texts()
    assert [r.split("\t")[:3] + r.split("\t")[4:5] for r in rows] == [
        ["1", "C3 Distributor C3", "700.00", "500.00"], ["2", "C2 Distributor C2", "700.00", "300.00"],
        ["3", "C1 Distributor C1", "300.00", "100.00"]]
    assert "Live ranking" in page.content()
    screenshot(page, "incentives-1-contest-live")

    # Finalize now: the confirmation page, then the prizes are credited and the ranking is frozen
    page.click("#finalize-link")
    page.wait_for_selector("#action-submit")
    screenshot(page, "incentives-2-finalize-confirm")
    page.click("#action-submit")
    page.wait_for_selector("ul.messagelist")
    assert "“January sprint” finalized: 3 prize(s) credited, 900.00 CNY in all." in page.locator("ul.messagelist").inner_text()
    assert "Final ranking, frozen" in page.content() and page.locator("#finalize-link").count() == 0
    assert page.locator("input[name=name]").count() == 0                 # read-only once finalized
    credited = page.locator("#leaderboard tbody tr").first.inner_text()
    assert "500.00" in credited and "ledger entry #" in credited
    screenshot(page, "incentives-3-contest-finalized")
    with tenant_context(acme):
        assert sorted(LedgerEntry.objects.filter(kind="bonus").values_list("amount", flat=True)) == [
            Decimal("100.00"), Decimal("300.00"), Decimal("500.00")]
        assert ContestResult.objects.filter(contest=contest).count() == 3

    # evaluate January of the tier scheme: 3% of 700.00 twice, 20.00 for exactly 300.00
    page.goto(f"{base}/admin/incentives/tierbonusscheme/{scheme.pk}/change/")
    page.click("#evaluate-link")
    page.fill("#id_month", "2026-01")
    page.click("#action-submit")
    page.wait_for_selector("ul.messagelist")
    assert "2026-01 evaluated: 3 award(s), 62.00 CNY credited." in page.locator("ul.messagelist").inner_text()
    assert "2026-01: 3 award(s), 62.00 CNY in all" in page.content()
    screenshot(page, "incentives-4-scheme-awards")

    # the target's progress bar: 700.00 of 1000.00, the month is over (expected 100%): behind
    page.goto(f"{base}/admin/incentives/target/")
    page.click("text=C2 January")
    page.wait_for_selector("#target-progress")
    assert page.locator("#target-progress").get_attribute("data-status") == "behind"
    assert "700.00 of 1000.00 (70.00%) · expected pace 100.00% · behind" in page.locator("#target-progress").inner_text()
    bar = page.locator("#target-progress .progress-bar").bounding_box()
    track = page.locator("#target-progress .progress-track").bounding_box()
    assert abs(bar["width"] / track["width"] - 0.70) < 0.01
    screenshot(page, "incentives-5-target-progress")


def login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#content")


def test_the_console_for_people_in_a_browser(live_server, make_tenant, page):
    """Issue 12, scope 3, as a product manager and a finance user of a USD tenant would do it: a
    draft typed in percentages with the levels by meaning; the preview form in dollars; the
    draft's backtest as a table and an ECharts bar chart; publishing at a later time from the
    plan's page; a distributor's page (money, earnings, the team as links, a status step with a
    reason); a withdrawal approved and paid on its own page, in Shanghai time."""
    from datetime import datetime, timezone
    from decimal import Decimal

    from commissions.models import Backtest, CommissionPlan, CommissionRule
    from distributors.models import Distributor
    from ledger.models import Withdrawal
    from ledger.services import settle_due, withdrawal_request
    from tenants.services import staff_create
    from tests.factories import line, paid_order

    acme = make_tenant(slug="acme", currency="USD")
    with tenant_context(acme):
        c0, c1, c2, c3 = chain(acme, 4)
        paid_order(acme, "O1", referrer_external_id="C3", currency="USD")                  # 100.00
        paid_order(acme, "O2", referrer_external_id="C2", currency="USD",
                   lines=[line(unit_price="250.00", category="Technology")])
        settle_due(tenant=acme, now=datetime(2026, 6, 1, tzinfo=timezone.utc))
        w, _ = withdrawal_request(distributor=c2, amount=Decimal("20.00"), method="alipay", account="c2@pay")
    staff_create(tenant=acme, username="pm", role="pm", password="pm-pass-9876")
    staff_create(tenant=acme, username="fin", role="finance", password="fin-pass-9876")
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, base, "pm", "pm-pass-9876")

    # 1. a draft typed as people type it: levels by meaning, rates as percentages
    page.goto(f"{base}/admin/commissions/commissionplan/add/")
    assert page.locator("#id_rules-0-level option").all_inner_texts() == [
        "---------", "level 1 (the referrer)", "level 2 (the referrer's upline)", "level 3 (the upline's upline)"]
    page.fill("#id_name", "autumn")
    for i, (level, rate) in enumerate([("1", "12%"), ("2", "5"), ("3", "1 %")]):
        page.select_option(f"#id_rules-{i}-level", level)
        page.fill(f"#id_rules-{i}-value", rate)
    page.click("input[name=_continue]")
    page.wait_for_selector("#plan-summary")
    draft = CommissionPlan.unscoped.get(tenant=acme, version=2)
    assert [str(v) for v in CommissionRule.unscoped.filter(plan=draft).order_by("level").values_list("value", flat=True)] == [
        "0.1200", "0.0500", "0.0100"]
    summary = page.locator("#plan-summary").inner_text()
    assert "What v2 pays — draft (not in force)" in summary and "12%\t5%\t1%" in summary
    screenshot(page, "console-1-plan-draft")

    # 2. the preview form, from the plan's page: dollars preselected, a second line typed
    page.click("#preview-with-plan")
    page.wait_for_selector("#preview-form")
    assert page.locator("#id_currency").input_value() == "USD"
    assert page.locator("#id_plan").input_value() == str(draft.pk)
    page.fill("#id_distributor", "C3")
    page.fill("#id_lines-1-sku", "LAPTOP")
    page.fill("#id_lines-1-category", "Technology")
    page.fill("#id_lines-1-quantity", "2")
    page.fill("#id_lines-1-unit_price", "150.00")
    page.click("#preview-submit")
    page.wait_for_selector("#preview-result")
    rows = [r.split("\t")[:5] for r in page.locator("#preview-result tbody tr").all_inner_texts()]
    assert rows == [["level 1 (the referrer)", "C3 Distributor C3", "-", "12%", "48.00"],   # 400.00 x 12%
                    ["level 2 (the referrer's upline)", "C2 Distributor C2", "-", "5%", "20.00"],
                    ["level 3 (the upline's upline)", "C1 Distributor C1", "-", "1%", "4.00"]]
    assert "commission base 400.00 USD, 72.00 USD paid in all" in page.locator("#preview-outcome h2").inner_text()
    screenshot(page, "console-2-preview")

    # 3. the draft's backtest: a table per level and a bar chart of the delta
    page.goto(f"{base}/admin/commissions/commissionplan/{draft.pk}/change/")
    page.click("#backtest-plan")
    page.fill("#id_date_from", "2026-01-01")
    page.fill("#id_date_to", "2026-01-31")
    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")
    bt = Backtest.unscoped.get(tenant=acme)
    page.goto(f"{base}/admin/commissions/backtest/{bt.pk}/change/")
    page.wait_for_selector("#backtest-delta-chart svg")
    rows = [r.split("\t") for r in page.locator("#backtest-by-level tbody tr").all_inner_texts()]
    assert rows == [["level 1 (the referrer)", "35.00", "42.00", "+7.00", "+20%"],
                    ["level 2 (the referrer's upline)", "17.50", "17.50", "0.00", "0%"],
                    ["level 3 (the upline's upline)", "7.00", "3.50", "-3.50", "-50%"],
                    ["all levels", "59.50", "63.00", "+3.50", "+5.88%"]]
    bars = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('backtest-delta-chart'))"
                         ".getOption().series[0].data.map(d => d.value)")
    assert bars == [7, 0, -3.5]
    drawn = page.evaluate("() => document.querySelector('#backtest-delta-chart svg').textContent")
    assert "7.00" in drawn and "-3.50" in drawn and "Delta by level (USD)" in drawn
    screenshot(page, "console-3-backtest")

    # 4. publish the draft at a later time from its page (Shanghai time)
    page.goto(f"{base}/admin/commissions/commissionplan/{draft.pk}/change/")
    page.check("input[name=when][value=later]")
    page.fill("#id_effective_from_0", "2031-03-02")
    page.fill("#id_effective_from_1", "09:30:00")
    page.click("#publish-submit")
    page.wait_for_selector("ul.messagelist")
    assert "Plan v2 published: orders recorded from March 2, 2031, 9:30 a.m. on use it." in page.locator("ul.messagelist").inner_text()
    draft.refresh_from_db()
    assert (draft.status, draft.effective_from) == ("published", datetime(2031, 3, 2, 1, 30, tzinfo=timezone.utc))
    screenshot(page, "console-4-plan-published")

    # 5. a distributor's page: money, earnings by level, the team; a downline's page by its link
    page.goto(f"{base}/admin/distributors/distributor/{c1.pk}/change/")
    assert page.locator("#balance-available td").inner_text() == "14.50"       # 2.00 (O1, L3) + 12.50 (O2, L2)
    earnings = page.locator("#distributor-earnings").inner_text()
    assert "level 2 (the referrer's upline)\t12.50" in earnings and "level 3 (the upline's upline)\t2.00" in earnings
    assert "C2 Distributor C2" in page.locator("#team-level-1").inner_text()
    assert "C3 Distributor C3" in page.locator("#team-level-2").inner_text()
    screenshot(page, "console-5-distributor")
    page.click("#team-level-1 >> text=C2 Distributor C2")
    page.wait_for_selector("#distributor-balance")
    assert page.url.endswith(f"/admin/distributors/distributor/{c2.pk}/change/")
    # freeze C2 from its page: the step says what it does and asks why
    page.click("#step-freeze")
    page.wait_for_selector("#action-submit")
    assert "orders recorded while it is frozen pay it nothing" in page.locator(".action-intro").inner_text()
    page.fill("#id_reason", "chargebacks from one shop")
    screenshot(page, "console-6-freeze-reason")
    page.click("#action-submit")
    page.wait_for_selector("ul.messagelist")
    assert "C2 Distributor C2 is now Frozen." in page.locator("ul.messagelist").inner_text()
    assert Distributor.unscoped.get(pk=c2.pk).status == "frozen"
    assert page.locator("#step-unfreeze").count() == 1 and page.locator("#step-freeze").count() == 0

    # 6. finance decides on the withdrawal's own page: approve with a note, pay with the reference
    finance = page.context.browser.new_page()
    finance.set_viewport_size({"width": 1366, "height": 900})
    login(finance, base, "fin", "fin-pass-9876")
    finance.goto(f"{base}/admin/ledger/withdrawal/{w.pk}/change/")
    assert [b.get_attribute("value") for b in finance.locator("#decision-form button").all()] == ["approve", "reject"]
    finance.fill("#id_reason", "account checked")
    screenshot(finance, "console-7-withdrawal-decision")
    finance.click("#decide-approve")
    finance.wait_for_selector("ul.messagelist")
    approved_at = Withdrawal.unscoped.get(pk=w.pk).decided_at
    finance.fill("#id_payout_reference", "ALIPAY-20260601-7")
    finance.click("#decide-pay")
    finance.wait_for_selector("text=Decided: nothing more to do.")
    paid = Withdrawal.unscoped.get(pk=w.pk)
    assert (paid.status, paid.decided_at, paid.payout_reference) == ("paid", approved_at, "ALIPAY-20260601-7")
    from zoneinfo import ZoneInfo

    from django.utils import formats

    local = formats.localize(approved_at.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None))
    assert local in finance.locator(".field-decided_at").inner_text()
    screenshot(finance, "console-8-withdrawal-paid")
