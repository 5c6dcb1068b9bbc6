"""POST /api/v1/auth/token/: a distributor logs in with tenant slug, username and password."""
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken

from fenxiao.api.fields import StrictSerializer

from .models import Tenant


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
        JWTs. 401 for any wrong or disabled credential (the answer never tells which)."""
        from distributors.models import Distributor

        s = TokenRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        tenant = Tenant.objects.filter(slug=d["tenant"], is_active=True).first()
        distributor = None
        if tenant is not None:
            distributor = Distributor.unscoped.filter(tenant=tenant, username=d["username"]).first()
        if distributor is None or distributor.status == Distributor.Status.DISABLED or not distributor.check_password(d["password"]):
            raise AuthenticationFailed("Wrong tenant, username or password.")
        return Response(distributor_tokens(distributor))
