"""The brand's support for me (domain rules section 8, "Support for distributors"): materials
(posters drawn with my QR code and name, sharing copy, videos, documents, training courses whose
lessons I complete), announcements (read receipts kept) and my feedback tickets. Every read is
relations.selectors', every write or count relations.services', as the API's /me/ endpoints; an
object that is not mine to see (another tenant's, another grade's, another distributor's ticket,
a lesson of another course) answers the not-found page (404) and nothing is written."""
from __future__ import annotations

from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from ..forms import FeedbackForm, ReplyForm, refuse
from .base import page, portal_page, url

PER_PAGE = 20


# --- materials ---------------------------------------------------------------------------------

@portal_page
def materials(request):
    """The materials I may see (relations.selectors.materials_for: shown, for every grade or mine),
    by position, PER_PAGE a page, with a course's lessons done (relations.selectors.my_progress,
    lesson_counts, my_lessons_done)."""
    from relations.selectors import lesson_counts, materials_for, my_progress

    me = request.distributor
    current = Paginator(materials_for(me), PER_PAGE).get_page(request.GET.get("page"))
    rows = list(current.object_list)
    ids = [m.pk for m in rows]
    progress, counts = my_progress(me, ids), lesson_counts(ids)
    done = _lessons_done(me, [m for m in rows if m.kind == "course"])
    items = [{"m": m, "lessons": counts.get(m.pk, 0), "done": done.get(m.pk, 0),
              "completed": bool(progress.get(m.pk) and progress[m.pk].completed_at)} for m in rows]
    return page(request, "portal/materials.html", {"items": items, "page_obj": current}, tab="promote")


def _lessons_done(me, courses) -> dict[int, int]:
    from relations.selectors import my_lessons_done

    return {m.pk: len(my_lessons_done(me, m.pk)) for m in courses}


@portal_page
def material(request, public_id):
    """One material (relations.selectors.material_for; counts a view: relations.services.material_view)
    with a course's lessons and my completion of each."""
    from relations.selectors import lessons_of, material_for, my_lessons_done, my_progress
    from relations.services import material_view

    me = request.distributor
    m = material_for(me, public_id)
    with transaction.atomic():
        material_view(material=m, distributor=me)
    lessons, done = [], {}
    if m.kind == "course":
        done = my_lessons_done(me, m.pk)
        lessons = [{"lesson": lesson, "done_at": done.get(lesson.pk)} for lesson in lessons_of(m)]
    progress = my_progress(me, [m.pk]).get(m.pk)
    return page(request, "portal/material.html", {
        "m": m, "lessons": lessons, "done": len(done), "completed_at": progress.completed_at if progress else None,
        "just_done": request.GET.get("done", ""),
    }, tab="promote")


@portal_page
def poster(request, public_id):
    """My poster (relations.services.poster_render: the image with my invite QR code and my name;
    counts a download) as a PNG download. A material that is no poster: the not-found page (404)."""
    from relations.selectors import material_for
    from relations.services import poster_render

    me = request.distributor
    m = material_for(me, public_id)
    with transaction.atomic():
        png = poster_render(material=m, distributor=me)
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="poster-{public_id}.png"'
    return response


@portal_page
def material_download(request, public_id):
    """A document's file, or a redirect to a video's or document's link (relations.services.material_fetch:
    counts a download); nothing to download: the not-found page (404)."""
    from relations.selectors import material_for
    from relations.services import material_fetch

    m = material_for(request.distributor, public_id)
    with transaction.atomic():
        kind, what = material_fetch(material=m, distributor=request.distributor)
    if kind == "link":
        return HttpResponseRedirect(what)
    return FileResponse(what.open("rb"), as_attachment=True, filename=what.name.rsplit("/", 1)[-1])


@require_POST
@portal_page
def lesson_complete(request, public_id, lesson_id):
    """Mark a lesson of a course done (relations.services.lesson_complete: the first time is kept;
    the course is completed with its last lesson). A lesson of another course or tenant, a
    material that is no course: the not-found page (404), nothing written."""
    from fenxiao.exceptions import NotFound
    from relations.selectors import lesson_of, material_for
    from relations.services import lesson_complete as complete

    me = request.distributor
    m = material_for(me, public_id)
    if m.kind != "course":
        raise NotFound()
    lesson = lesson_of(m, lesson_id)
    with transaction.atomic():
        complete(material=m, lesson=lesson, distributor=me)
    return HttpResponseRedirect(url("material", request, public_id) + f"?done={lesson_id}#lesson-{lesson_id}")


# --- announcements -----------------------------------------------------------------------------

@portal_page
def announcements(request):
    """Announcements for me, newest first (relations.selectors.announcements_for), PER_PAGE a page;
    the page's announcements are marked read (relations.services.announcements_mark_read: the
    first read time is kept), those unread before marked new, as /me/announcements/ does."""
    from relations.selectors import announcements_for, my_reads
    from relations.services import announcements_mark_read

    me = request.distributor
    current = Paginator(announcements_for(me), PER_PAGE).get_page(request.GET.get("page"))
    rows = list(current.object_list)
    before = my_reads(me, [a.pk for a in rows])
    with transaction.atomic():
        announcements_mark_read(distributor=me, announcements=rows)
    return page(request, "portal/announcements.html", {
        "items": [{"a": a, "new": a.pk not in before} for a in rows], "page_obj": current}, tab="me")


@portal_page
def announcement(request, public_id):
    """One announcement for me, marked read (its first read time kept); one that is not for me: 404."""
    from fenxiao.exceptions import NotFound
    from relations.selectors import announcements_for, my_reads
    from relations.services import announcements_mark_read

    me = request.distributor
    found = _announcement(announcements_for(me), public_id)
    if found is None:
        raise NotFound()
    with transaction.atomic():
        reads = announcements_mark_read(distributor=me, announcements=[found])
    return page(request, "portal/announcement.html", {"a": found, "read_at": reads[found.pk]}, tab="me")


def _announcement(queryset, public_id):
    return queryset.filter(public_id=public_id).first()


# --- feedback ----------------------------------------------------------------------------------

@portal_page
def feedback(request):
    """My tickets, the latest message first (relations.selectors.tickets_of), and a new one
    (relations.services.feedback_open: a subject of 1..200 characters, a message of 1..5000; a
    refusal on the form, 400, nothing written)."""
    from relations.selectors import tickets_of
    from relations.services import feedback_open

    me = request.distributor
    form = FeedbackForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                ticket = feedback_open(distributor=me, subject=form.cleaned_data["subject"], body=form.cleaned_data["body"])
        except APIException as exc:
            status = refuse(form, exc)
        else:
            return HttpResponseRedirect(url("ticket", request, ticket.public_id) + "?sent=1")
    current = Paginator(tickets_of(me), PER_PAGE).get_page(request.GET.get("page"))
    return page(request, "portal/feedback.html", {"form": form, "tickets": list(current.object_list),
                                                  "page_obj": current, "writing": request.method == "POST"
                                                  or request.GET.get("new") == "1"}, status=status, tab="me")


@portal_page
def ticket(request, public_id):
    """One of my tickets with its messages (relations.selectors.ticket_of, messages_of) and my next
    message (relations.services.feedback_post: the ticket is open again; empty or over 5000
    characters: 400; a closed ticket: 409; nothing written). Another distributor's ticket: 404."""
    from relations.selectors import messages_of, ticket_of
    from relations.services import feedback_post

    me = request.distributor
    found = ticket_of(me, public_id)
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                feedback_post(ticket=found, distributor=me, body=form.cleaned_data["body"])
        except APIException as exc:
            status = refuse(form, exc)
        else:
            return HttpResponseRedirect(url("ticket", request, public_id) + "?sent=1")
    return page(request, "portal/ticket.html", {
        "t": found, "messages": messages_of(found), "form": form, "sent": request.GET.get("sent") == "1",
        "closed_now": request.GET.get("closed") == "1"}, status=status, tab="me")


@require_POST
@portal_page
def ticket_close(request, public_id):
    """Close my ticket (relations.services.feedback_close); closed already: the ticket's page with
    the refusal (409), nothing written."""
    from relations.selectors import messages_of, ticket_of
    from relations.services import feedback_close

    me = request.distributor
    found = ticket_of(me, public_id)
    try:
        with transaction.atomic():
            feedback_close(ticket=found, actor=f"distributor:{me.external_id}")
    except APIException as exc:
        from ..messages import refusal

        return page(request, "portal/ticket.html", {
            "t": found, "messages": messages_of(found), "form": ReplyForm(),
            "refused": " ".join(message for _attr, message in refusal(exc))}, status=exc.status_code, tab="me")
    return HttpResponseRedirect(url("ticket", request, public_id) + "?closed=1")
