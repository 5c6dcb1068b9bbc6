"""Managers for tenant-owned models (CONVENTIONS: tenancy fails closed).

`objects` is scoped to the tenant in context and raises without one; `unscoped` is the explicitly
named cross-tenant manager, allowed only in the modules listed in UNSCOPED_ALLOWED (admin for
superusers, management commands, authentication lookups, Celery entry points).
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from .context import get_current_tenant_id, is_all_tenants


class TenantScopedQuerySet(models.QuerySet):
    pass


class TenantScopedManager(models.Manager.from_queryset(TenantScopedQuerySet)):
    """Default manager: every query is filtered to the tenant in context (raises if none)."""

    use_in_migrations = False

    def get_queryset(self):
        tenant_id = get_current_tenant_id()
        qs = super().get_queryset()
        return qs if is_all_tenants() else qs.filter(tenant_id=tenant_id)

    def none(self):
        """An empty queryset needs no tenant (schema generation and filters call it at import)."""
        return super().get_queryset().none()


class UnscopedManager(models.Manager):
    """Cross-tenant manager. Use only where the tenant is checked another way."""


class TenantOwned(models.Model):
    """Abstract base for every tenant-owned table: `tenant` leads every index and constraint."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False,
                               verbose_name=_("tenant"))

    objects = TenantScopedManager()
    unscoped = UnscopedManager()

    class Meta:
        abstract = True
        base_manager_name = "unscoped"

    def save(self, *args, **kwargs):
        if self.tenant_id is None and not is_all_tenants():
            self.tenant_id = get_current_tenant_id()
        super().save(*args, **kwargs)


def tenant_fk(to, **kwargs) -> models.ForeignKey:
    """A foreign key on a tenant-owned table without its own single-column index: the table declares
    composite indexes led by `tenant` instead (CONVENTIONS: tenant first in every index)."""
    kwargs.setdefault("db_index", False)
    return models.ForeignKey(to, **kwargs)
