"""The console's support pages (issue 14): materials with a course's lessons inline and their
counts, announcements with read counts, a feedback ticket's conversation with "Send the reply" and
"Close the ticket" on its page, password reset links issued from the add page. The rules are the
services' (a course without lessons, a poster placeholder outside its image, a reply to a closed
ticket: refused, nothing written). Every page walked as another tenant's staff is in
tests/tenants/test_admin_walk.py."""
import pytest
from django.contrib.auth.models import User

from distributors.models import Grade
from relations import services
from relations.models import FeedbackMessage, FeedbackTicket, Lesson, Material, PasswordReset
from tenants.context import tenant_context
from tenants.models import StaffMembership
from tenants.services import staff_create
from tests.factories import CommitAPIClient, distributor
from tests.relations.helpers import poster_image, upload

INLINE = {"lessons-TOTAL_FORMS": "0", "lessons-INITIAL_FORMS": "0", "lessons-MIN_NUM_FORMS": "0",
          "lessons-MAX_NUM_FORMS": "1000"}
BASE = {"title": "新人培训", "body": "", "link": "", "is_active": "on", "position": "0", "name_size": "32",
        "name_color": "#000000"}


@pytest.fixture
def pm(client, tenant):
    """The tenant's product manager (the pm role's permissions), logged in to the console."""
    user = staff_create(tenant=tenant, username="pm", role="pm", password="console-pass-123")
    client.force_login(user)
    return client


@pytest.fixture
def people(tenant):
    with tenant_context(tenant):
        return [distributor(tenant, external_id=x, name=n) for x, n in (("A", "张三"), ("B", "李四"), ("C", "Carol"))]


def lessons(*titles):
    data = {**INLINE, "lessons-TOTAL_FORMS": str(len(titles))}
    for i, title in enumerate(titles):
        data[f"lessons-{i}-position"] = str(i + 1)
        data[f"lessons-{i}-title"] = title
    return data


def test_a_course_is_added_with_its_lessons_inline(pm, tenant):
    r = pm.post("/admin/relations/material/add/", {**BASE, "kind": "course", **lessons("第一课", "第二课")})
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    with tenant_context(tenant):
        course = Material.objects.get()
        assert [(l.position, l.title) for l in Lesson.objects.filter(material=course)] == [(1, "第一课"), (2, "第二课")]
        assert course.tenant_id == tenant.pk


def test_a_course_without_lessons_is_refused_and_nothing_is_written(pm, tenant):
    r = pm.post("/admin/relations/material/add/", {**BASE, "kind": "course", **INLINE})
    assert r.status_code == 200
    assert "A course needs at least one lesson." in r.content.decode()
    with tenant_context(tenant):
        assert Material.objects.count() == 0


def test_a_poster_placeholder_outside_its_image_is_a_form_error(pm, tenant):
    data = {**BASE, "kind": "poster", "qr_x": "500", "qr_y": "10", "qr_size": "200", "name_x": "10", "name_y": "700",
            "image": upload(poster_image(600, 800)), **INLINE}
    r = pm.post("/admin/relations/material/add/", data)
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert "qr_size" in errors and "600 x 800" in str(errors["qr_size"])
    with tenant_context(tenant):
        assert Material.objects.count() == 0
    data.update(qr_x="380", image=upload(poster_image(600, 800)))
    assert pm.post("/admin/relations/material/add/", data).status_code == 302


def test_the_material_list_shows_views_downloads_and_completions(pm, tenant, people):
    a, b, _ = people
    with tenant_context(tenant):
        course = services.material_create(tenant=tenant, kind="course", title="新人培训",
                                          lessons=[services.LessonInput(title="唯一一课")])
        lesson = course.lessons.get()
        for who in (a, a, b):
            services.material_view(material=course, distributor=who)
        services.lesson_complete(material=course, lesson=lesson, distributor=a)
        services.material_create(tenant=tenant, kind="copy", title="文案", body="扫码")
    r = pm.get("/admin/relations/material/")
    rows = {row.title: (row.n_views, row.n_downloads, row.n_completions) for row in r.context["cl"].result_list}
    assert rows == {"新人培训": (3, 0, 1), "文案": (0, 0, 0)}
    page = pm.get(f"/admin/relations/material/{course.pk}/change/").content.decode()
    assert "views: 3 · distributors who viewed it: 2 · downloads: 0 · completions: 1" in page
    assert "唯一一课" in page


def test_announcements_show_their_read_counts(pm, tenant, people):
    with tenant_context(tenant):
        gold = Grade.objects.create(tenant=tenant, code="gold", name="金牌", rank=1)
        news = services.announcement_create(tenant=tenant, title="新品上市", body="……")
        services.announcement_create(tenant=tenant, title="金牌", body="……", audience="grades", grades=[gold])
        services.announcements_mark_read(distributor=people[0], announcements=[news])
        services.announcements_mark_read(distributor=people[1], announcements=[news])
    r = pm.get("/admin/relations/announcement/")
    assert {row.title: row.n_reads for row in r.context["cl"].result_list} == {"新品上市": 2, "金牌": 0}
    page = pm.get(f"/admin/relations/announcement/{news.pk}/change/").content.decode()
    assert "2 of 3 distributors have read it." in page and "张三" in page


def test_an_announcement_for_some_grades_without_one_is_a_form_error(pm, tenant):
    r = pm.post("/admin/relations/announcement/add/", {"title": "t", "body": "b", "audience": "grades",
                                                       "published_at_0": "2026-05-01", "published_at_1": "10:00:00",
                                                       "is_active": "on"})
    assert r.status_code == 200 and "grades" in r.context["adminform"].form.errors


def test_staff_reply_and_close_on_the_tickets_page(pm, tenant, people):
    with tenant_context(tenant):
        ticket = services.feedback_open(distributor=people[0], subject="提现没到账", body="昨天的提现还没到")
    url = f"/admin/relations/feedbackticket/{ticket.pk}/change/"
    page = pm.get(url).content.decode()
    assert "昨天的提现还没到" in page and 'name="_reply"' in page and 'name="_close"' in page
    r = pm.post(url, {"_reply": "1", "reply_body": "已处理，今天到账"}, follow=True)
    assert "Reply sent." in r.content.decode()
    empty = pm.post(url, {"_reply": "1", "reply_body": "  "}, follow=True)
    assert "Write a message." in empty.content.decode()
    r = pm.post(url, {"_close": "1"}, follow=True)
    assert "Ticket closed." in r.content.decode() and 'name="_reply"' not in r.content.decode()
    late = pm.post(url, {"_reply": "1", "reply_body": "还有一件事"}, follow=True)
    assert "The ticket is closed." in late.content.decode()
    with tenant_context(tenant):
        t = FeedbackTicket.objects.get()
        assert (t.status, t.closed_by) == ("closed", "pm")
        assert [(m.author, m.staff_username, m.body) for m in FeedbackMessage.objects.order_by("id")] == [
            ("distributor", "", "昨天的提现还没到"), ("staff", "pm", "已处理，今天到账")]


def test_a_password_reset_link_is_issued_from_the_console_and_works_once(pm, tenant, people):
    r = pm.post("/admin/relations/passwordreset/add/", {"distributor": people[2].pk, "hours": "3"}, follow=True)
    page = r.content.decode()
    assert "Send this link to the distributor (shown once):" in page
    import re

    token = re.search(r'id="reset-link">[^<]*token=([^<"&]+)<', page).group(1)
    api = CommitAPIClient()
    assert api.post("/api/v1/auth/password-reset/", {"token": token, "new_password": "sunny-hills-7"},
                    format="json").status_code == 204
    assert api.post("/api/v1/auth/password-reset/", {"token": token, "new_password": "sunny-hills-8"},
                    format="json").status_code == 400
    with tenant_context(tenant):
        reset = PasswordReset.objects.get()
        assert reset.created_by == "pm" and (reset.expires_at - reset.created_at).total_seconds() == 3 * 3600


def test_a_reset_link_for_a_disabled_distributor_is_a_form_error(pm, tenant, people):
    from distributors.services import distributor_update

    with tenant_context(tenant):
        distributor_update(distributor=people[2], status="disabled")
    r = pm.post("/admin/relations/passwordreset/add/", {"distributor": people[2].pk, "hours": "3"})
    assert r.status_code == 200 and "enable it first" in r.content.decode()
    with tenant_context(tenant):
        assert PasswordReset.objects.count() == 0
