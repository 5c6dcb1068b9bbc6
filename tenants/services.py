"""Writes on tenants and their API keys (domain rules section 1)."""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from .models import Tenant, TenantApiKey


@transaction.atomic
def tenant_create(*, slug: str, name: str, starter_plan: bool = False, **settings) -> Tenant:
    """Create a tenant with the given settings (others take the domain defaults). Every setting is
    validated (Django ValidationError on a bad currency, timezone, levels outside 1..3, ...).
    Schedules its periodic settlement (django-celery-beat). With `starter_plan`, also creates the
    draft plan `commissions.plans.plan_starter_draft_create` (10% / 5% / 2%, not published)."""
    from ledger.services import settlement_schedule_ensure

    tenant = Tenant.objects.create(slug=slug, name=name, **settings)
    settlement_schedule_ensure(tenant=tenant)
    if starter_plan:
        from commissions.plans import plan_starter_draft_create

        from .context import tenant_context

        with tenant_context(tenant):
            plan_starter_draft_create(tenant=tenant)
    return tenant


@transaction.atomic
def api_key_create(*, tenant: Tenant, name: str) -> tuple[TenantApiKey, str]:
    """Create a partner API key; returns (key row, the plaintext key, shown only now)."""
    return TenantApiKey.objects.create_key(tenant=tenant, name=name)


@transaction.atomic
def api_key_revoke(*, api_key: TenantApiKey) -> None:
    api_key.revoked = True
    api_key.save(update_fields=["revoked"])


SETTINGS_FIELDS = ("name", "currency", "timezone", "levels", "rounding", "self_purchase_commission",
                   "inactive_upline_policy", "bind_mode", "enrollment", "settle_after_days", "auto_complete_days",
                   "withdraw_min_amount", "withdraw_fee_rate", "max_total_rate", "invite_url_template",
                   "api_rate_per_minute", "show_rankings",
                   "risk_max_orders_per_hour", "risk_max_refund_rate")


@transaction.atomic
def tenant_update(*, tenant: Tenant, **changes) -> Tenant:
    """Change a tenant's settings (domain rules section 1). Every value is validated (400 with the
    field as `attr`). Lowering `levels` or `max_total_rate` below the plan in force is refused:
    publish a plan that fits first. Changing `currency` is refused once orders exist, `timezone` once
    orders, contests or targets exist."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    from fenxiao.exceptions import invalid

    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise invalid(sorted(unknown)[0], gettext("Not a tenant setting."), "unknown_field")
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    for key, value in changes.items():
        setattr(locked, key, value)
    try:
        locked.full_clean()
    except DjangoValidationError as exc:
        field, errors = next(iter(exc.error_dict.items()))
        raise invalid(field, errors[0].messages[0], errors[0].code or "invalid") from None
    tenant_settings_check(tenant=tenant, candidate=locked, changed=set(changes))
    locked.save()
    return locked


def tenant_settings_check(*, tenant: Tenant, candidate: Tenant, changed: set[str]) -> None:
    """Cross-checks of a settings change (400): the currency is fixed once orders exist; the time
    zone once orders, contests or targets exist (`timezone_locked`: sales figures are kept per
    local day and incentive windows are stored as that zone's local midnights, domain rules
    sections 8 and 9); the plan in force must still fit `levels` and `max_total_rate`."""
    from django.utils import timezone

    from commissions.plans import RuleRow, rules_check
    from commissions.selectors import plan_in_force
    from fenxiao.exceptions import invalid
    from orders.models import Order
    from tenants.context import tenant_context

    with tenant_context(tenant):
        if "currency" in changed and candidate.currency != Tenant.objects.get(pk=tenant.pk).currency and Order.objects.exists():
            raise invalid("currency", gettext("The currency cannot change once orders are recorded."), "currency_locked")
        if "timezone" in changed and candidate.timezone != Tenant.objects.get(pk=tenant.pk).timezone:
            from incentives.models import Contest, Target

            if Order.objects.exists() or Contest.objects.exists() or Target.objects.exists():
                raise invalid("timezone", gettext("The time zone cannot change once orders, contests or targets exist: "
                                              "their figures and windows are kept in the tenant's local days."),
                              "timezone_locked")
        plan = plan_in_force(at=timezone.now())
        if plan is not None and {"levels", "max_total_rate"} & changed:
            rows = [RuleRow.of(r) for r in plan.rules.all()]
            rules_check(tenant=candidate, rows=rows, attr="levels" if "levels" in changed else "max_total_rate")


@transaction.atomic
def staff_create(*, tenant: Tenant, username: str, role: str, password: str | None = None, email: str = "",
                 update: bool = False):
    """Make `username` staff of `tenant` with the role's permissions (tenants.roles.ROLES: "pm" or
    "finance"): a new Django user (is_staff, StaffMembership of `tenant`, in the role's group, whose
    permissions are reset to the role's list) that can log in to the admin and the staff API.

    `password` (checked by AUTH_PASSWORD_VALIDATORS) is required for a new user. An existing
    username is refused (Conflict, 409) unless `update`, which sets the role (replacing any other
    role), the password when given and the email when given; a superuser or another tenant's staff
    is refused even then. Unknown role or invalid username/password: ValidationError (400) on
    `role` / `username` / `password`. Nothing is written when anything is refused.
    Returns the user."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError as DjangoValidationError

    from fenxiao.exceptions import Conflict, invalid

    from .models import StaffMembership
    from .roles import ROLES

    spec = ROLES.get(role)
    if spec is None:
        raise invalid("role", gettext("Unknown role %(role)r; the roles are: %(roles)s.") % {
            "role": role, "roles": ", ".join(ROLES)}, "unknown_role")
    User = get_user_model()
    user = User.objects.select_for_update().filter(username=username).first()
    if user is not None:
        if not update:
            raise Conflict(gettext("A user named %(username)r exists; pass update (--update) to change its role or "
                                   "password.") % {"username": username})
        if user.is_superuser:
            raise Conflict(gettext("%(username)r is a superuser; superusers are not made tenant staff.") % {
                "username": username})
        membership = StaffMembership.objects.filter(user=user).select_related("tenant").first()
        if membership is not None and membership.tenant_id != tenant.pk:
            raise Conflict(gettext("%(username)r is staff of another tenant (%(tenant)s).") % {
                "username": username, "tenant": membership.tenant.slug})
    else:
        if not password:
            raise invalid("password", gettext("A new staff user needs a password."), "required")
        try:
            User._meta.get_field(User.USERNAME_FIELD).run_validators(username)
        except DjangoValidationError as exc:
            raise invalid("username", " ".join(exc.messages), "invalid") from None
        user = User(**{User.USERNAME_FIELD: username})
    if password:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise invalid("password", " ".join(exc.messages), "weak_password") from None
        user.set_password(password)
    if email:
        user.email = email
    user.is_staff = user.is_active = True
    user.save()
    StaffMembership.objects.get_or_create(user=user, defaults={"tenant": tenant})
    groups = {r.code: staff_role_group(role=r.code) for r in ROLES.values()}
    user.groups.remove(*(g for code, g in groups.items() if code != role))
    user.groups.add(groups[role])
    return user


def staff_role_group(*, role: str):
    """The Django group of a role (tenants.roles), created if missing, its permissions set to
    exactly the role's list. A permission named there that does not exist raises LookupError."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    from .roles import ROLES

    spec = ROLES[role]
    wanted = {tuple(p.split(".", 1)) for p in spec.permissions}
    query = Q()
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    perms = list(Permission.objects.filter(query).select_related("content_type"))
    missing = wanted - {(p.content_type.app_label, p.codename) for p in perms}
    if missing:
        raise LookupError(f"Role {role}: no such permissions {sorted('.'.join(m) for m in missing)}.")
    group, _ = Group.objects.get_or_create(name=spec.group_name)
    group.permissions.set(perms)
    return group


# --- sandbox and test clock ------------------------------------------------------------------

SANDBOX_SUFFIX = "-sandbox"


@transaction.atomic
def sandbox_create(*, tenant: Tenant) -> tuple[Tenant, bool]:
    """The sandbox twin of the live tenant `tenant`, created once: returns (sandbox, created).

    A new Tenant row (slug "<slug>-sandbox", is_sandbox, live_tenant = `tenant`) with the same
    settings, its own data (none yet), its settlement schedule, and a copy of the live tenant's
    programme as it stands now (`_sandbox_copy_programme`): its grades with their upgrade
    conditions and level overrides, the plan in force (published now, rules and values unchanged),
    its tier bonus schemes, and its contests that have not ended yet (same windows, measure,
    prizes, eligible grades and finalize_at), so the sandbox earns, upgrades and pays bonuses as
    live would. Distributors, orders, money, targets, webhook endpoints and API keys are not
    copied. Its API keys are test keys (TEST_KEY_PREFIX). A second call returns the existing twin
    (nothing copied again). Errors: 400 `is_sandbox` when `tenant` is itself a sandbox; 409 when the
    slug "<slug>-sandbox" belongs to another tenant."""
    from django.utils import timezone

    from fenxiao.exceptions import Conflict, invalid

    live = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if live.is_sandbox:
        raise invalid(None, gettext("A sandbox has no sandbox of its own."), "is_sandbox")
    existing = Tenant.objects.filter(live_tenant=live).first()
    if existing is not None:
        return existing, False
    slug = live.slug[:64 - len(SANDBOX_SUFFIX)] + SANDBOX_SUFFIX
    if Tenant.objects.filter(slug=slug).exists():
        raise Conflict(gettext("The slug %(slug)r is taken by another tenant.") % {"slug": slug})
    settings = {f: getattr(live, f) for f in SETTINGS_FIELDS if f != "name"}
    sandbox = tenant_create(slug=slug, name=(gettext("%(name)s (sandbox)") % {"name": live.name})[:200],
                            is_sandbox=True, live_tenant=live, **settings)
    _sandbox_copy_programme(live=live, sandbox=sandbox, now=timezone.now())
    return sandbox, True


def _sandbox_copy_programme(*, live: Tenant, sandbox: Tenant, now) -> None:
    """Copy into the new `sandbox` what the live tenant's programme is at `now` (domain rules
    sections 5 and 8): grades (code, name, rank, upgrade conditions) and their level overrides;
    the plan in force, published now; every tier bonus scheme (tiers, measure, is_active); every
    contest whose ends_at is after `now` (a contest already over is about live data). Grades of
    a contest's eligibility are matched by code. The copies are made through the services
    (validated again) except grades and overrides, which are rows of already validated values."""
    from commissions.models import GradeLevelOverride
    from commissions.plans import RuleRow, plan_draft_create, plan_draft_publish
    from commissions.selectors import plan_in_force
    from distributors.models import Grade
    from incentives.models import Contest, TierBonusScheme
    from incentives.services import contest_create, tier_scheme_create

    from .context import tenant_context

    with tenant_context(live):
        grades = list(Grade.objects.order_by("rank", "id"))
        overrides = list(GradeLevelOverride.objects.select_related("grade").order_by("grade_id", "level"))
        plan = plan_in_force(at=now)
        rows = [RuleRow.of(r) for r in plan.rules.all()] if plan is not None else []
        plan_name = plan.name if plan is not None else ""
        schemes = list(TierBonusScheme.objects.order_by("id"))
        contests = [(c, [g.code for g in c.grades.all()])
                    for c in Contest.objects.filter(finalized_at__isnull=True, ends_at__gt=now).order_by("starts_at", "id")]
    with tenant_context(sandbox):
        copied = {g.code: Grade.objects.create(tenant=sandbox, code=g.code, name=g.name, rank=g.rank,
                                               min_direct_sales=g.min_direct_sales,
                                               min_direct_downlines=g.min_direct_downlines,
                                               min_team_sales=g.min_team_sales) for g in grades}
        GradeLevelOverride.objects.bulk_create([
            GradeLevelOverride(tenant=sandbox, grade=copied[o.grade.code], level=o.level, kind=o.kind, value=o.value)
            for o in overrides])
        if rows:
            plan_draft_publish(plan=plan_draft_create(tenant=sandbox, name=plan_name, rows=rows))
        for s in schemes:
            tier_scheme_create(tenant=sandbox, name=s.name, measure=s.measure, tiers=s.tiers, is_active=s.is_active)
        for c, codes in contests:
            contest_create(tenant=sandbox, name=c.name, starts_at=c.starts_at, ends_at=c.ends_at, measure=c.measure,
                           prizes=c.prizes, min_score=c.min_score, grades=[copied[code] for code in codes],
                           finalize_at=c.finalize_at)


def sandbox_clock_now(*, tenant: Tenant):
    """A sandbox's clock: its `clock_at`, or the real time when that is later (never moved, or
    overtaken: the beat keeps running the sandbox's jobs in real time too, so the clock never
    shows a time before it). Live tenants have no clock (403 `not_sandbox`)."""
    from django.utils import timezone

    _sandbox_only(tenant)
    now = timezone.now()
    return max(tenant.clock_at, now) if tenant.clock_at is not None else now


def _sandbox_only(tenant: Tenant) -> None:
    from rest_framework.exceptions import PermissionDenied

    if not tenant.is_sandbox:
        raise PermissionDenied(gettext("Only a sandbox tenant has a test clock: use a test key (test_...)."),
                               code="not_sandbox")


#: The furthest one move takes the clock (a typo of a year count must not overflow the dates).
CLOCK_MAX_STEP_DAYS = 3660


@transaction.atomic
def sandbox_clock_move(*, tenant: Tenant, advance=None, to=None) -> dict:
    """Move a sandbox's test clock forward and run, as of the new time, what the beat runs:
    the accrual sweep, settlement (ledger.services.settle_due, which evaluates grade upgrades),
    contest finalizations and tier bonus evaluation (incentives.services.contests_finalize_due,
    tier_bonuses_evaluate_due). Orders never completed need no job of their own: their
    commissions are due paid_at + auto_complete_days + settle_after_days (domain rules section 7).

    Exactly one of `advance` (a timedelta >= 0) or `to` (an aware datetime) is given. The clock
    starts at the real time. Errors (nothing written): 403 `not_sandbox` on a live tenant; 400
    `clock_backwards` when the new time is before the clock; 400 `clock_too_far` for a step over
    CLOCK_MAX_STEP_DAYS days. Returns {"clock_at": datetime, "ran": {"settled": n records,
    "contests": n finalized, "months": n tier bonus months evaluated}}."""
    from datetime import timedelta

    from commissions.services import accrual_sweep
    from fenxiao.exceptions import invalid
    from incentives.services import contests_finalize_due, tier_bonuses_evaluate_due
    from ledger.services import settle_due

    from .context import tenant_context

    _sandbox_only(tenant)
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    current = sandbox_clock_now(tenant=locked)
    attr = "advance" if advance is not None else "to"
    new = current + advance if advance is not None else to
    if new < current:
        raise invalid(attr, gettext("The test clock never goes backwards: it is at %(now)s.") % {
            "now": current.isoformat()}, "clock_backwards")
    if new - current > timedelta(days=CLOCK_MAX_STEP_DAYS):
        raise invalid(attr, gettext("One move takes the clock at most %(days)s days forward.") % {
            "days": CLOCK_MAX_STEP_DAYS}, "clock_too_far")
    locked.clock_at = new
    locked.save(update_fields=["clock_at"])
    with tenant_context(locked):
        accrual_sweep()
        settled = settle_due(tenant=locked, now=new)
        contests = contests_finalize_due(now=new)
        months = tier_bonuses_evaluate_due(now=new)
    return {"clock_at": new, "ran": {"settled": settled, "contests": contests, "months": months}}


# --- idempotency (api.md "Idempotency"; fenxiao.api.idempotency) ------------------------------

def idempotency_claim(*, tenant: Tenant, scope: str, key: str, request_hash: str):
    """Claim `key` for the caller `scope` inside the caller's transaction: returns None when the
    key was free (a row is written, status 0, to be completed by `idempotency_complete` in the same
    transaction) or the IdempotencyRecord that answered it before. On PostgreSQL a concurrent
    request with the same key waits here until the first one's transaction ends: it then finds
    that one's answer (committed) or claims the key itself (rolled back). One query when the key
    is free, two when it was used."""
    from django.db import connection
    from django.utils import timezone

    from .models import IdempotencyRecord

    q = connection.ops.quote_name
    table = q(IdempotencyRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, scope, {q('key')}, request_hash, status_code, response_body, created_at)"
            f" VALUES (%s, %s, %s, %s, 0, '', %s) ON CONFLICT (tenant_id, scope, {q('key')}) DO NOTHING RETURNING id",
            [tenant.pk, scope, key, request_hash, timezone.now()])
        if cursor.fetchone() is not None:
            return None
    return IdempotencyRecord.unscoped.get(tenant=tenant, scope=scope, key=key)


def idempotency_complete(*, tenant: Tenant, scope: str, key: str, status_code: int, response_body: str) -> None:
    """Store the answer of the request that claimed `key` (same transaction as its effect)."""
    from .models import IdempotencyRecord

    IdempotencyRecord.unscoped.filter(tenant=tenant, scope=scope, key=key).update(status_code=status_code, response_body=response_body)


def idempotency_purge(*, tenant: Tenant, older_than_days: int = 30) -> int:
    """Forget the answers to keys used more than `older_than_days` ago (a retry that late runs the
    request again). Returns how many were deleted. Called by the tenant's settlement job."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import IdempotencyRecord

    before = timezone.now() - timedelta(days=older_than_days)
    return IdempotencyRecord.unscoped.filter(tenant=tenant, created_at__lt=before).delete()[0]
