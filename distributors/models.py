"""Distributors (分销商), their grades and the referral tree; customers bound to a referrer.

Domain rules section 2. The tree keeps, on every distributor, `parent` (level-1 upline),
`ancestor_2` and `ancestor_3` (levels 2 and 3), `depth` (0 for a root) and `ancestor_path`
("/<root id>/.../<parent id>/"), so that a distributor's 3 uplines, its level-1/2/3 downlines and a
cycle check are each one indexed query, whatever the tree's size and depth.
"""
from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from simple_history.models import HistoricalRecords

from fenxiao.history import history_user
from fenxiao.money import TENANT, MoneyField
from fenxiao.validators import validate_external_id

from tenants.managers import TenantOwned, tenant_fk


class Grade(TenantOwned):
    """A distributor grade (等级), ordered by `rank`; its per-level overrides are GradeLevelOverride rows."""

    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    rank = models.PositiveIntegerField(default=0)
    # Upgrade conditions (domain rules section 8, grades): all that are set must hold; a grade with
    # none is given by hand only.
    min_direct_sales = MoneyField(null=True, blank=True, currency=TENANT,
                                  help_text="lifetime direct sales of settled orders (tenant currency)")
    min_direct_downlines = models.PositiveIntegerField(null=True, blank=True, help_text="active level-1 downlines")
    min_team_sales = MoneyField(null=True, blank=True, currency=TENANT,
                                help_text="lifetime team sales of settled orders (tenant currency)")
    history = HistoricalRecords(get_user=history_user)

    @property
    def has_conditions(self) -> bool:
        return any(v is not None for v in (self.min_direct_sales, self.min_direct_downlines, self.min_team_sales))

    class Meta(TenantOwned.Meta):
        ordering = ["rank", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="grade_tenant_code")]

    def __str__(self) -> str:
        return self.name


class Distributor(TenantOwned):
    """A distributor of one tenant, with at most one upline (`parent`)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACTIVE = "active"
        FROZEN = "frozen"
        DISABLED = "disabled"

    external_id = models.CharField(max_length=64, validators=[validate_external_id])
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=32, blank=True, default="")
    invite_code = models.CharField(max_length=16)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    grade = tenant_fk(Grade, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    parent = tenant_fk("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ancestor_2 = tenant_fk("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ancestor_3 = tenant_fk("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    depth = models.PositiveIntegerField(default=0)
    ancestor_path = models.TextField(default="/", help_text="/root id/.../parent id/")
    username = models.CharField(max_length=150, blank=True, default="")
    password = models.CharField(max_length=128, blank=True, default="")
    joined_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    # when the services last changed what the partner's list shows (name, status, grade, upline,
    # depth): `?updated_after=` of GET /api/v1/distributors/ (incremental sync)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())  # the default for raw inserts (bench)
    # How many distributors are exactly 1, 2 and 3 levels below, kept by the tree services (under
    # the tenant's tree lock) so the portal's downline pages and team summary never count rows.
    downline_count_1 = models.PositiveIntegerField(default=0)
    downline_count_2 = models.PositiveIntegerField(default=0)
    downline_count_3 = models.PositiveIntegerField(default=0)
    history = HistoricalRecords(get_user=history_user, excluded_fields=[
        "password", "ancestor_2", "ancestor_3", "ancestor_path", "created_at", "updated_at",
        "downline_count_1", "downline_count_2", "downline_count_3"])

    class Meta(TenantOwned.Meta):
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
            from .services import invite_code_generate

            self.invite_code = invite_code_generate()
        super().save(*args, **kwargs)

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return bool(self.password) and check_password(raw, self.password)


class Customer(TenantOwned):
    """A buyer who is not (necessarily) a distributor, bound to a referring distributor."""

    external_id = models.CharField(max_length=64, validators=[validate_external_id])
    referrer = tenant_fk(Distributor, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    bound_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="customer_tenant_external_id"),
        ]
        indexes = [models.Index(fields=["tenant", "referrer"], name="customer_tenant_referrer")]

    def __str__(self) -> str:
        return self.external_id


class DistributorMove(TenantOwned):
    """Log of a re-parenting (who moved whom, from which upline to which, and why)."""

    distributor = tenant_fk(Distributor, on_delete=models.PROTECT, related_name="+")
    old_parent = tenant_fk(Distributor, null=True, on_delete=models.PROTECT, related_name="+")
    new_parent = tenant_fk(Distributor, null=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300, blank=True, default="")
    actor = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "distributor"], name="move_tenant_distributor")]


class GradeChange(TenantOwned):
    """A distributor's grade history (domain rules section 8): when, from which grade to which, why."""

    class Kind(models.TextChoices):
        UPGRADE = "upgrade", "automatic upgrade"
        MANUAL = "manual", "set by staff"
        REGISTRATION = "registration", "at registration"

    distributor = tenant_fk(Distributor, on_delete=models.PROTECT, related_name="+")
    from_grade = tenant_fk(Grade, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_grade = tenant_fk(Grade, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.CharField(max_length=500, blank=True, default="")
    actor = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "distributor", "created_at"], name="gradechange_tenant_distributor")]

    def __str__(self) -> str:
        return f"{self.from_grade or '-'} → {self.to_grade or '-'}"
