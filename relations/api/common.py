"""What the staff and portal views of distributor support share: bodies built from the rows
(selectors give the counts) and the 404 lookups of the tenant's own objects by public id."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext

from fenxiao.exceptions import NotFound

from .. import selectors
from ..models import Announcement, Material


def staff_material(public_id: str) -> Material:
    """The tenant's material, or 404 (another tenant's id too)."""
    found = Material.objects.prefetch_related("grades").filter(public_id=public_id).first()
    if found is None:
        raise NotFound(gettext("No material with this id."))
    return found


def staff_announcement(public_id: str) -> Announcement:
    """The tenant's announcement (`ann_...`), or 404 (another tenant's id too)."""
    found = Announcement.objects.prefetch_related("grades", "distributors").filter(public_id=public_id).first()
    if found is None:
        raise NotFound(gettext("No announcement with this id."))
    return found


def lesson_body(lesson) -> dict:
    return {"id": lesson.public_id, "position": lesson.position, "title": lesson.title, "body": lesson.body,
            "video_url": lesson.video_url}


def staff_material_bodies(materials: list[Material]) -> list[dict]:
    """StaffMaterialSerializer bodies of `materials`: lessons and counts in two queries for all."""
    from ..models import Lesson

    ids = [m.pk for m in materials]
    counts = selectors.material_counts(ids)
    lessons: dict[int, list] = {}
    for lesson in Lesson.objects.filter(material_id__in=ids).order_by("position", "id"):
        lessons.setdefault(lesson.material_id, []).append(lesson_body(lesson))
    return [{
        "id": m.public_id, "kind": m.kind, "title": m.title, "body": m.body, "link": m.link,
        "file_name": m.file.name.rsplit("/", 1)[-1] if m.file else None, "has_image": bool(m.image),
        "qr_x": m.qr_x, "qr_y": m.qr_y, "qr_size": m.qr_size, "name_x": m.name_x, "name_y": m.name_y,
        "name_size": m.name_size, "name_color": m.name_color, "grades": [g.code for g in m.grades.all()],
        "is_active": m.is_active, "position": m.position, "lessons": lessons.get(m.pk, []),
        "counts": vars(counts[m.pk]), "created_at": m.created_at, "updated_at": m.updated_at,
    } for m in materials]


def my_material_bodies(distributor, materials: list[Material], *, with_lessons: bool = False) -> list[dict]:
    """MyMaterialSerializer bodies: my views, my lessons done and the course's lesson count (three
    queries for the page, whatever its size; a course's lessons with my completions when asked)."""
    from ..models import LessonCompletion

    ids = [m.pk for m in materials]
    progress = selectors.my_progress(distributor, ids)
    n_lessons = selectors.lesson_counts(ids)
    done: dict[int, int] = {}
    for material_id in LessonCompletion.objects.filter(distributor=distributor, material_id__in=ids).values_list(
            "material_id", flat=True):
        done[material_id] = done.get(material_id, 0) + 1
    out = []
    for m in materials:
        p = progress.get(m.pk)
        body = {
            "id": m.public_id, "kind": m.kind, "title": m.title, "body": m.body, "link": m.link, "has_file": bool(m.file),
            "poster_url": reverse("me-material-poster", args=[m.public_id]) if m.kind == Material.Kind.POSTER else None,
            "download_url": reverse("me-material-download", args=[m.public_id])
            if m.kind in (Material.Kind.DOCUMENT, Material.Kind.VIDEO) and (m.file or m.link) else None,
            "lessons_count": n_lessons.get(m.pk, 0), "lessons_done": done.get(m.pk, 0),
            "completed_at": p.completed_at if p else None, "views": p.views if p else 0,
        }
        if with_lessons:
            finished = selectors.my_lessons_done(distributor, m.pk)
            body["lessons"] = [{**lesson_body(lesson), "completed_at": finished.get(lesson.pk)}
                               for lesson in selectors.lessons_of(m)]
        out.append(body)
    return out


def staff_announcement_bodies(announcements: list[Announcement]) -> list[dict]:
    reads = selectors.read_counts(a.pk for a in announcements)
    return [{
        "id": a.public_id, "title": a.title, "body": a.body, "audience": a.audience,
        "grades": [g.code for g in a.grades.all()], "distributors": [d.external_id for d in a.distributors.all()],
        "published_at": a.published_at, "is_active": a.is_active, "created_by": a.created_by,
        "created_at": a.created_at, "read_count": reads[a.pk], "audience_size": selectors.audience_size(a),
    } for a in announcements]
