"""The portal's support pages (issue 14 item 5; domain rules section 8, "Support for distributors"):
materials for my grade, my poster (its QR code is my invite link), a course's lessons completed,
announcements marked read (first read kept), feedback tickets with their thread. Bad input: a
poster of a material that is no poster, a lesson of another tenant, feedback empty or over 5,000
characters, another distributor's ticket: a clear message or the not-found page, nothing written."""
from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile

from relations.models import AnnouncementRead, FeedbackMessage, FeedbackTicket, LessonCompletion, MaterialProgress
from tenants.context import tenant_context
from tests.portal.conftest import login
from tests.portal.test_money import by_id
from tests.relations.helpers import poster_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(acme, people):
    """acme's materials: a poster, sharing copy, a two-lesson course, a document for the gold grade
    only; an announcement to everyone and one to bob alone."""
    from distributors.models import Grade
    from relations import services

    with tenant_context(acme):
        gold = Grade.objects.create(tenant=acme, code="gold", name="Gold", rank=1)
        out = {
            "poster": services.material_create(
                tenant=acme, kind="poster", title="Spring poster", image=ContentFile(poster_image(), name="p.png"),
                qr_x=400, qr_y=560, qr_size=180, name_x=30, name_y=700, position=1),
            "copy": services.material_create(tenant=acme, kind="copy", title="Moments copy", body="好物推荐，扫码下单。",
                                             position=2),
            "course": services.material_create(tenant=acme, kind="course", title="Newcomers", position=0, lessons=[
                services.LessonInput(title="What is 3-level distribution"), services.LessonInput(title="Sharing")]),
            "gold_doc": services.material_create(tenant=acme, kind="document", title="Gold price list",
                                                 link="https://example.com/gold.pdf", grades=[gold]),
            "welcome": services.announcement_create(tenant=acme, title="Welcome", body="Hello everyone"),
            "to_bob": services.announcement_create(tenant=acme, title="For Bob", body="Only Bob",
                                                   audience="distributors", distributors=[people["bob"]]),
        }
        out["lessons"] = list(out["course"].lessons.order_by("position"))
    return out


def test_the_materials_i_may_see(as_alice, support):
    r = as_alice.get("/portal/acme/materials/")
    html = r.content.decode()
    assert r.status_code == 200
    titles = [t for t in ("Newcomers", "Spring poster", "Moments copy", "Gold price list") if t in html]
    assert titles == ["Newcomers", "Spring poster", "Moments copy"]            # by position; gold's not mine
    assert html.index("Newcomers") < html.index("Spring poster") < html.index("Moments copy")
    gold = as_alice.get(f"/portal/acme/materials/{support['gold_doc'].public_id}/")
    assert gold.status_code == 404 and "Gold price list" not in gold.content.decode()


def test_a_material_page_counts_a_view(as_alice, acme, support, people):
    copy = support["copy"]
    for _ in range(2):
        r = as_alice.get(f"/portal/acme/materials/{copy.public_id}/")
    assert r.status_code == 200 and by_id(r, "material-body") == "好物推荐，扫码下单。"
    with tenant_context(acme):
        assert MaterialProgress.objects.get(material=copy, distributor=people["alice"]).views == 2


def test_my_poster_carries_my_invite_link(as_alice, acme, support, people):
    import zxingcpp
    from PIL import Image

    poster = support["poster"]
    r = as_alice.get(f"/portal/acme/materials/{poster.public_id}/poster.png")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert r["Content-Disposition"] == f'attachment; filename="poster-{poster.public_id}.png"'
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.content)))
    assert code.text == f"http://127.0.0.1:8000/portal/acme/join/?code={people['alice'].invite_code}"
    with tenant_context(acme):
        assert MaterialProgress.objects.get(material=poster, distributor=people["alice"]).downloads == 1
    invite = as_alice.get("/portal/acme/invite/").content.decode()
    assert f'data-id="{poster.public_id}"' in invite and "Moments copy" not in invite


def test_a_poster_of_a_material_that_is_no_poster_is_not_found(as_alice, acme, support):
    for name in ("copy", "course"):
        r = as_alice.get(f"/portal/acme/materials/{support[name].public_id}/poster.png")
        assert r.status_code == 404 and 'id="not-found"' in r.content.decode()
    with tenant_context(acme):
        assert not MaterialProgress.objects.exists()


def test_i_complete_a_course_lesson_by_lesson(as_alice, acme, support, people):
    course, (first, second) = support["course"], support["lessons"]
    page = as_alice.get(f"/portal/acme/materials/{course.public_id}/")
    assert page.content.decode().count('data-done="0"') == 2
    r = as_alice.post(f"/portal/acme/materials/{course.public_id}/lessons/{first.public_id}/complete/")
    assert r.status_code == 302
    assert r["Location"] == f"/portal/acme/materials/{course.public_id}/?done={first.public_id}#lesson-{first.public_id}"
    again = as_alice.post(f"/portal/acme/materials/{course.public_id}/lessons/{first.public_id}/complete/")
    assert again.status_code == 302                                             # the first time is kept
    with tenant_context(acme):
        (done,) = LessonCompletion.objects.filter(distributor=people["alice"])
        assert done.lesson_id == first.pk
        assert MaterialProgress.objects.get(material=course, distributor=people["alice"]).completed_at is None
    as_alice.post(f"/portal/acme/materials/{course.public_id}/lessons/{second.public_id}/complete/")
    page = as_alice.get(f"/portal/acme/materials/{course.public_id}/")
    assert 'id="course-completed"' in page.content.decode() and page.content.decode().count('data-done="1"') == 2
    with tenant_context(acme):
        assert MaterialProgress.objects.get(material=course, distributor=people["alice"]).completed_at is not None


def test_a_lesson_of_another_tenant_or_course_is_not_found_and_nothing_is_written(as_alice, acme, support, other):
    from relations import services

    with tenant_context(other):
        theirs = services.material_create(tenant=other, kind="course", title="Theirs", lessons=[
            services.LessonInput(title="Their lesson")])
        their_lesson = theirs.lessons.get()
    with tenant_context(acme):
        other_course = services.material_create(tenant=acme, kind="course", title="Another course", lessons=[
            services.LessonInput(title="Elsewhere")])
        elsewhere = other_course.lessons.get()
    course = support["course"]
    for path in (f"/portal/acme/materials/{course.public_id}/lessons/{their_lesson.public_id}/complete/",
                 f"/portal/acme/materials/{course.public_id}/lessons/{elsewhere.public_id}/complete/",
                 f"/portal/acme/materials/{theirs.public_id}/lessons/{their_lesson.public_id}/complete/",
                 f"/portal/acme/materials/{support['copy'].public_id}/lessons/{elsewhere.public_id}/complete/"):
        r = as_alice.post(path)
        assert r.status_code == 404 and 'id="not-found"' in r.content.decode(), path
    assert as_alice.get(f"/portal/acme/materials/{course.public_id}/lessons/{support['lessons'][0].public_id}/complete/"
                        ).status_code == 405
    assert not LessonCompletion.unscoped.exists()


def test_announcements_for_me_are_marked_read_once(as_alice, acme, support, people, clock):
    from datetime import timedelta

    home = as_alice.get("/portal/acme/")
    assert by_id(home, "unread-dot") == "1"                                    # "For Bob" is not mine
    listing = as_alice.get("/portal/acme/announcements/")
    html = listing.content.decode()
    assert "Welcome" in html and "For Bob" not in html and 'data-new="1"' in html
    with tenant_context(acme):
        (read,) = AnnouncementRead.objects.filter(distributor=people["alice"])
    first = read.read_at
    clock.shift(timedelta(hours=1))
    again = as_alice.get(f"/portal/acme/announcements/{support['welcome'].public_id}/")
    assert again.status_code == 200 and "Hello everyone" in by_id(again, "announcement")
    with tenant_context(acme):
        assert AnnouncementRead.objects.get(pk=read.pk).read_at == first        # the first read is kept
    assert 'data-new="0"' in as_alice.get("/portal/acme/announcements/").content.decode()
    assert 'id="unread-dot"' not in as_alice.get("/portal/acme/").content.decode()
    assert as_alice.get(f"/portal/acme/announcements/{support['to_bob'].public_id}/").status_code == 404


def test_i_ask_the_brand_and_follow_the_thread(as_alice, acme, support, people):
    from relations.services import feedback_reply

    r = as_alice.post("/portal/acme/feedback/", {"subject": "Poster colours", "body": "Can I get a red one?"})
    assert r.status_code == 302
    with tenant_context(acme):
        ticket = FeedbackTicket.objects.get(distributor=people["alice"])
    assert r["Location"] == f"/portal/acme/feedback/{ticket.public_id}/?sent=1"
    with tenant_context(acme):
        feedback_reply(ticket=ticket, body="Yes: next week.", actor="pm")
    page = as_alice.get(f"/portal/acme/feedback/{ticket.public_id}/")
    assert by_id(page, "thread").startswith("Can I get a red one?")
    assert "Yes: next week." in by_id(page, "thread") and by_id(page, "ticket-status") == "answered"
    r = as_alice.post(f"/portal/acme/feedback/{ticket.public_id}/", {"body": "Thanks!"})
    assert r.status_code == 302
    with tenant_context(acme):
        assert [m.body for m in FeedbackMessage.objects.filter(ticket=ticket).order_by("id")] == [
            "Can I get a red one?", "Yes: next week.", "Thanks!"]
        assert FeedbackTicket.objects.get(pk=ticket.pk).status == "open"
    r = as_alice.post(f"/portal/acme/feedback/{ticket.public_id}/close/")
    assert r.status_code == 302
    closed = as_alice.post(f"/portal/acme/feedback/{ticket.public_id}/close/")
    assert closed.status_code == 409 and "The ticket is closed." in closed.content.decode()
    late = as_alice.post(f"/portal/acme/feedback/{ticket.public_id}/", {"body": "One more thing"})
    assert late.status_code == 409 and "The ticket is closed." in late.content.decode()
    with tenant_context(acme):
        assert FeedbackMessage.objects.filter(ticket=ticket).count() == 3


@pytest.mark.parametrize("subject, body, field, message", [
    ("Help", "", "body", "Write a message."),
    ("Help", "   \n ", "body", "Write a message."),
    ("Help", "x" * 5001, "body", "A message has at most 5000 characters (this one has 5001)."),
    ("", "Hello", "subject", "Give the ticket a subject."),
])
def test_feedback_empty_or_too_long_is_refused_and_nothing_is_written(as_alice, support, subject, body, field, message):
    r = as_alice.post("/portal/acme/feedback/", {"subject": subject, "body": body})
    assert r.status_code == 400
    assert message in by_id(r, f"field-{field}")
    assert not FeedbackTicket.unscoped.exists() and not FeedbackMessage.unscoped.exists()


def test_feedback_of_exactly_5000_characters_is_taken(as_alice, support):
    assert as_alice.post("/portal/acme/feedback/", {"subject": "Long", "body": "长" * 5000}).status_code == 302
    assert FeedbackMessage.unscoped.get().body == "长" * 5000


def test_a_reply_empty_or_too_long_is_refused(as_alice, acme, people, support):
    from relations.services import feedback_open

    with tenant_context(acme):
        ticket = feedback_open(distributor=people["alice"], subject="Q", body="first")
    for body, message in (("", "Write a message."), ("y" * 5001, "A message has at most 5000 characters")):
        r = as_alice.post(f"/portal/acme/feedback/{ticket.public_id}/", {"body": body})
        assert r.status_code == 400 and message in by_id(r, "field-body")
    assert FeedbackMessage.unscoped.count() == 1


def test_another_distributors_ticket_is_not_found(client, acme, people, support, other):
    from relations.services import feedback_open

    with tenant_context(acme):
        ticket = feedback_open(distributor=people["alice"], subject="Private", body="only mine")
    login(client, "acme", "eve")
    for method, path in (("get", f"/portal/acme/feedback/{ticket.public_id}/"),
                         ("post", f"/portal/acme/feedback/{ticket.public_id}/"),
                         ("post", f"/portal/acme/feedback/{ticket.public_id}/close/")):
        r = getattr(client, method)(path, {"body": "sneaky"} if method == "post" else None)
        assert r.status_code == 404 and "Private" not in r.content.decode()
    assert "Private" not in client.get("/portal/acme/feedback/").content.decode()
    with tenant_context(acme):
        assert FeedbackMessage.objects.filter(ticket=ticket).count() == 1
        assert FeedbackTicket.objects.get(pk=ticket.pk).status == "open"
    login(client, "other", "mallory")
    assert client.get(f"/portal/other/feedback/{ticket.public_id}/").status_code == 404
