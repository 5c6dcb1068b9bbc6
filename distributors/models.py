"""Distributors (分销商), their grades and the referral tree; customers bound to a referrer.

Domain rules section 2. The tree keeps, on every distributor, `parent` (level-1 upline),
`ancestor_2` and `ancestor_3` (levels 2 and 3), `depth` (0 for a root) and `ancestor_path`
("/<root id>/.../<parent id>/"), so that a distributor's 3 uplines, its level-1/2/3 downlines and a
cycle check are each one indexed query, whatever the tree's size and depth.
"""
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy
from simple_history.models import HistoricalRecords

from fenxiao.history import history_user
from fenxiao.money import TENANT, MoneyField
from fenxiao.validators import validate_external_id

from tenants.managers import TenantOwned, tenant_fk

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
INVITE_LENGTH = 8


def invite_code_generate() -> str:
    """A random 8-character invite code from an alphabet without look-alike characters (a new
    distributor's, drawn by distributors.services and by `Distributor.save` for rows added in the
    admin)."""
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


class Grade(TenantOwned):
    """A distributor grade (等级), ordered by `rank`; its per-level overrides are GradeLevelOverride rows."""

    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    rank = models.PositiveIntegerField(pgettext_lazy("grade order", "rank"), default=0)
    # Upgrade conditions (domain rules section 8, grades): all that are set must hold; a grade with
    # none is given by hand only.
    min_direct_sales = MoneyField(_("min direct sales"), null=True, blank=True, currency=TENANT,
                                  help_text=_("lifetime direct sales of settled orders (tenant currency)"))
    min_direct_downlines = models.PositiveIntegerField(_("min direct downlines"), null=True, blank=True, help_text=_("active level-1 downlines"))
    min_team_sales = MoneyField(_("min team sales"), null=True, blank=True, currency=TENANT,
                                help_text=_("lifetime team sales of settled orders (tenant currency)"))
    history = HistoricalRecords(get_user=history_user)

    @property
    def has_conditions(self) -> bool:
        return any(v is not None for v in (self.min_direct_sales, self.min_direct_downlines, self.min_team_sales))

    class Meta(TenantOwned.Meta):
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        ordering = ["rank", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="grade_tenant_code")]

    def __str__(self) -> str:
        return self.name


class Distributor(TenantOwned):
    """A distributor of one tenant, with at most one upline (`parent`)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        DISABLED = "disabled", _("Disabled")

    external_id = models.CharField(_("external id"), max_length=64, validators=[validate_external_id])
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=32, blank=True, default="")
    invite_code = models.CharField(_("invite code"), max_length=16)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    grade = tenant_fk(Grade, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("grade"))
    parent = tenant_fk("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("parent"))
    ancestor_2 = tenant_fk("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("ancestor 2"))
    ancestor_3 = tenant_fk("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("ancestor 3"))
    depth = models.PositiveIntegerField(_("depth"), default=0)
    ancestor_path = models.TextField(_("ancestor path"), default="/", help_text=_("/root id/.../parent id/"))
    username = models.CharField(_("username"), max_length=150, blank=True, default="")
    password = models.CharField(_("password"), max_length=128, blank=True, default="")
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # when the services last changed what the partner's list shows (name, status, grade, upline,
    # depth): `?updated_after=` of GET /api/v1/distributors/ (incremental sync)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_default=Now())  # the default for raw inserts (bench)
    # How many distributors are exactly 1, 2 and 3 levels below, kept by the tree services (under
    # the tenant's tree lock) so the portal's downline pages and team summary never count rows.
    downline_count_1 = models.PositiveIntegerField(_("downline count 1"), default=0)
    downline_count_2 = models.PositiveIntegerField(_("downline count 2"), default=0)
    downline_count_3 = models.PositiveIntegerField(_("downline count 3"), default=0)
    history = HistoricalRecords(get_user=history_user, excluded_fields=[
        "password", "ancestor_2", "ancestor_3", "ancestor_path", "created_at", "updated_at",
        "downline_count_1", "downline_count_2", "downline_count_3"])

    class Meta(TenantOwned.Meta):
        verbose_name = _("distributor")
        verbose_name_plural = _("distributors")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="distributor_tenant_external_id"),
            models.UniqueConstraint(fields=["tenant", "invite_code"], name="distributor_tenant_invite_code"),
            models.UniqueConstraint(
                fields=["tenant", "username"], name="distributor_tenant_username",
                condition=~models.Q(username=""),
            ),
        ]
        indexes = [
            # (upline, id): a downline page is an index range in id order, at any team size
            models.Index(fields=["tenant", "parent", "id"], name="distributor_tenant_parent_id"),
            models.Index(fields=["tenant", "ancestor_2", "id"], name="distributor_tenant_anc2_id"),
            models.Index(fields=["tenant", "ancestor_3", "id"], name="distributor_tenant_anc3_id"),
            models.Index(fields=["tenant", "status"], name="distributor_tenant_status"),
            models.Index(fields=["tenant", "grade"], name="distributor_tenant_grade"),
            # new recruits of a window (incentives.measures: new_direct_recruits)
            models.Index(fields=["tenant", "joined_at"], name="distributor_joined"),
            models.Index(fields=["tenant", "parent", "joined_at"], name="distributor_parent_joined"),
            models.Index(fields=["tenant", "updated_at"], name="distributor_tenant_updated"),  # updated_after
            models.Index(
                fields=["tenant", "ancestor_path"], name="distributor_tenant_path",
                opclasses=["", "text_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.name}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_authenticated(self) -> bool:  # lets a Distributor stand as request.user in the portal
        return True

    @property
    def ancestor_ids(self) -> list[int]:
        """All upline ids from the root down to the parent."""
        return [int(x) for x in self.ancestor_path.strip("/").split("/") if x]

    @property
    def subtree_path(self) -> str:
        """The ancestor_path prefix shared by every descendant."""
        return f"{self.ancestor_path}{self.pk}/"

    def save(self, *args, **kwargs):
        if not self.invite_code:  # rows added in the admin get one too (services draw their own)
            self.invite_code = invite_code_generate()
        super().save(*args, **kwargs)

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return bool(self.password) and check_password(raw, self.password)


class Customer(TenantOwned):
    """A buyer who is not (necessarily) a distributor, bound to a referring distributor."""

    external_id = models.CharField(_("external id"), max_length=64, validators=[validate_external_id])
    referrer = tenant_fk(Distributor, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("referrer"))
    bound_at = models.DateTimeField(_("bound at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="customer_tenant_external_id"),
        ]
        indexes = [models.Index(fields=["tenant", "referrer"], name="customer_tenant_referrer")]

    def __str__(self) -> str:
        return self.external_id


class DistributorMove(TenantOwned):
    """Log of a re-parenting (who moved whom, from which upline to which, and why)."""

    distributor = tenant_fk(Distributor, on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    old_parent = tenant_fk(Distributor, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("old parent"))
    new_parent = tenant_fk(Distributor, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("new parent"))
    reason = models.CharField(_("reason"), max_length=300, blank=True, default="")
    actor = models.CharField(_("actor"), max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("distributor move")
        verbose_name_plural = _("distributor moves")
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "distributor"], name="move_tenant_distributor")]


class GradeChange(TenantOwned):
    """A distributor's grade history (domain rules section 8): when, from which grade to which, why."""

    class Kind(models.TextChoices):
        UPGRADE = "upgrade", _("automatic upgrade")
        MANUAL = "manual", _("set by staff")
        REGISTRATION = "registration", _("at registration")

    distributor = tenant_fk(Distributor, on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    from_grade = tenant_fk(Grade, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("from grade"))
    to_grade = tenant_fk(Grade, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("to grade"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")
    actor = models.CharField(_("actor"), max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta(TenantOwned.Meta):
        verbose_name = _("grade change")
        verbose_name_plural = _("grade changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "distributor", "created_at"], name="gradechange_tenant_distributor")]

    def __str__(self) -> str:
        return f"{self.from_grade or '-'} → {self.to_grade or '-'}"
