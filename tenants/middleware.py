"""Sets the tenant context for browser sessions of tenant staff (the admin).

A staff user with a StaffMembership works inside that tenant, in its time zone (every time the
console shows or reads is local to the tenant: CONVENTIONS, interfaces for people); a superuser
works in the explicit all-tenants scope (the admin then shows a tenant filter) in UTC. Everyone
else gets no tenant, so any tenant-scoped query fails closed. API views set their tenant from the
credential instead.
"""
from zoneinfo import ZoneInfo

from django.utils import timezone

from .context import ALL_TENANTS, reset_tenant, set_tenant


class StaffTenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant_id, tenant = None, None
        user = getattr(request, "user", None)
        if request.path.startswith("/admin/") and user is not None and user.is_authenticated and user.is_staff:
            membership = getattr(user, "tenant_membership", None) if not user.is_superuser else None
            if user.is_superuser:
                tenant_id = ALL_TENANTS
            elif membership is not None:
                tenant_id, tenant = membership.tenant_id, membership.tenant
        request.tenant_id = tenant_id if tenant_id != ALL_TENANTS else None
        token = set_tenant(tenant_id)   # the row is read afresh when needed (a page may change it)
        try:
            if tenant is None:
                return self.get_response(request)
            # the response is rendered inside (TemplateResponses render before middleware sees them)
            with timezone.override(ZoneInfo(tenant.timezone)):
                return self.get_response(request)
        finally:
            reset_tenant(token)
