"""Monthly statements (对账单, domain rules section 9) and a distributor's months on the worked
programme of tests/reports/conftest.py, to the cent: opening + movements = closing = the ledger at
the month's end, JSON, CSV and PDF (a Chinese name rendered and extracted), the portal's own, and
the bad requests."""
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tenants.context import tenant_context
from tests.reports.conftest import staff_client

TZ = ZoneInfo("Asia/Shanghai")
ZEROS = {"frozen": "0.00", "available": "0.00", "held": "0.00", "withdrawn": "0.00", "fees": "0.00",
         "total_earned": "0.00"}
NO_MOVES = {"commission_accrued": "0.00", "commission_reversed": "0.00", "commission_clawed_back": "0.00",
            "commission_settled": "0.00", "bonuses": "0.00", "withdrawals_requested": "0.00",
            "withdrawals_returned": "0.00", "withdrawals_paid": "0.00", "withdrawal_fees": "0.00", "adjustments": ZEROS}
NO_LEVELS = {lv: {"accrued": "0.00", "reversed": "0.00", "net": "0.00"} for lv in ("1", "2", "3")}


def url(external_id, month, ext="/"):
    return f"/api/v1/admin/distributors/{external_id}/statements/{month}{ext}"


def test_march_statement_of_b(staff, programme):
    r = staff.get(url("B", "2026-03"))
    assert r.status_code == 200, r.json()
    body = r.json()
    withdrawal = body["entries"][3]["withdrawal_id"]
    assert body == {
        "distributor_external_id": "B", "name": "王小明", "month": "2026-03", "currency": "CNY",
        "timezone": "Asia/Shanghai", "from": "2026-03-01T00:00:00+08:00", "to": "2026-04-01T00:00:00+08:00",
        "closed": True,
        "opening": {**ZEROS, "frozen": "10.00", "total_earned": "10.00"},          # O1, accrued on 02-28 23:59:59
        "movements": {**NO_MOVES, "commission_accrued": "50.00", "commission_settled": "30.00",
                      "withdrawals_requested": "25.00"},
        "commission_by_level": {**NO_LEVELS, "1": {"accrued": "50.00", "reversed": "0.00", "net": "50.00"}},
        # frozen 10 + 50 - 30; available 30 - 25 held for the withdrawal; earned 10 + 50
        "closing": {**ZEROS, "frozen": "30.00", "available": "5.00", "held": "25.00", "total_earned": "60.00"},
        "entries": [
            {"at": "2026-03-01T00:00:00+08:00", "kind": "accrual", "amount": "20.00", "level": 1,
             "order_external_id": "O2", "refund_external_id": None, "withdrawal_id": None, "memo": ""},
            {"at": "2026-03-25T12:00:00+08:00", "kind": "settlement", "amount": "10.00", "level": 1,
             "order_external_id": "O1", "refund_external_id": None, "withdrawal_id": None, "memo": ""},
            {"at": "2026-03-25T12:00:00+08:00", "kind": "settlement", "amount": "20.00", "level": 1,
             "order_external_id": "O2", "refund_external_id": None, "withdrawal_id": None, "memo": ""},
            {"at": "2026-03-26T10:00:00+08:00", "kind": "withdrawal_hold", "amount": "25.00", "level": None,
             "order_external_id": None, "refund_external_id": None, "withdrawal_id": withdrawal, "memo": ""},
            {"at": "2026-03-31T23:59:59+08:00", "kind": "accrual", "amount": "30.00", "level": 1,
             "order_external_id": "O4", "refund_external_id": None, "withdrawal_id": None, "memo": ""},
        ],
    }
    assert withdrawal is not None


def test_april_statement_of_b_with_a_refund_of_march_orders(staff, programme):
    body = staff.get(url("B", "2026-04")).json()
    assert body["opening"] == {**ZEROS, "frozen": "30.00", "available": "5.00", "held": "25.00", "total_earned": "60.00"}
    assert body["movements"] == {**NO_MOVES, "commission_reversed": "30.00", "commission_clawed_back": "5.00",
                                 "bonuses": "5.00", "withdrawals_paid": "24.75", "withdrawal_fees": "0.25"}
    assert body["commission_by_level"]["1"] == {"accrued": "0.00", "reversed": "35.00", "net": "-35.00"}
    assert body["closing"] == {**ZEROS, "available": "5.00", "withdrawn": "24.75", "fees": "0.25", "total_earned": "30.00"}
    assert [(e["at"][:16], e["kind"], e["amount"], e["order_external_id"], e["refund_external_id"])
            for e in body["entries"]] == [
        ("2026-04-02T09:00", "withdrawal_paid", "24.75", None, None), ("2026-04-02T09:00", "fee", "0.25", None, None),
        ("2026-04-02T10:00", "reversal", "30.00", "O4", "RF-O4"), ("2026-04-10T12:00", "clawback", "5.00", "O2", "RF-O2"),
        ("2026-04-15T12:00", "bonus", "5.00", None, None)]
    assert body["entries"][-1]["memo"].endswith("March: 2026-03")


def ledger_at(shop, distributor_id, instant) -> dict[str, Decimal]:
    """The distributor's balances from its journal entries before `instant` (straight from the table)."""
    from ledger.models import BUCKETS, LedgerEntry

    with tenant_context(shop):
        entries = list(LedgerEntry.objects.filter(distributor_id=distributor_id, created_at__lt=instant))
    return {b: sum((getattr(e, f"d_{b}") for e in entries), Decimal("0.00")) for b in BUCKETS}


def as_decimals(balances: dict) -> dict:
    return {k: Decimal(v) for k, v in balances.items()}


def test_closing_equals_the_ledger_every_month(staff, shop, programme):
    """For every distributor and month: opening is the journal before the month, closing the journal
    before its end, closing = opening + movements by the rule of each balance, and the running
    month's closing is the balance now."""
    from ledger.models import Balance

    for who, d in programme.items():
        for month in ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05"):
            body = staff.get(url(who, month)).json()
            start = datetime.fromisoformat(body["from"])
            end = datetime.fromisoformat(body["to"])
            assert as_decimals(body["opening"]) == ledger_at(shop, d.pk, start), (who, month)
            assert as_decimals(body["closing"]) == ledger_at(shop, d.pk, end), (who, month)
            o, c, m = as_decimals(body["opening"]), as_decimals(body["closing"]), body["movements"]
            mv = {k: Decimal(v) for k, v in m.items() if k != "adjustments"}
            assert c["frozen"] == o["frozen"] + mv["commission_accrued"] - mv["commission_reversed"] - mv["commission_settled"]
            assert c["available"] == (o["available"] + mv["commission_settled"] - mv["commission_clawed_back"]
                                      + mv["bonuses"] - mv["withdrawals_requested"] + mv["withdrawals_returned"])
            assert c["held"] == (o["held"] + mv["withdrawals_requested"] - mv["withdrawals_returned"]
                                 - mv["withdrawals_paid"] - mv["withdrawal_fees"])
            assert c["withdrawn"] == o["withdrawn"] + mv["withdrawals_paid"]
            assert c["fees"] == o["fees"] + mv["withdrawal_fees"]
            assert c["total_earned"] == (o["total_earned"] + mv["commission_accrued"] - mv["commission_reversed"]
                                         - mv["commission_clawed_back"] + mv["bonuses"])
        may = staff.get(url(who, "2026-05")).json()
        assert may["closed"] is False
        with tenant_context(shop):
            bal = Balance.objects.filter(distributor=d).first()
        now = {b: getattr(bal, b) if bal else Decimal(0) for b in ("frozen", "available", "held", "withdrawn", "fees",
                                                                    "total_earned")}
        assert as_decimals(may["closing"]) == now, who
    # R earned 2.00 + 4.00 + 6.00 - 6.00 - 1.00 + 2.50 + 4.00 = 11.50, all settled
    assert staff.get(url("R", "2026-05")).json()["closing"] == {**ZEROS, "available": "11.50", "total_earned": "11.50"}


def test_the_statements_of_a_month_add_up_to_the_summary(staff, programme):
    """Every distributor's statement of a month, added up, gives the summary's money of that month."""
    for month, start, end in (("2026-02", "2026-02-01", "2026-03-01"), ("2026-03", "2026-03-01", "2026-04-01"),
                              ("2026-04", "2026-04-01", "2026-05-01")):
        total = staff.get("/api/v1/admin/reports/summary/", {"from": start, "to": end, "interval": "month"}).json()["total"]
        statements = [staff.get(url(who, month)).json() for who in programme]
        for level in ("1", "2", "3"):
            for k in ("accrued", "reversed"):
                assert sum(Decimal(s["commission_by_level"][level][k]) for s in statements) == \
                    Decimal(total["commission_by_level"][level][k]), (month, level, k)
        moves = lambda key: sum(Decimal(s["movements"][key]) for s in statements)  # noqa: E731
        assert moves("commission_settled") == Decimal(total["commission_settled"])
        assert moves("bonuses") == Decimal(total["bonuses"])
        assert moves("withdrawals_paid") + moves("withdrawal_fees") == Decimal(total["withdrawals_paid"])


def test_statement_csv(staff, programme):
    import csv
    import io

    r = staff.get(url("B", "2026-03", ".csv"))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert 'filename="statement-B-2026-03.csv"' in r["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert rows[0] == ["distributor_external_id", "B"] and rows[1] == ["name", "王小明"]
    assert ["balance", "frozen", "available", "held", "withdrawn", "fees", "total_earned"] in rows
    assert ["opening", "10.00", "0.00", "0.00", "0.00", "0.00", "10.00"] in rows
    assert ["closing", "30.00", "5.00", "25.00", "0.00", "0.00", "60.00"] in rows
    assert ["commission_accrued", "50.00"] in rows and ["level_1_net", "50.00"] in rows
    header = rows.index(["at", "kind", "amount", "level", "order_external_id", "refund_external_id", "withdrawal_id", "memo"])
    assert [row[:5] for row in rows[header + 1:]] == [
        ["2026-03-01T00:00:00+08:00", "accrual", "20.00", "1", "O2"], ["2026-03-25T12:00:00+08:00", "settlement", "10.00", "1", "O1"],
        ["2026-03-25T12:00:00+08:00", "settlement", "20.00", "1", "O2"], ["2026-03-26T10:00:00+08:00", "withdrawal_hold", "25.00", "", ""],
        ["2026-03-31T23:59:59+08:00", "accrual", "30.00", "1", "O4"]]


def test_statement_csv_neutralises_formulas(shop, programme, clock_now):
    """A name chosen by a user never becomes a live formula in finance's file (domain rules 9)."""
    import csv
    import io

    from distributors.models import Distributor

    with tenant_context(shop):
        Distributor.objects.filter(pk=programme["B"].pk).update(name="=HYPERLINK(\"http://x\")")
    rows = list(csv.reader(io.StringIO(staff_client(shop, "fin").get(url("B", "2026-04", ".csv")).content.decode())))
    assert rows[1] == ["name", "'=HYPERLINK(\"http://x\")"]
    assert ["level_1_net", "-35.00"] in rows      # a negative amount stays a number


def pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_statement_pdf_renders_the_chinese_name(staff, programme):
    r = staff.get(url("B", "2026-03", ".pdf"))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert 'filename="statement-B-2026-03.pdf"' in r["Content-Disposition"]
    assert r.content.startswith(b"%PDF-")
    text = pdf_text(r.content)
    assert "王小明" in text and "(B)" in text and "2026-03" in text
    for amount in ("10.00", "60.00", "30.00", "25.00", "50.00"):
        assert amount in text, amount
    assert b"DroidSansFallback" in r.content and b"DejaVuSans" in r.content   # both fonts embedded (subsets)
    assert len(r.content) < 200_000


def test_the_portal_has_my_statements(portal_b, staff, programme):
    mine = portal_b.get("/api/v1/me/statements/2026-03/")
    assert mine.status_code == 200 and mine.json() == staff.get(url("B", "2026-03")).json()
    csv_r = portal_b.get("/api/v1/me/statements/2026-03.csv")
    assert csv_r.status_code == 200 and csv_r.content == staff.get(url("B", "2026-03", ".csv")).content
    pdf_r = portal_b.get("/api/v1/me/statements/2026-03.pdf")
    assert pdf_r.status_code == 200 and "王小明" in pdf_text(pdf_r.content)


def test_my_months(portal_b):
    r = portal_b.get("/api/v1/me/reports/monthly/", {"year": 2026})
    assert r.status_code == 200, r.json()
    body = r.json()
    zero = {"direct_sales": "0.00", "team_sales": "0.00", "orders": 0, "commission": "0.00",
            "commission_accrued": "0.00", "commission_reversed": "0.00", "commission_settled": "0.00",
            "bonuses": "0.00", "earned": "0.00", "withdrawals_paid": "0.00", "withdrawal_fees": "0.00"}
    assert (body["year"], body["currency"], body["timezone"]) == (2026, "CNY", "Asia/Shanghai")
    assert body["months"] == [
        {"month": "2026-01", **zero},
        {"month": "2026-02", **zero, "direct_sales": "100.00", "team_sales": "100.00", "orders": 1, "commission": "10.00",
         "commission_accrued": "10.00", "earned": "10.00"},
        # O2 keeps 150.00 (and its commission 15.00); O4 was refunded in full: 0, not counted
        {"month": "2026-03", **zero, "direct_sales": "150.00", "team_sales": "150.00", "orders": 1, "commission": "15.00",
         "commission_accrued": "50.00", "commission_settled": "30.00", "earned": "50.00"},
        # the refunds of March's orders were journalled in April
        {"month": "2026-04", **zero, "commission_reversed": "35.00", "bonuses": "5.00", "earned": "-30.00",
         "withdrawals_paid": "25.00", "withdrawal_fees": "0.25"},
        {"month": "2026-05", **zero}]
    assert body["total"] == {"direct_sales": "250.00", "team_sales": "250.00", "orders": 2, "commission": "25.00",
                             "commission_accrued": "60.00", "commission_reversed": "35.00", "commission_settled": "30.00",
                             "bonuses": "5.00", "earned": "30.00", "withdrawals_paid": "25.00", "withdrawal_fees": "0.25"}
    # the year defaults to the current one; a past year has its twelve months
    assert portal_b.get("/api/v1/me/reports/monthly/").json() == body
    assert len(portal_b.get("/api/v1/me/reports/monthly/", {"year": 2025}).json()["months"]) == 12


def test_my_months_of_a_team_head(programme, clock_now, portal_for):
    """A's March: direct O3 50.00; team O2 150.00 + O3 50.00 (+ O4, refunded: 0); commission on
    them 7.50 (O2 at level 2, 10.00 less its quarter) + 5.00 (O3) + 0 (O4)."""
    body = portal_for(programme["A"]).get("/api/v1/me/reports/monthly/", {"year": 2026}).json()
    march = body["months"][2]
    assert (march["direct_sales"], march["team_sales"], march["orders"], march["commission"]) == \
        ("50.00", "200.00", 1, "12.50")


# --- bad requests ---------------------------------------------------------------------------------

@pytest.mark.parametrize("month", ["2026-3", "2026-13", "2026-00", "march", "2026-03-01", "２０２６-０３"])
def test_a_malformed_month_is_a_400(staff, portal_b, month):
    for client, path in ((staff, url("B", month)), (staff, url("B", month, ".pdf")), (portal_b, f"/api/v1/me/statements/{month}/")):
        r = client.get(path)
        assert r.status_code == 400, (path, r.content)
        assert [(e["attr"], e["code"]) for e in r.json()["errors"]] == [("month", "invalid_month")]


def test_a_month_not_begun_is_a_400(staff, portal_b):
    for client, path in ((staff, url("B", "2026-06")), (staff, url("B", "2026-06", ".csv")),
                         (portal_b, "/api/v1/me/statements/2027-01.pdf")):
        r = client.get(path)
        assert r.status_code == 400 and [(e["attr"], e["code"]) for e in r.json()["errors"]] == [("month", "month_not_begun")]


@pytest.mark.parametrize("year,code", [("2027", "year_not_begun"), ("1800", "invalid_year"), ("abc", "invalid")])
def test_a_bad_year_is_a_400(portal_b, year, code):
    r = portal_b.get("/api/v1/me/reports/monthly/", {"year": year})
    assert r.status_code == 400 and [(e["attr"], e["code"]) for e in r.json()["errors"]] == [("year", code)]


def test_another_tenants_distributor_is_a_404_like_a_missing_one(staff, make_tenant):
    from tests.factories import distributor

    other = make_tenant(slug="other")
    with tenant_context(other):
        distributor(other, external_id="OTHER", name="别家")
    for ext in ("", ".csv", ".pdf"):
        theirs, missing = staff.get(url("OTHER", "2026-03", ext)), staff.get(url("NOBODY", "2026-03", ext))
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json() == missing.json()
    # a malformed month of another tenant's distributor is still the 404
    assert staff.get(url("OTHER", "bad")).status_code == 404
