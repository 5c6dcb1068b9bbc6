"""The current tenant, carried in a ContextVar (domain rules section 1: tenancy fails closed).

Every tenant-owned model's default manager reads it and raises `TenantNotSet` when it is missing,
so a query that forgot its tenant errors instead of leaking another tenant's rows.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Iterator

_current_tenant_id: ContextVar[int | None] = ContextVar("fenxiao_tenant_id", default=None)
#: The Tenant row of the tenant in context when the code that set it had it (views, services).
_current_tenant: ContextVar = ContextVar("fenxiao_tenant", default=None)

#: Marker for the explicit cross-tenant scope (superusers in the admin, operator commands).
ALL_TENANTS = -1


class TenantNotSet(RuntimeError):
    """A tenant-scoped query ran with no tenant in context (a programming error, never user input)."""


def get_current_tenant_id() -> int:
    """Return the id of the tenant in context; raise TenantNotSet when there is none."""
    tenant_id = _current_tenant_id.get()
    if tenant_id is None:
        raise TenantNotSet("no tenant in context: wrap the code in tenant_context(tenant)")
    return tenant_id


def is_all_tenants() -> bool:
    """True inside `all_tenants_context()` (the scoped managers then do not filter)."""
    return _current_tenant_id.get() == ALL_TENANTS


@contextlib.contextmanager
def all_tenants_context() -> Iterator[None]:
    """Explicit cross-tenant scope: for superusers in the admin and operator commands only."""
    token = _current_tenant_id.set(ALL_TENANTS)
    try:
        yield
    finally:
        _current_tenant_id.reset(token)


def peek_current_tenant_id() -> int | None:
    """Return the tenant id in context, or None (for code that must not raise, e.g. the admin)."""
    return _current_tenant_id.get()


@contextlib.contextmanager
def tenant_context(tenant_or_id) -> Iterator[None]:
    """Run the block with `tenant_or_id` (a Tenant or its integer id) as the current tenant."""
    tenant_id = getattr(tenant_or_id, "pk", tenant_or_id)
    if tenant_id is None:
        raise TenantNotSet("tenant_context() needs a saved tenant")
    token = set_tenant(int(tenant_id), tenant_or_id if tenant_or_id is not tenant_id else None)
    try:
        yield
    finally:
        reset_tenant(token)


def set_tenant(tenant_id: int | None, tenant=None):
    """Set the tenant id (and its Tenant row, when the caller has it) and return the token for
    `reset_tenant` (used by views and middleware)."""
    return _current_tenant_id.set(tenant_id), _current_tenant.set(tenant)


def reset_tenant(token) -> None:
    id_token, tenant_token = token
    _current_tenant.reset(tenant_token)
    _current_tenant_id.reset(id_token)


def current_tenant():
    """The Tenant row of the tenant in context: the one the credential or caller brought (so one
    request sees one consistent row), else read by id once and kept for the rest of the block.
    Raises TenantNotSet with no tenant in context (or inside all_tenants_context)."""
    tenant_id = get_current_tenant_id()
    tenant = _current_tenant.get()
    if tenant is None or tenant.pk != tenant_id:
        from .models import Tenant

        tenant = Tenant.objects.get(pk=tenant_id)
        _current_tenant.set(tenant)  # undone by the enclosing reset_tenant / tenant_context
    return tenant


def single_tenant_id() -> int:
    """The id of the one tenant in context, for raw SQL that must filter by it; raises
    TenantNotSet when there is none and inside `all_tenants_context()` (raw statements are written
    for one tenant and must not silently read another scope)."""
    tenant_id = get_current_tenant_id()
    if tenant_id == ALL_TENANTS:
        raise TenantNotSet("this raw statement reads one tenant: not in all_tenants_context()")
    return tenant_id
