"""WSGI entry point (gunicorn fenxiao.wsgi).

Once the application is loaded, the URLconf (and through it every view, serializer and model)
is imported and what the process holds at that point is moved out of the garbage collector's
reach (`gc.freeze()`): those objects live as long as the process, and without this every full
collection walked them all, a pause of tens of milliseconds in the middle of whatever request
triggered it (docs/performance.md, "Tail latency"). Collections of what requests allocate are
unchanged; reference counting frees most of it anyway."""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fenxiao.settings")
application = get_wsgi_application()


def _freeze_startup_objects() -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module now, not on the first request)
    gc.collect()
    gc.freeze()


_freeze_startup_objects()
