"""Deployment checks (`manage.py check --deploy`) for the login limits and API throttles."""
from django.conf import settings
from django.core.checks import Tags, Warning, register

PER_PROCESS_CACHES = ("LocMemCache", "DummyCache", "FileBasedCache")


@register(Tags.security, Tags.caches, deploy=True)
def shared_cache_check(app_configs, **kwargs):
    """fenxiao.W001: login lockouts and API throttles count in CACHES["default"]; a per-process
    cache lets every gunicorn worker and host count alone (N workers: N times the limits)."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.rsplit(".", 1)[-1] in PER_PROCESS_CACHES:
        return [Warning(
            "The default cache is per process: login lockouts and API rate limits would be counted "
            "separately by every worker and host.",
            hint="Set CACHE_URL to a shared cache, e.g. redis://redis:6379/1 (docker-compose.yml does).",
            id="fenxiao.W001",
        )]
    return []
