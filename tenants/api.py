"""Logins (POST /api/v1/auth/token/ for distributors, /api/v1/auth/staff-token/ for staff) and the
tenant settings endpoint."""
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView

from fenxiao.api.base import StaffAPIView
from fenxiao.api.fields import ModelSerializer, StrictSerializer
from fenxiao.exceptions import invalid

from .login_guard import distributor_account, login_failed, login_gate, staff_account
from .models import Tenant
from .services import tenant_update


class TokenRequestSerializer(StrictSerializer):
    tenant = serializers.SlugField(max_length=64)
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, write_only=True)


def distributor_tokens(distributor) -> dict:
    """A refresh/access pair carrying tenant_id and distributor_id claims."""
    refresh = RefreshToken()
    refresh["tenant_id"] = distributor.tenant_id
    refresh["distributor_id"] = distributor.pk
    return {"refresh": str(refresh), "access": str(refresh.access_token)}


class DistributorTokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'  # wrong credentials answer 401, not 403

    @extend_schema(request=TokenRequestSerializer,
                   responses=inline_serializer("TokenPair", {"access": serializers.CharField(), "refresh": serializers.CharField()}))
    def post(self, request):
        """Exchange a distributor's tenant slug, username (default: its external_id) and password for
        JWTs. 401 for any wrong or disabled credential (the answer never tells which, nor takes
        longer for one than another: `distributor_authenticate`). 429 (code `throttled`,
        Retry-After) over the login rate or while the account or address is locked out after
        repeated failures (tenants.login_guard)."""
        from distributors.services import distributor_authenticate

        s = TokenRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        account = distributor_account(d["tenant"], d["username"])
        login_gate(request, account)
        distributor = distributor_authenticate(tenant_slug=d["tenant"], username=d["username"], password=d["password"])
        if distributor is None:
            login_failed(request, account)
            raise AuthenticationFailed("Wrong tenant, username or password.")
        return Response(distributor_tokens(distributor))


class StaffTokenView(TokenObtainPairView):
    """POST /api/v1/auth/staff-token/ {"username", "password"} -> {"access", "refresh"} for a Django
    user (tenant staff). 401 for a wrong credential (Django's ModelBackend hashes for an unknown
    user too); 429 (code `throttled`, Retry-After) over the login rate or while the account or
    address is locked out (tenants.login_guard; failures are counted from `user_login_failed`,
    shared with the admin login)."""

    def post(self, request, *args, **kwargs):
        data = request.data
        username = data.get("username") if hasattr(data, "get") else None
        login_gate(request, staff_account(username) if isinstance(username, str) and username else None)
        return super().post(request, *args, **kwargs)


class TenantSettingsSerializer(ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["slug", "name", "currency", "timezone", "levels", "rounding", "self_purchase_commission",
                  "inactive_upline_policy", "bind_mode", "enrollment", "settle_after_days", "auto_complete_days",
                  "withdraw_min_amount", "withdraw_fee_rate", "max_total_rate", "invite_url_template",
                  "api_rate_per_minute", "show_rankings"]
        read_only_fields = ["slug"]


class TenantSettingsView(StaffAPIView):
    staff_perms = {"GET": ["tenants.view_tenant"], "PATCH": ["tenants.change_tenant"]}
    @extend_schema(responses=TenantSettingsSerializer)
    def get(self, request):
        """The tenant's settings (domain rules section 1)."""
        return Response(TenantSettingsSerializer(request.tenant).data)

    @extend_schema(request=TenantSettingsSerializer(partial=True), responses=TenantSettingsSerializer)
    def patch(self, request):
        """Change settings; each validated (400), levels / max_total_rate never below the plan in
        force, currency fixed once orders exist."""
        unknown = sorted(set(request.data) - set(TenantSettingsSerializer.Meta.fields)) if isinstance(request.data, dict) else []
        if unknown:
            raise invalid(unknown[0], "Unknown field.", "unknown_field")
        s = TenantSettingsSerializer(request.tenant, data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        tenant = tenant_update(tenant=request.tenant, **{k: v for k, v in s.validated_data.items() if k != "slug"})
        return Response(TenantSettingsSerializer(tenant).data)
