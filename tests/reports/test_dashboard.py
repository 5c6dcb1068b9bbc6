"""The console's dashboard (issue 12 item 2) on the worked programme of tests/reports/conftest.py:
the figures it embeds for its charts are the reports API's to the cent, each figure links to the
list of the rows behind it, and another tenant's data never shows."""
import json
import re
from html import unescape

import pytest

from tenants.context import tenant_context

from .conftest import FENXIAO_APPS
from .test_summary import APR, FEB, MAR, TOTAL


@pytest.fixture
def pm_console(shop, programme, clock_now, client):
    """A browser session of shop's pm (every model permission of fenxiao's apps)."""
    from django.contrib.auth.models import Permission, User

    from tenants.models import StaffMembership

    user = User.objects.create_user("pm-console", password="pw-12345678", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=FENXIAO_APPS))
    StaffMembership.objects.create(user=user, tenant=shop)
    client.force_login(user)
    return client


def embedded(page: str, name: str):
    found = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def feb_to_apr(client, **extra):
    r = client.get("/admin/", {"range": "custom", "from": "2026-02-01", "to": "2026-04-30", "interval": "month", **extra})
    assert r.status_code == 200
    return r.content.decode()


def test_the_charts_show_the_summary_to_the_cent(pm_console, shop):
    from datetime import date

    from reports import selectors

    page = feb_to_apr(pm_console)
    data = embedded(page, "dashboard-data")
    with tenant_context(shop):
        expected = selectors.summary(first_day=date(2026, 2, 1), end_day=date(2026, 5, 1), interval="month")
    assert data["summary"] == expected
    assert [{k: v for k, v in b.items() if k not in ("start", "end")} for b in data["summary"]["buckets"]] == [FEB, MAR, APR]
    assert {k: v for k, v in data["summary"]["total"].items() if k not in ("start", "end")} == TOTAL
    # the KPI tiles: net sales 380.00, 4 orders, commission 121.50 - 59.50 = 62.00, 4 new distributors
    tiles = {k: unescape(re.search(rf'id="kpi-{k}" href="[^"]*">([^<]*)<', page).group(1))
             for k in ("net-sales", "orders", "commission", "new-distributors")}
    assert tiles == {"net-sales": "380.00", "orders": "4", "commission": "62.00", "new-distributors": "4"}
    # channels: app 80.00 + 100.00 (O4 refunded in full), h5 150.00 kept of 200.00, none 50.00
    assert [(r["channel"], r["net_sales"]) for r in data["channels"]["results"]] == [
        ("app", "180.00"), ("h5", "150.00"), (None, "50.00")]
    # records by status now: O1 17.00 + O2 34.00 - 8.50 + O3 7.50 + O5 12.00 settled; O4's 51.00 and
    # O2's clawed back 8.50 reversed; they add up to the 121.50 accrued
    assert data["status"] == {"frozen": "0.00", "available": "62.00", "reversed": "59.50"}
    # top by direct sales: B (O1 100 + O2 150 + O4 0), A (O3 50 + O5 80)
    assert [(r["distributor_external_id"], r["score"]) for r in data["top"]["results"]] == [("B", "250.00"), ("A", "130.00")]
    assert embedded(page, "dashboard-labels")["net_sales"] == "Net sales"


def test_a_drill_down_lists_the_rows_behind_the_figure(pm_console, shop, programme):
    page = feb_to_apr(pm_console)
    data = embedded(page, "dashboard-data")
    march = data["bucket_links"][1]
    # March's orders: O2, O3, O4 paid in March (Shanghai), O1 (02-28 23:59:59) and O5 (04-01 00:00) not
    listed = unescape(pm_console.get(march["orders"]).content.decode())
    assert "?e=1" not in march["orders"]
    found = set(re.findall(r'>(O[1-5])<', listed))
    assert found == {"O2", "O3", "O4"}
    # level 2 of March: A's records of O2 and O4, R's of O3 (referred by A)
    rows = unescape(pm_console.get(march["levels"]["2"]).content.decode())
    assert "3 commission records" in rows
    # joined in March (C at 03-01 00:00), not E (pending) nor D (04-01 00:00)
    people = unescape(pm_console.get(march["distributors"]).content.decode())
    assert ">C<" in people and ">E<" not in people and ">D<" not in people
    # the top distributor's bar opens B's page
    assert data["top"]["results"][0]["url"] == f"/admin/distributors/distributor/{programme['B'].pk}/change/"
    assert pm_console.get(data["top"]["results"][0]["url"]).status_code == 200
    # the channel slice opens the orders of that channel in the range
    h5 = unescape(pm_console.get(data["channel_links"]["h5"]).content.decode())
    assert set(re.findall(r'>(O[1-5])<', h5)) == {"O2"}


def test_another_tenants_data_never_shows(pm_console, shop, make_tenant, partner_for):
    from tests.reports.conftest import at, post_order

    other = make_tenant(slug="other")
    from distributors.services import DistributorInput, distributor_register
    from datetime import datetime

    with at("2026-03-05T10:00:00+08:00"), tenant_context(other):
        distributor_register(tenant=other, data=DistributorInput(external_id="SECRET", name="秘密",
                                                                 joined_at=datetime.fromisoformat("2026-03-05T10:00:00+08:00")))
    with at("2026-03-05T11:00:00+08:00"):
        post_order(partner_for(other), "OX", "SECRET", "9999.00", "2026-03-05T11:00:00+08:00", channel="secret")
    page = feb_to_apr(pm_console)
    assert "SECRET" not in page and "秘密" not in page and "9999" not in page and "secret" not in page.lower().replace(
        "secret_key", "")
    data = embedded(page, "dashboard-data")
    assert data["summary"]["total"]["net_sales"] == "380.00"
    # a staff user cannot pick another tenant by slug
    page = feb_to_apr(pm_console, tenant="other")
    assert 'id="dashboard-other"' not in page and embedded(page, "dashboard-data")["summary"]["total"]["net_sales"] == "380.00"


def test_a_backwards_range_is_refused_on_the_page(pm_console):
    r = pm_console.get("/admin/", {"range": "custom", "from": "2026-04-01", "to": "2026-03-01", "interval": "day"})
    page = r.content.decode()
    assert r.status_code == 200 and 'id="dashboard-error"' in page and "dashboard-data" not in page


def test_the_presets_are_tenant_local_days(pm_console):
    # 2026-05-05 12:00 in Shanghai: the last 30 days are 04-06..05-05, this month 05-01..05-05
    page = pm_console.get("/admin/").content.decode()
    s = embedded(page, "dashboard-data")["summary"]
    assert (s["from"], s["to"], s["interval"], len(s["buckets"])) == ("2026-04-06", "2026-05-06", "day", 30)
    s = embedded(pm_console.get("/admin/", {"range": "month"}).content.decode(), "dashboard-data")["summary"]
    assert (s["from"], s["to"], s["interval"]) == ("2026-05-01", "2026-05-06", "day")
    s = embedded(pm_console.get("/admin/", {"range": "12m"}).content.decode(), "dashboard-data")["summary"]
    assert (s["from"], s["to"], s["interval"], len(s["buckets"])) == ("2025-06-01", "2026-05-06", "month", 12)
