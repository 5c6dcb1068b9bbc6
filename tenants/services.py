"""Writes on tenants and their API keys (domain rules section 1)."""
from __future__ import annotations

from django.db import transaction

from .models import Tenant, TenantApiKey


@transaction.atomic
def tenant_create(*, slug: str, name: str, **settings) -> Tenant:
    """Create a tenant with the given settings (others take the domain defaults). Every setting is
    validated (Django ValidationError on a bad currency, timezone, levels outside 1..3, ...).
    Schedules its periodic settlement (django-celery-beat)."""
    from ledger.services import settlement_schedule_ensure

    tenant = Tenant.objects.create(slug=slug, name=name, **settings)
    settlement_schedule_ensure(tenant=tenant)
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
                   "withdraw_min_amount", "withdraw_fee_rate", "max_total_rate", "invite_url_template")


@transaction.atomic
def tenant_update(*, tenant: Tenant, **changes) -> Tenant:
    """Change a tenant's settings (domain rules section 1). Every value is validated (400 with the
    field as `attr`). Lowering `levels` or `max_total_rate` below the plan in force is refused:
    publish a plan that fits first. Changing `currency` is refused once orders exist."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    from fenxiao.exceptions import invalid

    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise invalid(sorted(unknown)[0], "Not a tenant setting.", "unknown_field")
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
    """Cross-checks of a settings change (400): the currency is fixed once orders exist; the plan in
    force must still fit `levels` and `max_total_rate`."""
    from django.utils import timezone

    from commissions.plans import RuleRow, rules_check
    from commissions.selectors import plan_in_force
    from fenxiao.exceptions import invalid
    from orders.models import Order
    from tenants.context import tenant_context

    with tenant_context(tenant):
        if "currency" in changed and candidate.currency != Tenant.objects.get(pk=tenant.pk).currency and Order.objects.exists():
            raise invalid("currency", "The currency cannot change once orders are recorded.", "currency_locked")
        plan = plan_in_force(at=timezone.now())
        if plan is not None and {"levels", "max_total_rate"} & changed:
            rows = [RuleRow.of(r) for r in plan.rules.all()]
            rules_check(tenant=candidate, rows=rows, attr="levels" if "levels" in changed else "max_total_rate")
