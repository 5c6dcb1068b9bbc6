"""URL map: /admin/, the v1 API under /api/v1/ with its OpenAPI schema and docs, /i18n/setlang/
(Django's set_language: the console's and the portal's language choosers post there; settings,
"Languages") and the distributors' portal under /portal/ (portal.urls)."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from tenants.api import DistributorTokenView, SandboxClockView, StaffTokenView, TenantSettingsView, TokenRefreshView

api_v1 = [
    path("auth/token/", DistributorTokenView.as_view(), name="auth-token"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("auth/staff-token/", StaffTokenView.as_view(), name="auth-staff-token"),
    path("admin/tenant/", TenantSettingsView.as_view(), name="staff-tenant"),
    path("sandbox/clock/", SandboxClockView.as_view(), name="sandbox-clock"),
    path("", include("distributors.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("commissions.api.urls")),
    path("", include("ledger.api.urls")),
    path("", include("incentives.api.urls")),
    path("", include("relations.api.urls")),
    path("", include("risk.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("webhooks.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("portal/", include("portal.urls")),
]

handler404 = "fenxiao.api.errors.not_found"
handler500 = "fenxiao.api.errors.server_error"
