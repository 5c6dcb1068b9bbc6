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
