"""The tenant summary and sales by channel (domain rules section 9) on the worked programme of
tests/reports/conftest.py, to the cent: buckets in the tenant's time zone with orders at the local
midnights, a refund in a later month, weeks from Monday, buckets adding up to the whole range, the
commission and bonus figures equal to the ledger's, a channel filter, and the bad queries."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from tenants.context import tenant_context

URL = "/api/v1/admin/reports/summary/"
LEVEL = {"accrued": "0.00", "reversed": "0.00", "net": "0.00"}


def lv(accrued, reversed_="0.00"):
    return {"accrued": accrued, "reversed": reversed_, "net": f"{Decimal(accrued) - Decimal(reversed_):.2f}"}


def figures(**kw):
    """A bucket's figures: zeros unless given."""
    out = {"orders": 0, "sales": "0.00", "refunded_sales": "0.00", "net_sales": "0.00", "gmv": "0.00",
           "refunded_gmv": "0.00", "net_gmv": "0.00", "commission_by_level": {"1": LEVEL, "2": LEVEL, "3": LEVEL},
           "commission": LEVEL, "commission_settled": "0.00", "bonuses": "0.00", "new_distributors": 0,
           "active_distributors": 0, "withdrawals_paid": "0.00", "withdrawal_fees": "0.00"}
    out.update(kw)
    return out


FEB = figures(orders=1, sales="100.00", net_sales="100.00", gmv="100.00", net_gmv="100.00",
              commission_by_level={"1": lv("10.00"), "2": lv("5.00"), "3": lv("2.00")}, commission=lv("17.00"),
              new_distributors=2, active_distributors=1)
# O2 (150.00 kept of 200.00, refunded in April), O3 50.00, O4 300.00 refunded in full in April (not
# counted); gmv adds O2's shipping 10.00 and tax 5.00, of which the shipping was refunded
MAR = figures(orders=2, sales="550.00", refunded_sales="350.00", net_sales="200.00", gmv="565.00",
              refunded_gmv="360.00", net_gmv="205.00",
              commission_by_level={"1": lv("55.00"), "2": lv("27.50"), "3": lv("10.00")}, commission=lv("92.50"),
              commission_settled="58.50", new_distributors=1, active_distributors=2)
# the refunds of March's orders reverse April's money: O4 30.00 / 15.00 / 6.00, O2 5.00 / 2.50 / 1.00
APR = figures(orders=1, sales="80.00", net_sales="80.00", gmv="80.00", net_gmv="80.00",
              commission_by_level={"1": lv("8.00", "35.00"), "2": lv("4.00", "17.50"), "3": lv("0.00", "7.00")},
              commission=lv("12.00", "59.50"), commission_settled="12.00", bonuses="5.00", new_distributors=1,
              active_distributors=1, withdrawals_paid="25.00", withdrawal_fees="0.25")
TOTAL = figures(orders=4, sales="730.00", refunded_sales="350.00", net_sales="380.00", gmv="745.00",
                refunded_gmv="360.00", net_gmv="385.00",
                commission_by_level={"1": lv("73.00", "35.00"), "2": lv("36.50", "17.50"), "3": lv("12.00", "7.00")},
                commission=lv("121.50", "59.50"), commission_settled="70.50", bonuses="5.00", new_distributors=4,
                active_distributors=2, withdrawals_paid="25.00", withdrawal_fees="0.25")


def test_monthly_summary_to_the_cent(staff):
    r = staff.get(URL, {"from": "2026-02-01", "to": "2026-05-01", "interval": "month"})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert {k: body[k] for k in ("currency", "timezone", "from", "to", "interval", "channel")} == {
        "currency": "CNY", "timezone": "Asia/Shanghai", "from": "2026-02-01", "to": "2026-05-01", "interval": "month",
        "channel": None}
    assert body["buckets"] == [{"start": "2026-02-01", "end": "2026-03-01", **FEB},
                               {"start": "2026-03-01", "end": "2026-04-01", **MAR},
                               {"start": "2026-04-01", "end": "2026-05-01", **APR}]
    assert body["total"] == {"start": "2026-02-01", "end": "2026-05-01", **TOTAL}


def test_the_buckets_add_up_to_the_range_for_every_interval(staff):
    """Every figure of `total` is the sum of the buckets' (active distributors: each once), and the
    total does not depend on the interval."""
    totals = []
    for interval in ("day", "week", "month"):
        body = staff.get(URL, {"from": "2026-02-10", "to": "2026-04-30", "interval": interval}).json()
        buckets, total = body["buckets"], body["total"]
        for key in ("sales", "refunded_sales", "net_sales", "gmv", "refunded_gmv", "net_gmv", "commission_settled",
                    "bonuses", "withdrawals_paid", "withdrawal_fees"):
            assert sum(Decimal(b[key]) for b in buckets) == Decimal(total[key]), (interval, key)
        for key in ("orders", "new_distributors"):
            assert sum(b[key] for b in buckets) == total[key], (interval, key)
        for level in ("1", "2", "3"):
            for k in ("accrued", "reversed", "net"):
                assert sum(Decimal(b["commission_by_level"][level][k]) for b in buckets) == \
                    Decimal(total["commission_by_level"][level][k])
        assert [b["start"] for b in buckets][0] == "2026-02-10" and buckets[-1]["end"] == "2026-04-30"
        assert all(a["end"] == b["start"] for a, b in zip(buckets, buckets[1:]))
        totals.append({k: v for k, v in total.items()})
    assert totals[0] == totals[1] == totals[2]
    # 2026-02-10 .. 2026-04-29 holds everything but nothing of February 1-9: A and B joined on 02-01
    # and 02-15, so one new distributor less than the whole of Feb-Apr
    assert totals[0]["new_distributors"] == 3 and totals[0]["net_sales"] == "380.00"


def test_days_split_at_the_local_midnight(staff):
    """O1 at 2026-02-28 23:59:59 +08:00 (15:59:59 UTC) is February 28th's; O2 at 2026-03-01 00:00:00
    +08:00 (February 28th 16:00 UTC) is March 1st's, and so is its commission."""
    body = staff.get(URL, {"from": "2026-02-28", "to": "2026-03-02", "interval": "day"}).json()
    feb28, mar1 = body["buckets"]
    assert (feb28["start"], feb28["orders"], feb28["sales"], feb28["commission"]["accrued"]) == \
        ("2026-02-28", 1, "100.00", "17.00")
    assert (mar1["start"], mar1["orders"], mar1["sales"], mar1["gmv"], mar1["commission"]["accrued"]) == \
        ("2026-03-01", 1, "200.00", "215.00", "34.00")
    assert mar1["new_distributors"] == 1   # C joined at 2026-03-01 00:00:00 +08:00


def test_weeks_start_on_monday(staff):
    """2026-02-25 is a Wednesday: the first week is cut at the range's start and ends before Monday
    2026-03-02 (O1 and O2); O3, Monday 09:00, opens the next."""
    body = staff.get(URL, {"from": "2026-02-25", "to": "2026-03-12", "interval": "week"}).json()
    assert [(b["start"], b["end"], b["orders"], b["sales"], b["commission"]["accrued"]) for b in body["buckets"]] == [
        ("2026-02-25", "2026-03-02", 2, "300.00", "51.00"),
        ("2026-03-02", "2026-03-09", 1, "50.00", "7.50"),
        ("2026-03-09", "2026-03-12", 0, "0.00", "0.00")]
    assert date.fromisoformat("2026-03-02").weekday() == 0


def test_commission_and_bonuses_equal_the_ledger(staff, shop):
    """Per month, the summary's commission per level and bonuses are the sums of the ledger's entries
    journalled that month (read here straight from the journal)."""
    from zoneinfo import ZoneInfo

    from ledger.models import LedgerEntry

    tz = ZoneInfo("Asia/Shanghai")
    body = staff.get(URL, {"from": "2026-01-01", "to": "2026-06-01", "interval": "month"}).json()
    with tenant_context(shop):
        entries = list(LedgerEntry.objects.select_related("record").values_list("created_at", "kind", "record__level",
                                                                                 "amount"))
    for bucket in body["buckets"]:
        month = date.fromisoformat(bucket["start"])

        def journal(kinds, level=None):
            return sum((a for at, k, lvl, a in entries if k in kinds and (level is None or lvl == level)
                        and at.astimezone(tz).date().replace(day=1) == month), Decimal(0))

        for level in (1, 2, 3):
            got = bucket["commission_by_level"][str(level)]
            assert Decimal(got["accrued"]) == journal({"accrual"}, level)
            assert Decimal(got["reversed"]) == journal({"reversal", "clawback"}, level)
        assert Decimal(bucket["bonuses"]) == journal({"bonus"})
        assert Decimal(bucket["commission_settled"]) == journal({"settlement"})
        assert Decimal(bucket["withdrawals_paid"]) == journal({"withdrawal_paid", "fee"})


def test_net_sales_and_active_distributors_are_the_measures(staff, shop):
    """The summary's sales figures are the measures' (incentives.measures): net sales per month and
    the active distributors of the whole range."""
    from incentives import measures

    body = staff.get(URL, {"from": "2026-02-01", "to": "2026-05-01", "interval": "month"}).json()
    with tenant_context(shop):
        for b in body["buckets"]:
            window = measures.Window(date.fromisoformat(b["start"]), date.fromisoformat(b["end"]))
            assert Decimal(b["net_sales"]) == measures.total("net_sales", window)
            assert b["active_distributors"] == measures.total("active_distributors", window)
        whole = measures.Window(date(2026, 2, 1), date(2026, 5, 1))
        assert body["total"]["active_distributors"] == measures.total("active_distributors", whole) == 2


def test_a_channel_filter(staff):
    """channel=app: O1 (February), O4 (March, refunded in full in April), O5 (April) and the
    commission on them; the figures no order carries are null."""
    body = staff.get(URL, {"from": "2026-02-01", "to": "2026-05-01", "interval": "month", "channel": "app"}).json()
    assert body["channel"] == "app"
    none = {"bonuses": None, "new_distributors": None, "withdrawals_paid": None, "withdrawal_fees": None}
    assert body["buckets"] == [
        {"start": "2026-02-01", "end": "2026-03-01", **FEB, **none},
        {"start": "2026-03-01", "end": "2026-04-01", **figures(
            sales="300.00", refunded_sales="300.00", gmv="300.00", refunded_gmv="300.00",
            commission_by_level={"1": lv("30.00"), "2": lv("15.00"), "3": lv("6.00")}, commission=lv("51.00"),
            commission_settled="17.00"), **none},   # O1 settled in March
        {"start": "2026-04-01", "end": "2026-05-01", **figures(
            orders=1, sales="80.00", net_sales="80.00", gmv="80.00", net_gmv="80.00",
            commission_by_level={"1": lv("8.00", "30.00"), "2": lv("4.00", "15.00"), "3": lv("0.00", "6.00")},
            commission=lv("12.00", "51.00"), commission_settled="12.00", active_distributors=1), **none}]
    assert body["total"]["active_distributors"] == 2 and body["total"]["net_sales"] == "180.00"


def test_sales_by_channel(staff):
    r = staff.get("/api/v1/admin/reports/channels/", {"from": "2026-02-01", "to": "2026-05-01"})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["currency"], body["from"], body["to"]) == ("CNY", "2026-02-01", "2026-05-01")
    assert body["results"] == [
        {"channel": "app", "orders": 2, "sales": "480.00", "refunded_sales": "300.00", "net_sales": "180.00",
         "gmv": "480.00", "refunded_gmv": "300.00", "net_gmv": "180.00",
         "commission": {"accrued": "80.00", "reversed": "51.00", "net": "29.00"}, "share": "0.4737"},
        {"channel": "h5", "orders": 1, "sales": "200.00", "refunded_sales": "50.00", "net_sales": "150.00",
         "gmv": "215.00", "refunded_gmv": "60.00", "net_gmv": "155.00",
         "commission": {"accrued": "34.00", "reversed": "8.50", "net": "25.50"}, "share": "0.3947"},
        {"channel": None, "orders": 1, "sales": "50.00", "refunded_sales": "0.00", "net_sales": "50.00",
         "gmv": "50.00", "refunded_gmv": "0.00", "net_gmv": "50.00",
         "commission": {"accrued": "7.50", "reversed": "0.00", "net": "7.50"}, "share": "0.1316"}]
    assert body["total"] == {"orders": 4, "sales": "730.00", "refunded_sales": "350.00", "net_sales": "380.00",
                             "gmv": "745.00", "refunded_gmv": "360.00", "net_gmv": "385.00",
                             "commission": {"accrued": "121.50", "reversed": "59.50", "net": "62.00"},
                             "share": "1.0000"}


def test_summary_csv(staff):
    import csv
    import io

    r = staff.get("/api/v1/admin/reports/summary.csv", {"from": "2026-02-01", "to": "2026-05-01", "interval": "month"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert 'filename="summary-2026-02-01-2026-05-01-month.csv"' in r["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert [row["start"] for row in rows] == ["2026-02-01", "2026-03-01", "2026-04-01", "total"]
    mar, total = rows[1], rows[3]
    assert (mar["orders"], mar["sales"], mar["refunded_sales"], mar["level_1_accrued"], mar["level_3_accrued"],
            mar["commission_settled"], mar["new_distributors"]) == ("2", "550.00", "350.00", "55.00", "10.00", "58.50", "1")
    assert (total["level_1_reversed"], total["commission_net"], total["withdrawals_paid"], total["withdrawal_fees"],
            total["active_distributors"]) == ("35.00", "62.00", "25.00", "0.25", "2")
    app = staff.get("/api/v1/admin/reports/summary.csv", {"from": "2026-02-01", "to": "2026-05-01", "interval": "month",
                                                          "channel": "app"})
    assert list(csv.DictReader(io.StringIO(app.content.decode())))[0]["bonuses"] == ""   # null under a channel


# --- bad queries ----------------------------------------------------------------------------------

@pytest.mark.parametrize("query,attr,code", [
    ({"from": "2026-03-01", "to": "2026-03-01"}, "to", "invalid_range"),                  # to == from
    ({"from": "2026-03-02", "to": "2026-03-01"}, "to", "invalid_range"),                  # to before from
    ({"from": "2025-01-01", "to": "2026-01-03", "interval": "day"}, "to", "too_many_buckets"),   # 367 days
    ({"from": "2026-03-01", "to": "2026-04-01", "interval": "quarter"}, "interval", "invalid_choice"),
    ({"from": "2026-03-01", "to": "2026-04-01", "channel": "App Store"}, "channel", "invalid_channel"),
    ({"from": "2026-03-01", "to": "2026-04-01", "channel": "store"}, "channel", "unknown_channel"),   # never used
    ({"from": "2026-13-01", "to": "2026-04-01"}, "from", "invalid"),
    ({"to": "2026-04-01"}, "from", "required"),
])
def test_bad_queries_are_400s(staff, query, attr, code):
    for url in (URL, "/api/v1/admin/reports/summary.csv"):
        r = staff.get(url, query)
        assert r.status_code == 400, r.content
        assert r.json()["type"] == "validation_error"
        assert [(e["attr"], e["code"]) for e in r.json()["errors"]] == [(attr, code)]


def test_366_day_buckets_are_the_most(staff):
    r = staff.get(URL, {"from": "2025-01-01", "to": "2026-01-02", "interval": "day"})
    assert r.status_code == 200 and len(r.json()["buckets"]) == 366
    # the same range by week or month is fine
    assert staff.get(URL, {"from": "2020-01-01", "to": "2026-01-02", "interval": "month"}).status_code == 200


def test_channels_bad_range(staff):
    r = staff.get("/api/v1/admin/reports/channels/", {"from": "2026-03-01", "to": "2026-02-01"})
    assert r.status_code == 400 and [(e["attr"], e["code"]) for e in r.json()["errors"]] == [("to", "invalid_range")]


def test_other_tenants_figures_never_show(staff, make_tenant, partner_for):
    """Another tenant's orders on the same days change nothing of this tenant's summary; its
    channel is unknown here."""
    other = make_tenant(slug="other")
    from tests.reports.conftest import post_order

    with tenant_context(other):
        from tests.factories import distributor

        distributor(other, external_id="B", name="other B")
    before = staff.get(URL, {"from": "2026-02-01", "to": "2026-05-01", "interval": "month"}).json()
    post_order(partner_for(other), "X1", "B", "999.00", "2026-03-05T10:00:00+08:00", channel="store")
    assert staff.get(URL, {"from": "2026-02-01", "to": "2026-05-01", "interval": "month"}).json() == before
    r = staff.get(URL, {"from": "2026-02-01", "to": "2026-05-01", "channel": "store"})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "unknown_channel"


def test_top_distributors_for_the_dashboard(staff, shop):
    """reports.selectors.top_distributors (the console's ranking): March's direct sales by the tie
    rule; commission of March's orders; bad arguments are 400s."""
    from rest_framework.exceptions import ValidationError

    from reports.selectors import top_distributors

    with tenant_context(shop):
        march = top_distributors(first_day=date(2026, 3, 1), end_day=date(2026, 4, 1))
        assert march == {"measure": "direct_sales", "from": "2026-03-01", "to": "2026-04-01", "currency": "CNY",
                         "results": [{"rank": 1, "distributor_external_id": "B", "name": "王小明", "score": "150.00"},
                                     {"rank": 2, "distributor_external_id": "A", "name": "李四", "score": "50.00"}]}
        orders = top_distributors(first_day=date(2026, 2, 1), end_day=date(2026, 5, 1), measure="order_count", limit=1)
        assert orders["results"] == [{"rank": 1, "distributor_external_id": "B", "name": "王小明", "score": 2}]
        commission = top_distributors(first_day=date(2026, 3, 1), end_day=date(2026, 4, 1), measure="commission")
        assert [(r["distributor_external_id"], r["score"]) for r in commission["results"]] == [
            ("B", "15.00"), ("A", "12.50"), ("R", "5.50")]   # R: 3.00 (O2) + 2.50 (O3) + 0 (O4)
        for kwargs, attr in (({"measure": "gmv"}, "measure"), ({"limit": 0}, "limit"),
                             ({"end_day": date(2026, 3, 1)}, "to")):
            with pytest.raises(ValidationError) as err:
                top_distributors(**{"first_day": date(2026, 3, 1), "end_day": date(2026, 4, 1), **kwargs})
            assert attr in err.value.detail
