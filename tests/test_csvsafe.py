"""Exports neutralise cells a spreadsheet would run as formulas (domain rules section 9): the payout
file (API and admin action), the console's distributor and order exports, the backtest CSV."""
import csv
import io
from decimal import Decimal as D

import pytest

from fenxiao.csvsafe import safe_cell, safe_row

EVIL = ["=1+2", "+1", "-cmd|' /C calc'!A0", "@SUM(A1:A9)", "\t=1", "\r=1", '=HYPERLINK("http://x")']


@pytest.mark.parametrize("value", EVIL)
def test_formula_cells_get_an_apostrophe(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-25.00", "-103", "0", "12.5", "alice", "a=b", "", None, 7, D("-1.00")])
def test_data_is_left_alone(value):
    assert safe_cell(value) == value
    assert safe_row([value]) == [value]


def test_payout_file_and_console_exports_carry_no_live_formula(in_tenant, partner, portal_for):
    from distributors.services import distributor_update
    from ledger.services import settle_due
    from tests.factories import distributor, order_json
    from tests.staff.test_staff_api import staff_for

    evil = distributor(in_tenant, external_id="EVIL", name='=HYPERLINK("http://x")')
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="EVIL", status="paid",
                 paid_at="2026-01-15T10:05:00+08:00", lines=[{"line_id": "1", "sku": "@SUM(A1)", "category": "+cat",
                                                               "quantity": 1, "unit_price": "1000.00"}]), format="json")
    in_tenant.settle_after_days = in_tenant.auto_complete_days = 0
    in_tenant.save()
    settle_due(tenant=in_tenant)
    me = portal_for(evil)
    r = me.post("/api/v1/me/withdrawals/", {"amount": "50.00", "method": "bank", "account": "=1+2",
                                            "account_name": "-cmd|calc"}, format="json")
    assert r.status_code == 201, r.json()
    staff = staff_for(in_tenant, "fin-csv")
    assert staff.post(f"/api/v1/admin/withdrawals/{r.json()['id']}/approve/").status_code == 200
    rows = list(csv.reader(io.StringIO(staff.get("/api/v1/admin/withdrawals/export.csv").content.decode())))
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")" and rows[1][4:6] == ["'=1+2", "'-cmd|calc"]
    assert rows[1][7] == "50.00"
    # the console's exports (the admin's Export buttons run these resources)
    from distributors.resources import DistributorResource
    from orders.resources import OrderResource

    cells = [c for resource in (DistributorResource(), OrderResource())
             for row in csv.reader(io.StringIO(resource.export().csv)) for c in row]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'@SUM(A1)" in cells and "'+cat" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "@")) or (c.startswith("-") and not c[1:2].isdigit())]
    distributor_update(distributor=evil, status="frozen")
