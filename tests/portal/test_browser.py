"""The distributor portal on a phone (issue 14 item 6): headless Chromium (Debian's, driven by
Playwright) at 375 x 812 in Chinese logs in, sees the earnings, opens level 2 of the team, saves a
poster and decodes its QR code back to the invite link (and a newcomer registering through that
link lands under the right upline), completes a lesson, reads an announcement, sends feedback,
requests then cancels a withdrawal; a second distributor cannot open the first one's pages by
changing the URL. Screenshots of every step go where CI keeps them (tests/screenshots/, or
FENXIAO_SCREENSHOTS)."""
from __future__ import annotations

import io
import os
from decimal import Decimal as D
from pathlib import Path

import pytest

from tenants.context import tenant_context
from tests.staff.test_browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
PASSWORD = "portal-pass-2026"


def shot(page, name: str) -> None:
    """The whole page as <FENXIAO_SCREENSHOTS or tests/screenshots>/portal-<name>.png, the bottom
    tab bar at the end of the page (as the eye sees it when scrolled down), not across the middle."""
    folder = Path(os.environ.get("FENXIAO_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.add_style_tag(content="body.has-tabbar{position:relative;min-height:100vh} .tabbar{position:absolute}")
    page.screenshot(path=str(folder / f"portal-{name}.png"), full_page=True)


@pytest.fixture
def phone():
    """new_phone() -> a fresh browser context's page: a phone's screen, touch, Chinese (Accept-Language zh-CN)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)

        def new_phone():
            context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                          locale="zh-CN", accept_downloads=True)
            return context.new_page()

        try:
            yield new_phone
        finally:
            browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def programme(make_tenant, settings, live_server):
    """acme (CNY) with alice -> bob -> carol, eve beside them, 80.00 settled for alice (10% of her
    own 500.00, 5% of bob's 200.00, 2% of carol's 1000.00, orders paid now), the
    demo's materials and announcements (load_demo_support: a poster, copy, a video, a three-lesson
    course, a welcome announcement), and invite links pointing at this test server."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from distributors.services import distributor_set_password
    from ledger.services import settle_due
    from tests.factories import distributor, line, paid_order

    settings.FENXIAO_PUBLIC_URL = live_server.url
    from tenants.models import Tenant

    acme = make_tenant(slug="acme", withdraw_min_amount=D("10.00"))
    Tenant.objects.filter(pk=acme.pk).update(name="Acme 好物")
    acme.refresh_from_db()
    with tenant_context(acme):
        alice = distributor(acme, external_id="alice", name="王小美")
        bob = distributor(acme, alice, external_id="bob", name="李大壮")
        carol = distributor(acme, bob, external_id="carol", name="张小红")
        eve = distributor(acme, external_id="eve", name="陈一一")
        for d in (alice, bob, carol, eve):
            distributor_set_password(distributor=d, password=PASSWORD)
        now = timezone.now()
        for ext, who, amount in (("O1", "carol", "1000.00"), ("O2", "bob", "200.00"), ("O3", "alice", "500.00")):
            paid_order(acme, ext, referrer_external_id=who, lines=[line(unit_price=amount)], placed_at=now, paid_at=now)
        settle_due(tenant=acme, now=now + timedelta(days=60))       # all due: paid + 14 + 7 days
    call_command("load_demo_support", tenant="acme", stdout=io.StringIO())
    return {"tenant": acme, "alice": alice, "bob": bob, "carol": carol, "eve": eve, "base": live_server.url}


def log_in(page, base, username):
    page.goto(f"{base}/portal/acme/")                    # not logged in: the login page
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#balance")


def test_a_distributor_on_a_phone_in_chinese(programme, phone):
    import zxingcpp
    from PIL import Image

    from distributors.models import Distributor
    from ledger.models import Balance, Withdrawal
    from relations.models import AnnouncementRead, FeedbackTicket, LessonCompletion

    acme, alice, base = programme["tenant"], programme["alice"], programme["base"]
    page = phone()
    page.goto(f"{base}/portal/acme/")
    assert page.url.startswith(f"{base}/portal/acme/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]      # nothing wider than the phone
    shot(page, "01-login")

    # log in, see the earnings: 80.00 available (alice's L1 50.00 + L2 10.00 + L3 20.00, settled)
    log_in(page, base, "alice")
    assert page.inner_text("#available") == "80.00"
    assert (page.inner_text("#frozen"), page.inner_text("#withdrawn")) == ("0.00", "0.00")
    assert "王小美" in page.inner_text("#me-name")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "02-home")

    # level 2 of the team: carol, whose 1000.00 order brought alice 20.00
    page.click("#home-level-2")
    page.wait_for_selector("#levels .on#level-2")
    row = page.locator('li.downline[data-external-id="carol"]')
    assert "张小红" in row.inner_text() and "+20.00" in row.inner_text() and "1,000.00" in row.inner_text()
    shot(page, "03-team-level-2")

    # the invite page, then the poster: saved, its QR code decodes to the invite link
    page.click("#tab-promote")
    page.wait_for_selector("#invite-qr")
    invite = page.inner_text("#invite-url")
    assert invite == f"{base}/portal/acme/join/?code={alice.invite_code}"
    shot(page, "04-invite")
    page.click("#posters a.poster-link")
    page.wait_for_selector("#poster-download")
    shot(page, "05-poster")
    with page.expect_download() as download:
        page.click("#poster-download")
    png = Path(download.value.path()).read_bytes()
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert code.text == invite

    # complete a lesson of the course
    page.goto(f"{base}/portal/acme/materials/")
    shot(page, "06-materials")
    page.click('a.material[data-kind="course"]')
    page.wait_for_selector("#course")
    assert page.locator('.lesson[data-done="0"]').count() == 3
    page.locator(".lesson-form button").first.click()
    page.wait_for_selector('.lesson[data-done="1"]')
    assert page.locator('.lesson[data-done="0"]').count() == 2
    with tenant_context(acme):
        assert LessonCompletion.objects.filter(distributor=alice).count() == 1
    shot(page, "07-lesson-done")

    # read an announcement: the home page's badge goes away
    page.goto(f"{base}/portal/acme/")
    assert page.locator("#unread-dot").count() == 1
    page.click("#go-announcements")
    page.wait_for_selector(".announcement")
    page.locator(".announcement").first.click()
    page.wait_for_selector("#announcement")
    assert "欢迎加入分销中心" in page.inner_text("#announcement")
    shot(page, "08-announcement")
    with tenant_context(acme):
        assert AnnouncementRead.objects.filter(distributor=alice).count() == 1
    page.goto(f"{base}/portal/acme/")
    assert page.locator("#unread-dot").count() == 0

    # send feedback
    page.goto(f"{base}/portal/acme/feedback/")
    page.fill("#id_subject", "海报能换颜色吗？")
    page.fill("#id_body", "想要一张红色背景的双十一海报，谢谢！")
    shot(page, "09-feedback-form")
    page.click("#feedback-submit")
    page.wait_for_selector("#ticket-sent")
    assert "红色背景" in page.inner_text("#thread")
    with tenant_context(acme):
        assert FeedbackTicket.objects.get(distributor=alice).subject == "海报能换颜色吗？"
    shot(page, "10-feedback-sent")

    # request a withdrawal, then cancel it
    page.goto(f"{base}/portal/acme/withdrawals/")
    page.fill("#id_amount", "50")
    page.select_option("#id_method", "alipay")
    page.fill("#id_account", "wangxiaomei@example.com")
    shot(page, "11-withdraw-form")
    page.click("#withdraw-submit")
    page.wait_for_selector("#withdrawal-done")
    assert page.inner_text("#available") == "30.00"
    with tenant_context(acme):
        w = Withdrawal.objects.get(distributor=alice)
    assert w.status == "requested" and w.amount == D("50.00")
    shot(page, "12-withdraw-requested")
    page.locator(f'li.withdrawal[data-id="{w.public_id}"] .cancel-form button').click()
    page.wait_for_selector("#withdrawal-cancelled")
    assert page.inner_text("#available") == "80.00"
    with tenant_context(acme):
        assert Withdrawal.objects.get(pk=w.pk).status == "cancelled"
        assert Balance.objects.get(distributor=alice).available == D("80.00")
    shot(page, "13-withdraw-cancelled")

    # English on request, then back to Chinese
    page.goto(f"{base}/portal/acme/me/")
    page.click("#language-en")
    page.wait_for_selector("#logout")
    assert page.locator("html").get_attribute("lang") == "en" and "Log out" in page.inner_text("#logout")
    shot(page, "14-me-english")
    page.click("#language-zh-hans")
    page.wait_for_selector("#logout")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.click("#logout")
    page.wait_for_selector("#login-form")

    # a newcomer opens the invite link (from the poster's QR code) and registers: under alice
    newcomer = phone()
    newcomer.goto(code.text)
    newcomer.wait_for_selector("#join-form")
    assert newcomer.input_value("#id_invite_code") == alice.invite_code
    newcomer.fill("#id_name", "新人小周")
    newcomer.fill("#id_username", "zhou")
    newcomer.fill("#id_password", "bamboo-river-63")
    newcomer.fill("#id_password2", "bamboo-river-63")
    shot(newcomer, "15-join")
    newcomer.click("#join-submit")
    newcomer.wait_for_selector("#balance")
    with tenant_context(acme):
        zhou = Distributor.objects.get(external_id="zhou")
    assert (zhou.parent_id, zhou.name, zhou.status) == (alice.pk, "新人小周", "active")
    shot(newcomer, "16-newcomer-home")


def test_a_second_distributor_cannot_open_the_first_ones_pages(programme, phone):
    from ledger.models import Withdrawal
    from ledger.services import withdrawal_request
    from relations.models import Material
    from relations.services import feedback_open

    acme, alice, base = programme["tenant"], programme["alice"], programme["base"]
    with tenant_context(acme):
        w, _ = withdrawal_request(distributor=alice, amount=D("40.00"), method="bank", account="6222")
        ticket = feedback_open(distributor=alice, subject="王小美的问题", body="只有我和品牌能看到")
        course = Material.objects.get(kind="course")
    page = phone()
    log_in(page, base, "eve")
    mine = page.goto(f"{base}/portal/acme/feedback/{ticket.public_id}/")
    assert mine.status == 404 and "王小美" not in page.content()
    assert page.locator("#not-found").count() == 1
    shot(page, "20-not-found")
    page.goto(f"{base}/portal/acme/withdrawals/")
    assert w.public_id not in page.content() and "40.00" not in page.inner_text("#withdrawal-list")
    # a form posted to alice's withdrawal's URL (as a changed URL in a copied form would): not found
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(f"{base}/portal/acme/withdrawals/{w.public_id}/cancel/", headers={"X-CSRFToken": token})
    assert answer.status == 404
    with tenant_context(acme):
        assert Withdrawal.objects.get(pk=w.pk).status == "requested"
    # a programme that does not exist
    page.goto(f"{base}/portal/other/")
    assert page.locator("#not-found").count() == 1
    # eve's own course page works, so the 404s above are about whose the pages are
    page.goto(f"{base}/portal/acme/materials/{course.public_id}/")
    page.wait_for_selector("#course")


def test_where_i_stand_contests_rankings_targets_and_statements(programme, phone):
    """The pages of domain rules section 8 on a phone, with this month's worked figures (orders
    paid now): direct sales carol 1,000.00, alice 500.00, bob 200.00. A contest over this local
    month (prizes 300.00 / 100.00): alice 2nd, 500.00, prize 100.00; the ranking the same (other
    names masked: 张*红, 李*壮); alice's team target of 2,000.00 (her team: herself, bob, carol):
    1,700.00, 85%. Then her statements, the earnings calculator and the password page."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from incentives.services import contest_create, target_create
    from tenants.services import tenant_update

    acme, alice, base = programme["tenant"], programme["alice"], programme["base"]
    tz = ZoneInfo(acme.timezone)
    today = timezone.localtime(timezone.now(), tz).date()
    first = today.replace(day=1)
    after = first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1)
    with tenant_context(acme):
        contest = contest_create(tenant=acme, name="本月冲刺赛", measure="direct_sales", prizes=["300.00", "100.00"],
                                 starts_at=datetime.combine(first, time.min, tz), ends_at=datetime.combine(after, time.min, tz))
        target_create(tenant=acme, name="团队月目标", scope="team", measure="direct_sales", period="month",
                      starts_on=first, goal=D("2000.00"), distributor=alice)
        tenant_update(tenant=acme, show_rankings=True)
    page = phone()
    log_in(page, base, "alice")

    page.goto(f"{base}/portal/acme/contests/")
    card = page.locator(".card", has_text="本月冲刺赛")
    assert "500.00" in card.inner_text() and "100.00" in card.inner_text()
    assert card.locator(".my-rank").inner_text().strip() == "2"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "21-contests")

    page.goto(f"{base}/portal/acme/contests/{contest.public_id}/")
    rows = [r.inner_text() for r in page.locator("#board li").all()]
    assert len(rows) == 3 and "张*红" in rows[0] and "1,000.00" in rows[0] and "300.00" in rows[0]
    assert "王小美" in rows[1] and "500.00" in rows[1]
    assert page.locator("#board li.mine").count() == 1 and "王小美" in page.locator("#board li.mine").inner_text()
    assert "李*壮" in rows[2] and "李大壮" not in page.content()
    shot(page, "22-contest-board")

    page.goto(f"{base}/portal/acme/rankings/")
    text = page.inner_text("body")
    assert "张*红" in text and "李*壮" in text and "李大壮" not in text
    mine = page.locator("li.mine")
    assert mine.count() == 1 and "王小美" in mine.inner_text() and "500.00" in mine.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "23-rankings")
    page.goto(f"{base}/portal/acme/me/")               # the same board in English: the measure tabs stay on one line
    page.click("#language-en")
    page.wait_for_selector("#logout")
    page.goto(f"{base}/portal/acme/rankings/")
    tabs = page.locator("nav.seg.fit a")
    assert tabs.count() == 4 and "direct sales" in tabs.first.inner_text().lower()
    assert len({round(b["y"]) for b in (tabs.nth(i).bounding_box() for i in range(4))}) == 1   # one row
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "23-rankings-english")
    page.goto(f"{base}/portal/acme/me/")
    page.click("#language-zh-hans")
    page.wait_for_selector("#logout")

    page.goto(f"{base}/portal/acme/targets/")
    target = page.locator(".card.target", has_text="团队月目标")
    assert "1,700.00" in target.inner_text() and "2,000.00" in target.inner_text() and "85" in target.inner_text()
    shot(page, "24-targets")

    page.goto(f"{base}/portal/acme/statements/")
    page.wait_for_selector("#months")
    shot(page, "25-statements")
    page.goto(f"{base}/portal/acme/statements/{first:%Y-%m}/")
    assert "80.00" in page.inner_text("body")          # this month's commissions: 50.00 + 10.00 + 20.00, still frozen
    shot(page, "26-statement")

    page.goto(f"{base}/portal/acme/preview/")
    page.fill("#id_price", "199.00")
    page.click("#preview-submit")
    page.wait_for_selector("#preview-result")
    # the tenant's plan: 10% / 5% / 2% of 199.00 -> 19.90, 9.95, 3.98
    assert [page.locator(f'.level[data-level="{n}"] .v').inner_text() for n in (1, 2, 3)] == ["19.90", "9.95", "3.98"]
    shot(page, "27-earn-calculator")
    page.goto(f"{base}/portal/acme/password/")
    shot(page, "28-password")
    page.goto(f"{base}/portal/acme/announcements/")
    shot(page, "29-announcements")
