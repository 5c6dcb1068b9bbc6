"""Credentials that carry a tenant (CONVENTIONS: the tenant comes from the credential).

- Partner systems: `Authorization: Api-Key <key>` (TenantApiKey, stored hashed, revocable).
- Distributors: `Authorization: Bearer <jwt>` issued by /api/v1/auth/token/ with tenant_id and
  distributor_id claims.
"""
from __future__ import annotations

import json

from django.utils.translation import gettext

from dataclasses import dataclass

from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from .models import TEST_KEY_PREFIX, Tenant, TenantApiKey


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
    running it). Expiry and the tenant's state are the caller's to check.

    A sandbox tenant's key is written "test_<prefix>.<secret>" and a live tenant's without the
    mark: a key whose mark does not match its tenant is None too, so a live key can never be
    taken for a test one nor the reverse."""
    from fenxiao.bulk import from_row, query, select_sql

    test = key.startswith(TEST_KEY_PREFIX)
    if test:
        key = key[len(TEST_KEY_PREFIX):]
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
    if api_key.tenant.is_sandbox != test:
        return None
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
    Distributor tokens (no user_id claim) are left to DistributorJWTAuthentication. The user is
    read with its staff membership and tenant in one raw statement (`staff_user`); one SimpleJWT
    would refuse (gone, inactive, or with CHECK_REVOKE_TOKEN a changed password) goes through
    SimpleJWT's own get_user, which refuses it with its own 401 (`user_not_found`,
    `user_inactive`, `password_changed`)."""

    def get_user(self, validated_token):
        from rest_framework_simplejwt.settings import api_settings
        from rest_framework_simplejwt.utils import get_md5_hash_password

        if "user_id" not in validated_token:
            raise InvalidToken(gettext("Token is not a staff token."))
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError):
            user_id = None
        user = staff_user(user_id) if user_id is not None and api_settings.USER_ID_FIELD == "id" else None
        if user is None or (api_settings.CHECK_USER_IS_ACTIVE and not user.is_active) or (
                api_settings.CHECK_REVOKE_TOKEN
                and validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)):
            return super().get_user(validated_token)  # refuses it as SimpleJWT does
        return user


def staff_user(user_id: int):
    """The Django user `user_id` with its staff membership and the membership's tenant loaded (as
    select_related would: `user.tenant_membership.tenant`; a user without a membership raises
    RelatedObjectDoesNotExist there, as the ORM's does) and its permissions (`load_permissions`),
    or None. One raw statement read fresh on every request (a deactivated user or tenant, a
    removed membership or a revoked permission is refused at once): the ORM's user, membership,
    tenant and two permission queries were five compiled queries (docs/performance.md)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from fenxiao.bulk import from_row, query, select_sql

    from .models import StaffMembership

    global _STAFF_SQL
    user_model = get_user_model()
    if not _STAFF_SQL:
        perms = _permissions_sql("u.id")
        perms = f"ARRAY({perms})" if connection.vendor == "postgresql" else f"(SELECT json_group_array(x.perm) FROM ({perms}) x)"
        _STAFF_SQL = (
            f"SELECT {select_sql(user_model, '', alias='u')}, {select_sql(StaffMembership, '', alias='m')},"
            f" {select_sql(Tenant, '', alias='t')}, {perms} FROM {user_model._meta.db_table} u"
            f" LEFT JOIN {StaffMembership._meta.db_table} m ON m.user_id = u.id"
            f" LEFT JOIN {Tenant._meta.db_table} t ON t.id = m.tenant_id WHERE u.id = %s")
    rows = query(_STAFF_SQL, [user_id])
    if not rows:
        return None
    row = rows[0]
    n_u, n_m, n_t = (len(m._meta.concrete_fields) for m in (user_model, StaffMembership, Tenant))
    user = from_row(user_model, row[:n_u])
    membership = None
    if row[n_u] is not None:
        membership = from_row(StaffMembership, row[n_u:n_u + n_m])
        membership.tenant = from_row(Tenant, row[n_u + n_m:n_u + n_m + n_t])
        StaffMembership._meta.get_field("user").set_cached_value(membership, user)
    StaffMembership._meta.get_field("user").remote_field.set_cached_value(user, membership)
    perms = row[n_u + n_m + n_t]
    if _permission_cache_applies(user):
        user._perm_cache = set(json.loads(perms) if isinstance(perms, str) else perms)
    return user


_STAFF_SQL = ""


def _permissions_sql(user_id: str) -> str:
    """SELECT of the "app_label.codename" (column `perm`) of the user `user_id` (an SQL expression)
    has through its own permissions and its groups' (ModelBackend's two queries in one)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    user_model = get_user_model()
    user_perms = user_model.user_permissions.through._meta.db_table
    user_groups = user_model.groups.through._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    content_types = Permission._meta.get_field("content_type").related_model._meta.db_table
    return (f"SELECT ct.app_label || '.' || p.codename AS perm FROM {Permission._meta.db_table} p"
            f" JOIN {content_types} ct ON ct.id = p.content_type_id"
            f" WHERE p.id IN (SELECT up.permission_id FROM {user_perms} up WHERE up.user_id = {user_id}"
            f" UNION SELECT gp.permission_id FROM {group_perms} gp JOIN {user_groups} ug ON ug.group_id = gp.group_id"
            f" WHERE ug.user_id = {user_id})")


def _permission_cache_applies(user) -> bool:
    """May `_perm_cache` be filled from the permission rows? Not for an inactive user or a
    superuser (Django answers those without the cache, and a superuser's cache holds every
    permission), nor when other authentication backends than ModelBackend count too."""
    from django.conf import settings

    return user.is_active and not user.is_superuser and \
        list(settings.AUTHENTICATION_BACKENDS) == ["django.contrib.auth.backends.ModelBackend"]


def load_permissions(user) -> None:
    """Fill Django's permission cache of a staff user (`_perm_cache`: what ModelBackend's
    get_all_permissions, and so user.has_perm / has_perms, read: "app_label.codename" of the
    user's own permissions and its groups') in one raw statement instead of ModelBackend's two
    compiled queries, read fresh on every request like them. A staff token's user has it already
    (`staff_user`); this serves the console's session users. Nothing is done when the cache is
    filled or does not apply (`_permission_cache_applies`)."""
    from fenxiao.bulk import query

    if hasattr(user, "_perm_cache") or not _permission_cache_applies(user):
        return
    global _PERMS_SQL
    if not _PERMS_SQL:
        _PERMS_SQL = _permissions_sql("%s")
    user._perm_cache = {perm for (perm,) in query(_PERMS_SQL, [user.pk, user.pk])}


_PERMS_SQL = ""


def tenant_of(user) -> Tenant | None:
    """The tenant a credential belongs to: an API key's, a distributor's, or a staff user's
    membership (None for anyone else, e.g. a superuser without membership)."""
    tenant = getattr(user, "tenant", None)
    if isinstance(tenant, Tenant):
        return tenant
    membership = getattr(user, "tenant_membership", None) if getattr(user, "is_staff", False) else None
    return membership.tenant if membership is not None else None
