"""Writes of distributor support (domain rules section 8, "Support for distributors"; issue 14):
materials and their lessons, each distributor's views, downloads and lesson completions, posters
drawn for a distributor, announcements and their read receipts, feedback tickets, what a
distributor would earn on a product (nothing written), its password (changed, or reset through a
one-time link staff issue).

Every function takes keyword arguments, runs in the tenant in context (set by the API view, the
console or `tenant_context`), raises fenxiao.exceptions (400 `invalid`, 404 NotFound, 409
InvalidState) before writing anything, and writes inside one transaction.

Portal pages call these (and relations.selectors for reads):
    material_view(material, distributor)             count a view (the material's page)
    material_download(material, distributor)         count a download of a file or link
    poster_render(material, distributor)             my poster as PNG bytes (counts a download)
    invite_qr_png(distributor)                       my invite link as a QR code PNG
    lesson_complete(material, lesson, distributor)   a lesson done (and the course when it was the last)
    announcements_mark_read(distributor, announcements)   read receipts (first read time kept)
    feedback_open(distributor, subject, body)        a new ticket
    feedback_post(ticket, distributor, body)         my next message on a ticket
    feedback_close(ticket, actor)                    close a ticket
    earn_preview(distributor, lines)                 what I would earn per level, nothing written
    password_change(distributor, old_password, new_password)
    password_reset_redeem(token, new_password)       (no login: the token names the distributor)
Withdrawal cancellation is ledger.services.withdrawal_cancel; my downlines' contribution is
relations.selectors.downline_contribution.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from distributors.models import Distributor, Grade
from fenxiao.exceptions import InvalidState, NotFound, invalid
from tenants.context import tenant_context

from . import posters, selectors
from .models import (
    FEEDBACK_BODY_MAX, POSTER_MAX_SIDE, QR_MIN_SIZE, Announcement, AnnouncementRead, FeedbackMessage, FeedbackTicket,
    Lesson, LessonCompletion, Material, MaterialProgress, PasswordReset,
)

K = Material.Kind
#: Largest uploaded file of a material (poster image or document), in bytes.
MATERIAL_FILE_MAX_BYTES = 20 * 1024 * 1024
#: A reset link is valid for 1 hour up to a week.
RESET_HOURS_MAX = 168

MATERIAL_FIELDS = ("kind", "title", "body", "link", "qr_x", "qr_y", "qr_size", "name_x", "name_y", "name_size",
                   "name_color", "is_active", "position")


# --- materials ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LessonInput:
    """A lesson as staff give it: `id` of an existing lesson of the course to keep (None: new)."""

    title: str
    body: str = ""
    video_url: str = ""
    id: str | None = None  # lesson_... (its public id)


def _upload_check(attr: str, upload) -> bytes | None:
    """The bytes of an uploaded file (None for none); 400 `too_large` over MATERIAL_FILE_MAX_BYTES."""
    if upload is None:
        return None
    if getattr(upload, "size", 0) > MATERIAL_FILE_MAX_BYTES:
        raise invalid(attr, gettext("The file is larger than %(mb)s MB.") % {"mb": MATERIAL_FILE_MAX_BYTES // (1024 * 1024)}, "too_large")
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _stored_bytes(field) -> bytes | None:
    if not field:
        return None
    with field.open("rb") as f:
        return f.read()


def material_check(*, material: Material, image_bytes: bytes | None = None, lessons: int | None = None) -> None:
    """What each kind needs (400 on the field, nothing written): a poster an image (PNG or JPEG,
    at most POSTER_MAX_SIDE pixels a side) with its QR square (at least QR_MIN_SIZE pixels) and the
    name's position inside it (relations.posters.poster_problems); copy its text; a video its link;
    a document a file or a link; a course at least one lesson (`lessons`: how many it will have;
    None: not checked). `image_bytes`: a newly uploaded image (else the stored one is read)."""
    m = material
    if not m.title.strip():
        raise invalid("title", gettext("A material needs a title."), "blank")
    if m.kind == K.POSTER:
        data = image_bytes if image_bytes is not None else _stored_bytes(m.image)
        if not data:
            raise invalid("image", gettext("A poster needs its image (PNG or JPEG)."), "required")
        try:
            fmt, width, height = posters.image_info(data)
        except ValueError:
            raise invalid("image", gettext("The poster's image cannot be read: upload a PNG or JPEG."), "invalid_image") from None
        if fmt not in posters.POSTER_FORMATS:
            raise invalid("image", (gettext("The poster's image is %(format)s: upload a PNG or JPEG.") % {"format": fmt} if fmt else gettext("The poster's image is of an unknown format: upload a PNG or JPEG.")),
                          "invalid_image")
        problem = posters.poster_problems(width=width, height=height, qr_x=m.qr_x, qr_y=m.qr_y, qr_size=m.qr_size,
                                          name_x=m.name_x, name_y=m.name_y, max_side=POSTER_MAX_SIDE, qr_min=QR_MIN_SIZE)
        if problem:
            attr, code, message = problem
            raise invalid(attr, message, code)
    elif m.kind == K.COPY and not m.body.strip():
        raise invalid("body", gettext("Sharing copy needs its text."), "required")
    elif m.kind == K.VIDEO and not m.link:
        raise invalid("link", gettext("A video needs its link."), "required")
    elif m.kind == K.DOCUMENT and not (m.file or m.link):
        raise invalid("file", gettext("A document needs a file or a link."), "required")
    elif m.kind == K.COURSE and lessons is not None and lessons < 1:
        raise invalid("lessons", gettext("A course needs at least one lesson."), "required")


def _lessons_write(material: Material, lessons: list[LessonInput]) -> None:
    """Make the course's lessons exactly `lessons`, in that order (positions 1, 2, ...): a lesson
    with an `id` of this course is kept (its completions too), others are created; lessons left out
    are deleted with their completions. 400 `unknown_lesson` for an id that is not this course's."""
    existing = {lesson.public_id: lesson for lesson in Lesson.objects.filter(material=material)}
    for i, item in enumerate(lessons):
        if item.id is not None and item.id not in existing:
            raise invalid(f"lessons.{i}.id", gettext("The course has no lesson %(id)s.") % {"id": item.id}, "unknown_lesson")
        if not item.title.strip():
            raise invalid(f"lessons.{i}.title", gettext("A lesson needs a title."), "blank")
    keep = {item.id for item in lessons if item.id is not None}
    Lesson.objects.filter(material=material).exclude(public_id__in=keep).delete()
    # positions move out of the way first: (course, position) is unique at every step
    Lesson.objects.filter(material=material).update(position=F("position") + 1_000_000)
    for i, item in enumerate(lessons, start=1):
        values = {"position": i, "title": item.title.strip(), "body": item.body, "video_url": item.video_url}
        if item.id is not None:
            Lesson.objects.filter(material=material, public_id=item.id).update(**values)
        else:
            Lesson.objects.create(tenant_id=material.tenant_id, material=material, **values)


def _grades_set(material_or_announcement, grades: list[Grade] | None) -> None:
    if grades is not None:
        material_or_announcement.grades.set(grades)


@transaction.atomic
def material_create(*, tenant, kind: str, title: str, body: str = "", link: str = "", file=None, image=None,
                    qr_x: int | None = None, qr_y: int | None = None, qr_size: int | None = None,
                    name_x: int | None = None, name_y: int | None = None, name_size: int = 32,
                    name_color: str = "#000000", grades: list[Grade] | None = None, is_active: bool = True,
                    position: int = 0, lessons: list[LessonInput] | None = None) -> Material:
    """Publish a material (domain rules section 8). `kind` poster, copy, video, document or course;
    `file` / `image`: uploaded files (Django File objects); positions in pixels of the poster's
    image; `grades`: the grades that see it (none: everyone); `lessons` a course's lessons in order.
    400 (nothing written) per `material_check`, and `too_large` for a file over 20 MB."""
    if kind not in K.values:
        raise invalid("kind", gettext("Unknown kind %(kind)r: poster, copy, video, document or course.") % {"kind": kind}, "invalid_choice")
    image_bytes = _upload_check("image", image)
    _upload_check("file", file)
    material = Material(tenant=tenant, kind=kind, title=title.strip(), body=body, link=link, qr_x=qr_x, qr_y=qr_y,
                        qr_size=qr_size, name_x=name_x, name_y=name_y, name_size=name_size, name_color=name_color,
                        is_active=is_active, position=position)
    if kind == K.POSTER and image is not None:
        material.image = image
    if kind == K.DOCUMENT and file is not None:
        material.file = file
    material_check(material=material, image_bytes=image_bytes,
                   lessons=len(lessons or []) if kind == K.COURSE else None)
    material.save()
    _grades_set(material, grades)
    if kind == K.COURSE:
        _lessons_write(material, lessons or [])
    return material


@transaction.atomic
def material_update(*, material: Material, grades: list[Grade] | None = None, lessons: list[LessonInput] | None = None,
                    file=None, image=None, **changes) -> Material:
    """Change a material: any of MATERIAL_FIELDS, `grades` (replaced), `lessons` (a course's, see
    `_lessons_write`), a new `file` or `image`. The result is checked like a new one (400, nothing
    written). A course's completions stay: a distributor who completed it keeps its completion."""
    unknown = sorted(set(changes) - set(MATERIAL_FIELDS))
    if unknown:
        raise invalid(unknown[0], gettext("Unknown field."), "unknown_field")
    locked = Material.objects.select_for_update().get(pk=material.pk)
    for name, value in changes.items():
        setattr(locked, name, value.strip() if name == "title" else value)
    if locked.kind not in K.values:
        raise invalid("kind", gettext("Unknown kind %(kind)r.") % {"kind": locked.kind}, "invalid_choice")
    image_bytes = _upload_check("image", image)
    _upload_check("file", file)
    n_lessons = None
    if locked.kind == K.COURSE:
        n_lessons = len(lessons) if lessons is not None else Lesson.objects.filter(material=locked).count()
    if image is not None:
        locked.image = image
    if file is not None:
        locked.file = file
    material_check(material=locked, image_bytes=image_bytes, lessons=n_lessons)
    locked.save()
    _grades_set(locked, grades)
    if lessons is not None and locked.kind == K.COURSE:
        _lessons_write(locked, lessons)
    return locked


@transaction.atomic
def material_delete(*, material: Material) -> None:
    """Remove a material with its lessons and every distributor's use of it (its history stays)."""
    Material.objects.filter(pk=material.pk).delete()


def _progress(material: Material, distributor: Distributor):
    """The (material, distributor) progress row, created when missing (safe under concurrency)."""
    MaterialProgress.objects.bulk_create(
        [MaterialProgress(tenant_id=material.tenant_id, material=material, distributor=distributor)],
        ignore_conflicts=True)
    return MaterialProgress.objects.filter(material=material, distributor=distributor)


@transaction.atomic
def material_view(*, material: Material, distributor: Distributor, now: datetime | None = None) -> MaterialProgress:
    """Count one view of `material` by `distributor` (its page opened): views + 1, first and last
    view times. Returns the progress row. One upsert and one update (F(): concurrent views all count)."""
    now = now or timezone.now()
    rows = _progress(material, distributor)
    rows.update(views=F("views") + 1, last_viewed_at=now, first_viewed_at=Coalesce(F("first_viewed_at"), now))
    return rows.get()


@transaction.atomic
def material_download(*, material: Material, distributor: Distributor) -> MaterialProgress:
    """Count one download of `material` by `distributor` (a file, a link followed, a poster)."""
    rows = _progress(material, distributor)
    rows.update(downloads=F("downloads") + 1)
    return rows.get()


def material_fetch(*, material: Material, distributor: Distributor) -> tuple[str, object]:
    """What a distributor downloads from a material, counted: ("file", the FieldFile) for a
    document with a file, ("link", url) for a video or a document link. 404 `nothing_to_download`
    for copy, posters (their download is poster.png) and courses."""
    if material.kind == K.DOCUMENT and material.file:
        kind, what = "file", material.file
    elif material.kind in (K.VIDEO, K.DOCUMENT) and material.link:
        kind, what = "link", material.link
    else:
        raise NotFound(gettext("This material has nothing to download."), code="nothing_to_download")
    material_download(material=material, distributor=distributor)
    return kind, what


def poster_render(*, material: Material, distributor: Distributor) -> bytes:
    """My poster (domain rules section 8): the material's image with the QR code of my invite link
    (relations.selectors.invite_url) in its QR square and my name at its position, as PNG bytes;
    counts a download. 404 `not_a_poster` for a material of another kind."""
    if material.kind != K.POSTER:
        raise NotFound(gettext("This material is not a poster."), code="not_a_poster")
    data = _stored_bytes(material.image)
    if not data:
        raise NotFound(gettext("This poster has no image."), code="not_a_poster")
    png = posters.poster_png(image=data, qr_text=selectors.invite_url(distributor), qr_x=material.qr_x,
                             qr_y=material.qr_y, qr_size=material.qr_size, name=distributor.name,
                             name_x=material.name_x, name_y=material.name_y, name_size=material.name_size,
                             name_color=material.name_color)
    material_download(material=material, distributor=distributor)
    return png


def invite_qr_png(*, distributor: Distributor, scale: int = 10) -> bytes:
    """My invite link (relations.selectors.invite_url) as a QR code PNG, `scale` pixels a module."""
    return posters.qr_png(selectors.invite_url(distributor), scale=scale)


@transaction.atomic
def lesson_complete(*, material: Material, lesson: Lesson, distributor: Distributor,
                    now: datetime | None = None) -> tuple[datetime, datetime | None]:
    """Mark `lesson` of the course `material` done by `distributor` (the first time is kept: doing
    it again changes nothing). When every lesson of the course is done, the course is completed
    (MaterialProgress.completed_at, once; it counts in the material's completions). Returns (when
    the lesson was first completed, when the course was completed or None). 404 for a material that
    is not a course or a lesson of another course (or tenant)."""
    now = now or timezone.now()
    if material.kind != K.COURSE:
        raise NotFound(gettext("This material is not a course."), code="not_a_course")
    if lesson.material_id != material.pk:
        raise NotFound(gettext("No lesson with this id in this course."))
    LessonCompletion.objects.bulk_create(
        [LessonCompletion(tenant_id=material.tenant_id, lesson=lesson, material=material, distributor=distributor,
                          completed_at=now)], ignore_conflicts=True)
    done_at = LessonCompletion.objects.filter(lesson=lesson, distributor=distributor).values_list("completed_at", flat=True).get()
    rows = _progress(material, distributor)
    lessons = set(Lesson.objects.filter(material=material).values_list("pk", flat=True))
    done = set(LessonCompletion.objects.filter(material=material, distributor=distributor).values_list("lesson_id", flat=True))
    if lessons and lessons <= done:
        rows.filter(completed_at__isnull=True).update(completed_at=now)
    return done_at, rows.values_list("completed_at", flat=True).get()


# --- announcements -----------------------------------------------------------------------------

def announcement_check(*, audience: str, grades, distributors) -> None:
    """An announcement's audience names what it needs: 400 for an unknown audience, `grades` without
    a grade, `distributors` without a distributor."""
    if audience not in Announcement.Audience.values:
        raise invalid("audience", gettext("Unknown audience %(audience)r: everyone, grades or distributors.") % {"audience": audience}, "invalid_choice")
    if audience == Announcement.Audience.GRADES and not grades:
        raise invalid("grades", gettext("Name the grades the announcement is for."), "required")
    if audience == Announcement.Audience.DISTRIBUTORS and not distributors:
        raise invalid("distributors", gettext("Name the distributors the announcement is for."), "required")


@transaction.atomic
def announcement_create(*, tenant, title: str, body: str, audience: str = "everyone", grades: list[Grade] | None = None,
                        distributors: list[Distributor] | None = None, published_at: datetime | None = None,
                        is_active: bool = True, actor: str = "") -> Announcement:
    """Send an announcement (domain rules section 8) to everyone, to `grades` or to the listed
    `distributors`, shown from `published_at` (default now). 400 (nothing written): empty title or
    text, unknown audience, no grade for `grades`, no distributor for `distributors`."""
    if not title.strip():
        raise invalid("title", gettext("An announcement needs a title."), "blank")
    if not body.strip():
        raise invalid("body", gettext("An announcement needs its text."), "blank")
    announcement_check(audience=audience, grades=grades, distributors=distributors)
    a = Announcement.objects.create(tenant=tenant, title=title.strip(), body=body, audience=audience,
                                    published_at=published_at or timezone.now(), is_active=is_active, created_by=actor)
    a.grades.set(grades if audience == Announcement.Audience.GRADES else [])
    a.distributors.set(distributors if audience == Announcement.Audience.DISTRIBUTORS else [])
    return a


@transaction.atomic
def announcement_update(*, announcement: Announcement, grades: list[Grade] | None = None,
                        distributors: list[Distributor] | None = None, **changes) -> Announcement:
    """Change an announcement's title, body, audience, published_at, is_active, grades or
    distributors (checked as on creation; its read receipts stay)."""
    allowed = {"title", "body", "audience", "published_at", "is_active"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise invalid(unknown[0], gettext("Unknown field."), "unknown_field")
    a = Announcement.objects.select_for_update().get(pk=announcement.pk)
    for name, value in changes.items():
        setattr(a, name, value)
    if not a.title.strip():
        raise invalid("title", gettext("An announcement needs a title."), "blank")
    if not a.body.strip():
        raise invalid("body", gettext("An announcement needs its text."), "blank")
    grades = grades if grades is not None else list(a.grades.all())
    distributors = distributors if distributors is not None else list(a.distributors.all())
    announcement_check(audience=a.audience, grades=grades, distributors=distributors)
    a.save()
    a.grades.set(grades if a.audience == Announcement.Audience.GRADES else [])
    a.distributors.set(distributors if a.audience == Announcement.Audience.DISTRIBUTORS else [])
    return a


@transaction.atomic
def announcement_delete(*, announcement: Announcement) -> None:
    """Remove an announcement and its read receipts."""
    Announcement.objects.filter(pk=announcement.pk).delete()


@transaction.atomic
def announcements_mark_read(*, distributor: Distributor, announcements, now: datetime | None = None
                            ) -> dict[int, datetime]:
    """Read receipts: `distributor` was shown `announcements` (those it is in the audience of; the
    caller lists them from relations.selectors.announcements_for). The first read time is kept.
    Returns {announcement id: first read time}. Two queries whatever their number."""
    now = now or timezone.now()
    ids = [a.pk for a in announcements]
    AnnouncementRead.objects.bulk_create(
        [AnnouncementRead(tenant_id=distributor.tenant_id, announcement_id=pk, distributor=distributor, read_at=now)
         for pk in ids], ignore_conflicts=True)
    return selectors.my_reads(distributor, ids)


# --- feedback ----------------------------------------------------------------------------------

def feedback_body_check(body, attr: str = "body") -> str:
    """A message's text, its ends' spaces dropped: 1..5000 characters (400 `blank` when empty or
    only spaces, `max_length` over 5000)."""
    if not isinstance(body, str) or not body.strip():
        raise invalid(attr, gettext("Write a message."), "blank")
    body = body.strip()
    if len(body) > FEEDBACK_BODY_MAX:
        raise invalid(attr, gettext("A message has at most %(max)s characters (this one has %(n)s).") % {"max": FEEDBACK_BODY_MAX, "n": len(body)},
                      "max_length")
    return body


def _subject_check(subject) -> str:
    if not isinstance(subject, str) or not subject.strip():
        raise invalid("subject", gettext("Give the ticket a subject."), "blank")
    if len(subject.strip()) > 200:
        raise invalid("subject", gettext("A subject has at most 200 characters."), "max_length")
    return subject.strip()


def _message(ticket: FeedbackTicket, author: str, body: str, staff_username: str, now: datetime) -> FeedbackMessage:
    return FeedbackMessage.objects.create(tenant_id=ticket.tenant_id, ticket=ticket, author=author,
                                          staff_username=staff_username, body=body, created_at=now)


@transaction.atomic
def feedback_open(*, distributor: Distributor, subject: str, body: str, now: datetime | None = None) -> FeedbackTicket:
    """A distributor asks for help: a new ticket, `open`, with its first message. 400 (nothing
    written): empty subject or message, a subject over 200 or a message over 5000 characters."""
    now = now or timezone.now()
    subject, body = _subject_check(subject), feedback_body_check(body)
    ticket = FeedbackTicket.objects.create(tenant_id=distributor.tenant_id, distributor=distributor, subject=subject,
                                           created_at=now, updated_at=now)
    _message(ticket, FeedbackMessage.Author.DISTRIBUTOR, body, "", now)
    return ticket


@transaction.atomic
def feedback_staff_open(*, distributor: Distributor, subject: str, body: str, actor: str,
                        now: datetime | None = None) -> FeedbackTicket:
    """Staff write to a distributor first: a new ticket, `answered` (the distributor's turn), with
    the staff's message. 400 as `feedback_open`."""
    now = now or timezone.now()
    subject, body = _subject_check(subject), feedback_body_check(body)
    ticket = FeedbackTicket.objects.create(tenant_id=distributor.tenant_id, distributor=distributor, subject=subject,
                                           status=FeedbackTicket.Status.ANSWERED, created_at=now, updated_at=now)
    _message(ticket, FeedbackMessage.Author.STAFF, body, actor, now)
    return ticket


def _step(ticket: FeedbackTicket, to: str, now: datetime, **fields) -> FeedbackTicket:
    """Compare-and-set: from any status but closed to `to` (409 `invalid_state` on a closed ticket,
    also when two close it at once)."""
    changed = FeedbackTicket.objects.filter(pk=ticket.pk).exclude(status=FeedbackTicket.Status.CLOSED).update(
        status=to, updated_at=now, **fields)
    if not changed:
        raise InvalidState(gettext("The ticket is closed."))
    return FeedbackTicket.objects.select_related("distributor").get(pk=ticket.pk)


@transaction.atomic
def feedback_post(*, ticket: FeedbackTicket, distributor: Distributor, body: str,
                  now: datetime | None = None) -> FeedbackMessage:
    """The distributor's next message on its own ticket: the ticket is `open` again (staff's turn).
    404 for another distributor's ticket, 409 on a closed one, 400 for the message as `feedback_open`."""
    now = now or timezone.now()
    if ticket.distributor_id != distributor.pk:
        raise NotFound(gettext("No feedback ticket with this id."))
    body = feedback_body_check(body)
    _step(ticket, FeedbackTicket.Status.OPEN, now)
    return _message(ticket, FeedbackMessage.Author.DISTRIBUTOR, body, "", now)


@transaction.atomic
def feedback_reply(*, ticket: FeedbackTicket, body: str, actor: str, now: datetime | None = None) -> FeedbackMessage:
    """A staff reply: the ticket becomes `answered`. 409 on a closed ticket; 400 for the message."""
    now = now or timezone.now()
    body = feedback_body_check(body)
    _step(ticket, FeedbackTicket.Status.ANSWERED, now)
    return _message(ticket, FeedbackMessage.Author.STAFF, body, actor, now)


@transaction.atomic
def feedback_close(*, ticket: FeedbackTicket, actor: str, now: datetime | None = None) -> FeedbackTicket:
    """Close a ticket (staff, or the distributor whose ticket it is): no more messages. 409 when it
    is closed already."""
    now = now or timezone.now()
    return _step(ticket, FeedbackTicket.Status.CLOSED, now, closed_at=now, closed_by=actor[:150])


# --- what I would earn -------------------------------------------------------------------------

@dataclass(frozen=True)
class PreviewLine:
    """A product as a distributor asks about it: `price` per unit in the tenant currency."""

    sku: str = ""
    category: str = ""
    price: Decimal = Decimal("0")
    quantity: int = 1


def earn_preview(*, distributor: Distributor, lines: list[PreviewLine]) -> dict:
    """What `distributor` would earn on `lines` at each level it can be paid at (1: a sale through
    its own link; 2 and 3: through its downlines' links), under the plan in force and its grade now,
    nothing written (commissions.services.commission_earn_preview: the engine's own pricing).
    400 for a negative price (`min_value`), a price finer than the currency's minor unit
    (`max_decimal_places`) or a quantity below 1, attr `lines.<i>.<field>`. Domain rules 5-6."""
    from commissions.services import commission_earn_preview
    from fenxiao.currencies import fits, minor_units

    if not lines:
        raise invalid("lines", gettext("Give at least one product."), "required")
    if len(lines) > settings.ORDER_MAX_LINES:
        raise invalid("lines", gettext("At most %(n)s products at once.") % {"n": settings.ORDER_MAX_LINES}, "max_length")
    places = minor_units(distributor.tenant.currency)
    for i, ln in enumerate(lines):
        if not isinstance(ln.price, Decimal) or not ln.price.is_finite():
            raise invalid(f"lines.{i}.price", gettext("Give the price as a decimal number."), "invalid")
        if ln.price < 0:
            raise invalid(f"lines.{i}.price", gettext("A price cannot be negative."), "min_value")
        if not fits(ln.price, places):
            raise invalid(f"lines.{i}.price", f"{distributor.tenant.currency} amounts have at most {places} decimal "
                          "places." if places else f"{distributor.tenant.currency} amounts have no decimal places.",
                          "max_decimal_places")
        if not isinstance(ln.quantity, int) or isinstance(ln.quantity, bool) or ln.quantity < 1:
            raise invalid(f"lines.{i}.quantity", gettext("The quantity must be at least 1."), "min_value")
    return commission_earn_preview(tenant=distributor.tenant, distributor=distributor,
                                   lines=[(str(i + 1), ln.sku, ln.category, ln.price, ln.quantity)
                                          for i, ln in enumerate(lines)])


# --- passwords ---------------------------------------------------------------------------------

def _password_check(distributor: Distributor, password, attr: str = "new_password") -> None:
    """Django's password validators (settings.AUTH_PASSWORD_VALIDATORS), against the distributor's
    username and name too; 400 with one error per failed validator, each with its code
    (password_too_short, password_too_common, password_entirely_numeric, password_too_similar)."""
    if not isinstance(password, str) or not password:
        raise invalid(attr, gettext("Give the new password."), "required")
    try:
        password_validation.validate_password(password, user=_Who(distributor))
    except DjangoValidationError as exc:
        from rest_framework.exceptions import ErrorDetail, ValidationError

        raise ValidationError({attr: [ErrorDetail(message, code=error.code or "invalid_password")
                                      for error, message in zip(exc.error_list, exc.messages)]}) from None


class _Who:
    """What UserAttributeSimilarityValidator compares a password with: the distributor's username
    (its external id when it has none) and its name."""

    class _meta:  # noqa: N801 (what the validator asks for its message: the field's verbose name)
        @staticmethod
        def get_field(name):
            from types import SimpleNamespace

            from django.utils.translation import gettext_lazy as _, pgettext_lazy

            return SimpleNamespace(verbose_name=pgettext_lazy("person", "name") if name == "first_name" else _("username"))

    def __init__(self, d: Distributor):
        self.username = d.username or d.external_id
        self.first_name = d.name
        self.last_name = ""
        self.email = ""


@transaction.atomic
def password_change(*, distributor: Distributor, old_password: str, new_password: str) -> None:
    """Change my portal password: `old_password` must be my current one (400 `wrong_password`,
    attr old_password), `new_password` pass Django's validators (400 on new_password). Unused
    reset links of mine are spent (a link issued before the change no longer works)."""
    from distributors.services import distributor_set_password

    current = Distributor.objects.select_for_update().get(pk=distributor.pk)
    if not isinstance(old_password, str) or not current.check_password(old_password):
        raise invalid("old_password", gettext("The current password is wrong."), "wrong_password")
    _password_check(current, new_password)
    distributor_set_password(distributor=current, password=new_password)
    PasswordReset.objects.filter(distributor=current, used_at__isnull=True).update(used_at=timezone.now())


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def reset_link(tenant, token: str) -> str:
    """The portal's page where a reset token is used: <FENXIAO_PUBLIC_URL>/portal/<slug>/reset/?token=..."""
    from urllib.parse import quote

    return f"{settings.FENXIAO_PUBLIC_URL}/portal/{quote(tenant.slug)}/reset/?token={quote(token, safe='')}"


@transaction.atomic
def password_reset_issue(*, distributor: Distributor, hours: int | None = None, actor: str = "",
                         now: datetime | None = None) -> tuple[PasswordReset, str, str]:
    """Staff issue a one-time password reset link for `distributor`, valid `hours` (default
    settings.PASSWORD_RESET_HOURS; 1..168, else 400 `out_of_range`). Returns (the record, the token,
    the link): the token is shown this once (only its SHA-256 is kept). 409 for a disabled
    distributor (it cannot log in whatever its password)."""
    now = now or timezone.now()
    hours = settings.PASSWORD_RESET_HOURS if hours is None else hours
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= RESET_HOURS_MAX:
        raise invalid("hours", f"A reset link is valid 1 to {RESET_HOURS_MAX} hours.", "out_of_range")
    if distributor.status == Distributor.Status.DISABLED:
        raise InvalidState(gettext("A disabled distributor cannot log in: enable it first."))
    secret = secrets.token_urlsafe(32)
    reset = PasswordReset.objects.create(tenant_id=distributor.tenant_id, distributor=distributor,
                                         token_hash=_token_hash(secret), created_at=now,
                                         expires_at=now + timedelta(hours=hours), created_by=actor[:150])
    token = f"{reset.pk}.{secret}"
    return reset, token, reset_link(distributor.tenant, token)


def password_reset_redeem(*, token: str, new_password: str, now: datetime | None = None) -> Distributor:
    """Set a new password with a one-time token from `password_reset_issue` (no login: the token
    names the tenant and the distributor). 400 (nothing written), attr `token`: `invalid_token`
    (malformed or unknown), `token_used` (spent: used before, or the password changed since),
    `token_expired`; attr `new_password` per Django's validators (the token stays usable then).
    Two uses at once: one wins, the other is `token_used`. Returns the distributor."""
    now = now or timezone.now()
    head, _, secret = (token or "").partition(".") if isinstance(token, str) else ("", "", "")
    if not head.isascii() or not head.isdigit() or not secret or len(token) > 200:
        raise invalid("token", gettext("This reset link is not valid."), "invalid_token")
    # The token carries no tenant context: the reset is found by its primary key (a global index),
    # then everything runs inside its tenant.
    found = PasswordReset.unscoped.filter(pk=int(head)).select_related("distributor__tenant").first()
    if found is None or not hmac.compare_digest(found.token_hash, _token_hash(secret)):
        raise invalid("token", gettext("This reset link is not valid."), "invalid_token")
    with tenant_context(found.distributor.tenant), transaction.atomic():
        reset = PasswordReset.objects.select_for_update().get(pk=found.pk)
        if reset.used_at is not None:
            raise invalid("token", gettext("This reset link has been used already."), "token_used")
        if reset.expires_at <= now:
            raise invalid("token", gettext("This reset link has expired: ask for a new one."), "token_expired")
        distributor = Distributor.objects.select_for_update().get(pk=reset.distributor_id)
        if distributor.status == Distributor.Status.DISABLED or not distributor.tenant.is_active:
            raise invalid("token", gettext("This reset link is not valid."), "invalid_token")
        _password_check(distributor, new_password)
        from distributors.services import distributor_set_password

        distributor_set_password(distributor=distributor, password=new_password)
        PasswordReset.objects.filter(distributor=distributor, used_at__isnull=True).update(used_at=now)
        return distributor


# --- joining through an invite link ------------------------------------------------------------

#: The longest name a newcomer may give (the distributor's `name` column).
JOIN_NAME_MAX = 200


@transaction.atomic
def distributor_join(*, tenant, username: str, name: str, password: str, invite_code: str = "",
                     phone: str = "") -> Distributor:
    """A newcomer registers on the portal's join page, usually through an invite link
    (relations.selectors.invite_url): a new distributor whose external id and username are
    `username`, bound under the owner of `invite_code` (empty: no upline), through
    distributors.services.distributor_register (every bind_mode binds at registration; status
    `active`, or `pending` under enrollment `application`). Domain rules section 2.

    400 (nothing written): attr `invite_code` `unknown_invite_code`; attr `username` `required`,
    `invalid_external_id` (as an external id: up to 64 characters, no "/", spaces or control
    characters) or `username_taken` (another distributor of the tenant has it: a newcomer never
    takes over an existing account, whatever the bind_mode); attr `name` `blank` or `max_length`;
    attr `password` per Django's password validators (as `password_change`)."""
    from distributors.services import DistributorInput, distributor_by_invite_code, distributor_register
    from fenxiao.validators import external_id_ok

    username = (username or "").strip()
    name = (name or "").strip()
    if not username:
        raise invalid("username", gettext("Choose a username."), "required")
    if len(username) > 64 or not external_id_ok(username):
        raise invalid("username", gettext("A username has at most 64 characters, without spaces or \"/\"."),
                      "invalid_external_id")
    if not name:
        raise invalid("name", gettext("Give your name."), "blank")
    if len(name) > JOIN_NAME_MAX:
        raise invalid("name", gettext("A name has at most %(n)d characters.") % {"n": JOIN_NAME_MAX}, "max_length")
    code = (invite_code or "").strip()
    if code:
        distributor_by_invite_code(invite_code=code)   # 400 unknown_invite_code before anything else
    if Distributor.objects.filter(Q(external_id=username) | Q(username=username)).exists():
        raise invalid("username", gettext("This username is taken: choose another."), "username_taken")
    newcomer = Distributor(tenant=tenant, external_id=username, username=username, name=name)
    _password_check(newcomer, password, attr="password")
    distributor, created = distributor_register(tenant=tenant, data=DistributorInput(
        external_id=username, name=name, phone=(phone or "").strip()[:32], invite_code=code or None, password=password))
    if not created:   # registered at the same moment by someone else: never theirs to take
        raise invalid("username", gettext("This username is taken: choose another."), "username_taken")
    return distributor


@transaction.atomic
def distributor_bind_invite(*, distributor: Distributor, invite_code: str) -> Distributor:
    """A distributor already registered opens another distributor's invite link and asks to join
    that team: bound under the code's owner when the tenant's bind_mode allows it (domain rules
    section 2: `when_unbound` while it has no upline, `always` rebinds with a logged move), through
    distributors.services.distributor_register as a partner's repeated registration would be.
    Returns the distributor (unchanged when that is its upline already). 400 `unknown_invite_code`,
    `cycle` (its own code, or a code of its own team); 409 `bind_refused` saying why (the bind_mode)."""
    from distributors.services import DistributorInput, distributor_register

    code = (invite_code or "").strip()
    if not code:
        raise invalid("invite_code", gettext("Give an invite code."), "required")
    me, _created = distributor_register(tenant=distributor.tenant, data=DistributorInput(
        external_id=distributor.external_id, name=distributor.name, invite_code=code))
    return me
