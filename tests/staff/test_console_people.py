"""The console for people, not engineers (issue 12, scope 3): rates as percentages with the meaning
of each level, rules named by scope and level, publishing now or later from the plan's page, the
preview as a form in the tenant's currency, backtest results as a table and a chart, a
distributor's page (money, earnings by level, the team's three levels, status steps with a reason),
decisions on a withdrawal's own page (the approval's time kept when paid), times in the tenant's
time zone. Every page writes through the services; another tenant's objects are 404."""
from __future__ import annotations

import html
import json
import re
from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from commissions.models import Backtest, CommissionPlan, CommissionRule
from distributors.models import Distributor
from ledger.models import Withdrawal
from tenants.context import tenant_context
from tenants.models import StaffMembership
from tests.factories import chain, distributor, line, paid_order

SH = ZoneInfo("Asia/Shanghai")


def staff_client(client, tenant, username="pm", apps=("distributors", "commissions", "orders", "ledger", "tenants")):
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=apps))
    StaffMembership.objects.create(user=user, tenant=tenant)
    client.force_login(user)
    return client


@pytest.fixture
def pm(client, tenant):
    return staff_client(client, tenant)


def text(response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, spaces collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def plan_form(rules, name="q3"):
    data = {"name": name, "rules-TOTAL_FORMS": len(rules), "rules-INITIAL_FORMS": 0, "rules-MIN_NUM_FORMS": 0,
            "rules-MAX_NUM_FORMS": 1000}
    for i, (scope, value, level, kind, amount) in enumerate(rules):
        data.update({f"rules-{i}-scope": scope, f"rules-{i}-scope_value": value, f"rules-{i}-level": level,
                     f"rules-{i}-kind": kind, f"rules-{i}-value": amount})
    return data


# --- commission plans: percentages, meanings, labels ---------------------------------------------

def test_rates_are_typed_and_shown_as_percentages(pm, in_tenant):
    r = pm.post("/admin/commissions/commissionplan/add/", plan_form([
        ("default", "", 1, "percent", "12%"), ("default", "", 2, "percent", "5"), ("category", "Technology", 2, "percent", "3 %"),
        ("sku", "TEA-1", 1, "percent", "12.25"), ("sku", "TEA-1", 3, "fixed", "2.5")]))
    assert r.status_code == 302, r.context["inline_admin_formsets"][0].formset.errors if r.context else r
    draft = CommissionPlan.objects.get(version=2)
    stored = {(x.scope, x.scope_value, x.level): (x.kind, str(x.value)) for x in draft.rules.all()}
    assert stored == {("default", "", 1): ("percent", "0.1200"), ("default", "", 2): ("percent", "0.0500"),
                      ("category", "Technology", 2): ("percent", "0.0300"), ("sku", "TEA-1", 1): ("percent", "0.1225"),
                      ("sku", "TEA-1", 3): ("fixed", "2.5000")}
    # rules read as people read them, wherever Django names one (history, delete pages, logs)
    labels = sorted(str(x) for x in draft.rules.all())
    assert labels == ["SKU TEA-1, level 1: 12.25%", "SKU TEA-1, level 3: 2.50 CNY per unit", "Technology, level 2: 3%",
                      "all products (default), level 1: 12%", "all products (default), level 2: 5%"]
    page = pm.get(f"/admin/commissions/commissionplan/{draft.pk}/change/")
    body = page.content.decode()
    assert 'value="12%"' in body and 'value="12.25%"' in body and 'value="2.50"' in body and "0.1200" not in body
    readable = text(page)
    # the plan's table: a row per scope, a column per level with its meaning
    assert ("applies to level 1 (the referrer) level 2 (the referrer's upline) level 3 (the upline's upline) "
            "all products (default) 12% 5% - Technology - 3% - SKU TEA-1 12.25% - 2.50 CNY per unit") in readable
    assert "draft (not in force)" in readable
    # the level is chosen by its meaning
    assert '<option value="2" selected>level 2 (the referrer&#x27;s upline)</option>' in body


@pytest.mark.parametrize("typed, message", [
    ("12.345", "At most 2 decimal places in a percentage (e.g. 12.25%)."),
    ("ten", "Give a percentage, e.g. 10 or 10% (for 10 percent)."),
    ("-5", "A percentage cannot be negative."),
    ("60", "above max_total_rate 0.5000"),          # 60%: the cap, from commissions.plans.rules_check
])
def test_a_bad_percentage_is_a_form_error_and_nothing_is_saved(pm, in_tenant, typed, message):
    r = pm.post("/admin/commissions/commissionplan/add/", plan_form([("default", "", 1, "percent", typed)]))
    assert r.status_code == 200 and message in html.unescape(r.content.decode())
    assert CommissionPlan.objects.count() == 1 and CommissionRule.objects.count() == 3   # the fixture's v1 only


def test_a_published_plan_reads_as_percentages_and_the_list_says_which_is_in_force(pm, in_tenant):
    v1 = CommissionPlan.objects.get(version=1)
    page = pm.get(f"/admin/commissions/commissionplan/{v1.pk}/change/")
    body, readable = page.content.decode(), text(page)
    assert "0.1000" not in body and "0.0500" not in body
    assert "all products (default) level 1 (the referrer) 10%" in readable        # the read-only rule rows
    assert "What v1 pays — in force" in readable and 'id="publish-box"' not in body
    pm.post("/admin/commissions/commissionplan/add/", plan_form([("default", "", 1, "percent", "8")], name="lean"))
    listing = text(pm.get("/admin/commissions/commissionplan/"))
    assert "2 lean draft (not in force) all products (default): L1 8%" in listing
    assert "1 - in force all products (default): L1 10% · L2 5% · L3 2%" in listing      # v1 has no name


def test_a_grade_override_is_typed_as_a_percentage(pm, in_tenant):
    from commissions.models import GradeLevelOverride
    from distributors.models import Grade

    gold = Grade.objects.create(tenant=in_tenant, code="gold", name="Gold", rank=1)
    r = pm.post(f"/admin/distributors/grade/{gold.pk}/change/", {
        "code": "gold", "name": "Gold", "rank": "1", "min_direct_sales": "", "min_direct_downlines": "", "min_team_sales": "",
        "overrides-TOTAL_FORMS": "1", "overrides-INITIAL_FORMS": "0", "overrides-0-level": "1", "overrides-0-kind": "percent",
        "overrides-0-value": "15%"})
    assert r.status_code == 302, r.content.decode()[-2000:]
    o = GradeLevelOverride.objects.get()
    assert (o.level, o.kind, str(o.value), str(o)) == (1, "percent", "0.1500", "level 1: 15%")
    assert 'value="15%"' in pm.get(f"/admin/distributors/grade/{gold.pk}/change/").content.decode()


# --- publishing from the plan's page -------------------------------------------------------------

def draft_plan(tenant, rows=(("default", "", 1, "percent", D("0.1200")),), name="autumn"):
    from commissions import plans

    with tenant_context(tenant):
        return plans.plan_draft_create(tenant=tenant, name=name, rows=[plans.RuleRow(*r) for r in rows])


def test_publish_now_from_the_plans_page(pm, in_tenant):
    draft = draft_plan(in_tenant)
    page = pm.get(f"/admin/commissions/commissionplan/{draft.pk}/change/").content.decode()
    assert 'id="publish-form"' in page and f'action="/admin/commissions/commissionplan/{draft.pk}/publish/"' in page
    before = timezone.now()
    r = pm.post(f"/admin/commissions/commissionplan/{draft.pk}/publish/", {"when": "now"}, follow=True)
    draft.refresh_from_db()
    assert draft.status == "published" and before <= draft.effective_from <= timezone.now()
    assert messages_of(r)[0].startswith("Plan v2 published: orders recorded from ")
    assert "What v2 pays — in force" in text(r) and 'id="publish-box"' not in r.content.decode()
    assert CommissionPlan.history.filter(id=draft.pk).latest("history_id").history_user.username == "pm"


def test_publish_at_a_later_time_is_read_in_the_tenants_time_zone(pm, in_tenant):
    draft = draft_plan(in_tenant)
    r = pm.post(f"/admin/commissions/commissionplan/{draft.pk}/publish/", {
        "when": "later", "effective_from_0": "2031-03-02", "effective_from_1": "09:30"}, follow=True)
    draft.refresh_from_db()
    assert (draft.status, draft.effective_from) == ("published", datetime(2031, 3, 2, 1, 30, tzinfo=dt_timezone.utc))
    assert messages_of(r) == ["Plan v2 published: orders recorded from March 2, 2031, 9:30 a.m. on use it."]   # Shanghai time
    assert "published, in force from March 2, 2031, 9:30 a.m." in text(pm.get("/admin/commissions/commissionplan/"))
    with tenant_context(in_tenant):
        from commissions.selectors import plan_in_force

        assert plan_in_force(at=timezone.now()).version == 1        # v1 stays in force until then


@pytest.mark.parametrize("setup, form, message", [
    ("empty", {"when": "now"}, "Plan v2 was not published: rules: A plan needs at least one rule."),
    ("cap", {"when": "now"}, "Plan v2 was not published: rules: default: percent rates sum to 0.1200, above max_total_rate 0.1000."),
    ("plain", {"when": "later", "effective_from_0": "2020-01-01", "effective_from_1": "00:00"},
     "Plan v2 was not published: effective_from: A plan cannot take effect in the past: orders already recorded keep theirs."),
    ("plain", {"when": "later", "effective_from_0": "", "effective_from_1": ""},
     "Plan v2 was not published: Give the date and time the plan takes effect."),
])
def test_a_refused_publish_says_why_on_the_plans_page(pm, in_tenant, setup, form, message):
    draft = draft_plan(in_tenant, rows=() if setup == "empty" else (("default", "", 1, "percent", D("0.1200")),))
    if setup == "cap":
        in_tenant.max_total_rate = D("0.1000")
        in_tenant.save()
    r = pm.post(f"/admin/commissions/commissionplan/{draft.pk}/publish/", form, follow=True)
    assert r.redirect_chain == [(f"/admin/commissions/commissionplan/{draft.pk}/change/", 302)]
    assert messages_of(r) == [message] and message in html.unescape(r.content.decode())
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_publishing_needs_the_change_permission_and_another_tenants_plan_is_404(client, tenant, make_tenant):
    draft = draft_plan(tenant)
    other = make_tenant(slug="other")
    theirs = draft_plan(other)
    viewer = staff_client(client, tenant, "viewer", apps=())
    viewer_user = User.objects.get(username="viewer")
    viewer_user.user_permissions.set(Permission.objects.filter(codename="view_commissionplan"))
    page = viewer.get(f"/admin/commissions/commissionplan/{draft.pk}/change/").content.decode()
    assert 'id="publish-form"' not in page
    assert viewer.post(f"/admin/commissions/commissionplan/{draft.pk}/publish/", {"when": "now"}).status_code == 403
    viewer_user.user_permissions.set(Permission.objects.filter(content_type__app_label="commissions"))
    assert viewer.post(f"/admin/commissions/commissionplan/{theirs.pk}/publish/", {"when": "now"}).status_code == 404
    theirs.refresh_from_db()
    draft.refresh_from_db()
    assert (theirs.status, draft.status) == ("draft", "draft")


# --- the preview as a form -----------------------------------------------------------------------

def preview_form(distributor="C2", lines=(("SKU-1", "", "1", "100.00", ""),), **fields):
    data = {"distributor": distributor, "buyer": "", "plan": "", "currency": "CNY", "exchange_rate": "", "discount": "",
            "non_cash_amount": "", "lines-TOTAL_FORMS": str(len(lines) + 1), "lines-INITIAL_FORMS": "1",
            "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000"}
    for i, (sku, category, quantity, price, discount) in enumerate(lines):
        data.update({f"lines-{i}-sku": sku, f"lines-{i}-category": category, f"lines-{i}-quantity": quantity,
                     f"lines-{i}-unit_price": price, f"lines-{i}-discount": discount, f"lines-{i}-commissionable": "on"})
    data[f"lines-{len(lines)}-commissionable"] = "on"   # an empty row, as the browser sends it
    data.update(fields)
    return data


def result_rows(response) -> list[list[str]]:
    table = re.search(r'<table id="preview-result".*?<tbody>(.*?)</tbody>', response.content.decode(), re.S).group(1)
    return [[html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c))).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]


def test_the_preview_of_a_usd_tenant_starts_in_usd_and_runs_as_first_shown(client, make_tenant):
    """Issue 12: the preview's default body (CNY, no exchange rate) failed on a USD tenant."""
    usd = make_tenant(slug="usd", currency="USD")
    with tenant_context(usd):
        chain(usd, 3)
    pm = staff_client(client, usd)
    page = pm.get("/admin/commissions/commissionplan/preview/").content.decode()
    assert '<option value="USD" selected>USD</option>' in page
    assert 'name="lines-0-unit_price" value="100.00"' in page and 'placeholder="0.00"' in page
    # what the browser sends for the page as shown, with a referrer typed in
    r = pm.post("/admin/commissions/commissionplan/preview/", preview_form(currency="USD"))
    assert "preview-error" not in r.content.decode(), text(r)
    assert result_rows(r) == [
        ["level 1 (the referrer)", "C2 Distributor C2", "-", "10%", "10.00", "line 1: all products (default) 10%"],
        ["level 2 (the referrer's upline)", "C1 Distributor C1", "-", "5%", "5.00", "line 1: all products (default) 5%"],
        ["level 3 (the upline's upline)", "C0 Distributor C0", "-", "2%", "2.00", "line 1: all products (default) 2%"]]
    assert "Plan v1: commission base 100.00 USD, 17.00 USD paid in all" in text(r)
    with tenant_context(usd):
        c2 = Distributor.objects.get(external_id="C2")
    assert f'href="/admin/distributors/distributor/{c2.pk}/change/"' in r.content.decode()


def test_a_jpy_tenant_previews_in_yen_without_decimals(client, make_tenant):
    jpy = make_tenant(slug="jp", currency="JPY")
    with tenant_context(jpy):
        chain(jpy, 2)
    pm = staff_client(client, jpy)
    page = pm.get("/admin/commissions/commissionplan/preview/").content.decode()
    assert '<option value="JPY" selected>JPY</option>' in page and 'name="lines-0-unit_price" value="100"' in page
    r = pm.post("/admin/commissions/commissionplan/preview/", preview_form(
        distributor="C1", currency="JPY", lines=(("A", "", "3", "1999", "0"),)))
    assert [row[:5] for row in result_rows(r)] == [["level 1 (the referrer)", "C1 Distributor C1", "-", "10%", "599"],
                                                   ["level 2 (the referrer's upline)", "C0 Distributor C0", "-", "5%", "299"]]
    r = pm.post("/admin/commissions/commissionplan/preview/", preview_form(
        distributor="C1", currency="JPY", lines=(("A", "", "1", "19.99", ""),)))
    assert "JPY amounts have no decimal places" in html.unescape(r.content.decode()) and "preview-result" not in r.content.decode()


def test_the_preview_of_a_draft_with_categories_and_a_second_currency(pm, in_tenant):
    chain(in_tenant, 3)
    draft = draft_plan(in_tenant, rows=(("default", "", 1, "percent", D("0.1000")), ("category", "Technology", 1, "percent", D("0.0800")),
                                        ("category", "Technology", 2, "percent", D("0.0300"))))
    r = pm.post("/admin/commissions/commissionplan/preview/", preview_form(
        plan=str(draft.pk), lines=(("PEN", "Office", "2", "10.00", ""), ("LAPTOP", "Technology", "1", "500.00", "20.00"))))
    assert result_rows(r) == [
        ["level 1 (the referrer)", "C2 Distributor C2", "-", "mixed (see the lines)", "40.40",
         "line 1: all products (default) 10%; line 2: Technology 8%"],
        ["level 2 (the referrer's upline)", "C1 Distributor C1", "-", "3%", "14.40", "line 2: Technology 3%"],
        ["level 3 (the upline's upline)", "C0 Distributor C0", "-", "-", "0.00", "no rule pays this level"]]
    # USD at 7.1 CNY: the base is converted (10.00 USD -> 71.00 CNY), the rate is asked for
    r = pm.post("/admin/commissions/commissionplan/preview/", preview_form(currency="USD"))
    errors = html.unescape(r.content.decode())
    assert "exchange_rate is required for USD orders (tenant currency CNY)" in errors and "preview-result" not in errors
    r = pm.post("/admin/commissions/commissionplan/preview/", preview_form(
        currency="USD", exchange_rate="7.1", lines=(("S", "", "1", "10.00", ""),)))
    assert [row[4] for row in result_rows(r)] == ["7.10", "3.55", "1.42"]


@pytest.mark.parametrize("change, field, message", [
    ({"distributor": "nobody"}, "distributor", "Unknown distributor 'nobody'."),
    ({"lines-0-unit_price": "12.345"}, "lines-0-unit_price", "CNY amounts have at most 2 decimal places"),
    ({"lines-0-quantity": "0"}, "lines-0-quantity", "Ensure this value is greater than or equal to 1."),
    ({"lines-0-sku": ""}, "lines-0-sku", "This field may not be blank."),
    ({"lines-0-sku": "", "lines-0-quantity": "", "lines-0-unit_price": ""}, None, "Give at least one line: a product and its price."),
    ({"currency": "XYZ"}, "currency", "Select a valid choice."),
])
def test_a_refused_preview_points_at_the_field(pm, in_tenant, change, field, message):
    chain(in_tenant, 3)
    r = pm.post("/admin/commissions/commissionplan/preview/", preview_form(**change))
    body = html.unescape(r.content.decode())
    assert r.status_code == 200 and "preview-result" not in body and 'id="preview-error"' in body
    assert message in body, text(r)
    if field is not None:   # the message stands next to the field typed
        assert re.search(rf'name="{field}".*?<ul class="errorlist"[^>]*><li>{re.escape(message)}', body, re.S), field


# --- backtests as a table and a chart ------------------------------------------------------------

def test_a_backtest_reads_as_a_table_and_feeds_the_chart(pm, in_tenant, django_capture_on_commit_callbacks):
    """C3 refers 100.00 under v1 (10/5/2 %): paid 10.00, 5.00, 2.00. A draft at 12/5/1 % would have
    paid 12.00, 5.00, 1.00: +2.00 (+20%), 0.00, -1.00 (-50%); +1.00 (+5.88%) in all."""
    chain(in_tenant, 4)
    paid_order(in_tenant, "O1", referrer_external_id="C3")
    draft = draft_plan(in_tenant, rows=(("default", "", 1, "percent", D("0.1200")), ("default", "", 2, "percent", D("0.0500")),
                                        ("default", "", 3, "percent", D("0.0100"))))
    add = pm.get(f"/admin/commissions/backtest/add/?plan={draft.pk}").content.decode()
    assert f'<option value="{draft.pk}" selected>v2 autumn — Draft</option>' in add
    with django_capture_on_commit_callbacks(execute=True):
        r = pm.post("/admin/commissions/backtest/add/", {"plan": draft.pk, "date_from": "2026-01-01", "date_to": "2026-01-31"})
    assert r.status_code == 302
    bt = Backtest.objects.get()
    assert bt.status == "done"
    page = pm.get(f"/admin/commissions/backtest/{bt.pk}/change/")
    body = page.content.decode()
    table = re.search(r'<table class="backtest-table" id="backtest-by-level">.*?<tbody>(.*?)</tbody>', body, re.S).group(1)
    rows = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]
    assert rows == [["level 1 (the referrer)", "10.00", "12.00", "+2.00", "+20%"],
                    ["level 2 (the referrer's upline)", "5.00", "5.00", "0.00", "0%"],
                    ["level 3 (the upline's upline)", "2.00", "1.00", "-1.00", "-50%"],
                    ["all levels", "17.00", "18.00", "+1.00", "+5.88%"]]
    assert "v2 replayed on 1 orders" in text(page)
    chart = json.loads(re.search(r'<script id="backtest-chart-data" type="application/json">(.*?)</script>', body, re.S).group(1))
    assert chart == {"labels": ["level 1 (the referrer)", "level 2 (the referrer's upline)", "level 3 (the upline's upline)"],
                     "deltas": ["2.00", "0.00", "-1.00"], "currency": "CNY", "title": "Delta by level (CNY)", "name": "delta"}
    assert '<script src="/static/vendor/echarts/echarts.min.js"></script>' in body
    assert '<pre>' not in body                                              # no JSON dump any more
    csv = pm.get(f"/admin/commissions/backtest/{bt.pk}/csv/")
    assert csv["Content-Type"] == "text/csv" and csv.content.decode().splitlines()[1:] == [
        f"{d.pk},{d.external_id},{a},{b},{delta}" for d, a, b, delta in (
            (Distributor.objects.get(external_id="C1"), "2.00", "1.00", "-1.00"),
            (Distributor.objects.get(external_id="C2"), "5.00", "5.00", "0.00"),
            (Distributor.objects.get(external_id="C3"), "10.00", "12.00", "2.00"))]


# --- the distributor's page ----------------------------------------------------------------------

def test_the_distributors_page_shows_money_earnings_by_level_and_the_team(pm, in_tenant):
    from ledger.services import settle_due

    c0, c1, c2, c3 = chain(in_tenant, 4)
    paid_order(in_tenant, "O1", referrer_external_id="C2")                    # C2 10.00, C1 5.00, C0 2.00
    paid_order(in_tenant, "O2", referrer_external_id="C1", lines=[line(unit_price="300.00")])  # C1 30.00, C0 15.00
    settle_due(tenant=in_tenant, now=datetime(2026, 6, 1, tzinfo=dt_timezone.utc))
    paid_order(in_tenant, "O3", referrer_external_id="C3", paid_at=datetime(2026, 6, 2, tzinfo=dt_timezone.utc),
               placed_at=datetime(2026, 6, 2, tzinfo=dt_timezone.utc))       # C3 10.00, C2 5.00, C1 2.00 frozen
    r = pm.get(f"/admin/distributors/distributor/{c1.pk}/change/")
    readable = text(r)
    assert ("Money (CNY) frozen (waiting to settle) 2.00 available 35.00 held (withdrawals in progress) 0.00 "
            "withdrawn 0.00 withdrawal fees 0.00") in readable
    assert ("level 1 (the referrer) 30.00 level 2 (the referrer's upline) 5.00 level 3 (the upline's upline) 2.00 "
            "all levels (and bonuses) 37.00") in readable
    assert "level 1 (the referrer): 1" in readable and "level 2 (the referrer's upline): 1" in readable
    body = r.content.decode()
    assert f'<a href="/admin/distributors/distributor/{c2.pk}/change/">C2 Distributor C2</a>' in body
    assert f'<a href="/admin/distributors/distributor/{c3.pk}/change/">C3 Distributor C3</a>' in body
    assert f'<a href="/admin/distributors/distributor/{c0.pk}/change/">C0</a> (Active)' in body    # the upline chain
    assert re.findall(r'id="step-(\w+)"', body) == ["freeze", "disable"]            # from active
    assert "Grade history" in readable


def test_the_team_pages_list_each_level_page_by_page(pm, in_tenant):
    root = distributor(in_tenant, external_id="ROOT", name="Root")
    kids = [distributor(in_tenant, root, external_id=f"K{i:02d}", name=f"Kid {i}") for i in range(55)]
    distributor(in_tenant, kids[0], external_id="GRAND", name="Grandchild")
    page = pm.get(f"/admin/distributors/distributor/{root.pk}/change/").content.decode()
    preview = re.search(r'id="team-level-1".*?</table>', page, re.S).group(0)
    assert len(re.findall(r'href="/admin/distributors/distributor/\d+/change/"', preview)) == 10
    assert f'href="/admin/distributors/distributor/{root.pk}/team/?level=1" id="team-all-1"' in page
    first = pm.get(f"/admin/distributors/distributor/{root.pk}/team/?level=1")
    links = re.findall(r'<a href="/admin/distributors/distributor/(\d+)/change/">(K\d\d) ', first.content.decode())
    assert [x for _pk, x in links] == [f"K{i:02d}" for i in range(50)]
    assert links[0][0] == str(kids[0].pk) and "page 1 of 2" in text(first)
    second = pm.get(f"/admin/distributors/distributor/{root.pk}/team/?level=1&p=2")
    assert re.findall(r'">(K\d\d) Kid', second.content.decode()) == ["K50", "K51", "K52", "K53", "K54"]
    level2 = text(pm.get(f"/admin/distributors/distributor/{root.pk}/team/?level=2"))
    assert "GRAND Grandchild" in level2 and "K01" not in level2
    assert "level 1 (the referrer) (55) · level 2 (the referrer's upline) (1) · level 3 (the upline's upline) (0)" in level2
    assert "Nobody at this level." in text(pm.get(f"/admin/distributors/distributor/{root.pk}/team/?level=3"))


def test_status_steps_from_the_distributors_page_need_a_reason(pm, in_tenant):
    c0, c1 = chain(in_tenant, 2)
    url = f"/admin/distributors/distributor/{c1.pk}/status/"
    form = pm.get(url + "?action=freeze")
    assert "The distributor is frozen: orders recorded while it is frozen pay it nothing" in text(form)
    r = pm.post(url, {"action": "freeze", "reason": "  "})
    assert r.status_code == 200 and "This field is required." in r.content.decode()
    assert Distributor.objects.get(pk=c1.pk).status == "active"
    r = pm.post(url, {"action": "freeze", "reason": "chargebacks"}, follow=True)
    assert messages_of(r) == ["C1 Distributor C1 is now Frozen."]
    assert Distributor.objects.get(pk=c1.pk).status == "frozen"
    last = Distributor.history.filter(id=c1.pk).latest("history_id")
    assert (last.status, last.history_change_reason, last.history_user.username) == ("frozen", "freeze: chargebacks", "pm")
    assert re.findall(r'id="step-(\w+)"', r.content.decode()) == ["unfreeze", "disable"]
    # a step the state machine does not allow: refused, nothing changes
    r = pm.post(url, {"action": "approve", "reason": "try"}, follow=True)
    assert messages_of(r) == ["Nothing changed: Cannot approve a frozen distributor."]
    assert Distributor.objects.get(pk=c1.pk).status == "frozen"
    # the status field stays read-only on the form
    page = pm.get(f"/admin/distributors/distributor/{c1.pk}/change/").content.decode()
    assert 'name="status"' not in page


def test_bulk_status_actions_need_the_reason_too(pm, in_tenant):
    c0, c1 = chain(in_tenant, 2)
    r = pm.post("/admin/distributors/distributor/", {"action": "freeze", "_selected_action": [c1.pk], "reason": ""}, follow=True)
    assert messages_of(r) == ["Nothing changed: give the reason in the box next to the action (it is kept in each "
                              "distributor's history)."]
    assert Distributor.objects.get(pk=c1.pk).status == "active"
    assert 'name="reason"' in pm.get("/admin/distributors/distributor/").content.decode()
    r = pm.post("/admin/distributors/distributor/", {"action": "freeze", "_selected_action": [c0.pk, c1.pk],
                                                       "reason": "audit"}, follow=True)
    assert messages_of(r) == ["Frozen distributor(s): 2."]
    assert [h.history_change_reason for h in Distributor.history.filter(status="frozen").order_by("id")] == [
        "freeze: audit", "freeze: audit"]


def test_another_tenants_distributor_pages_are_404(pm, in_tenant, make_tenant):
    other = make_tenant(slug="other")
    with tenant_context(other):
        (theirs,) = chain(other, 1, prefix="X")
    for url in (f"/admin/distributors/distributor/{theirs.pk}/team/", f"/admin/distributors/distributor/{theirs.pk}/status/"):
        assert pm.get(url).status_code == 404
    assert pm.post(f"/admin/distributors/distributor/{theirs.pk}/status/", {"action": "disable", "reason": "x"}).status_code == 404
    assert Distributor.unscoped.get(pk=theirs.pk).status == "active"


# --- withdrawals: decisions on the withdrawal's page ---------------------------------------------

@pytest.fixture
def rich(in_tenant):
    """C0 <- C1 with settled money: C1 has 30.00 available."""
    from ledger.services import settle_due

    c0, c1 = chain(in_tenant, 2)
    paid_order(in_tenant, "O1", referrer_external_id="C1", lines=[line(unit_price="300.00")])
    settle_due(tenant=in_tenant, now=datetime(2026, 6, 1, tzinfo=dt_timezone.utc))
    return c1


def request_withdrawal(distributor_, amount="20.00"):
    from ledger.services import withdrawal_request

    w, _ = withdrawal_request(distributor=distributor_, amount=D(amount), method="alipay", account="c1@pay")
    return w


def test_approve_then_pay_on_the_withdrawals_page_keeps_the_approval_time(client, tenant, in_tenant, rich):
    w = request_withdrawal(rich)
    fin = staff_client(client, tenant, "fin", apps=("ledger",))
    url = f"/admin/ledger/withdrawal/{w.pk}/"
    page = fin.get(url + "change/").content.decode()
    assert re.findall(r'id="decide-(\w+)"', page) == ["approve", "reject"] and 'name="payout_reference"' not in page
    assert "The distributor has 10.00 CNY available and 20.00 CNY held for withdrawals." in text(fin.get(url + "change/"))
    t1, t2 = datetime(2026, 7, 1, 16, 30, tzinfo=dt_timezone.utc), datetime(2026, 7, 3, 2, 5, tzinfo=dt_timezone.utc)
    with time_machine.travel(t1, tick=False):
        r = fin.post(url + "decide/", {"decision": "approve", "reason": "account checked"}, follow=True)
    assert messages_of(r) == [f"Withdrawal #{w.pk} approved."]
    assert re.findall(r'id="decide-(\w+)"', r.content.decode()) == ["reject", "pay"]
    r = fin.post(url + "decide/", {"decision": "pay", "payout_reference": " "}, follow=True)
    assert messages_of(r) == ["Nothing decided: Give the payout reference of the transfer."]
    assert Withdrawal.objects.get(pk=w.pk).status == "approved"
    with time_machine.travel(t2, tick=False):
        r = fin.post(url + "decide/", {"decision": "pay", "payout_reference": "ALIPAY-778", "reason": ""}, follow=True)
    assert messages_of(r) == [f"Withdrawal #{w.pk} paid (payout reference ALIPAY-778)."]
    w.refresh_from_db()
    assert (w.status, w.decided_at, w.decided_by, w.paid_at, w.payout_reference) == ("paid", t1, "fin", t2, "ALIPAY-778")
    readable = text(r)
    # the page in Shanghai time: approved 2026-07-02 00:30, paid 2026-07-03 10:05
    assert "Decided at: July 2, 2026, 12:30 a.m." in readable and "Paid at: July 3, 2026, 10:05 a.m." in readable
    assert "Decided: nothing more to do." in readable
    reasons = list(Withdrawal.history.filter(id=w.pk).order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons == [None, "approved by fin: account checked", "paid by fin"]


def test_reject_on_the_withdrawals_page_needs_a_reason_and_returns_the_money(client, tenant, in_tenant, rich):
    from ledger.selectors import earnings_of

    w = request_withdrawal(rich)
    fin = staff_client(client, tenant, "fin", apps=("ledger",))
    url = f"/admin/ledger/withdrawal/{w.pk}/decide/"
    r = fin.post(url, {"decision": "reject", "reason": ""}, follow=True)
    assert messages_of(r) == ["Nothing decided: Give the reason for rejecting: the distributor sees it."]
    r = fin.post(url, {"decision": "reject", "reason": "the account name does not match"}, follow=True)
    assert messages_of(r) == [f"Withdrawal #{w.pk} rejected: the money is available to the distributor again."]
    w.refresh_from_db()
    assert (w.status, w.reason) == ("rejected", "the account name does not match")
    balances, _ = earnings_of(distributor_id=rich.pk)
    assert (balances["available"], balances["held"]) == (D("30.00"), D("0.00"))
    r = fin.post(url, {"decision": "approve"}, follow=True)          # decided already: refused, said so
    assert messages_of(r) == ["Nothing decided: A rejected withdrawal cannot be approved."]


def test_only_finance_decides_and_another_tenants_withdrawal_is_404(client, tenant, in_tenant, rich, make_tenant):
    w = request_withdrawal(rich)
    reader = staff_client(client, tenant, "reader", apps=())
    User.objects.get(username="reader").user_permissions.set(Permission.objects.filter(codename="view_withdrawal"))
    page = reader.get(f"/admin/ledger/withdrawal/{w.pk}/change/").content.decode()
    assert 'id="decision-form"' not in page and "finance decides on it" in page
    assert reader.post(f"/admin/ledger/withdrawal/{w.pk}/decide/", {"decision": "approve"}).status_code == 403
    from ledger.services import settle_due

    other = make_tenant(slug="other")
    with tenant_context(other):
        x0, x1 = chain(other, 2, prefix="X")
        paid_order(other, "XO", referrer_external_id="X1", lines=[line(unit_price="300.00")])
        settle_due(tenant=other, now=datetime(2026, 6, 1, tzinfo=dt_timezone.utc))
        theirs = request_withdrawal(x1)
    User.objects.get(username="reader").user_permissions.set(Permission.objects.filter(content_type__app_label="ledger"))
    assert reader.post(f"/admin/ledger/withdrawal/{theirs.pk}/decide/", {"decision": "approve"}).status_code == 404
    assert Withdrawal.unscoped.get(pk=theirs.pk).status == "requested" and Withdrawal.objects.get(pk=w.pk).status == "requested"


# --- times in the tenant's time zone -------------------------------------------------------------

def test_console_times_are_the_tenants_local_times(pm, in_tenant):
    """An order paid 2026-03-01T16:30:00Z is paid on 2026-03-02 at 00:30 in Shanghai."""
    chain(in_tenant, 1)
    at = datetime(2026, 3, 1, 16, 30, tzinfo=dt_timezone.utc)
    order = paid_order(in_tenant, "SH-1", referrer_external_id="C0", placed_at=at, paid_at=at)
    assert at.astimezone(SH).strftime("%Y-%m-%d %H:%M") == "2026-03-02 00:30"   # what the console must show
    listing = text(pm.get("/admin/orders/order/"))
    assert "SH-1 Paid CNY 100.00 100.00 C0 Distributor C0 March 2, 2026, 12:30 a.m." in listing
    assert "March 1, 2026, 4:30 p.m." not in listing
    page = text(pm.get(f"/admin/orders/order/{order.pk}/change/"))
    assert "Paid at: March 2, 2026, 12:30 a.m." in page and "4:30 p.m." not in page
    # the date drill-down of the list is by local day
    assert "SH-1" in text(pm.get("/admin/orders/order/?paid_at__day=2&paid_at__month=3&paid_at__year=2026"))
    assert "SH-1" not in text(pm.get("/admin/orders/order/?paid_at__day=1&paid_at__month=3&paid_at__year=2026"))
    assert timezone.get_current_timezone_name() == "UTC"      # the tenant's zone ends with the request
