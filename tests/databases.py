"""Dropping PostgreSQL test databases that still have sessions connected (the conftest and CI).

pytest-django drops the test database at the end of the run with a plain DROP DATABASE, which
PostgreSQL refuses while any other session is connected: a Celery worker or a thread a test left
running would make the run end in an error and leave the database behind; and the next run's
DROP of that stale database fails the same way if its session still lingers. `evict` closes the
database to new connections, ends the sessions connected to it and, when asked, drops it
(PostgreSQL >= 9.5; the same as DROP DATABASE ... WITH (FORCE) of PostgreSQL 13, plus no reconnecting).

    python -m tests.databases DATABASE_URL   # CI, after the run: drop test_<name> and test_<name>_gw<N>
"""
from __future__ import annotations

import re
import sys
from urllib.parse import unquote, urlsplit


def _maintenance(params: dict):
    """An autocommit psycopg connection to the server's `postgres` database."""
    import psycopg

    return psycopg.connect(**{k: v for k, v in params.items() if v}, dbname="postgres", autocommit=True, connect_timeout=10)


def evict(params: dict, name: str, *, drop: bool) -> bool:
    """Close database `name` to new connections and end the sessions connected to it (but this one);
    drop it too when `drop`. `params`: host, port, user, password (psycopg keywords). Returns
    whether the database existed."""
    from psycopg import sql

    with _maintenance(params) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            return False
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                     [name])
        if drop:  # DROP DATABASE waits up to 5 s for the terminated sessions to exit
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        return True


def params_of(settings_dict: dict) -> dict:
    """psycopg connection keywords of a Django DATABASES entry."""
    return {"host": settings_dict.get("HOST") or None, "port": settings_dict.get("PORT") or None,
            "user": settings_dict.get("USER") or None, "password": settings_dict.get("PASSWORD") or None}


def drop_test_databases(url: str) -> list[str]:
    """Drop `test_<name>` and pytest-xdist's `test_<name>_gw<N>` of the database of `url`
    (postgres://user@host:port/name), whoever is still connected; returns the names dropped."""
    u = urlsplit(url)
    params = {"host": unquote(u.hostname or "") or None, "port": u.port, "user": unquote(u.username or "") or None,
              "password": unquote(u.password or "") or None}
    base = "test_" + unquote(u.path.lstrip("/"))
    pattern = re.compile(re.escape(base) + r"(_gw[0-9]+)?")
    with _maintenance(params) as conn:
        names = [n for (n,) in conn.execute("SELECT datname FROM pg_database") if pattern.fullmatch(n)]
    return [n for n in names if evict(params, n, drop=True)]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for dropped in drop_test_databases(sys.argv[1]):
        print(f"dropped the test database {dropped} left behind")
