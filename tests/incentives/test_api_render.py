"""The incentive reads' answers built without the serializers' per-answer machinery
(fenxiao.api.plain.renderer, incentives.api.serializers.measure_format) are the serializers' own
answers, value for value, and /me/contests/ pages (incentives.selectors.VisibleContests) as
DRF's paginator pages a queryset."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from rest_framework import serializers

from fenxiao.api.plain import renderer
from incentives.api.serializers import (
    MyContestSerializer, PortalLeaderboardSerializer, PortalRankingSerializer, StaffLeaderboardSerializer,
    StaffRankingSerializer, measure_format, measure_str,
)
from tenants.context import tenant_context
from tests.incentives.apidata import clock, programme, sellers, staff, staff_client  # noqa: F401 (fixtures)

REACHED = datetime(2026, 3, 5, 2, 0, tzinfo=timezone.utc)   # 10:00 in Shanghai

STAFF_BOARD = {
    "contest_id": "contest_abc", "measure": "direct_sales", "status": "running", "final": False, "currency": "CNY",
    "offset": 0, "limit": 20, "extra": "ignored",
    "results": [{"rank": 1, "distributor_id": 7, "distributor_external_id": "B", "name": "Alice", "score": "300.00",
                 "reached_at": REACHED, "prize": "500.00"},
                {"rank": 2, "distributor_id": 8, "distributor_external_id": "A", "name": "张三", "score": "200.00",
                 "reached_at": None, "prize": None}]}
PORTAL_BOARD = {
    "contest_id": "contest_abc", "measure": "order_count", "status": "finalized", "final": True, "currency": "JPY",
    "results": [{"rank": 1, "name": "A***e", "score": "3", "prize": "500", "me": False},
                {"rank": 2, "name": "张三", "score": "2", "prize": None, "me": True}],
    "mine": {"rank": 2, "score": "2", "prize": None}}
STAFF_RANKING = {"measure": "team_sales", "from": datetime(2026, 3, 1).date(), "to": datetime(2026, 3, 31).date(),
                 "currency": "CNY", "results": [{**STAFF_BOARD["results"][0], "prize": None}, STAFF_BOARD["results"][1]]}
PORTAL_RANKING = {"measure": "direct_sales", "period": "2026-03", "currency": "CNY",
                  "results": [{"rank": 1, "name": "A***e", "score": "300.00", "prize": None, "me": False}],
                  "mine": {"rank": None, "score": "0.00"}}
MY_CONTEST = {"id": "contest_abc", "name": "March", "measure": "direct_sales", "starts_at": REACHED,
              "ends_at": datetime(2026, 4, 1, 16, 0, tzinfo=timezone.utc), "status": "ended",
              "prizes": ["500.00", "300.00"], "currency": "CNY", "rank": None, "score": "0.00", "prize": None}


@pytest.mark.parametrize("serializer_class,data", [(StaffLeaderboardSerializer, STAFF_BOARD),
                                                   (PortalLeaderboardSerializer, PORTAL_BOARD),
                                                   (MyContestSerializer, MY_CONTEST),
                                                   (StaffRankingSerializer, STAFF_RANKING),
                                                   (PortalRankingSerializer, PORTAL_RANKING)])
def test_the_renderer_answers_what_the_serializer_answers(tenant, serializer_class, data):
    with tenant_context(tenant):   # times in the tenant's zone (Asia/Shanghai)
        fast, slow = renderer(serializer_class)(data), serializer_class(data).data
    assert fast == slow and list(fast) == list(slow)
    if "results" in fast:
        assert [list(r) for r in fast["results"]] == [list(r) for r in slow["results"]]
    if serializer_class is StaffLeaderboardSerializer:
        assert fast["results"][0]["reached_at"] == "2026-03-05T10:00:00+08:00"
        assert fast["results"][1]["reached_at"] is None and "extra" not in fast


def test_the_renderers_plain_fields_answer_as_drfs():
    class Row(serializers.Serializer):
        text = serializers.CharField()
        number = serializers.IntegerField()
        flag = serializers.BooleanField()

    data = {"text": Decimal("1.50"), "number": "7", "flag": 1}
    assert renderer(Row)(data) == Row(data).data == {"text": "1.50", "number": 7, "flag": True}
    data = {"text": "x", "number": 3, "flag": "false"}
    assert renderer(Row)(data) == Row(data).data == {"text": "x", "number": 3, "flag": False}
    with pytest.raises(KeyError):
        renderer(Row)({"text": "x", "number": 3})


def test_the_renderer_refuses_fields_that_do_not_read_their_own_name():
    class Computed(serializers.Serializer):
        total = serializers.SerializerMethodField()

        def get_total(self, obj):
            return 1

    class Sourced(serializers.Serializer):
        name = serializers.CharField(source="person.name")

    for cls in (Computed, Sourced):
        with pytest.raises(TypeError):
            renderer(cls)


@pytest.mark.parametrize("currency", ["CNY", "JPY", "KWD"])
@pytest.mark.parametrize("measure", ["direct_sales", "team_sales", "order_count", "new_direct_recruits"])
def test_measure_format_writes_what_measure_str_writes(make_tenant, currency, measure):
    tenant = make_tenant(slug=f"t-{currency.lower()}", currency=currency)
    values = [None, Decimal("0"), Decimal("-0.0000"), Decimal("-0.0001"), Decimal("12345.6700"), Decimal("5"),
              Decimal("0.5000"), Decimal("-3.25"), Decimal("99999999999999.9999"), Decimal("1E+3")]
    with tenant_context(tenant):
        fmt = measure_format(measure)
        assert [fmt(v) for v in values] == [measure_str(measure, v) for v in values]
        assert fmt(Decimal("-0.0001")) != "-0.00"


def test_my_contests_pages_like_the_paginator(staff, programme, portal_for):
    """Three contests B can see, one per page: the count, the links and each page's contest as
    the queryset paginator gave them; a page past the end is 404."""
    ids = [staff.post("/api/v1/admin/contests/", {"name": name, "starts_at": start, "ends_at": end,
                                                  "measure": "direct_sales", "prizes": ["5.00"]},
                      format="json").json()["id"]
           for name, start, end in [("Feb", "2026-02-01", "2026-03-01"), ("Mar", "2026-03-01", "2026-04-01"),
                                    ("Apr", "2026-04-01", "2026-05-01")]]
    b = portal_for(programme["B"])
    pages = [b.get(f"/api/v1/me/contests/?page_size=1&page={n}").json() for n in (1, 2, 3)]
    assert [p["count"] for p in pages] == [3, 3, 3]
    assert [[c["id"] for c in p["results"]] for p in pages] == [[ids[2]], [ids[1]], [ids[0]]]   # latest window first
    assert pages[0]["previous"] is None and pages[0]["next"].endswith("/api/v1/me/contests/?page=2&page_size=1")
    assert pages[1]["previous"].endswith("/api/v1/me/contests/?page_size=1")
    assert pages[1]["next"].endswith("/api/v1/me/contests/?page=3&page_size=1") and pages[2]["next"] is None
    assert (pages[1]["results"][0]["rank"], pages[1]["results"][0]["score"]) == (1, "300.00")
    r = b.get("/api/v1/me/contests/?page_size=1&page=4")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "not_found"
