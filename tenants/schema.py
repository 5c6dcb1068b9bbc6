"""OpenAPI (drf-spectacular) descriptions of fenxiao's two credentials, and of the token
serializers it derives from SimpleJWT's (documented as SimpleJWT's own are)."""
from drf_spectacular.contrib.rest_framework_simplejwt import (
    TokenObtainPairSerializerExtension,
    TokenRefreshSerializerExtension,
)
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Partner systems: `Api-Key <key>` (one tenant per key)."}


class DistributorBearerScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.DistributorJWTAuthentication"
    name = "DistributorBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Distributors: token from POST /api/v1/auth/token/."}


class StaffBearerScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.StaffJWTAuthentication"
    name = "StaffBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Tenant staff: token from POST /api/v1/auth/staff-token/ (or the admin session)."}


class StaffTokenSerializerScheme(TokenObtainPairSerializerExtension):
    """tenants.api.StaffTokenSerializer: SimpleJWT's TokenObtainPair, same request and answer."""

    target_class = "tenants.api.StaffTokenSerializer"

    def get_name(self, auto_schema, direction):
        return "TokenObtainPair"


class RefreshSerializerScheme(TokenRefreshSerializerExtension):
    """tenants.api.RefreshSerializer: SimpleJWT's TokenRefresh, same request and answer."""

    target_class = "tenants.api.RefreshSerializer"

    def get_name(self, auto_schema, direction):
        return "TokenRefresh"
