"""CSV import/export of orders (django-import-export), a row per line, through order_record."""
from decimal import Decimal as D

import tablib
from django.contrib.auth.models import Permission, User

from commissions.models import CommissionRecord
from orders.models import Order
from orders.resources import COLUMNS, OrderResource
from tenants.models import StaffMembership
from tests.factories import chain, committed

T = "2026-01-15T10:00:00+08:00"


def row(ext, line, qty="1", price="100.00", **kw):
    base = dict(external_id=ext, currency="CNY", exchange_rate="", placed_at=T, status="paid", paid_at=T,
                referrer_external_id="C1", buyer_external_id="", discount="0", shipping="0", tax="0", non_cash_amount="0",
                channel="", line_id=line, sku="S", category="", quantity=qty, unit_price=price, line_discount="0", commissionable="true")
    base.update(kw)
    return [base[c] for c in COLUMNS]


def test_import_records_orders_and_their_commissions(in_tenant):
    chain(in_tenant, 2)
    data = tablib.Dataset(row("O1", "1"), row("O1", "2", qty="2", price="50.00"), row("O2", "1", discount="10.00"), headers=COLUMNS)
    with committed():
        result = OrderResource().import_data(data, dry_run=False)
    assert not result.has_validation_errors()
    o1 = Order.objects.get(external_id="O1")
    assert (o1.commission_base, o1.lines.count()) == (D("200.00"), 2)
    assert sorted((r.order.external_id, r.level, r.amount) for r in CommissionRecord.objects.select_related("order")) == [
        ("O1", 1, D("20.00")), ("O1", 2, D("10.00")), ("O2", 1, D("9.00")), ("O2", 2, D("4.50"))]
    again = OrderResource().import_data(data, dry_run=False)          # idempotent: nothing new
    assert not again.has_validation_errors() and Order.objects.count() == 2


def test_a_bad_order_reports_its_rows_and_nothing_is_imported(in_tenant):
    chain(in_tenant, 2)
    data = tablib.Dataset(row("O1", "1"), row("O2", "1", qty="0"), row("O2", "2"), row("O3", "1", referrer_external_id="ghost"),
                          row("O4", "1", unit_price="1.234"), headers=COLUMNS)
    result = OrderResource().import_data(data, dry_run=False)
    errors = {r.number: str(r.error) for r in result.invalid_rows}
    assert set(errors) == {2, 3, 4, 5}
    assert "quantity" in errors[2] and "Unknown distributor 'ghost'" in errors[4] and "2 decimal places" in errors[5]
    assert Order.objects.count() == 0


def test_dry_run_writes_nothing_and_export_round_trips(in_tenant, client, tenant):
    chain(in_tenant, 2)
    data = tablib.Dataset(row("O1", "1"), headers=COLUMNS)
    assert not OrderResource().import_data(data, dry_run=True).has_validation_errors()
    assert Order.objects.count() == 0
    with committed():
        OrderResource().import_data(data, dry_run=False)
    exported = OrderResource().export()
    assert exported.headers == COLUMNS and exported.dict[0]["external_id"] == "O1" and exported.dict[0]["unit_price"] == "100.00"  # with the currency's places
    pm = User.objects.create_user("pm", password="pw", is_staff=True)
    pm.user_permissions.set(Permission.objects.filter(content_type__app_label="orders"))
    StaffMembership.objects.create(user=pm, tenant=tenant)
    client.force_login(pm)
    assert client.get("/admin/orders/order/import/").status_code == 200
    assert client.get("/admin/orders/order/export/").status_code == 200


def test_admin_import_preview_and_confirm(in_tenant, client, tenant):
    import re

    from django.core.files.uploadedfile import SimpleUploadedFile

    chain(in_tenant, 2)
    pm = User.objects.create_user("pm2", password="pw", is_staff=True)
    pm.user_permissions.set(Permission.objects.filter(content_type__app_label="orders"))
    StaffMembership.objects.create(user=pm, tenant=tenant)
    client.force_login(pm)
    csv_text = tablib.Dataset(row("W1", "1"), headers=COLUMNS).csv
    page = client.get("/admin/orders/order/import/").content.decode()
    csv_value = re.search(r'<option value="(\d+)"[^>]*>csv</option>', page).group(1)
    r = client.post("/admin/orders/order/import/", {
        "resource": "0", "format": csv_value, "import_file": SimpleUploadedFile("o.csv", csv_text.encode(), "text/csv")})
    assert r.status_code == 200 and Order.objects.count() == 0, r.content.decode()[-2000:]
    body = r.content.decode()
    assert "Errors" not in body and "confirm" in body.lower()
    fields = dict(re.findall(r'name="(import_file_name|original_file_name|format|resource)"[^>]*value="([^"]*)"', body))
    with committed():
        done = client.post("/admin/orders/order/process_import/", fields)
    assert done.status_code == 302 and Order.objects.get().external_id == "W1"


def test_import_and_export_carry_the_channel(in_tenant):
    """The CSV import takes the optional channel column (checked as the API checks it) and the
    export writes it; a file without the column records orders without a channel."""
    chain(in_tenant, 2)
    data = tablib.Dataset(row("O1", "1", channel="store"), row("O2", "1"), headers=COLUMNS)
    with committed():
        assert not OrderResource().import_data(data, dry_run=False).has_validation_errors()
    assert dict(Order.objects.values_list("external_id", "channel")) == {"O1": "store", "O2": ""}
    assert [r["channel"] for r in OrderResource().export().dict] == ["store", ""]
    no_column = [c for c in COLUMNS if c != "channel"]
    legacy = tablib.Dataset([v for c, v in zip(COLUMNS, row("O3", "1")) if c != "channel"], headers=no_column)
    with committed():
        assert not OrderResource().import_data(legacy, dry_run=False).has_validation_errors()
    assert Order.objects.get(external_id="O3").channel == ""
    bad = OrderResource().import_data(tablib.Dataset(row("O4", "1", channel="Big Store"), headers=COLUMNS), dry_run=False)
    assert [str(r.error) for r in bad.invalid_rows] and "channel" in str(bad.invalid_rows[0].error)
    assert not Order.objects.filter(external_id="O4").exists()
