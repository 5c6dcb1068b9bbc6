"""Credentials that carry a tenant (CONVENTIONS: the tenant comes from the credential).

- Partner systems: `Authorization: Api-Key <key>` (TenantApiKey, stored hashed, revocable).
- Distributors: `Authorization: Bearer <jwt>` issued by /api/v1/auth/token/ with tenant_id and
  distributor_id claims.
"""
from __future__ import annotations
from django.utils.translation import gettext

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
        api_key = usable_api_key(key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(gettext("Invalid API key."))
        if api_key.has_expired or api_key.revoked or not api_key.tenant.is_active:
            raise exceptions.AuthenticationFailed(gettext("API key revoked or expired."))
        return PartnerPrincipal(tenant=api_key.tenant, api_key=api_key), api_key

    def authenticate_header(self, request):
        return self.keyword


def usable_api_key(key: str) -> TenantApiKey | None:
    """The unrevoked API key `key` ("<prefix>.<secret>") with its tenant loaded, or None (unknown
    prefix, revoked, or the secret does not match its hash). What TenantApiKey.objects.get_from_key
    does, in one raw statement (the key and its tenant, read fresh on every request: a revoked key
    or a deactivated tenant is refused at once; compiling the equivalent queryset cost more than
    running it). Expiry and the tenant's state are the caller's to check."""
    from fenxiao.bulk import from_row, query, select_sql

    prefix = key.partition(".")[0]
    rows = query(_API_KEY_SQL or _api_key_sql(select_sql), [prefix])
    row = rows[0] if rows else None
    if row is None:
        return None
    n = len(TenantApiKey._meta.concrete_fields)
    api_key = from_row(TenantApiKey, row[:n])
    if not TenantApiKey.objects.key_generator.verify(key, api_key.hashed_key):
        return None
    api_key.tenant = from_row(Tenant, row[n:])
    return api_key


_API_KEY_SQL = ""


def _api_key_sql(select_sql) -> str:
    global _API_KEY_SQL
    _API_KEY_SQL = (
        f"SELECT {select_sql(TenantApiKey, '', alias='k')}, {select_sql(Tenant, '', alias='t')}"
        f" FROM {TenantApiKey._meta.db_table} k JOIN {Tenant._meta.db_table} t ON t.id = k.tenant_id"
        f" WHERE k.prefix = %s AND NOT k.revoked")
    return _API_KEY_SQL


class DistributorJWTAuthentication(JWTAuthentication):
    """Bearer tokens of distributors; request.user is the Distributor (with .tenant loaded)."""

    def get_user(self, validated_token):
        return token_distributor(validated_token)


def token_distributor(token):
    """The distributor a validated distributor token (access or refresh: tenant_id and
    distributor_id claims) speaks for, read fresh. Raises InvalidToken (401) for a token without
    those claims, AuthenticationFailed (401) when the distributor is gone or disabled or its tenant
    is inactive: what an access token is refused for on every request, and a refresh token at
    POST /api/v1/auth/token/refresh/ (tenants.api.TokenRefreshView)."""
    from distributors.models import Distributor

    try:
        tenant_id = int(token["tenant_id"])
        distributor_id = int(token["distributor_id"])
    except (KeyError, TypeError, ValueError):
        raise InvalidToken(gettext("Token is not a distributor token.")) from None
    distributor = portal_distributor(distributor_id=distributor_id, tenant_id=tenant_id)
    if distributor is None or distributor.status == Distributor.Status.DISABLED or not distributor.tenant.is_active:
        raise exceptions.AuthenticationFailed(gettext("Distributor not found or disabled."))
    return distributor


def portal_distributor(*, distributor_id: int, tenant_id: int):
    """The distributor of a portal token with its tenant, grade and parent loaded (as
    select_related would), or None. One raw statement read fresh on every request (a disabled
    distributor or a deactivated tenant is refused at once): compiling the queryset cost more than
    running it on a portal page (docs/performance.md)."""
    from distributors.models import Distributor, Grade
    from fenxiao.bulk import from_row, query, select_sql

    global _PORTAL_SQL
    if not _PORTAL_SQL:
        table, grades = Distributor._meta.db_table, Grade._meta.db_table
        _PORTAL_SQL = (
            f"SELECT {select_sql(Distributor, '', alias='d')}, {select_sql(Tenant, '', alias='t')},"
            f" {select_sql(Grade, '', alias='g')}, {select_sql(Distributor, '', alias='p')}"
            f" FROM {table} d JOIN {Tenant._meta.db_table} t ON t.id = d.tenant_id"
            f" LEFT JOIN {grades} g ON g.id = d.grade_id LEFT JOIN {table} p ON p.id = d.parent_id"
            f" WHERE d.id = %s AND d.tenant_id = %s")
    rows = query(_PORTAL_SQL, [distributor_id, tenant_id])
    row = rows[0] if rows else None
    if row is None:
        return None
    n_d, n_t, n_g = (len(m._meta.concrete_fields) for m in (Distributor, Tenant, Grade))
    distributor = from_row(Distributor, row[:n_d])
    distributor.tenant = from_row(Tenant, row[n_d:n_d + n_t])
    grade = row[n_d + n_t:n_d + n_t + n_g]
    distributor.grade = from_row(Grade, grade) if grade[0] is not None else None
    parent = row[n_d + n_t + n_g:]
    distributor.parent = from_row(Distributor, parent) if parent[0] is not None else None
    return distributor


_PORTAL_SQL = ""


class StaffJWTAuthentication(JWTAuthentication):
    """Bearer tokens of tenant staff (Django users), from POST /api/v1/auth/staff-token/.
    Distributor tokens (no user_id claim) are left to DistributorJWTAuthentication."""

    def get_user(self, validated_token):
        if "user_id" not in validated_token:
            raise InvalidToken(gettext("Token is not a staff token."))
        return super().get_user(validated_token)


def tenant_of(user) -> Tenant | None:
    """The tenant a credential belongs to: an API key's, a distributor's, or a staff user's
    membership (None for anyone else, e.g. a superuser without membership)."""
    tenant = getattr(user, "tenant", None)
    if isinstance(tenant, Tenant):
        return tenant
    membership = getattr(user, "tenant_membership", None) if getattr(user, "is_staff", False) else None
    return membership.tenant if membership is not None else None
