"""Listings partners sync from (issue 13 scope 3): cursor pagination under which a walk answers
every row that existed when it began exactly once while rows are inserted and updated,
`updated_after` for incremental sync, a tampered cursor and a malformed time as 400s.

Before: /commissions/ was page-numbered newest first, so walking ?page_size=7 while one paid
order arrived (3 new records at the front) answered the last 3 records of each page again on the
next page."""
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from commissions.models import CommissionRecord
from distributors.models import Distributor
from orders.models import Order
from tenants.context import tenant_context
from tests.factories import chain, distributor, order_json, paid_order

T0 = datetime(2026, 1, 15, 2, 0, tzinfo=timezone.utc)


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def walk(client, url, between=None):
    """Every page of a cursor list from `url`, following `next`; `between(n)` runs after page n.
    Returns the rows in the order answered."""
    rows, n = [], 0
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.json()
        body = r.json()
        assert set(body) == {"next", "previous", "results"}  # no count: a cursor list does not count
        rows += body["results"]
        n += 1
        if between:
            between(n)
        url = path_of(body["next"]) if body["next"] else None
    return rows


@pytest.fixture
def shop(in_tenant, partner):
    """C0 <- C1 <- C2 <- C3 (a chain) and 10 paid orders referred by C3: 30 commission records."""
    chain(in_tenant, 4)
    for i in range(10):
        paid_order(in_tenant, f"O{i}", referrer_external_id="C3")
    assert CommissionRecord.objects.count() == 30
    return partner


def test_walking_commissions_while_a_paid_order_arrives_answers_each_record_once(shop, in_tenant):
    """The issue's reproduction: /commissions/?page_size=7 walked while a new paid order arrives
    (3 new records) and existing records change (a refund reverses O3's three, O2 completes)."""
    at_start = set(CommissionRecord.objects.values_list("id", flat=True))

    def meanwhile(page):
        if page == 1:
            assert shop.post("/api/v1/orders/", order_json("NEW", referrer_external_id="C3", status="paid",
                                                           paid_at="2026-01-15T10:05:00+08:00"), format="json").status_code == 201
        if page == 2:
            assert shop.post("/api/v1/orders/O3/refunds/", {"external_id": "R3", "lines": [{"line_id": "1", "quantity": 1}]}, format="json").status_code == 201
            assert shop.post("/api/v1/orders/O2/complete/", {"completed_at": "2026-01-16T10:00:00+08:00"},
                             format="json").status_code == 200

    rows = walk(shop, "/api/v1/commissions/?page_size=7", between=meanwhile)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == 30          # none twice (before: 3 twice per page after the order)
    assert set(ids) == at_start                     # none missed; the new order's records come first next time
    assert ids == sorted(ids, reverse=True)         # newest first, as before
    assert CommissionRecord.objects.count() == 33
    o3 = {r["status"] for r in rows if r["order_external_id"] == "O3"}
    assert o3 == {"reversed"}                       # O3's page was read after the refund


def test_walking_orders_and_distributors_while_rows_arrive_and_change(shop, in_tenant):
    order_ids = set(Order.objects.values_list("external_id", flat=True))

    def new_orders(page):
        shop.post("/api/v1/orders/", order_json(f"LATE{page}", referrer_external_id="C1"), format="json")
        shop.post(f"/api/v1/orders/O{page}/refunds/", {"external_id": f"RF{page}", "amount": "10.00"}, format="json")

    rows = walk(shop, "/api/v1/orders/?page_size=3", between=new_orders)
    ext = [r["external_id"] for r in rows]
    assert len(ext) == len(set(ext)) and set(ext) == order_ids

    start = list(Distributor.objects.order_by("id").values_list("external_id", flat=True))

    def churn(page):
        distributor(in_tenant, external_id=f"N{page}")                          # joins: at the end
        shop.patch("/api/v1/distributors/C1/", {"parent_external_id": None}, format="json")  # moves C1..C3 up

    rows = walk(shop, "/api/v1/distributors/?page_size=2", between=churn)
    ext = [r["external_id"] for r in rows]
    assert len(ext) == len(set(ext))
    assert ext[:4] == start == ["C0", "C1", "C2", "C3"]  # oldest first: every distributor of the start, once
    assert set(ext) - set(start) <= {"N1", "N2", "N3"}  # the ones that joined during the walk come after


def test_previous_links_walk_back_over_the_same_rows(shop):
    first = shop.get("/api/v1/commissions/?page_size=7").json()
    second = shop.get(path_of(first["next"])).json()
    assert first["previous"] is None and second["previous"]
    back = shop.get(path_of(second["previous"])).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


def test_updated_after_answers_what_changed_since(in_tenant, partner):
    with time_machine.travel(T0, tick=False):
        chain(in_tenant, 3)
        for ext in ("P1", "P2", "P3"):
            assert partner.post("/api/v1/orders/", order_json(ext, referrer_external_id="C2", status="paid",
                                                              paid_at="2026-01-15T10:00:00+08:00"),
                                format="json").status_code == 201
        assert partner.post("/api/v1/orders/", order_json("PEND", referrer_external_id="C2"),
                            format="json").status_code == 201
    mark = "2026-01-15T12:00:00%2B08:00"  # 04:00 UTC, after everything above
    assert partner.get(f"/api/v1/orders/?updated_after={mark}").json()["results"] == []
    assert partner.get(f"/api/v1/commissions/?updated_after={mark}").json()["results"] == []
    assert partner.get(f"/api/v1/distributors/?updated_after={mark}").json()["results"] == []
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        partner.post("/api/v1/orders/PEND/pay/", {"paid_at": "2026-01-16T10:00:00+08:00"}, format="json")
        assert partner.post("/api/v1/orders/P2/refunds/", {"external_id": "R2", "lines": [{"line_id": "1", "quantity": 1}]},
                            format="json").status_code == 201
        partner.patch("/api/v1/distributors/C1/", {"status": "frozen"}, format="json")
        partner.patch("/api/v1/distributors/C0/", {"parent_external_id": None, "reason": "x"}, format="json")  # no-op
    orders = partner.get(f"/api/v1/orders/?updated_after={mark}").json()["results"]
    assert sorted((o["external_id"], o["status"]) for o in orders) == [("P2", "refunded"), ("PEND", "paid")]
    records = partner.get(f"/api/v1/commissions/?updated_after={mark}&page_size=200").json()["results"]
    # PEND's three new records (paid before C1 was frozen) and P2's three reversed ones
    assert sorted((r["order_external_id"], r["beneficiary_external_id"], r["status"]) for r in records) == [
        ("P2", "C0", "reversed"), ("P2", "C1", "reversed"), ("P2", "C2", "reversed"),
        ("PEND", "C0", "frozen"), ("PEND", "C1", "frozen"), ("PEND", "C2", "frozen")]
    people = partner.get(f"/api/v1/distributors/?updated_after={mark}").json()["results"]
    assert [(d["external_id"], d["status"]) for d in people] == [("C1", "frozen")]
    # the same with Z and with a "+" that was not percent-encoded (arrives as a space)
    assert len(partner.get("/api/v1/orders/?updated_after=2026-01-15T04:00:00Z").json()["results"]) == 2
    assert len(partner.get("/api/v1/orders/?updated_after=2026-01-15T12:00:00+08:00").json()["results"]) == 2


def test_a_move_marks_the_whole_subtree_updated(in_tenant, partner):
    """A move changes the depth of every distributor below: each is in the incremental sync."""
    with time_machine.travel(T0, tick=False):
        chain(in_tenant, 4)
        distributor(in_tenant, external_id="OTHER")
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert partner.patch("/api/v1/distributors/C1/", {"parent_external_id": "OTHER"}, format="json").status_code == 200
    rows = partner.get("/api/v1/distributors/?updated_after=2026-01-15T03:00:00Z").json()["results"]
    assert [(d["external_id"], d["parent_external_id"], d["depth"]) for d in rows] == [
        ("C1", "OTHER", 1), ("C2", "C1", 2), ("C3", "C2", 3)]


def test_settlement_marks_records_updated(in_tenant, partner):
    """O1 completed on Jan 16 settles on Jan 23 (settle_after_days 7); O2, not completed, would
    settle by the auto-complete rule only from Feb 5: a settlement run on Jan 25 changes O1's."""
    from ledger.services import settle_due

    with time_machine.travel(T0, tick=False):
        chain(in_tenant, 3)
        paid_order(in_tenant, "O1", referrer_external_id="C2")
        paid_order(in_tenant, "O2", referrer_external_id="C2")
        partner.post("/api/v1/orders/O1/complete/", {"completed_at": "2026-01-16T10:00:00+08:00"}, format="json")
    later = datetime(2026, 1, 25, tzinfo=timezone.utc)
    with time_machine.travel(later, tick=False):
        assert settle_due(tenant=in_tenant, now=later) == 3
    rows = partner.get("/api/v1/commissions/?updated_after=2026-01-24T00:00:00Z").json()["results"]
    assert sorted((r["order_external_id"], r["level"], r["status"]) for r in rows) == [
        ("O1", 1, "available"), ("O1", 2, "available"), ("O1", 3, "available")]
    assert len(partner.get("/api/v1/commissions/?updated_after=2026-01-15T00:00:00Z").json()["results"]) == 6


# --- bad input ------------------------------------------------------------------------------------

def error(r, status=400):
    assert r.status_code == status, (r.status_code, r.content)
    body = r.json()
    assert body["type"] == "validation_error"
    return [(e["code"], e["attr"]) for e in body["errors"]]


def test_a_tampered_cursor_is_400(shop):
    link = path_of(shop.get("/api/v1/commissions/?page_size=7").json()["next"])
    cursor = parse_qs(urlsplit(link).query)["cursor"][0]
    flipped = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    for bad in (flipped, cursor[:-2], cursor + "AA", "cD0xMA==", "not a cursor", "", "%00"):
        assert error(shop.get("/api/v1/commissions/", {"page_size": 7, "cursor": bad})) == [("invalid_cursor", "cursor")], bad
    # a cursor of another list is not this one's
    orders_next = path_of(shop.get("/api/v1/orders/?page_size=2").json()["next"])
    other = parse_qs(urlsplit(orders_next).query)["cursor"][0]
    assert error(shop.get("/api/v1/commissions/", {"cursor": other})) == [("invalid_cursor", "cursor")]
    assert shop.get(link).status_code == 200  # the real one still works


def test_a_cursor_reveals_no_internal_id(shop):
    import base64

    link = shop.get("/api/v1/commissions/?page_size=7").json()["next"]
    cursor = parse_qs(urlsplit(link).query)["cursor"][0]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    position = str(shop.get("/api/v1/commissions/?page_size=7").json()["results"][-1]["id"]).encode()
    assert b"p=" not in raw and position not in raw


@pytest.mark.parametrize("value", ["yesterday", "2026-01-15", "2026-01-15T10:00:00", "2026-02-30T10:00:00Z",
                                   "20260115T100000+0800", "２０２６-01-15T10:00:00Z", "2026-01-15T25:00:00Z"])
def test_updated_after_that_is_not_an_rfc3339_time_is_400(shop, value):
    for url in ("/api/v1/orders/", "/api/v1/commissions/", "/api/v1/distributors/"):
        assert error(shop.get(url, {"updated_after": value})) == [("invalid", "updated_after")], (url, value)


def test_unknown_query_parameters_are_400(shop, portal_for, in_tenant):
    assert error(shop.get("/api/v1/distributors/?parent=C0")) == [("unknown_parameter", "parent")]
    assert error(shop.get("/api/v1/orders/?status=paid&page=2")) == [("unknown_parameter", "page"),
                                                                      ("unknown_parameter", "status")]
    assert error(shop.get("/api/v1/commissions/?beneficary=C3")) == [("unknown_parameter", "beneficary")]
    assert error(shop.get("/api/v1/orders/O1/?expand=lines")) == [("unknown_parameter", "expand")]
    portal = portal_for(Distributor.objects.get(external_id="C2"))
    assert error(portal.get("/api/v1/me/downlines/?level=1&sort=name")) == [("unknown_parameter", "sort")]
    # what each list reads is accepted
    assert shop.get("/api/v1/commissions/?beneficiary=C3&level=1&status=frozen&page_size=5&format=json").status_code == 200
    assert portal.get("/api/v1/me/downlines/?level=1&page=1&page_size=5").status_code == 200
    detail = shop.get("/api/v1/distributors/?parent=C0").json()["errors"][0]["detail"]
    assert "cursor" in detail and "updated_after" in detail  # says what the endpoint reads
