"""Logins (POST /api/v1/auth/token/ for distributors, /api/v1/auth/staff-token/ for staff) and the
tenant settings endpoint."""
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView
from rest_framework_simplejwt.views import TokenRefreshView as SimpleJWTTokenRefreshView

from fenxiao.api.base import StaffAPIView
from fenxiao.api.fields import ModelSerializer, StrictSerializer
from fenxiao.exceptions import invalid

from .login_guard import distributor_account, login_failed, login_gate, staff_account, staff_username
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
        d = s.validated_data  # tenant and username stripped; looked up exactly as they are here
        account = distributor_account(d["tenant"], d["username"])
        login_gate(request, account)
        distributor = distributor_authenticate(tenant_slug=d["tenant"], username=d["username"], password=d["password"])
        if distributor is None:
            login_failed(request, account)
            raise AuthenticationFailed(gettext("Wrong tenant, username or password."))
        return Response(distributor_tokens(distributor))


class StaffTokenSerializer(TokenObtainPairSerializer):
    """SimpleJWT's pair serializer authenticating the username as the admin login does: stripped
    and NFKC-normalised (`staff_username`), the form the login limits key the account on."""

    def validate(self, attrs):
        return super().validate({**attrs, self.username_field: staff_username(attrs[self.username_field])})


class StaffTokenView(TokenObtainPairView):
    """POST /api/v1/auth/staff-token/ {"username", "password"} -> {"access", "refresh"} for a Django
    user (tenant staff). The username is read as the admin login reads it (stripped, NFKC). 401 for
    a wrong credential (Django's ModelBackend hashes for an unknown user too); 429 (code
    `throttled`, Retry-After) over the login rate or while the account or address is locked out
    (tenants.login_guard; failures are counted from `user_login_failed`, shared with the admin
    login, under the same normalised username)."""

    serializer_class = StaffTokenSerializer

    def post(self, request, *args, **kwargs):
        data = request.data
        login_gate(request, staff_account(data.get("username") if hasattr(data, "get") else None))
        return super().post(request, *args, **kwargs)


class RefreshSerializer(TokenRefreshSerializer):
    """SimpleJWT's refresh, refusing a refresh token whose holder could not use the access token:
    a distributor gone or disabled or of an inactive tenant (`token_distributor`, as every
    distributor request checks), a Django user deleted (SimpleJWT would fail with a 500) or
    inactive (SimpleJWT's own check)."""

    def validate(self, attrs):
        from django.contrib.auth import get_user_model
        from rest_framework_simplejwt.settings import api_settings

        from .authentication import token_distributor

        refresh = self.token_class(attrs["refresh"])  # TokenError (the view's 401) for a bad token
        if "distributor_id" in refresh:
            token_distributor(refresh)
        user_id = refresh.get(api_settings.USER_ID_CLAIM)
        if user_id and not get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).exists():
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        return super().validate(attrs)


class TokenRefreshView(SimpleJWTTokenRefreshView):
    """POST /api/v1/auth/token/refresh/ {"refresh"} -> {"access"}: a new access token for a
    distributor's or a staff user's refresh token. 401 for an invalid or expired token, and for
    one whose holder is refused at every request (a distributor disabled or of an inactive tenant,
    a user deleted or inactive): a disabled distributor's refresh token mints nothing."""

    serializer_class = RefreshSerializer


class TenantSettingsSerializer(ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["slug", "name", "currency", "timezone", "levels", "rounding", "self_purchase_commission",
                  "inactive_upline_policy", "bind_mode", "enrollment", "settle_after_days", "auto_complete_days",
                  "withdraw_min_amount", "withdraw_fee_rate", "max_total_rate", "invite_url_template",
                  "api_rate_per_minute", "show_rankings", "risk_max_orders_per_hour", "risk_max_refund_rate"]
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
        force, currency fixed once orders exist (`currency_locked`), time zone once orders,
        contests or targets exist (`timezone_locked`)."""
        unknown = sorted(set(request.data) - set(TenantSettingsSerializer.Meta.fields)) if isinstance(request.data, dict) else []
        if unknown:
            raise invalid(unknown[0], gettext("Unknown field."), "unknown_field")
        s = TenantSettingsSerializer(request.tenant, data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        tenant = tenant_update(tenant=request.tenant, **{k: v for k, v in s.validated_data.items() if k != "slug"})
        return Response(TenantSettingsSerializer(tenant).data)
