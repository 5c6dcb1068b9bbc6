from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Tenants")

    def ready(self):
        from django.contrib.auth.signals import user_login_failed

        from . import checks  # noqa: F401 (registers the deploy checks)
        from . import schema  # noqa: F401 (registers the OpenAPI auth extensions)
        from .login_guard import on_user_login_failed

        user_login_failed.connect(on_user_login_failed, dispatch_uid="tenants.login_guard")
