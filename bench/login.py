#!/usr/bin/env python
"""Login latency with the production password hasher: POST /api/v1/auth/token/ (distributors) and
POST /api/v1/auth/staff-token/ (staff), right password, wrong password and unknown username.

    .venv/bin/python bench/login.py                        # temporary SQLite database, gunicorn started here
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fenxiao_login_bench .venv/bin/python bench/login.py
    .venv/bin/python bench/login.py --url http://127.0.0.1:8000 --tenant demo --username DIST-0001 \\
        --password demo-pass-123 --staff-username demo-pm --staff-password demo-pm   # a running server

Without --url it migrates the database of DATABASE_URL (default: a new SQLite file in a temporary
directory), creates the tenant `bench-login` with one distributor and one staff user whose
passwords are hashed with Django's default hasher (PBKDF2-SHA256, Django's iteration count: what
production stores), and starts gunicorn on a free loopback port with the login limits raised (the
bench measures the hasher, not the lockout). Requests go one at a time over one connection, the cases in
turn, after one warm-up round. Prints p50 / p99 / mean per case in milliseconds: the three cases of one
endpoint should take about the same time (a wrong password costs what an unknown username costs:
no username enumeration by timing). Stops gunicorn on exit.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
TENANT, USERNAME, PASSWORD = "bench-login", "login-1", "bench-login-pass-1"
STAFF_USERNAME, STAFF_PASSWORD = "bench-login-staff", "bench-login-staff-pass-1"


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(env: dict) -> None:
    """Migrate and create the bench tenant, distributor and staff user (idempotent), in a child
    process so this one never imports Django settings."""
    code = f"""
import django; django.setup()
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import User
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from distributors.services import DistributorInput, distributor_register, distributor_set_password
from distributors.models import Distributor
from tenants.context import tenant_context
from tenants.models import StaffMembership, Tenant
from tenants.services import tenant_create
tenant = Tenant.objects.filter(slug={TENANT!r}).first() or tenant_create(slug={TENANT!r}, name="Login bench")
with tenant_context(tenant):
    d = Distributor.objects.filter(username={USERNAME!r}).first()
    if d is None:
        d, _ = distributor_register(tenant=tenant, data=DistributorInput(external_id={USERNAME!r}, name="Login bench"))
    distributor_set_password(distributor=d, password={PASSWORD!r})
user = User.objects.filter(username={STAFF_USERNAME!r}).first() or User(username={STAFF_USERNAME!r}, is_staff=True)
user.set_password({STAFF_PASSWORD!r}); user.save()
StaffMembership.objects.get_or_create(user=user, defaults={{"tenant": tenant}})
h = identify_hasher(user.password)
print(f"hasher {{h.algorithm}}, {{h.decode(user.password).get('iterations')}} iterations")
"""
    r = subprocess.run([str(VENV_BIN / "python"), "-c", code], env=env, cwd=REPO, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"setup failed:\n{r.stderr}")
    print(r.stdout.strip(), flush=True)


def wait_up(host: str, port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("gunicorn exited during start")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", "/admin/login/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    sys.exit("gunicorn did not answer within 60 s")


def post(conn: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, float]:
    data = json.dumps(body).encode()
    t = time.perf_counter()
    conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status, (time.perf_counter() - t) * 1000


def measure(url: str, cases: list[tuple[str, str, dict, int]], n: int) -> dict[str, list[float]]:
    """n rounds, each posting every case once (round-robin, so a change of machine load touches
    every case alike); one warm-up round first, which also checks each case's expected answer."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    times: dict[str, list[float]] = {label: [] for label, *_ in cases}
    for round_ in range(n + 1):
        for label, path, body, expect in cases:
            status, ms = post(conn, path, body)
            if status != expect:
                sys.exit(f"{label}: answered {status}, expected {expect} (a login limit of the server?)")
            if round_:
                times[label].append(ms)
    for label, values in times.items():
        print(f"  {label:<40} p50 {pct(values, 50):7.1f}  p99 {pct(values, 99):7.1f}  "
              f"mean {statistics.fmean(values):7.1f} ms", flush=True)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running server (then --tenant/--username/... name existing logins)")
    ap.add_argument("--requests", type=int, default=20, help="requests per case (default 20)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers when started here (default 2)")
    ap.add_argument("--tenant", default=TENANT)
    ap.add_argument("--username", default=USERNAME)
    ap.add_argument("--password", default=PASSWORD)
    ap.add_argument("--staff-username", default=STAFF_USERNAME)
    ap.add_argument("--staff-password", default=STAFF_PASSWORD)
    a = ap.parse_args()

    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="fenxiao-login-bench-")
    try:
        url = a.url
        if url is None:
            env = dict(os.environ, DJANGO_SETTINGS_MODULE="fenxiao.settings", DEBUG="0", LOG_LEVEL="WARNING",
                       CELERY_BROKER_URL="", ALLOWED_HOSTS="127.0.0.1", CACHE_URL="",
                       SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
                       DATABASE_URL=os.environ.get("DATABASE_URL") or f"sqlite:///{tmp.name}/login.sqlite3",
                       LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS="1000000", LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT="1000000",
                       LOGIN_FAILURES_PER_ACCOUNT="1000000", LOGIN_FAILURES_PER_ADDRESS="1000000")
            env.pop("PASSWORD_HASHERS", None)
            print(f"database {env['DATABASE_URL']}", flush=True)
            setup(env)
            port = free_port()
            log = open(Path(tmp.name) / "gunicorn.log", "wb")
            proc = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "fenxiao.wsgi:application", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(a.workers), "--no-control-socket", "--timeout", "120"],
                env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            wait_up("127.0.0.1", port, proc)
            url = f"http://127.0.0.1:{port}"
            print(f"gunicorn {a.workers} workers at {url}", flush=True)
        d = {"tenant": a.tenant, "username": a.username}
        s = {"username": a.staff_username}
        cases = [
            ("distributor token: right password", "/api/v1/auth/token/", {**d, "password": a.password}, 200),
            ("distributor token: wrong password", "/api/v1/auth/token/", {**d, "password": "wrong-password"}, 401),
            ("distributor token: unknown username", "/api/v1/auth/token/",
             {**d, "username": "no-such-user-" + secrets.token_hex(4), "password": "wrong-password"}, 401),
            ("staff token: right password", "/api/v1/auth/staff-token/", {**s, "password": a.staff_password}, 200),
            ("staff token: wrong password", "/api/v1/auth/staff-token/", {**s, "password": "wrong-password"}, 401),
            ("staff token: unknown username", "/api/v1/auth/staff-token/",
             {"username": "no-such-user-" + secrets.token_hex(4), "password": "wrong-password"}, 401),
        ]
        print(f"login latency, {a.requests} requests per case, one at a time, cases in turn (after a warm-up round):",
              flush=True)
        results = measure(url, cases, a.requests)
        for who in ("distributor token", "staff token"):
            p50 = [pct(results[f"{who}: {c}"], 50) for c in ("wrong password", "unknown username")]
            print(f"  {who}: unknown username / wrong password p50 ratio {p50[1] / p50[0]:.2f} "
                  "(1.00: the same cost, no enumeration by timing)", flush=True)
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        tmp.cleanup()


if __name__ == "__main__":
    main()
