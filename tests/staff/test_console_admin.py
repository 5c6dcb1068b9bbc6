"""The admin as a PM's console: guardrails as form errors, publish, preview, distributor decisions."""
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Permission, User

from commissions.models import CommissionPlan, CommissionRule
from distributors.models import Distributor
from tenants.context import tenant_context
from tenants.models import StaffMembership
from tests.factories import chain, paid_order


@pytest.fixture
def pm(client, tenant):
    user = User.objects.create_user("pm", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["distributors", "commissions", "orders", "ledger", "tenants"]))
    StaffMembership.objects.create(user=user, tenant=tenant)
    client.force_login(user)
    return client


def plan_form(rules, name="q3"):
    data = {"name": name, "rules-TOTAL_FORMS": len(rules), "rules-INITIAL_FORMS": 0, "rules-MIN_NUM_FORMS": 0,
            "rules-MAX_NUM_FORMS": 1000}
    for i, (scope, value, level, kind, amount) in enumerate(rules):
        data.update({f"rules-{i}-scope": scope, f"rules-{i}-scope_value": value, f"rules-{i}-level": level,
                     f"rules-{i}-kind": kind, f"rules-{i}-value": amount})
    return data


def test_over_cap_plan_is_a_form_error_and_nothing_is_saved(pm, in_tenant):
    # rates are typed as percentages (issue 12): 30% + 25% is over the 50% cap
    r = pm.post("/admin/commissions/commissionplan/add/", plan_form([("default", "", 1, "percent", "30"),
                                                                    ("default", "", 2, "percent", "25%")]))
    assert r.status_code == 200 and "above max_total_rate 0.5000" in r.content.decode()
    assert CommissionPlan.objects.count() == 1


def test_draft_edit_publish_and_published_is_read_only(pm, in_tenant):
    r = pm.post("/admin/commissions/commissionplan/add/", plan_form([("default", "", 1, "percent", "15%")]))
    assert r.status_code == 302
    draft = CommissionPlan.objects.get(version=2)
    assert (draft.status, list(draft.rules.values_list("value", flat=True))) == ("draft", [D("0.15")])
    pm.post("/admin/commissions/commissionplan/", {"action": "publish_now", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "published"
    r = pm.post(f"/admin/commissions/commissionplan/{draft.pk}/change/", plan_form([("default", "", 1, "percent", "40")]))
    assert r.status_code == 403
    assert list(CommissionRule.objects.filter(plan=draft).values_list("value", flat=True)) == [D("0.15")]
    pm.post("/admin/commissions/commissionplan/", {"action": "copy_to_draft", "_selected_action": [draft.pk]})
    assert CommissionPlan.objects.get(version=3).based_on_id == draft.pk


def preview_form(distributor, sku="S", quantity="3", unit_price="33.33"):
    """The preview form as the browser sends it (issue 12: a form, no JSON): one line, one empty row."""
    return {"distributor": distributor, "buyer": "", "plan": "", "currency": "CNY", "exchange_rate": "", "discount": "",
            "non_cash_amount": "", "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "1", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000", "lines-0-sku": sku, "lines-0-category": "", "lines-0-quantity": quantity,
            "lines-0-unit_price": unit_price, "lines-0-discount": "", "lines-0-commissionable": "on",
            "lines-1-commissionable": "on"}


def test_preview_page(pm, in_tenant):
    chain(in_tenant, 2)
    r = pm.post("/admin/commissions/commissionplan/preview/", preview_form("C1"))
    page = r.content.decode()
    assert r.status_code == 200 and "preview-result" in page
    assert "C1" in page and "9.99" in page and "4.99" in page      # 99.99 x 10% = 9.999 -> 9.99; x 5% = 4.9995 -> 4.99
    r = pm.post("/admin/commissions/commissionplan/preview/", preview_form("nobody"))
    assert "preview-error" in r.content.decode()


def test_distributor_actions_and_delete_refusal(pm, in_tenant):
    a, b = chain(in_tenant, 2)
    pm.post("/admin/distributors/distributor/", {"action": "freeze", "_selected_action": [b.pk], "reason": "checks"})
    assert Distributor.objects.get(pk=b.pk).status == "frozen"
    r = pm.post(f"/admin/distributors/distributor/{a.pk}/delete/", {"post": "yes"}, follow=True)
    assert "Cannot delete distributor" in r.content.decode() and Distributor.objects.filter(pk=a.pk).exists()
    paid_order(in_tenant, referrer_external_id="C0")
    r = pm.post(f"/admin/distributors/distributor/{b.pk}/delete/", {"post": "yes"}, follow=True)
    assert Distributor.objects.filter(pk=b.pk).exists() is False          # a leaf without money goes
    r = pm.post(f"/admin/distributors/distributor/{a.pk}/delete/", {"post": "yes"}, follow=True)
    assert "Cannot delete distributor" in r.content.decode() and Distributor.objects.filter(pk=a.pk).exists()


def test_tenant_settings_in_the_admin(pm, tenant):
    page = pm.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()
    assert 'name="currency"' not in page and 'name="slug"' not in page       # read-only for tenant staff
    form = {"name": "Acme", "timezone": "Asia/Shanghai", "levels": 3, "rounding": "down", "inactive_upline_policy": "skip",
            "bind_mode": "when_unbound", "enrollment": "open", "settle_after_days": 7, "auto_complete_days": 14,
            "withdraw_min_amount": "10.00", "withdraw_fee_rate": "0.0000", "max_total_rate": "0.1000",
            "invite_url_template": ""}
    r = pm.post(f"/admin/tenants/tenant/{tenant.pk}/change/", form)
    assert r.status_code == 200 and "above max_total_rate 0.1000" in r.content.decode()   # plan v1 sums to 0.17
    tenant.refresh_from_db()
    assert str(tenant.max_total_rate) == "0.5000"
    r = pm.post(f"/admin/tenants/tenant/{tenant.pk}/change/", dict(form, max_total_rate="0.2000"))
    assert r.status_code == 302
    tenant.refresh_from_db()
    assert (str(tenant.max_total_rate), tenant.currency, tenant.slug) == ("0.2000", "CNY", "acme")


def test_dashboard_shows_the_tenants_key_numbers(pm, in_tenant, make_tenant):
    chain(in_tenant, 2)
    paid_order(in_tenant, referrer_external_id="C1")          # base 100.00: C1 10.00, C0 5.00 frozen
    other = make_tenant(slug="zzz")
    page = pm.get("/admin/").content.decode()
    assert 'id="dashboard-acme"' in page and 'id="dashboard-zzz"' not in page
    section = page.split('id="dashboard-acme"')[1].split("<p>")[0]   # the key numbers now, as tiles
    assert '<span class="fx-value">100.00</span>' in section and '<span class="fx-value">15.00</span>' in section
    assert ">2 / 0 / 0<" in section
    assert other.slug == "zzz"
