"""Base views: authenticate, then run the whole view inside the credential's tenant context."""
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView

from tenants.authentication import (
    ApiKeyAuthentication, DistributorJWTAuthentication, PartnerPrincipal, StaffJWTAuthentication, tenant_of,
)
from tenants.context import reset_tenant, set_tenant

from .throttles import ApiKeyRateThrottle


class IsPartner(permissions.BasePermission):
    message = _("This endpoint needs a partner API key (Authorization: Api-Key <key>).")

    def has_permission(self, request, view):
        return isinstance(request.user, PartnerPrincipal)


class IsDistributor(permissions.BasePermission):
    message = _("This endpoint needs a distributor token (Authorization: Bearer <token>).")

    def has_permission(self, request, view):
        from distributors.models import Distributor

        return isinstance(request.user, Distributor)


class IsTenantStaff(permissions.BasePermission):
    """Tenant staff of an active tenant, holding the Django model permissions the view names:
    `staff_perms = {"GET": [...], "POST": [...], ...}` (the same permissions the admin checks)."""

    message = _("This endpoint needs a tenant staff user with the permission for it.")

    def has_permission(self, request, view):
        user = request.user
        tenant = tenant_of(user) if getattr(user, "is_staff", False) and getattr(user, "is_active", False) else None
        if tenant is None or not tenant.is_active:
            return False
        needed = getattr(view, "staff_perms", {}).get(request.method, getattr(view, "staff_perms", {}).get("*", []))
        return user.has_perms(needed)


class TenantViewMixin:
    """Sets the tenant from the credential after authentication; resets it after the response."""

    _tenant_token = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if any("\x00" in str(v) for v in kwargs.values()):
            from fenxiao.exceptions import NotFound

            raise NotFound()  # no external id contains NUL (PostgreSQL text cannot even hold one)
        tenant = tenant_of(request.user)
        request.tenant = tenant
        self._tenant_token = set_tenant(tenant.pk, tenant)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._tenant_token is not None:
            reset_tenant(self._tenant_token)
            self._tenant_token = None
        return response


class PartnerAPIView(TenantViewMixin, APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsPartner]
    throttle_classes = [ApiKeyRateThrottle]  # per key, the tenant's api_rate_per_minute


class PartnerGenericView(TenantViewMixin, GenericAPIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsPartner]
    throttle_classes = [ApiKeyRateThrottle]  # per key, the tenant's api_rate_per_minute


class PortalAPIView(TenantViewMixin, APIView):
    authentication_classes = [DistributorJWTAuthentication]
    permission_classes = [IsDistributor]


class PortalGenericView(TenantViewMixin, GenericAPIView):
    authentication_classes = [DistributorJWTAuthentication]
    permission_classes = [IsDistributor]


class StaffAPIView(TenantViewMixin, APIView):
    authentication_classes = [StaffJWTAuthentication, SessionAuthentication]
    permission_classes = [IsTenantStaff]


class StaffGenericView(TenantViewMixin, GenericAPIView):
    authentication_classes = [StaffJWTAuthentication, SessionAuthentication]
    permission_classes = [IsTenantStaff]


def body_or_empty(request):
    """The parsed body, or {} when the request had none. A `[]` or `null` body stays as it is, so
    the serializer refuses it ("Expected a dictionary") instead of it passing as an empty object."""
    from django.http import QueryDict

    data = request.data
    return {} if isinstance(data, QueryDict) and not data else data
