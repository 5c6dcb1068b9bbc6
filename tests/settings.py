"""Settings of the test suite: the product's settings (fenxiao.settings) with a key of its own.

Nothing here reads `.env` (fenxiao.settings reads no file; tests/test_settings_security.py proves
it). The key is generated per test run: fenxiao.settings refuses to start without one outside
DEBUG, and the tests run with DEBUG off like production. Subprocesses that tests start (the Celery
worker test) inherit it through the environment. The cache is this process's memory whatever
CACHE_URL the shell has, so login limits and throttles never leak between test processes.
"""
import os
import secrets

# one key per test run (xdist workers and the processes tests start inherit it), whatever the shell has
os.environ["SECRET_KEY"] = os.environ.setdefault("FENXIAO_TEST_SECRET_KEY", secrets.token_urlsafe(50))

from fenxiao.settings import *  # noqa: E402,F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fenxiao-tests",
                      "OPTIONS": {"MAX_ENTRIES": 100_000}}}

# Uploaded materials go to a directory of this test run, removed at exit (never the repo's media/).
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

MEDIA_ROOT = tempfile.mkdtemp(prefix="fenxiao-media-")
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
# The product falls back to zh-hans for a browser that names no language (fenxiao.settings,
# "Languages"); the Django test client names none, and the suite's console tests read English
# pages. tests/test_i18n.py checks the product's own fallback with override_settings.
LANGUAGE_CODE = "en"

# Webhook tests deliver to a receiver on 127.0.0.1 (pytest-httpserver); tests of the address check
# turn this off. Short timeouts keep the "receiver hangs" test short.
WEBHOOKS_ALLOW_PRIVATE = True
WEBHOOKS_READ_TIMEOUT = 1.0
