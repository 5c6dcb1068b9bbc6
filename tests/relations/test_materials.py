"""Materials (domain rules section 8, "Support for distributors"): staff publish posters, copy,
videos, documents and courses through the staff API, optionally for some grades; distributors see
the ones for them, open them (views), download them (downloads) and complete a course's lessons
(completions); staff see the counts. Bad input is a 4xx in the contract's shape with nothing
written: a lesson of another tenant, a poster placeholder outside its image, a course without
lessons, a poster of a material that is not a poster."""
import pytest

from distributors.models import Grade
from distributors.services import distributor_update
from relations.models import Lesson, LessonCompletion, Material, MaterialProgress
from tenants.context import tenant_context
from tests.factories import distributor
from tests.relations.helpers import errors, poster_image, staff_client, upload

COURSE = {"kind": "course", "title": "新人培训", "lessons": [
    {"title": "第一课 认识分销", "body": "分销是……"},
    {"title": "第二课 分享海报", "video_url": "https://video.example.com/2"},
    {"title": "第三课 提现", "body": "……"},
]}


@pytest.fixture
def world(tenant, portal_for):
    with tenant_context(tenant):
        gold = Grade.objects.create(tenant=tenant, code="gold", name="金牌", rank=1)
        a = distributor(tenant, external_id="A", name="张三")
        b = distributor(tenant, external_id="B", name="Bob")
        distributor_update(distributor=a, grade=gold)
    return {"staff": staff_client(tenant, "pm"), "a": portal_for(a), "b": portal_for(b), "A": a, "B": b}


def test_staff_publish_every_kind_and_distributors_see_them_by_grade(world):
    staff = world["staff"]
    copy = staff.post("/api/v1/admin/materials/", {"kind": "copy", "title": "双十一文案", "body": "全场五折，扫码下单"},
                      format="json")
    assert copy.status_code == 201, copy.json()
    video = staff.post("/api/v1/admin/materials/", {"kind": "video", "title": "产品视频", "link": "https://v.example.com/1",
                                                    "grades": ["gold"], "position": -1}, format="json")
    doc = staff.post("/api/v1/admin/materials/", {"kind": "document", "title": "价目表",
                                                  "file": upload(b"%PDF-1.4 price list", "prices.pdf", "application/pdf")},
                     format="multipart")
    course = staff.post("/api/v1/admin/materials/", COURSE, format="json")
    assert [r.status_code for r in (video, doc, course)] == [201, 201, 201], (video.json(), doc.json(), course.json())
    assert video.json()["grades"] == ["gold"] and doc.json()["file_name"].endswith(".pdf")
    assert [(l["position"], l["title"]) for l in course.json()["lessons"]] == [
        (1, "第一课 认识分销"), (2, "第二课 分享海报"), (3, "第三课 提现")]
    assert course.json()["counts"] == {"views": 0, "viewers": 0, "downloads": 0, "completions": 0}

    seen_by_a = [m["title"] for m in world["a"].get("/api/v1/me/materials/").json()["results"]]
    seen_by_b = [m["title"] for m in world["b"].get("/api/v1/me/materials/").json()["results"]]
    # position first (the video's -1), then newest first
    assert seen_by_a == ["产品视频", "新人培训", "价目表", "双十一文案"]
    assert seen_by_b == ["新人培训", "价目表", "双十一文案"]        # the gold-only video is not B's
    assert world["b"].get(f"/api/v1/me/materials/{video.json()['id']}/").status_code == 404
    listed = {m["title"]: m for m in world["a"].get("/api/v1/me/materials/").json()["results"]}
    assert listed["价目表"]["download_url"] == f"/api/v1/me/materials/{doc.json()['id']}/download/"
    assert listed["新人培训"]["lessons_count"] == 3 and listed["双十一文案"]["download_url"] is None


def test_views_downloads_and_completions_are_counted_per_material(world, tenant):
    staff, a, b = world["staff"], world["a"], world["b"]
    course = staff.post("/api/v1/admin/materials/", COURSE, format="json").json()
    doc = staff.post("/api/v1/admin/materials/", {"kind": "document", "title": "价目表",
                                                  "file": upload(b"price list v1", "prices.txt", "text/plain")},
                     format="multipart").json()
    link = staff.post("/api/v1/admin/materials/", {"kind": "video", "title": "v", "link": "https://v.example.com/9"},
                      format="json").json()
    cid = course["id"]
    assert a.get(f"/api/v1/me/materials/{cid}/").status_code == 200
    a.get(f"/api/v1/me/materials/{cid}/")
    detail = b.get(f"/api/v1/me/materials/{cid}/").json()
    assert [l["completed_at"] for l in detail["lessons"]] == [None, None, None]
    lessons = [l["id"] for l in detail["lessons"]]
    first = a.post(f"/api/v1/me/materials/{cid}/lessons/{lessons[0]}/complete/", {}, format="json").json()
    again = a.post(f"/api/v1/me/materials/{cid}/lessons/{lessons[0]}/complete/", {}, format="json").json()
    assert again["completed_at"] == first["completed_at"] and first["course_completed_at"] is None
    a.post(f"/api/v1/me/materials/{cid}/lessons/{lessons[1]}/complete/", {}, format="json")
    last = a.post(f"/api/v1/me/materials/{cid}/lessons/{lessons[2]}/complete/", {}, format="json").json()
    assert last["course_completed_at"] is not None
    b.post(f"/api/v1/me/materials/{cid}/lessons/{lessons[2]}/complete/", {}, format="json")   # 1 of 3: not complete

    r = a.get(f"/api/v1/me/materials/{doc['id']}/download/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"price list v1"
    assert 'attachment; filename="prices' in r["Content-Disposition"]
    r = b.get(f"/api/v1/me/materials/{link['id']}/download/")
    assert r.status_code == 302 and r["Location"] == "https://v.example.com/9"
    b.get(f"/api/v1/me/materials/{link['id']}/download/")

    counts = {m["title"]: m["counts"] for m in staff.get("/api/v1/admin/materials/").json()["results"]}
    assert counts["新人培训"] == {"views": 3, "viewers": 2, "downloads": 0, "completions": 1}
    assert counts["价目表"] == {"views": 0, "viewers": 0, "downloads": 1, "completions": 0}
    assert counts["v"] == {"views": 0, "viewers": 0, "downloads": 2, "completions": 0}
    mine = {m["title"]: m for m in a.get("/api/v1/me/materials/").json()["results"]}["新人培训"]
    assert (mine["lessons_done"], mine["views"]) == (3, 2) and mine["completed_at"] == last["course_completed_at"]


def test_staff_reorder_a_courses_lessons_keeping_completions(world):
    staff, a = world["staff"], world["a"]
    course = staff.post("/api/v1/admin/materials/", COURSE, format="json").json()
    first, second, third = (l["id"] for l in course["lessons"])
    a.post(f"/api/v1/me/materials/{course['id']}/lessons/{second}/complete/", {}, format="json")
    r = staff.patch(f"/api/v1/admin/materials/{course['id']}/", {"lessons": [
        {"id": second, "title": "第一课 分享海报"}, {"title": "新的第二课"}, {"id": first, "title": "第三课 认识分销"}]},
        format="json")
    assert r.status_code == 200, r.json()
    assert [(l["position"], l["title"]) for l in r.json()["lessons"]] == [
        (1, "第一课 分享海报"), (2, "新的第二课"), (3, "第三课 认识分销")]
    assert r.json()["lessons"][0]["id"] == second
    mine = a.get(f"/api/v1/me/materials/{course['id']}/").json()
    assert [l["completed_at"] is not None for l in mine["lessons"]] == [True, False, False]
    with tenant_context(world["A"].tenant):
        assert not Lesson.objects.filter(public_id=third).exists()


def test_a_lesson_of_another_tenant_is_404_and_nothing_is_written(world, make_tenant, portal_for):
    other = make_tenant(slug="other")
    with tenant_context(other):
        staff_b = staff_client(other, "pm-b")
        foreign = staff_b.post("/api/v1/admin/materials/", COURSE, format="json").json()
    course = world["staff"].post("/api/v1/admin/materials/", COURSE, format="json").json()
    foreign_lesson = foreign["lessons"][0]["id"]
    for course_id in (course["id"], foreign["id"]):      # my course with its lesson; its course
        r = world["a"].post(f"/api/v1/me/materials/{course_id}/lessons/{foreign_lesson}/complete/", {}, format="json")
        missing = world["a"].post(f"/api/v1/me/materials/{course_id}/lessons/999999/complete/", {}, format="json")
        assert r.status_code == missing.status_code == 404 and r.json() == missing.json()
        assert errors(r) == [("not_found", None)]
    assert world["staff"].get(f"/api/v1/admin/materials/{foreign['id']}/").status_code == 404
    with tenant_context(other):
        assert LessonCompletion.objects.count() == 0 and MaterialProgress.objects.count() == 0
    with tenant_context(world["A"].tenant):
        assert LessonCompletion.objects.count() == 0 and MaterialProgress.objects.count() == 0


def test_a_poster_of_a_material_that_is_not_a_poster_is_404_not_a_poster(world):
    copy = world["staff"].post("/api/v1/admin/materials/", {"kind": "copy", "title": "文案", "body": "扫码"},
                               format="json").json()
    r = world["a"].get(f"/api/v1/me/materials/{copy['id']}/poster.png")
    assert r.status_code == 404 and errors(r) == [("not_a_poster", None)]
    assert world["a"].get(f"/api/v1/me/materials/{copy['id']}/download/").status_code == 404
    with tenant_context(world["A"].tenant):
        assert MaterialProgress.objects.count() == 0       # nothing counted


@pytest.mark.parametrize("body,code,attr", [
    ({"kind": "course", "title": "空课程", "lessons": []}, "required", "lessons"),
    ({"kind": "copy", "title": "无文案", "body": "   "}, "required", "body"),
    ({"kind": "video", "title": "无链接"}, "required", "link"),
    ({"kind": "document", "title": "无文件"}, "required", "file"),
    ({"kind": "copy", "title": "x", "body": "y", "grades": ["platinum"]}, "unknown_grade", "grades.0"),
    ({"kind": "course", "title": "x", "lessons": [{"title": "  "}]}, "blank", "lessons.0.title"),
    ({"kind": "leaflet", "title": "x"}, "invalid_choice", "kind"),
    ({"kind": "copy", "title": "x", "body": "y", "colour": "red"}, "unknown_field", "colour"),
])
def test_materials_missing_what_their_kind_needs_are_400_and_nothing_is_written(world, body, code, attr):
    r = world["staff"].post("/api/v1/admin/materials/", body, format="json")
    assert r.status_code == 400 and (code, attr) in errors(r), r.json()
    with tenant_context(world["A"].tenant):
        assert Material.objects.count() == 0 and Lesson.objects.count() == 0


@pytest.mark.parametrize("fields,code,attr", [
    ({"qr_x": 500, "qr_y": 10, "qr_size": 200}, "outside_image", "qr_size"),     # 500 + 200 > 600
    ({"qr_x": 10, "qr_y": 700, "qr_size": 120}, "outside_image", "qr_size"),     # 700 + 120 > 800
    ({"qr_x": 10, "qr_y": 10, "qr_size": 40}, "min_value", "qr_size"),
    ({"qr_x": 10, "qr_y": 10, "qr_size": 200, "name_x": 600}, "outside_image", "name_x"),
    ({"qr_y": 10, "qr_size": 200}, "required", "qr_x"),
])
def test_a_poster_placeholder_outside_its_image_is_400_and_nothing_is_written(world, fields, code, attr):
    body = {"kind": "poster", "title": "海报", "name_x": 20, "name_y": 700, **fields,
            "image": upload(poster_image(600, 800))}
    r = world["staff"].post("/api/v1/admin/materials/", body, format="multipart")
    assert r.status_code == 400 and errors(r) == [(code, attr)], r.json()
    with tenant_context(world["A"].tenant):
        assert Material.objects.count() == 0


def test_a_poster_image_that_is_no_image_is_400(world):
    body = {"kind": "poster", "title": "海报", "qr_x": 1, "qr_y": 1, "qr_size": 100, "name_x": 1, "name_y": 1,
            "image": upload(b"GIF89a not really", "x.png")}
    r = world["staff"].post("/api/v1/admin/materials/", body, format="multipart")
    assert r.status_code == 400 and errors(r) == [("invalid_image", "image")]


def test_staff_delete_a_material_with_its_use(world):
    course = world["staff"].post("/api/v1/admin/materials/", COURSE, format="json").json()
    world["a"].get(f"/api/v1/me/materials/{course['id']}/")
    assert world["staff"].delete(f"/api/v1/admin/materials/{course['id']}/").status_code == 204
    assert world["a"].get(f"/api/v1/me/materials/{course['id']}/").status_code == 404
    with tenant_context(world["A"].tenant):
        assert (Material.objects.count(), Lesson.objects.count(), MaterialProgress.objects.count()) == (0, 0, 0)


ENDPOINTS = [
    ("get", "/api/v1/admin/materials/", None, ["relations.view_material"]),
    ("post", "/api/v1/admin/materials/", {"kind": "copy", "title": "t", "body": "b"}, ["relations.add_material"]),
    ("get", "/api/v1/admin/materials/{m}/", None, ["relations.view_material"]),
    ("patch", "/api/v1/admin/materials/{m}/", {"title": "t2"}, ["relations.change_material"]),
    ("delete", "/api/v1/admin/materials/{m}/", None, ["relations.delete_material"]),
    ("get", "/api/v1/admin/announcements/", None, ["relations.view_announcement"]),
    ("post", "/api/v1/admin/announcements/", {"title": "t", "body": "b"}, ["relations.add_announcement"]),
    ("get", "/api/v1/admin/announcements/{a}/", None, ["relations.view_announcement"]),
    ("patch", "/api/v1/admin/announcements/{a}/", {"title": "t2"}, ["relations.change_announcement"]),
    ("delete", "/api/v1/admin/announcements/{a}/", None, ["relations.delete_announcement"]),
    ("get", "/api/v1/admin/feedback/", None, ["relations.view_feedbackticket"]),
    ("post", "/api/v1/admin/feedback/", {"distributor_external_id": "A", "subject": "s", "body": "b"},
     ["relations.add_feedbackticket"]),
    ("get", "/api/v1/admin/feedback/{f}/", None, ["relations.view_feedbackticket"]),
    ("post", "/api/v1/admin/feedback/{f}/reply/", {"body": "ok"}, ["relations.change_feedbackticket"]),
    ("post", "/api/v1/admin/feedback/{f}/close/", {}, ["relations.change_feedbackticket"]),
    ("post", "/api/v1/admin/distributors/A/password-reset/", {}, ["relations.add_passwordreset"]),
]


@pytest.mark.parametrize("method,url,body,perms", ENDPOINTS)
def test_each_staff_endpoint_needs_its_model_permissions(world, tenant, method, url, body, perms):
    staff = world["staff"]
    ids = {"m": staff.post("/api/v1/admin/materials/", {"kind": "copy", "title": "t", "body": "b"}, format="json").json()["id"],
           "a": staff.post("/api/v1/admin/announcements/", {"title": "t", "body": "b"}, format="json").json()["id"],
           "f": world["a"].post("/api/v1/me/feedback/", {"subject": "s", "body": "b"}, format="json").json()["id"]}
    nobody = staff_client(tenant, "nobody", perms=[])
    r = getattr(nobody, method)(url.format(**ids), body, format="json")
    assert r.status_code == 403 and errors(r) == [("permission_denied", None)]
    enough = staff_client(tenant, "enough", perms=perms)
    r = getattr(enough, method)(url.format(**ids), body, format="json")
    assert r.status_code in (200, 201, 204), r.content
    assert world["a"].get(url.format(**ids)).status_code in (401, 403)     # a distributor's token is no staff's


def test_the_pm_role_runs_support_and_finance_does_not(tenant):
    from tenants.roles import ROLES

    pm, finance = set(ROLES["pm"].permissions), set(ROLES["finance"].permissions)
    wanted = {f"relations.{a}_{m}" for a in ("view", "add", "change", "delete") for m in ("material", "announcement")} | {
        "relations.view_lesson", "relations.add_lesson", "relations.change_lesson", "relations.delete_lesson",
        "relations.view_feedbackticket", "relations.add_feedbackticket", "relations.change_feedbackticket",
        "relations.view_feedbackmessage", "relations.view_passwordreset", "relations.add_passwordreset"}
    assert wanted <= pm
    assert not {p for p in finance if p.startswith("relations.")}
