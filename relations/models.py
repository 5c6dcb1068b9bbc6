"""Support for distributors (domain rules section 8, "Support for distributors"; 培训支持、营销材料、
分销商关系管理): the brand's materials (posters with a QR placeholder, sharing copy, video links,
documents, training courses of ordered lessons), each distributor's use of them (views,
downloads, lesson completions), announcements with their audiences and read receipts, feedback
tickets with their messages, and the one-time password reset links staff issue.

Counts per material are derived from the per-distributor rows (`MaterialProgress`: views and
downloads; completions: the rows with `completed_at`), never a counter on the material's own row
that every view would lock. Every table is tenant-owned: `tenant` leads each index and constraint.
"""
from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy
from simple_history.models import HistoricalRecords

from fenxiao.history import history_user
from fenxiao.publicid import PublicIdField
from tenants.managers import TenantOwned, tenant_fk

#: Feedback message bodies: 1..5000 characters (issue 14, bad input).
FEEDBACK_BODY_MAX = 5000
#: The largest poster image accepted (pixels on either side) and the smallest QR code drawn on it.
POSTER_MAX_SIDE = 6000
QR_MIN_SIZE = 64

hex_color = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Give a colour as #RRGGBB, e.g. #333333."), "invalid_color")


def material_upload_to(instance, filename: str) -> str:
    """Uploaded files live under materials/<tenant id>/ (the tenant's files apart from another's)."""
    return f"materials/{instance.tenant_id}/{filename}"


class Material(TenantOwned):
    """A material staff publish to distributors: a poster, sharing copy, a video link, a document
    (a file or a link) or a training course (its lessons). Limited to `grades` when any are set."""

    class Kind(models.TextChoices):
        POSTER = "poster", _("poster")
        COPY = "copy", _("sharing copy")
        VIDEO = "video", _("video")
        DOCUMENT = "document", _("document")
        COURSE = "course", _("training course")

    public_id = PublicIdField(prefix="mat")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True, default="",
                            help_text=_("The sharing copy, or a description of the material."))
    link = models.URLField(_("link"), max_length=500, blank=True, default="",
                           help_text=_("A video's or a document's address (https://...)."))
    file = models.FileField(_("file"), upload_to=material_upload_to, max_length=300, blank=True,
                            help_text=_("A document's file (when it has no link)."))
    image = models.ImageField(_("poster image"), upload_to=material_upload_to, max_length=300, blank=True,
                              help_text=_("A poster's background image (PNG or JPEG)."))
    qr_x = models.PositiveIntegerField(_("QR code x"), null=True, blank=True,
                                       help_text=_("Left edge of the QR code on the poster, in pixels."))
    qr_y = models.PositiveIntegerField(_("QR code y"), null=True, blank=True,
                                       help_text=_("Top edge of the QR code on the poster, in pixels."))
    qr_size = models.PositiveIntegerField(_("QR code size"), null=True, blank=True,
                                          validators=[MinValueValidator(QR_MIN_SIZE), MaxValueValidator(POSTER_MAX_SIDE)],
                                          help_text=_("Side of the QR code's square, in pixels."))
    name_x = models.PositiveIntegerField(_("name x"), null=True, blank=True,
                                         help_text=_("Left edge of the distributor's name, in pixels."))
    name_y = models.PositiveIntegerField(_("name y"), null=True, blank=True,
                                         help_text=_("Top edge of the distributor's name, in pixels."))
    name_size = models.PositiveIntegerField(_("name font size"), default=32,
                                            validators=[MinValueValidator(8), MaxValueValidator(400)],
                                            help_text=_("Height of the name's letters, in pixels."))
    name_color = models.CharField(_("name colour"), max_length=7, default="#000000", validators=[hex_color])
    grades = models.ManyToManyField("distributors.Grade", blank=True, related_name="+", verbose_name=_("grades"),
                                    help_text=_("Only distributors of these grades see it; none: everyone."))
    is_active = models.BooleanField(_("shown to distributors"), default=True)
    position = models.IntegerField(_("position"), default=0, help_text=_("Lower first in the distributors' list."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(get_user=history_user, m2m_fields=[grades], excluded_fields=["created_at", "updated_at"])

    class Meta(TenantOwned.Meta):
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["position", "-id"]
        indexes = [models.Index(fields=["tenant", "is_active", "position"], name="material_tenant_active")]
        constraints = [models.UniqueConstraint(fields=["tenant", "public_id"], name="material_tenant_public_id")]

    def __str__(self) -> str:
        return self.title


class Lesson(TenantOwned):
    """One lesson of a training course, in `position` order: text and/or a video link."""

    public_id = PublicIdField(prefix="lesson")
    material = tenant_fk(Material, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("course"))
    position = models.PositiveIntegerField(_("position"), default=1)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True, default="")
    video_url = models.URLField(_("video link"), max_length=500, blank=True, default="")
    history = HistoricalRecords(get_user=history_user)

    class Meta(TenantOwned.Meta):
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        ordering = ["material", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "material", "position"], name="lesson_tenant_course_position"),
                       models.UniqueConstraint(fields=["tenant", "public_id"], name="lesson_tenant_public_id")]

    def __str__(self) -> str:
        return self.title


class MaterialProgress(TenantOwned):
    """One distributor's use of one material: how often it was viewed and downloaded, and when a
    course was completed (every lesson done)."""

    material = tenant_fk(Material, on_delete=models.CASCADE, related_name="+")
    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+")
    views = models.PositiveIntegerField(default=0)
    downloads = models.PositiveIntegerField(default=0)
    first_viewed_at = models.DateTimeField(null=True, blank=True)
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwned.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "material", "distributor"], name="progress_tenant_material_distributor")]
        indexes = [models.Index(fields=["tenant", "distributor"], name="progress_tenant_distributor")]


class LessonCompletion(TenantOwned):
    """A distributor completed a lesson (first time kept)."""

    lesson = tenant_fk(Lesson, on_delete=models.CASCADE, related_name="+")
    material = tenant_fk(Material, on_delete=models.CASCADE, related_name="+")
    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantOwned.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "lesson", "distributor"], name="lessondone_tenant_lesson_distributor")]
        indexes = [models.Index(fields=["tenant", "material", "distributor"], name="lessondone_tenant_material")]


class Announcement(TenantOwned):
    """A message from the brand to everyone, to some grades or to listed distributors, shown from
    `published_at`; each reader's first read is kept (AnnouncementRead)."""

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("everyone")
        GRADES = "grades", _("some grades")
        DISTRIBUTORS = "distributors", _("listed distributors")

    public_id = PublicIdField(prefix="ann")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    audience = models.CharField(_("audience"), max_length=12, choices=Audience.choices, default=Audience.EVERYONE)
    grades = models.ManyToManyField("distributors.Grade", blank=True, related_name="+", verbose_name=_("grades"),
                                    help_text=_("The grades it is for (audience: some grades)."))
    distributors = models.ManyToManyField("distributors.Distributor", blank=True, related_name="+",
                                          verbose_name=_("distributors"),
                                          help_text=_("The distributors it is for (audience: listed distributors)."))
    published_at = models.DateTimeField(_("published"), default=timezone.now,
                                        help_text=_("Distributors see it from this time on."))
    is_active = models.BooleanField(_("shown to distributors"), default=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user, m2m_fields=[grades, distributors], excluded_fields=["created_at"])

    class Meta(TenantOwned.Meta):
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["tenant", "is_active", "published_at"], name="announcement_tenant_published")]
        constraints = [models.UniqueConstraint(fields=["tenant", "public_id"], name="announcement_tenant_public_id")]

    def __str__(self) -> str:
        return self.title


class AnnouncementRead(TenantOwned):
    """A read receipt: the first time a distributor was shown an announcement."""

    announcement = tenant_fk(Announcement, on_delete=models.CASCADE, related_name="+")
    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantOwned.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "announcement", "distributor"], name="read_tenant_announcement_distributor")]
        indexes = [models.Index(fields=["tenant", "distributor"], name="read_tenant_distributor")]


class FeedbackTicket(TenantOwned):
    """A distributor's question or problem and the brand's answers: open (waiting for staff) ->
    answered (staff replied; a new message from the distributor opens it again) -> closed."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("feedback ticket", "open")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")

    public_id = PublicIdField(prefix="fb")
    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+",
                            verbose_name=_("distributor"))
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("last message"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.CharField(_("closed by"), max_length=150, blank=True, default="")

    class Meta(TenantOwned.Meta):
        verbose_name = _("feedback ticket")
        verbose_name_plural = _("feedback tickets")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["tenant", "status", "updated_at"], name="ticket_tenant_status"),
                   models.Index(fields=["tenant", "distributor", "id"], name="ticket_tenant_distributor")]
        constraints = [models.UniqueConstraint(fields=["tenant", "public_id"], name="ticket_tenant_public_id")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.subject}"


class FeedbackMessage(TenantOwned):
    """One message of a ticket, by the distributor or by a staff user (`staff_username`)."""

    class Author(models.TextChoices):
        DISTRIBUTOR = "distributor", _("distributor")
        STAFF = "staff", _("staff")

    ticket = tenant_fk(FeedbackTicket, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(pgettext_lazy("feedback message", "from"), max_length=12, choices=Author.choices)
    staff_username = models.CharField(_("staff user"), max_length=150, blank=True, default="")
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta(TenantOwned.Meta):
        verbose_name = _("feedback message")
        verbose_name_plural = _("feedback messages")
        ordering = ["ticket", "id"]
        indexes = [models.Index(fields=["tenant", "ticket", "id"], name="message_tenant_ticket")]


class PasswordReset(TenantOwned):
    """A one-time password reset link staff issued for a distributor: the token's SHA-256 is kept
    (the token itself is shown once), valid until `expires_at`, spent at `used_at`."""

    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+",
                            verbose_name=_("distributor"))
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    created_by = models.CharField(_("issued by"), max_length=150, blank=True, default="")

    class Meta(TenantOwned.Meta):
        verbose_name = _("password reset link")
        verbose_name_plural = _("password reset links")
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "distributor", "id"], name="reset_tenant_distributor")]
