"""Sets the tenant context for browser sessions of tenant staff (the admin).

A staff user with a StaffMembership works inside that tenant; a superuser works in the explicit
all-tenants scope (the admin then shows a tenant filter). Everyone else gets no tenant, so any
tenant-scoped query fails closed. API views set their tenant from the credential instead.
"""
from .context import ALL_TENANTS, reset_tenant, set_tenant


class StaffTenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant_id = None
        user = getattr(request, "user", None)
        if request.path.startswith("/admin/") and user is not None and user.is_authenticated and user.is_staff:
            membership = getattr(user, "tenant_membership", None) if not user.is_superuser else None
            if user.is_superuser:
                tenant_id = ALL_TENANTS
            elif membership is not None:
                tenant_id = membership.tenant_id
        request.tenant_id = tenant_id if tenant_id != ALL_TENANTS else None
        token = set_tenant(tenant_id)
        try:
            return self.get_response(request)
        finally:
            reset_tenant(token)
