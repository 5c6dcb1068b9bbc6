"""Credentials that carry a tenant (CONVENTIONS: the tenant comes from the credential).

- Partner systems: `Authorization: Api-Key <key>` (TenantApiKey, stored hashed, revocable).
- Distributors: `Authorization: Bearer <jwt>` issued by /api/v1/auth/token/ with tenant_id and
  distributor_id claims.
"""
from __future__ import annotations

from dataclasses import dataclass

from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from .models import Tenant, TenantApiKey


@dataclass
class PartnerPrincipal:
    """request.user for a partner system authenticated by API key."""

    tenant: Tenant
    api_key: TenantApiKey
    is_authenticated: bool = True
    is_staff: bool = False

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}@{self.tenant.slug}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            return None
        key = header[len(self.keyword) + 1:].strip()
        try:
            api_key = TenantApiKey.objects.get_from_key(key)
        except TenantApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        if api_key.has_expired or api_key.revoked or not api_key.tenant.is_active:
            raise exceptions.AuthenticationFailed("API key revoked or expired.")
        return PartnerPrincipal(tenant=api_key.tenant, api_key=api_key), api_key

    def authenticate_header(self, request):
        return self.keyword


class DistributorJWTAuthentication(JWTAuthentication):
    """Bearer tokens of distributors; request.user is the Distributor (with .tenant loaded)."""

    def get_user(self, validated_token):
        from distributors.models import Distributor

        try:
            tenant_id = int(validated_token["tenant_id"])
            distributor_id = int(validated_token["distributor_id"])
        except (KeyError, TypeError, ValueError):
            raise InvalidToken("Token is not a distributor token.") from None
        distributor = (
            Distributor.unscoped.select_related("tenant", "grade", "parent")
            .filter(pk=distributor_id, tenant_id=tenant_id).first()
        )
        if distributor is None or distributor.status == Distributor.Status.DISABLED or not distributor.tenant.is_active:
            raise exceptions.AuthenticationFailed("Distributor not found or disabled.")
        return distributor
