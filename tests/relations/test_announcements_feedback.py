"""Announcements and feedback (domain rules section 8: staff send announcements to everyone, some
grades or listed distributors, with read receipts; distributors' feedback tickets go open ->
answered -> closed with staff replies). Read receipts keep the first read time; staff see read
counts; a message is 1..5000 characters, else 400 and nothing written."""
from datetime import datetime, timedelta, timezone as tz

import pytest
import time_machine

from distributors.models import Grade
from distributors.services import distributor_update
from relations.models import AnnouncementRead, FeedbackMessage, FeedbackTicket
from tenants.context import tenant_context
from tests.factories import distributor
from tests.relations.helpers import errors, staff_client

T1 = datetime(2026, 5, 1, 2, 0, tzinfo=tz.utc)


@pytest.fixture
def clock():
    """2026-05-01 10:00 in Shanghai, standing still until the test moves it."""
    with time_machine.travel(T1, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(tenant, portal_for):
    with tenant_context(tenant):
        gold = Grade.objects.create(tenant=tenant, code="gold", name="金牌", rank=2)
        silver = Grade.objects.create(tenant=tenant, code="silver", name="银牌", rank=1)
        people = {x: distributor(tenant, external_id=x, name=f"D{x}") for x in "ABCD"}
        distributor_update(distributor=people["A"], grade=gold)
        distributor_update(distributor=people["B"], grade=silver)
    clients = {x: portal_for(d) for x, d in people.items()}
    return {"staff": staff_client(tenant, "pm"), "tenant": tenant, **clients, "people": people, "gold": gold}


def titles(client):
    return [a["title"] for a in client.get("/api/v1/me/announcements/").json()["results"]]


def test_audiences_read_receipts_and_read_counts(clock, world, portal_for):
    staff = world["staff"]

    def me(x):   # a fresh token at the clock's time
        return portal_for(world["people"][x])

    everyone = staff.post("/api/v1/admin/announcements/", {"title": "全员通知", "body": "系统升级"}, format="json")
    gold = staff.post("/api/v1/admin/announcements/", {"title": "金牌专享", "body": "新品", "audience": "grades",
                                                       "grades": ["gold"]}, format="json")
    listed = staff.post("/api/v1/admin/announcements/", {"title": "点名", "body": "请联系", "audience": "distributors",
                                                         "distributors": ["C", "D"]}, format="json")
    later = staff.post("/api/v1/admin/announcements/", {"title": "明天", "body": "预告",
                                                        "published_at": "2026-05-02T10:00:00+08:00"}, format="json")
    assert [r.status_code for r in (everyone, gold, listed, later)] == [201] * 4
    assert everyone.json()["created_by"] == "pm" and listed.json()["distributors"] == ["C", "D"]
    assert (everyone.json()["audience_size"], gold.json()["audience_size"], listed.json()["audience_size"]) == (4, 1, 2)

    clock.move_to(T1 + timedelta(hours=1))
    page = me("A").get("/api/v1/me/announcements/").json()["results"]
    assert [(a["title"], a["new"], a["read_at"]) for a in page] == [
        ("金牌专享", True, "2026-05-01T03:00:00Z"), ("全员通知", True, "2026-05-01T03:00:00Z")]
    assert titles(me("B")) == ["全员通知"]
    assert titles(me("C")) == ["点名", "全员通知"]
    clock.move_to(T1 + timedelta(hours=5))
    again = me("A").get("/api/v1/me/announcements/").json()["results"]
    assert [(a["new"], a["read_at"]) for a in again] == [(False, "2026-05-01T03:00:00Z")] * 2   # first read kept
    clock.move_to(datetime(2026, 5, 2, 3, 0, tzinfo=tz.utc))      # 11:00 in Shanghai: "明天" is out
    assert titles(me("D")) == ["明天", "点名", "全员通知"]
    from relations.selectors import unread_count

    with tenant_context(world["tenant"]):
        assert unread_count(world["people"]["A"]) == 1            # "明天"

    counts = {a["title"]: a["read_count"] for a in staff_client(world["tenant"], "pm2").get(
        "/api/v1/admin/announcements/").json()["results"]}
    assert counts == {"明天": 1, "全员通知": 4, "点名": 2, "金牌专享": 1}


def test_an_announcement_for_some_grades_without_a_grade_is_400(world):
    staff = world["staff"]
    for body, code, attr in [({"audience": "grades"}, "required", "grades"),
                             ({"audience": "distributors"}, "required", "distributors"),
                             ({"audience": "grades", "grades": ["bronze"]}, "unknown_grade", "grades.0"),
                             ({"audience": "distributors", "distributors": ["A", "ZZ"]}, "unknown_distributor",
                              "distributors.1"),
                             ({"body": ""}, "blank", "body")]:
        r = staff.post("/api/v1/admin/announcements/", {"title": "t", "body": "b", **body}, format="json")
        assert r.status_code == 400 and (code, attr) in errors(r), (body, r.json())
    assert staff.get("/api/v1/admin/announcements/").json()["count"] == 0


def test_staff_change_an_announcements_audience_and_its_receipts_stay(world):
    staff = world["staff"]
    a = staff.post("/api/v1/admin/announcements/", {"title": "t", "body": "b"}, format="json").json()
    world["B"].get("/api/v1/me/announcements/")
    r = staff.patch(f"/api/v1/admin/announcements/{a['id']}/", {"audience": "grades", "grades": ["gold"]}, format="json")
    assert r.status_code == 200 and r.json()["grades"] == ["gold"] and r.json()["read_count"] == 1
    assert titles(world["B"]) == [] and titles(world["A"]) == ["t"]


def test_a_ticket_goes_open_answered_open_closed(world):
    staff, a = world["staff"], world["A"]
    r = a.post("/api/v1/me/feedback/", {"subject": "提现没到账", "body": "昨天申请的提现还没到。"}, format="json")
    assert r.status_code == 201 and r.json()["status"] == "open"
    tid = r.json()["id"]
    assert [(m["author"], m["body"]) for m in r.json()["messages"]] == [("distributor", "昨天申请的提现还没到。")]
    assert [t["id"] for t in staff.get("/api/v1/admin/feedback/?status=open").json()["results"]] == [tid]

    r = staff.post(f"/api/v1/admin/feedback/{tid}/reply/", {"body": "已安排，今天到账。"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "answered"
    assert r.json()["messages"][-1] == {**r.json()["messages"][-1], "author": "staff", "staff_username": "pm"}
    mine = a.get(f"/api/v1/me/feedback/{tid}/").json()
    assert mine["status"] == "answered" and "staff_username" not in mine["messages"][-1]

    r = a.post(f"/api/v1/me/feedback/{tid}/messages/", {"body": "收到了，谢谢"}, format="json")
    assert r.status_code == 201 and r.json()["status"] == "open" and len(r.json()["messages"]) == 3
    r = staff.post(f"/api/v1/admin/feedback/{tid}/close/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["closed_by"] == "pm"

    for attempt in (lambda: staff.post(f"/api/v1/admin/feedback/{tid}/reply/", {"body": "x"}, format="json"),
                    lambda: a.post(f"/api/v1/me/feedback/{tid}/messages/", {"body": "x"}, format="json"),
                    lambda: staff.post(f"/api/v1/admin/feedback/{tid}/close/", {}, format="json")):
        r = attempt()
        assert r.status_code == 409 and errors(r) == [("invalid_state", None)]
    with tenant_context(world["tenant"]):
        assert FeedbackMessage.objects.count() == 3


def test_staff_write_first_and_the_distributor_closes(world):
    r = world["staff"].post("/api/v1/admin/feedback/", {"distributor_external_id": "B", "subject": "资料补充",
                                                        "body": "请上传身份证照片"}, format="json")
    assert r.status_code == 201 and r.json()["status"] == "answered" and r.json()["distributor_external_id"] == "B"
    tid = r.json()["id"]
    assert [t["subject"] for t in world["B"].get("/api/v1/me/feedback/").json()["results"]] == ["资料补充"]
    assert world["A"].get(f"/api/v1/me/feedback/{tid}/").status_code == 404        # another distributor's
    assert world["A"].post(f"/api/v1/me/feedback/{tid}/messages/", {"body": "x"}, format="json").status_code == 404
    r = world["B"].post(f"/api/v1/me/feedback/{tid}/close/", {}, format="json")
    assert r.json()["status"] == "closed"
    with tenant_context(world["tenant"]):
        assert FeedbackTicket.objects.get().closed_by == "distributor:B"


@pytest.mark.parametrize("body,code", [("", "blank"), ("   \n ", "blank"), ("字" * 5001, "max_length")])
def test_feedback_empty_or_over_5000_characters_is_400_and_nothing_is_written(world, body, code):
    a, staff = world["A"], world["staff"]
    r = a.post("/api/v1/me/feedback/", {"subject": "问题", "body": body}, format="json")
    assert r.status_code == 400 and errors(r) == [(code, "body")], r.json()
    ok = a.post("/api/v1/me/feedback/", {"subject": "问题", "body": "字" * 5000}, format="json")   # exactly 5000: fine
    assert ok.status_code == 201
    tid = ok.json()["id"]
    for r in (a.post(f"/api/v1/me/feedback/{tid}/messages/", {"body": body}, format="json"),
              staff.post(f"/api/v1/admin/feedback/{tid}/reply/", {"body": body}, format="json")):
        assert r.status_code == 400 and errors(r) == [(code, "body")]
    with tenant_context(world["tenant"]):
        assert FeedbackTicket.objects.count() == 1 and FeedbackMessage.objects.count() == 1
        assert FeedbackTicket.objects.get().status == "open"


def test_the_service_refuses_the_same_messages_for_the_portal_pages(world):
    """The portal's forms call relations.services directly: the same limits apply there."""
    from rest_framework.exceptions import ValidationError

    from relations import services

    with tenant_context(world["tenant"]):
        for body in ("", " ", "x" * 5001):
            with pytest.raises(ValidationError):
                services.feedback_open(distributor=world["people"]["A"], subject="s", body=body)
        assert FeedbackTicket.objects.count() == 0


def test_another_tenants_tickets_and_announcements_are_404(world, make_tenant):
    other = make_tenant(slug="other")
    staff_b = staff_client(other, "pm-b")
    t = world["A"].post("/api/v1/me/feedback/", {"subject": "s", "body": "b"}, format="json").json()
    an = world["staff"].post("/api/v1/admin/announcements/", {"title": "t", "body": "b"}, format="json").json()
    for method, url in [("get", f"/api/v1/admin/feedback/{t['id']}/"), ("post", f"/api/v1/admin/feedback/{t['id']}/reply/"),
                        ("post", f"/api/v1/admin/feedback/{t['id']}/close/"), ("get", f"/api/v1/admin/announcements/{an['id']}/"),
                        ("patch", f"/api/v1/admin/announcements/{an['id']}/")]:
        r = getattr(staff_b, method)(url, {"body": "x"} if "reply" in url else {}, format="json")
        assert r.status_code == 404, (url, r.status_code)
    assert staff_b.get("/api/v1/admin/feedback/").json()["count"] == 0
    with tenant_context(world["tenant"]):
        assert FeedbackMessage.objects.count() == 1 and AnnouncementRead.objects.count() == 0
