"""A run on PostgreSQL drops its test database even when sessions are still connected to it at
the end (a Celery worker or a thread a test left behind), and a stale test database that a
killed run left, with a session still connected, does not break the next run (tests.databases,
the django_db_modify_db_settings and django_db_setup fixtures of tests/conftest.py).

The check runs a second pytest session (its own database, `test_<database name>_inner`) with the
project's conftest, whose one test leaves a process and a connection behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from urllib.parse import quote

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(420)]

INNER = '''
import os
import subprocess
import sys

import psycopg
from django.db import connection

LEFT = []


def test_leaves_sessions_connected(db):
    s = connection.settings_dict
    dsn = {k: v for k, v in {"host": s["HOST"], "port": s["PORT"], "user": s["USER"], "password": s["PASSWORD"],
                             "dbname": s["NAME"]}.items() if v}
    # a process still connected when the run ends, like a Celery worker nobody stopped
    code = "import psycopg, sys, time; c = psycopg.connect(**eval(sys.argv[1])); print(c.info.backend_pid, flush=True); time.sleep(600)"
    p = subprocess.Popen([sys.executable, "-c", code, repr(dsn)], stdout=subprocess.PIPE, start_new_session=True)
    with open(os.environ["LINGER_PIDS"], "w") as f:
        f.write(str(p.pid))
    assert p.stdout.readline().strip().isdigit()
    # and a connection of this process that nobody closes (as a finished thread's stays open)
    LEFT.append(psycopg.connect(**dsn))
'''


def test_the_test_database_is_dropped_whoever_is_still_connected(tmp_path):
    import psycopg
    from django.db import connection
    from psycopg import sql

    from tests.databases import _maintenance, evict, params_of

    s = connection.settings_dict
    params = params_of(s)
    base = f"{s['NAME']}_inner"
    inner_db = f"test_{base}"
    evict(params, inner_db, drop=True)
    with _maintenance(params) as conn:  # a stale test database, as a killed run leaves it ...
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(inner_db)))
    stale = psycopg.connect(**{k: v for k, v in params.items() if v}, dbname=inner_db, autocommit=True)  # ... still in use
    (tmp_path / "test_inner.py").write_text(INNER)
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403 (the fixtures under test)\n")
    pids = tmp_path / "pids"
    auth = quote(s["USER"] or "", safe="") + (":" + quote(s["PASSWORD"], safe="") if s["PASSWORD"] else "")
    url = f"postgres://{auth}{'@' if auth else ''}{quote(s['HOST'] or '127.0.0.1', safe='')}:{s['PORT'] or 5432}/{base}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(DATABASE_URL=url, CELERY_BROKER_URL="", LINGER_PIDS=str(pids))
    try:
        r = subprocess.run(
            [sys.executable, "-m", "pytest", str(tmp_path / "test_inner.py"), "-q",
             "-p", "no:cacheprovider", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=360,
        )
        out = r.stdout + r.stderr
        assert r.returncode == 0 and "1 passed" in out, out[-4000:]
        assert "Error when trying to teardown" not in out, out[-4000:]
        assert os.kill(int(pids.read_text()), 0) is None              # the lingering process still runs ...
        with _maintenance(params) as conn:                             # ... yet its database is gone
            assert conn.execute("SELECT datname FROM pg_database WHERE datname = %s", [inner_db]).fetchall() == []
        with pytest.raises(psycopg.OperationalError):                  # the stale database's session was ended
            stale.execute("SELECT 1")
    finally:
        stale.close()
        if pids.exists():
            try:
                os.killpg(int(pids.read_text()), signal.SIGKILL)      # its own session (start_new_session)
            except ProcessLookupError:
                pass
        evict(params, inner_db, drop=True)
