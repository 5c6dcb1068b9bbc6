"""Every export a person opens in a spreadsheet neutralises cells starting with =, +, -, @, tab or
carriage return (domain rules section 9), read back through the paths people use: the payout file
(staff API and the console's action), the console's distributor and order exports in every format
they offer, and the backtest CSV. A distributor named `=1+1` (external id `+EVIL`) and a withdrawal
to the account `@SUM(A1:A9)` must come out as text, never as a live formula."""
import csv
import io

import pytest

from fenxiao.csvsafe import FORMULA_START

NAME, ACCOUNT, HOLDER, EXTERNAL_ID = "=1+1", "@SUM(A1:A9)", "-2+3", "+EVIL"


def live_formulas(cells) -> list[str]:
    """Cells a spreadsheet would evaluate: text starting with a formula character that is not a
    plain number (a negative amount such as "-25.00" is data)."""
    from fenxiao.csvsafe import _NUMBER

    return [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_START) and not _NUMBER.fullmatch(c)]


def csv_cells(text: str, delimiter: str = ",") -> list[str]:
    return [c for row in csv.reader(io.StringIO(text), delimiter=delimiter) for c in row]


@pytest.fixture
def evil(in_tenant, partner, portal_for):
    """A distributor named `=1+1` (external id `+EVIL`) with a paid, settled order and an approved
    withdrawal of 50.00 to the account `@SUM(A1:A9)` (holder `-2+3`)."""
    from ledger.models import Withdrawal
    from ledger.services import settle_due, withdrawal_approve
    from tests.factories import distributor, order_json

    d = distributor(in_tenant, external_id=EXTERNAL_ID, name=NAME)
    r = partner.post("/api/v1/orders/", order_json("O1", referrer_external_id=EXTERNAL_ID, status="paid",
                                                   paid_at="2026-01-15T10:05:00+08:00",
                                                   lines=[{"line_id": "1", "sku": "=SKU", "category": "@cat",
                                                           "quantity": 1, "unit_price": "1000.00"}]), format="json")
    assert r.status_code == 201, r.json()
    in_tenant.settle_after_days = in_tenant.auto_complete_days = 0
    in_tenant.save()
    settle_due(tenant=in_tenant)
    r = portal_for(d).post("/api/v1/me/withdrawals/", {"amount": "50.00", "method": "bank", "account": ACCOUNT,
                                                        "account_name": HOLDER}, format="json")
    assert r.status_code == 201, r.json()
    withdrawal_approve(withdrawal=Withdrawal.objects.get(public_id=r.json()["id"]), actor="finance")
    return d


@pytest.fixture
def console(client, tenant):
    """The Django test client logged in as the tenant's staff with every console permission."""
    from django.contrib.auth.models import Permission, User

    from tenants.models import StaffMembership

    user = User.objects.create_user("finance-csv", password="pw-12345678", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=["distributors", "orders", "commissions", "ledger"]))
    StaffMembership.objects.create(user=user, tenant=tenant)
    client.force_login(user)
    return client


def payout_row(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:6] == ["withdrawal_id", "distributor_external_id", "distributor_name", "method", "account",
                           "account_name"]
    (row,) = rows[1:]
    return row


def test_payout_file_of_the_staff_api(evil, tenant):
    from tests.staff.test_staff_api import staff_for

    r = staff_for(tenant, "fin-api").get("/api/v1/admin/withdrawals/export.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    row = payout_row(r.content.decode())
    assert row[1:6] == ["'+EVIL", "'=1+1", "bank", "'@SUM(A1:A9)", "'-2+3"]
    assert row[6:10] == ["CNY", "50.00", "0.00", "50.00"]
    assert live_formulas(row) == []


def test_payout_file_of_the_console_action(evil, console):
    from ledger.models import Withdrawal

    ids = list(Withdrawal.objects.values_list("pk", flat=True))
    r = console.post("/admin/ledger/withdrawal/", {"action": "export_payouts", "_selected_action": ids})
    assert r.status_code == 200 and r["Content-Type"] == "text/csv"
    row = payout_row(r.content.decode())
    assert row[1:6] == ["'+EVIL", "'=1+1", "bank", "'@SUM(A1:A9)", "'-2+3"]
    assert live_formulas(row) == []


def exported_cells(response, fmt: str) -> list:
    """The cells of a console export in format `fmt` (the format's title, lower case)."""
    body = response.content
    if fmt == "csv":
        return csv_cells(body.decode("utf-8-sig"))
    if fmt == "tsv":
        return csv_cells(body.decode("utf-8-sig"), delimiter="\t")
    if fmt == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(body)).active
        cells = [c for row in sheet.iter_rows() for c in row]
        assert not [c.value for c in cells if c.data_type == "f"]        # no formula cell at all
        return [c.value for c in cells]
    raise AssertionError(f"the console offers {fmt}: add how to read it back here")


@pytest.mark.parametrize("url, expected", [
    ("/admin/distributors/distributor/export/", ["'+EVIL", "'=1+1"]),
    ("/admin/orders/order/export/", ["'+EVIL", "'=SKU", "'@cat"]),
])
def test_console_exports_in_every_offered_format(evil, console, url, expected):
    from import_export.formats.base_formats import XLSX

    form = console.get(url).context["form"]
    offered = [label.lower() for value, label in form.fields["format"].choices if value != ""]
    assert offered == ["csv"] + (["xlsx"] if XLSX.is_available() else [])  # spreadsheets only (admin_scoping)
    fields = {name: "on" for name in form.fields if name not in ("format", "export_items", "resource")}
    for index, fmt in enumerate(offered):
        r = console.post(url, {"format": str(index), "resource": "0", **fields})
        assert r.status_code == 200, (fmt, r.status_code)
        cells = exported_cells(r, fmt)
        assert set(expected) <= set(cells), (fmt, expected, cells)
        assert live_formulas(cells) == [], fmt


def test_backtest_csv(evil, tenant):
    from tests.staff.test_staff_api import staff_for

    staff = staff_for(tenant, "pm-bt")
    v1 = staff.get("/api/v1/admin/plans/").json()["results"][-1]
    rules = [dict(r, value="0.2000") if (r["scope"], r["level"]) == ("default", 1) else r for r in v1["rules"]]
    draft = staff.post("/api/v1/admin/plans/", {"name": "20%", "rules": rules}, format="json")
    assert draft.status_code == 201, draft.json()
    r = staff.post("/api/v1/admin/backtests/", {"plan_id": draft.json()["id"], "date_from": "2026-01-01",
                                                "date_to": "2026-01-31"}, format="json")
    assert r.status_code == 201, r.json()
    text = staff.get(f"/api/v1/admin/backtests/{r.json()['id']}.csv").content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["distributor_id", "distributor_external_id", "actual", "backtest", "delta"]
    (row,) = rows[1:]
    assert row[1] == "'+EVIL" and row[3] == "200.00"
    assert live_formulas(csv_cells(text)) == []
