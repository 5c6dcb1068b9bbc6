from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"

    def ready(self):
        from . import checks  # noqa: F401 (registers the deploy checks)
        from . import schema  # noqa: F401 (registers the OpenAPI auth extensions)
