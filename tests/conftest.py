"""Shared fixtures. Service-dependent tests carry a marker (postgres, redis, superstore): they skip
when the service or data is absent, and FAIL instead when pytest runs with --require-services
(what CI does), so a missing service can never turn into a green run. Tests marked `slow` run
only with --run-slow (CI), so `make test` stays fast."""
import os
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from tenants.context import tenant_context

from hypothesis import settings as hypothesis_settings

# Property tests run on shared, busy machines: no per-example deadline (a slow example is not a
# failure; the properties are what the tests assert).
hypothesis_settings.register_profile("fenxiao", deadline=None)
hypothesis_settings.load_profile("fenxiao")

REPO = Path(__file__).resolve().parent.parent
SHARED_SUPERSTORE = REPO.parent / "shared" / "data" / "superstore"


def pytest_addoption(parser):
    parser.addoption("--require-services", action="store_true", default=False,
                     help="fail (not skip) tests whose service or data is missing")
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (CI does; `make test` does not)")


def _redis_url():
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_ok() -> bool:
    try:
        import redis

        redis.Redis.from_url(_redis_url(), socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def _browser_ok() -> bool:
    import importlib.util

    return os.path.exists("/usr/bin/chromium") and importlib.util.find_spec("playwright") is not None


def pytest_runtest_setup(item):
    if item.get_closest_marker("slow") and not item.config.getoption("--run-slow"):
        pytest.skip("slow: run with --run-slow (CI does)")
    require = item.config.getoption("--require-services")
    missing = None
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        missing = "PostgreSQL (set DATABASE_URL=postgres://...)"
    elif item.get_closest_marker("redis") and not _redis_ok():
        missing = f"Redis at {_redis_url()}"
    elif item.get_closest_marker("superstore") and not (SHARED_SUPERSTORE / "orders.csv").exists():
        missing = f"the Superstore data at {SHARED_SUPERSTORE}"
    elif item.get_closest_marker("browser") and not _browser_ok():
        missing = "Chromium at /usr/bin/chromium and the playwright package"
    if missing:
        if require:
            pytest.fail(f"--require-services: {missing} is not available", pytrace=False)
        pytest.skip(f"needs {missing}")


def _pg_test_database(*, created: bool):
    """(psycopg keywords, name) of the test database of the default connection on PostgreSQL, else
    None: before it is `created`, the name it will have (pytest-xdist's _gw<N> suffix included,
    once pytest-django has set it); after, the connection's NAME is that database."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    from tests.databases import params_of

    s = connection.settings_dict
    return params_of(s), s["NAME"] if created else (s.get("TEST") or {}).get("NAME") or f"test_{s['NAME']}"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, django_db_keepdb):
    """pytest-django's, then: a test database left by an earlier run that was killed (still with a
    session connected, say its Celery worker) is dropped before this run creates its own; a plain
    DROP DATABASE would fail on that session (tests.databases)."""
    target = _pg_test_database(created=False)
    if target is not None and not django_db_keepdb:
        from tests.databases import evict

        evict(target[0], target[1], drop=True)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_keepdb):
    """pytest-django's, and at the end of the session, before it drops the test database: close
    this process's connections, then close the database to new connections and end every session
    still connected (a thread or a Celery worker a test left behind), so the DROP succeeds."""
    target = _pg_test_database(created=True)
    yield
    if target is not None and not django_db_keepdb:
        from django.db import connections

        from tests.databases import evict

        connections.close_all()
        evict(target[0], target[1], drop=False)


@pytest.fixture
def redis_url():
    """The test Redis: REDIS_URL with its database number moved down by the pytest-xdist worker's
    index (gw0: as given, gw1: one lower, ... modulo 16). The broker tests flush their database and
    kill workers mid-task; two xdist workers sharing one database mixed their queues and unacked
    messages (a flush by one lost the other's redelivery)."""
    from urllib.parse import urlsplit, urlunsplit

    url = _redis_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    n = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    if not n:
        return url
    parts = urlsplit(url)
    base = int(parts.path.lstrip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base - n) % 16}"))


@pytest.fixture
def make_tenant(db):
    """Create a tenant with a published plan; returns it. Defaults: CNY, 10% / 5% / 2%."""
    from commissions.services import plan_publish
    from tenants.services import tenant_create

    counter = {"n": 0}

    def make(slug=None, default=None, categories=None, skus=None, **settings):
        counter["n"] += 1
        slug = slug or f"t{counter['n']}"
        tenant = tenant_create(slug=slug, name=f"Tenant {slug}", **settings)
        with tenant_context(tenant):
            plan_publish(
                tenant=tenant,
                default=default if default is not None else {1: ("percent", Decimal("0.1000")), 2: ("percent", Decimal("0.0500")), 3: ("percent", Decimal("0.0200"))},
                categories=categories, skus=skus,
                effective_from=datetime(2000, 1, 1, tzinfo=timezone.utc),
            )
        return tenant

    return make


@pytest.fixture
def tenant(make_tenant):
    return make_tenant(slug="acme")


@pytest.fixture
def in_tenant(tenant):
    with tenant_context(tenant):
        yield tenant


@pytest.fixture
def partner_for(db):
    from tests.factories import CommitAPIClient as APIClient

    from tenants.services import api_key_create

    def make(tenant):
        _, key = api_key_create(tenant=tenant, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        client.tenant = tenant
        return client

    return make


@pytest.fixture
def partner(tenant, partner_for):
    """An APIClient authenticated with a fresh API key of `tenant`."""
    return partner_for(tenant)


@pytest.fixture
def portal_for(db):
    """portal_for(distributor) -> APIClient with that distributor's Bearer token."""
    from tests.factories import CommitAPIClient as APIClient

    from tenants.api import distributor_tokens

    def make(distributor):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {distributor_tokens(distributor)['access']}")
        return client

    return make




@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """MD5 for speed in tests only; the product keeps Django's default hashers
    (tests/tenants/test_login_guard.py::test_the_product_hashes_passwords_strongly)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: login counters, lockouts and API throttle windows of
    one test never reach another (all tests log in from 127.0.0.1)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _ledger_is_clean_after_every_scenario(request):
    """After every test that touched the database, `check_ledger` must find no drift in any tenant
    (domain rules section 7: balances always agree with the ledger), and every distributor's
    downline counters must agree with the tree (section 2)."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")   # set up inside this fixture: torn down after it
    elif "db" in names or marker:
        request.getfixturevalue("db")
    else:
        yield
        return
    yield
    if request.node.get_closest_marker("ledger_drift_expected"):
        return
    from io import StringIO

    from django.core.management import call_command

    call_command("check_ledger", stdout=StringIO())
    call_command("check_measures", stdout=StringIO())  # incentive figures agree with the orders (section 8)
    from distributors.selectors import tree_drift
    from tenants.context import tenant_context
    from tenants.models import Tenant

    for t in Tenant.objects.all():  # the tree's downline counters agree with its rows
        with tenant_context(t):
            assert tree_drift() == [], t.slug


@pytest.fixture(params=["single", "batch"])
def both_intake_paths(request):
    """Run a test once through the single order intake and once through the batch intake
    (tests.factories.INTAKE): a module opts in with pytestmark = usefixtures("both_intake_paths")."""
    from tests import factories

    factories.INTAKE["path"] = request.param
    yield request.param
    factories.INTAKE["path"] = "single"
