"""Base views: authenticate, then run the whole view inside the credential's tenant context."""
from django.utils.translation import gettext, gettext_lazy as _
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView

from tenants.authentication import (
    ApiKeyAuthentication, DistributorJWTAuthentication, PartnerPrincipal, StaffJWTAuthentication, load_permissions,
    tenant_of,
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
        if needed:
            load_permissions(user)  # one raw statement instead of ModelBackend's two queries
        return user.has_perms(needed)


#: Query parameters every GET accepts: DRF's format override (JSON is the only format).
COMMON_QUERY_PARAMS = frozenset({"format"})
_ALLOWED: dict[type, frozenset[str]] = {}  # view class -> allowed_query_params()


class TenantViewMixin:
    """Sets the tenant from the credential after authentication; resets it after the response."""

    _tenant_token = None
    #: the serializer that checks this view's query string (incentives.api.common.query_params)
    query_serializer = None
    #: query parameters the view reads itself, besides those above
    query_params_extra: tuple[str, ...] = ()

    def allowed_query_params(self) -> frozenset[str]:
        """Every query parameter this view reads (see the class docstring): the same for every
        request to the view's class, worked out once per process (building the query serializer's
        fields and the paginator for each request was a visible share of a portal GET)."""
        cls = type(self)
        found = _ALLOWED.get(cls)
        if found is None:
            found = _ALLOWED[cls] = self._allowed_query_params()
        return found

    def _allowed_query_params(self) -> frozenset[str]:
        allowed = set(COMMON_QUERY_PARAMS) | set(self.query_params_extra)
        filterset = getattr(self, "filterset_class", None)
        if filterset is not None:
            allowed |= set(filterset.base_filters)
        if getattr(self, "pagination_class", None) is not None:
            # GenericAPIView builds its paginator; a plain APIView that paginates (webhooks) names the class
            paginator = self.paginator if hasattr(type(self), "paginator") else self.pagination_class()
            for attr in ("page_query_param", "page_size_query_param", "cursor_query_param"):
                name = getattr(paginator, attr, None)
                if name:
                    allowed.add(name)
        if self.query_serializer is not None:
            allowed |= set(self.query_serializer().fields)
        return frozenset(allowed)

    def check_query_params(self, request) -> None:
        """A GET (or HEAD) naming a query parameter the view does not read answers 400 in the
        contract's error shape (`validation_error`, code `unknown_parameter`, attr = the
        parameter), before anything is read: a typo such as `?parnet=alice`, or a filter a list
        does not have (`?parent=alice` on the partner's /distributors/), used to answer the whole
        unfiltered list. What a view reads is `allowed_query_params`: its filterset's filters, its
        paginator's parameters (page/page_size or cursor/page_size), the fields of its
        `query_serializer`, its `query_params_extra`, and `format`. Runs after authentication
        (401/403 first), in `initial`."""
        if request.method not in ("GET", "HEAD"):
            return
        unknown = sorted(set(request.query_params) - self.allowed_query_params())
        if unknown:
            from rest_framework.exceptions import ErrorDetail, ValidationError

            known = ", ".join(sorted(self.allowed_query_params() - COMMON_QUERY_PARAMS)) or gettext("none")
            message = gettext("Unknown query parameter (this endpoint reads: %(known)s).") % {"known": known}
            raise ValidationError({name: [ErrorDetail(message, code="unknown_parameter")] for name in unknown})

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if any("\x00" in str(v) for v in kwargs.values()):
            from fenxiao.exceptions import NotFound

            raise NotFound()  # no external id contains NUL (PostgreSQL text cannot even hold one)
        self.check_query_params(request)
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
