"""Reads of distributor support (domain rules section 8, "Support for distributors"), for the API,
the console and the portal pages: what a distributor may see (materials by grade, announcements by
audience, its own tickets), the counts staff see, the invite link, and what each downline's orders
earned me. Every function reads the tenant in context; lookups answer NotFound (404) for another
tenant's or another distributor's object exactly as for a missing one.

Portal pages call these (and relations.services for anything that writes or counts):
    invite_url(distributor)                          my invite link
    materials_for(distributor)                       the materials I may see (queryset)
    material_for(distributor, public_id)                  one of them, or 404
    lessons_of(material)                             a course's lessons in order
    my_progress(distributor, material_ids)           {material id: MaterialProgress}
    my_lessons_done(distributor, material_id)        {lesson id: completed_at}
    announcements_for(distributor, now=None)         announcements I am in the audience of (queryset)
    my_reads(distributor, announcement_ids)          {announcement id: first read time}
    unread_count(distributor, now=None)              how many of mine I have not read
    tickets_of(distributor)                          my feedback tickets (queryset)
    ticket_of(distributor, public_id)                     one of them, or 404
    messages_of(ticket)                              a ticket's messages in order
    downline_contribution(distributor, month)        what each downline's orders earned me in a month
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext

from commissions.models import CommissionRecord
from distributors.models import Distributor
from fenxiao.currencies import exact_sum
from fenxiao.exceptions import NotFound, invalid

from .models import (
    Announcement, AnnouncementRead, FeedbackMessage, FeedbackTicket, Lesson, LessonCompletion, Material,
    MaterialProgress,
)


# --- invite ------------------------------------------------------------------------------------

def default_invite_template(tenant) -> str:
    """The invite link of a tenant without its own template: the portal's registration page on
    this server, <FENXIAO_PUBLIC_URL>/portal/<tenant slug>/join/?code={code}."""
    return f"{settings.FENXIAO_PUBLIC_URL}/portal/{quote(tenant.slug)}/join/?code={{code}}"


def invite_url(distributor: Distributor) -> str:
    """My invite link (domain rules section 2: registering through it binds the newcomer under me
    per the tenant's bind_mode): the tenant's `invite_url_template` with {code} replaced by my
    invite code, or the default template (`default_invite_template`) when the tenant has none.
    Every tenant has one."""
    tenant = distributor.tenant
    template = tenant.invite_url_template or default_invite_template(tenant)
    return template.replace("{code}", quote(distributor.invite_code, safe=""))


# --- materials ---------------------------------------------------------------------------------

def _grade_allows(grade_id: int | None):
    """Materials with no grade limit, or limited to grades that include `grade_id`."""
    through = Material.grades.through
    limited = Exists(through.objects.filter(material_id=OuterRef("pk")))
    if grade_id is None:
        return ~limited
    return ~limited | Exists(through.objects.filter(material_id=OuterRef("pk"), grade_id=grade_id))


def materials_for(distributor: Distributor) -> QuerySet:
    """The materials `distributor` may see: shown to distributors (is_active) and either for every
    grade or for one that includes its grade (domain rules section 8: optionally limited to
    grades), by position then newest first."""
    return Material.objects.filter(is_active=True).filter(_grade_allows(distributor.grade_id)).order_by("position", "-id")


def material_for(distributor: Distributor, public_id: str) -> Material:
    """One material `distributor` may see, or NotFound (404): another tenant's, a hidden one or
    one for other grades answer like a missing one."""
    found = materials_for(distributor).filter(public_id=public_id).first()
    if found is None:
        raise NotFound(gettext("No material with this id."))
    return found


def lessons_of(material: Material) -> list[Lesson]:
    """A course's lessons in order (empty for other kinds)."""
    return list(Lesson.objects.filter(material=material).order_by("position", "id"))


def lesson_of(material: Material, public_id: str) -> Lesson:
    """A lesson of `material`, or NotFound (404): another course's or another tenant's lesson too."""
    found = Lesson.objects.filter(material=material, public_id=public_id).first()
    if found is None:
        raise NotFound(gettext("No lesson with this id in this course."))
    return found


def my_progress(distributor: Distributor, material_ids) -> dict[int, MaterialProgress]:
    """{material id: my MaterialProgress} for those of `material_ids` I have used."""
    rows = MaterialProgress.objects.filter(distributor=distributor, material_id__in=list(material_ids))
    return {p.material_id: p for p in rows}


def my_lessons_done(distributor: Distributor, material_id: int) -> dict[int, datetime]:
    """{lesson id: when I completed it} for one course."""
    rows = LessonCompletion.objects.filter(distributor=distributor, material_id=material_id)
    return dict(rows.values_list("lesson_id", "completed_at"))


def lesson_counts(material_ids) -> dict[int, int]:
    """{material id: number of lessons} (courses)."""
    rows = Lesson.objects.filter(material_id__in=list(material_ids)).values("material_id").annotate(n=Count("id"))
    return {r["material_id"]: r["n"] for r in rows}


@dataclass(frozen=True)
class MaterialCounts:
    """Use of one material: `views` (times shown), `viewers` (distributors who saw it),
    `downloads` (files, posters and links fetched) and `completions` (distributors who completed
    every lesson of a course)."""

    views: int = 0
    viewers: int = 0
    downloads: int = 0
    completions: int = 0


def material_counts(material_ids) -> dict[int, MaterialCounts]:
    """{material id: MaterialCounts} of `material_ids` (every id answered; one query): the counts
    per material of domain rules section 8."""
    ids = list(material_ids)
    out = {pk: MaterialCounts() for pk in ids}
    rows = (MaterialProgress.objects.filter(material_id__in=ids).values("material_id")
            .annotate(n_views=Sum("views"), n_viewers=Count("id", filter=Q(views__gt=0)), n_downloads=Sum("downloads"),
                      n_completions=Count("id", filter=Q(completed_at__isnull=False))).order_by())
    for r in rows:
        out[r["material_id"]] = MaterialCounts(r["n_views"] or 0, r["n_viewers"], r["n_downloads"] or 0,
                                               r["n_completions"])
    return out


def material_counts_annotated(qs: QuerySet) -> QuerySet:
    """`qs` of materials with the counts as annotations (n_views, n_downloads, n_completions), for
    sortable console columns."""
    progress = MaterialProgress.objects.filter(material_id=OuterRef("pk")).values("material_id")
    from django.db.models import IntegerField, Subquery
    from django.db.models.functions import Coalesce

    def total(expr):
        return Coalesce(Subquery(progress.annotate(v=expr).values("v")[:1], output_field=IntegerField()), 0)

    return qs.annotate(n_views=total(Sum("views")), n_downloads=total(Sum("downloads")),
                       n_completions=total(Count("id", filter=Q(completed_at__isnull=False))))


# --- announcements -----------------------------------------------------------------------------

def announcements_for(distributor: Distributor, now: datetime | None = None) -> QuerySet:
    """The announcements `distributor` is in the audience of and that are shown now (is_active and
    published_at <= now), newest first: to everyone; to some grades, including its grade; or to
    listed distributors, including it (domain rules section 8)."""
    now = now or timezone.now()
    grades = Announcement.grades.through.objects.filter(announcement_id=OuterRef("pk"), grade_id=distributor.grade_id)
    people = Announcement.distributors.through.objects.filter(announcement_id=OuterRef("pk"), distributor_id=distributor.pk)
    audience = Q(audience=Announcement.Audience.EVERYONE) | Q(audience=Announcement.Audience.DISTRIBUTORS) & Exists(people)
    if distributor.grade_id is not None:
        audience |= Q(audience=Announcement.Audience.GRADES) & Exists(grades)
    return (Announcement.objects.filter(is_active=True, published_at__lte=now).filter(audience)
            .order_by("-published_at", "-id"))


def my_reads(distributor: Distributor, announcement_ids) -> dict[int, datetime]:
    """{announcement id: when I first read it} among `announcement_ids`."""
    rows = AnnouncementRead.objects.filter(distributor=distributor, announcement_id__in=list(announcement_ids))
    return dict(rows.values_list("announcement_id", "read_at"))


def unread_count(distributor: Distributor, now: datetime | None = None) -> int:
    """How many announcements shown to me now I have not read."""
    read = AnnouncementRead.objects.filter(announcement_id=OuterRef("pk"), distributor=distributor)
    return announcements_for(distributor, now).filter(~Exists(read)).count()


def read_counts(announcement_ids) -> dict[int, int]:
    """{announcement id: distributors who read it} (every id answered; one query)."""
    ids = list(announcement_ids)
    out = dict.fromkeys(ids, 0)
    rows = AnnouncementRead.objects.filter(announcement_id__in=ids).values("announcement_id").annotate(n=Count("id"))
    out.update({r["announcement_id"]: r["n"] for r in rows})
    return out


def audience_size(announcement: Announcement) -> int:
    """How many distributors the announcement is for now: active distributors (everyone), active
    distributors of its grades, or the listed distributors."""
    if announcement.audience == Announcement.Audience.DISTRIBUTORS:
        return announcement.distributors.count()
    active = Distributor.objects.filter(status=Distributor.Status.ACTIVE)
    if announcement.audience == Announcement.Audience.GRADES:
        return active.filter(grade__in=announcement.grades.all()).count()
    return active.count()


def readers_of(announcement: Announcement) -> QuerySet:
    """The read receipts of an announcement with their distributors, first readers first."""
    return AnnouncementRead.objects.filter(announcement=announcement).select_related("distributor").order_by("read_at", "id")


# --- feedback ----------------------------------------------------------------------------------

def tickets_of(distributor: Distributor) -> QuerySet:
    """My feedback tickets, the latest message first."""
    return FeedbackTicket.objects.filter(distributor=distributor).order_by("-updated_at", "-id")


def ticket_of(distributor: Distributor, public_id: str) -> FeedbackTicket:
    """One of my tickets, or NotFound (404): another distributor's or tenant's answers the same."""
    found = tickets_of(distributor).filter(public_id=public_id).first()
    if found is None:
        raise NotFound(gettext("No feedback ticket with this id."))
    return found


def staff_ticket(public_id: str) -> FeedbackTicket:
    """A ticket of the tenant in context with its distributor, or NotFound (404)."""
    found = FeedbackTicket.objects.select_related("distributor").filter(public_id=public_id).first()
    if found is None:
        raise NotFound(gettext("No feedback ticket with this id."))
    return found


def messages_of(ticket: FeedbackTicket) -> list[FeedbackMessage]:
    """A ticket's messages, oldest first."""
    return list(FeedbackMessage.objects.filter(ticket=ticket).order_by("id"))


# --- what my downlines brought me --------------------------------------------------------------

def month_first(period: str) -> date:
    """"YYYY-MM" (ASCII digits, month 01..12, year 1970..9899) -> the first day of that month; 400
    `invalid` with attr `month` otherwise."""
    import re

    if not isinstance(period, str) or not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", period):
        raise invalid("month", gettext("Give the month as YYYY-MM, e.g. 2026-01."), "invalid")
    year, month = int(period[:4]), int(period[5:])
    if not 1970 <= year <= 9899:
        raise invalid("month", gettext("The month must be between 1970-01 and 9899-12."), "out_of_range")
    return date(year, month, 1)


@dataclass(frozen=True)
class Contribution:
    """What one downline's orders of the month earned me at one level (tenant currency): `orders`
    counted (with a commission record for me), `amount` net of reversals."""

    distributor_id: int
    external_id: str
    name: str
    level: int
    orders: int
    amount: Decimal


def downline_contribution(distributor: Distributor, month: date) -> dict:
    """The commission I earned from each downline's orders paid in the tenant-local month starting
    `month` (domain rules sections 6 and 8: commission net of reversals for orders in the period),
    from my commission records: each record of mine is credited to the order's level-1 candidate
    (the distributor whose link or customer sold: `Order.attributed_to`). Records where that is me
    (my own link) are `own`; the others are rows per (downline, level), largest first, then by
    level and distributor id. Returns {"start", "end" (local month, aware), "own": {level: amount},
    "by_level": {"1","2","3": amount}, "total", "rows": [Contribution]}; amounts exact Decimals in
    the tenant currency. One query."""
    from incentives.rules import month_window

    tenant = distributor.tenant
    start, end = month_window(tenant.timezone, month.year, month.month)
    rows = (CommissionRecord.objects.filter(beneficiary=distributor, order__paid_at__gte=start, order__paid_at__lt=end)
            .values("level", "order__attributed_to", "order__attributed_to__external_id", "order__attributed_to__name")
            .annotate(amount=Sum(F("amount") - F("reversed_amount")), orders=Count("order_id", distinct=True))
            .order_by())
    currency = tenant.currency
    by_level = {str(level): exact_sum(0, currency) for level in (1, 2, 3)}
    own = {str(level): exact_sum(0, currency) for level in (1, 2, 3)}
    out = []
    for r in rows:
        amount = exact_sum(r["amount"], currency)
        by_level[str(r["level"])] += amount
        who = r["order__attributed_to"]
        if who == distributor.pk or who is None:
            own[str(r["level"])] += amount
            continue
        out.append(Contribution(who, r["order__attributed_to__external_id"], r["order__attributed_to__name"],
                                r["level"], r["orders"], amount))
    out.sort(key=lambda c: (-c.amount, c.level, c.distributor_id))
    return {"start": start, "end": end, "own": own, "by_level": by_level,
            "total": sum(by_level.values(), exact_sum(0, currency)), "rows": out}
