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
