"""fenxiao throughput benchmark ("Throughput at scale"): not a test, a measurement.

    .venv/bin/python bench/run.py [--scale 1] [--distributors N] [--orders M] [--worker-counts 1,2] ...
    make bench BENCH_ARGS="--scale 0"

Method
------
1. Setup (timed, not measured): drop and recreate the database `fenxiao_bench` on 127.0.0.1:5432,
   `manage.py migrate`, flush Redis database 9 (the broker). Through the services: tenant `bench`
   (tenant_create, CNY), a published plan (plan_publish: 10% / 5% / 2%), a partner API key
   (api_key_create); a second tenant `bench-floor` with the same plan for the floor. Then N
   distributors generated in Python (bench/datagen.py: heavy-tailed tree, top recruiters, chains
   30-60 deep) and loaded with COPY; a few of them (the top recruiters, chain ends and a random
   sample) get a portal password.
2. Floor (bench/floor.py): the rows of M paid orders (orders, lines, commission records, ledger
   entries, outbox events, balances) for `bench-floor`, computed with the product's arithmetic,
   written by COPY in one transaction into the same tables. Timed from the first COPY to COMMIT.
3. Servers: gunicorn (fenxiao.wsgi, as docker-compose.yml: 2 gthread workers of 4 threads, keep-alive) and one Celery
   worker (prefork, --concurrency C) on redis://127.0.0.1:6379/9, both with DEBUG off and
   DATABASE_URL pointing at the bench database. A warm-up batch is posted and computed first.
4. Intake, end to end: the M orders (status paid) are posted to POST /api/v1/orders/batch/ in
   bodies of up to 1000 (encoded beforehand) by a few client threads, each with its own persistent
   connection. Timed from the first POST until every one of them is answered 201 and the database
   shows none of the tenant's orders still `due` (polled every 0.2 s through the partial index of
   due orders); the intake-only rate stops at the last answer.
   Every item must answer 201. Repeated for each Celery concurrency in --worker-counts (new orders).
5. Single orders (with the Celery worker at --single-worker-concurrency, default 2 as in
   docker-compose): (a) closed loop: 32 client threads, each with a persistent connection, POST one
   order at a time to POST /api/v1/orders/ for a fixed time; req/s and p50/p99 (first 2 s
   excluded). (b) The single-order floor (bench/floor_app.py: a minimal WSGI app that authenticates
   the key and writes the same rows of one paid order per request with psycopg) under the same
   gunicorn settings and the same closed loop; fenxiao's rate as a fraction of it. (c) Open loop:
   --open-rate orders/s (default 300) due at fixed times for --open-seconds, sent on a pool of
   connections whatever the answers; latency p50/p99 measured from each request's due time, and
   the accrual lag (from the 201 to the poll, every 50 ms, that no longer sees the order `due`:
   its commission records are committed with that flip). Each phase also reports the CPU time per
   order of gunicorn, the Celery worker, the PostgreSQL backends and the load generator (from
   /proc: other work on the machine does not count).
6. Portal: the top recruiters, the chain ends and the sample log in (POST /api/v1/auth/token/),
   then GET /api/v1/me/downlines/?level=1|2|3, /api/v1/me/earnings/ and /api/v1/me/team/summary/
   round-robin, one request at a time, --portal-reps times each; p50/p99 per endpoint. Then the
   contest leaderboards (issue 11): the staff leaderboard (top 20), /api/v1/me/contests/ and a
   distributor's masked leaderboard, as many requests each as a portal row.
   With --webhooks N, N webhook endpoints of the tenant (webhooks.services.endpoint_create) are
   subscribed to every event type before the first intake run, all pointing at bench/receiver.py
   (a local server answering 200 at once); the servers relay them as production does (the
   outbox events ask for a relay run on commit; the Celery worker fans them out and POSTs). After
   each intake run the bench waits until every delivery of the run's events has succeeded and
   reports the delivery lag (event written -> 2xx recorded: p50, p99, max), the deliveries per
   second (first event to last delivery) and how long after the last commission the last one
   arrived. Compare the intake rows of runs with and without --webhooks (same scale).
7. Memory: a sampler reads VmHWM/VmRSS from /proc for gunicorn's master and workers and for
   every Celery process, every 0.5 s (the peak is the largest VmHWM seen).

Everything started is stopped on exit (errors and Ctrl-C too). The database is left for inspection
unless --drop-db; --reuse-db runs the later phases again on it (no setup, floor or intake). The table is printed and written with the machine and parameters to
bench/results/<timestamp>-<label>.md; server logs go to a temporary directory (printed).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import datagen, floor  # noqa: E402

VENV_BIN = REPO / ".venv" / "bin"
SCALES = {  # scale: (distributors, orders, single-order seconds)
    0: (20_000, 5_000, 15),
    1: (100_000, 20_000, 20),
    2: (1_000_000, 100_000, 30),
    3: (1_000_000, 1_000_000, 60),
}
RATES = {1: Decimal("0.10"), 2: Decimal("0.05"), 3: Decimal("0.02")}
PASSWORD = "bench-pass-123"
SLUG, FLOOR_SLUG = "bench", "bench-floor"
ENDPOINTS = [
    ("GET /me/downlines/?level=1", "/api/v1/me/downlines/?level=1"),
    ("GET /me/downlines/?level=2", "/api/v1/me/downlines/?level=2"),
    ("GET /me/downlines/?level=3", "/api/v1/me/downlines/?level=3"),
    ("GET /me/earnings/", "/api/v1/me/earnings/"),
    ("GET /me/team/summary/", "/api/v1/me/team/summary/"),
]
LAG_POLL = 0.05  # seconds between polls of the due orders (the accrual lag's resolution)
TARGETED = {"GET /me/downlines/?level=1", "GET /me/downlines/?level=2", "GET /me/downlines/?level=3", "GET /me/earnings/",
            "GET /me/team/summary/"}
STAFF_USER, STAFF_PASSWORD = "bench-pm", "bench-pm-password-1"


def log(msg: str = "") -> None:
    print(msg, flush=True)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


# -- processes and memory --------------------------------------------------------------------------

class Processes:
    """Servers started by the bench, each in its own process group; all stopped on exit."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict) -> subprocess.Popen:
        out = open(self.logdir / f"{name}.log", "ab")
        p = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop(self, p: subprocess.Popen, timeout: float = 20) -> None:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
            except ProcessLookupError:
                pass
        self.procs = [(n, q) for n, q in self.procs if q is not p]

    def stop_all(self) -> None:
        for _, p in list(self.procs):
            self.stop(p)


def _ppid_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    return children


def _tree(pid: int, children: dict[int, list[int]]) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _mem_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB, (0, 0) if gone."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process (seconds), 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class CpuMeter:
    """CPU seconds spent by each part of the system during a phase: the web server's process tree,
    the Celery worker's, the PostgreSQL backends connected to the bench database, and this
    process (the load generator). Other work on the machine does not count, so the per-order
    figures hold on a busy machine where latencies and rates do not."""

    def __init__(self, bench: "Bench", web_pid: int | None):
        self.bench, self.web_pid = bench, web_pid

    def _pids(self) -> dict[str, list[int]]:
        children = _ppid_map()
        out = {"web": _tree(self.web_pid, children) if self.web_pid else [],
               "worker": _tree(self.bench.celery.pid, children) if self.bench.celery is not None else []}
        if getattr(self.bench, "hooks_worker", None) is not None:   # --webhooks: its worker and the receiver
            out["webhooks worker"] = _tree(self.bench.hooks_worker.pid, children)
            out["receiver"] = _tree(self.bench.receiver.pid, children)
        with self.bench.conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            out["database"] = [r[0] for r in cur.fetchall()]
        return out

    def sample(self) -> dict[str, dict[int, float]]:
        got = {k: {p: _cpu_seconds(p) for p in v} for k, v in self._pids().items()}
        got["load generator"] = {0: sum(os.times()[:2])}
        return got

    def start(self) -> None:
        self.t0 = self.sample()

    def per_order(self, orders: int) -> dict[str, float]:
        """ms of CPU per order for each part (processes that appeared during the phase count from 0)."""
        t1 = self.sample()
        out = {}
        for part, now in t1.items():
            before = self.t0.get(part, {})
            out[part] = sum(v - before.get(p, 0.0) for p, v in now.items()) * 1000 / max(orders, 1)
        return out


def cpu_text(cpu: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()) + f" (total {sum(cpu.values()):.2f}) ms CPU per order"


class MemorySampler(threading.Thread):
    """Peak memory of each watched process tree: {name: {pid: peak kB}} (root pid listed too)."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval = interval
        self.roots: dict[str, int] = {}
        self.peak: dict[str, dict[int, int]] = {}
        self.stop_event = threading.Event()
        self.lock = threading.Lock()

    def watch(self, name: str, pid: int) -> None:
        with self.lock:
            self.roots[name] = pid
            self.peak.setdefault(name, {})

    def sample(self) -> None:
        children = _ppid_map()
        with self.lock:
            for name, root in self.roots.items():
                for pid in _tree(root, children):
                    rss, hwm = _mem_kb(pid)
                    best = max(rss, hwm)
                    if best > self.peak[name].get(pid, 0):
                        self.peak[name][pid] = best

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            self.sample()

    def report(self, name: str) -> tuple[int, int, int, int]:
        """(root peak MB, max child peak MB, sum of child peaks MB, child count) for one tree."""
        with self.lock:
            root = self.roots.get(name)
            peaks = dict(self.peak.get(name, {}))
        kids = {p: v for p, v in peaks.items() if p != root}
        mb = lambda kb: round(kb / 1024)  # noqa: E731
        return mb(peaks.get(root, 0)), mb(max(kids.values(), default=0)), mb(sum(kids.values())), len(kids)


# -- HTTP ------------------------------------------------------------------------------------------

class Client:
    """One persistent HTTP/1.1 connection (http.client reconnects when the server closes it)."""

    def __init__(self, port: int, headers: dict[str, str]):
        self.port = port
        self.headers = headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        self.retries = 0

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes, float]:
        h = dict(self.headers, **(headers or {}))
        if body is not None:
            h["Content-Type"] = "application/json"
        for attempt in range(2):
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data, time.perf_counter() - t0
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest):
                # an idle keep-alive connection the server had closed: nothing was processed
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
                self.retries += 1
                if attempt:
                    raise
        raise AssertionError("unreachable")


def wait_http(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode} (see its log)")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/api/v1/me/")
            c.getresponse().read()
            c.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer in time")


# -- the benchmark ---------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.a = args
        self.ts = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.logdir = Path(tempfile.mkdtemp(prefix=f"fenxiao-bench-{self.ts}-"))
        self.procs = Processes(self.logdir)
        self.mem = MemorySampler()
        self.rows: list[tuple[str, str, str, str]] = []  # metric, value, target, result
        self.details: list[str] = []
        self.setup_times: dict[str, float] = {}
        self.port = args.port
        db = args.db_name
        self.pg_admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
        self.pg = f"host=127.0.0.1 port=5432 user=postgres dbname={db}"
        self.db_url = f"postgres://postgres@127.0.0.1:5432/{db}"
        if args.conn_max_age is not None:
            self.db_url += f"?CONN_MAX_AGE={args.conn_max_age}"
        self.broker = args.broker
        self.server_env = dict(
            os.environ, DATABASE_URL=self.db_url, CELERY_BROKER_URL=self.broker, DEBUG="0", LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="fenxiao.settings", PYTHONUNBUFFERED="1",
            WEBHOOKS_ALLOW_PRIVATE="1",  # the receiver of --webhooks listens on 127.0.0.1 (no effect without endpoints)
            SECRET_KEY=os.environ.get("SECRET_KEY", "fenxiao-bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        )
        self.celery = None
        self.celery_conc = None
        self.run_tag = ""  # prefix of the order phases' external ids (--reuse-db: this run's own)
        self.celery_cmd = "(not started)"
        self.load_start = ", ".join(f"{x:.2f}" for x in os.getloadavg())

    # -- helpers --

    def add(self, metric: str, value: str, target: str = "", result: str = "") -> None:
        self.rows.append((metric, value, target, result))

    def timed(self, name: str):
        bench = self

        class _T:
            def __enter__(self):
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                bench.setup_times[name] = time.perf_counter() - self.t0
                log(f"  {name}: {bench.setup_times[name]:.1f}s")
        return _T()

    def sql(self, query: str, params=None):
        with self.conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchone()[0]

    # -- 1. setup --

    def setup(self) -> None:
        import psycopg
        import redis

        a = self.a
        if a.reuse_db:
            return self.setup_reuse()
        log(f"Setup: {a.distributors:,} distributors, {a.orders:,} orders (logs in {self.logdir})")
        t0 = time.perf_counter()
        with self.timed("recreate database"):
            with psycopg.connect(self.pg_admin, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{a.db_name}" WITH (FORCE)')
                c.execute(f'CREATE DATABASE "{a.db_name}"')
        with self.timed("migrate"):
            subprocess.run([str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO,
                           env=dict(self.server_env, CELERY_BROKER_URL=""), check=True)
        redis.Redis.from_url(self.broker).flushdb()
        with self.timed("tenants, plans, API key (services)"):
            os.environ.update(DATABASE_URL=self.db_url, CELERY_BROKER_URL="", DJANGO_SETTINGS_MODULE="fenxiao.settings",
                              WEBHOOKS_ALLOW_PRIVATE="1")
            import django

            django.setup()
            from django.contrib.auth.hashers import make_password

            from commissions.services import plan_publish
            from tenants.context import tenant_context
            from tenants.services import api_key_create, tenant_create

            spec = {lvl: ("percent", r) for lvl, r in RATES.items()}
            self.tenant = tenant_create(slug=SLUG, name="Bench Store", currency="CNY")
            self.floor_tenant = tenant_create(slug=FLOOR_SLUG, name="Bench Floor", currency="CNY")
            with tenant_context(self.tenant):
                plan_publish(tenant=self.tenant, default=spec, name="bench")
            with tenant_context(self.floor_tenant):
                self.floor_plan = plan_publish(tenant=self.floor_tenant, default=spec, name="bench")
            _, self.api_key = api_key_create(tenant=self.tenant, name="bench")
            _, self.floor_key = api_key_create(tenant=self.floor_tenant, name="floor")
            password_hash = make_password(PASSWORD)
        with self.timed("generate tree"):
            self.tree = datagen.build_tree(a.distributors, seed=a.seed)
        tree = self.tree
        import random

        rng = random.Random(a.seed)
        sample = rng.sample(range(tree.n), min(a.portal_sample, tree.n))
        self.logins = {"top": list(tree.top), "chain": list(tree.chain_ends[:3]), "sample": sample}
        login_set = {i for v in self.logins.values() for i in v}
        self.conn = psycopg.connect(self.pg)
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT COALESCE(max(id), 0) + 1 FROM {datagen.DIST_TABLE}")
            tree.base_id = cur.fetchone()[0]
        self.conn.commit()
        with self.timed("load distributors (generate + COPY + indexes + analyze)"):
            times = datagen.load_distributors(self.conn, tree, tenant_id=self.tenant.pk, password_hash=password_hash,
                                              logins=login_set, history=not a.no_history, seed=a.seed, log=log)
        self.conn.autocommit = True
        from distributors import selectors as dsel

        if hasattr(dsel, "tree_drift"):  # the product's own check of the tree's stored counters
            from tenants.context import tenant_context

            with self.timed("verify the loaded tree (distributors.selectors.tree_drift)"), tenant_context(self.tenant):
                drift = dsel.tree_drift()
            if drift:
                raise SystemExit(f"the loaded tree disagrees with tree_drift: {drift[:5]}")
        self.setup_times["total setup"] = time.perf_counter() - t0
        stats = datagen.tree_stats(tree, tree.top + self.logins["chain"])
        max_depth = max(tree.depth)
        roots = sum(1 for p in tree.parent if p < 0)
        self.details.append(f"Tree: {tree.n:,} distributors, {roots:,} roots, max depth {max_depth}, "
                            f"{len(tree.chain_ends)} chains of 30-60 ({len(tree.chain_nodes):,} distributors); "
                            f"load timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in times.items()))
        for i in tree.top:
            self.details.append(f"  top recruiter {datagen.ext_id(i)}: downlines L1/L2/L3 = "
                                + "/".join(f"{x:,}" for x in stats[i]))
        for i in self.logins["chain"]:
            self.details.append(f"  chain end {datagen.ext_id(i)}: depth {tree.depth[i]}")
        log("\n".join(self.details[-(len(tree.top) + len(self.logins['chain']) + 1):]))
        self.add("distributors (setup)", f"{tree.n:,} (max depth {max_depth})", "", f"{self.setup_times['total setup']:.0f}s setup")

    def setup_reuse(self) -> None:
        """--reuse-db: the database a previous run built with the same --distributors and --seed
        (its tree is generated again, deterministically, for the logins; nothing is loaded), a new
        API key for each tenant; the floor and the intake runs are skipped and the order phases
        tag their external ids with this run's time so they do not collide with the last run's."""
        import psycopg
        import redis

        a = self.a
        log(f"Setup: reusing {a.db_name} ({a.distributors:,} distributors expected; logs in {self.logdir})")
        t0 = time.perf_counter()
        redis.Redis.from_url(self.broker).flushdb()
        os.environ.update(DATABASE_URL=self.db_url, CELERY_BROKER_URL="", DJANGO_SETTINGS_MODULE="fenxiao.settings")
        import django

        django.setup()
        from commissions.models import CommissionPlan
        from tenants.context import tenant_context
        from tenants.models import Tenant
        from tenants.services import api_key_create

        self.tenant = Tenant.objects.get(slug=SLUG)
        self.floor_tenant = Tenant.objects.get(slug=FLOOR_SLUG)
        with tenant_context(self.floor_tenant):
            self.floor_plan = CommissionPlan.objects.order_by("-id").first()
        _, self.api_key = api_key_create(tenant=self.tenant, name=f"bench {self.ts}")
        _, self.floor_key = api_key_create(tenant=self.floor_tenant, name=f"floor {self.ts}")
        self.tree = datagen.build_tree(a.distributors, seed=a.seed)
        import random

        rng = random.Random(a.seed)
        sample = rng.sample(range(self.tree.n), min(a.portal_sample, self.tree.n))
        self.logins = {"top": list(self.tree.top), "chain": list(self.tree.chain_ends[:3]), "sample": sample}
        self.conn = psycopg.connect(self.pg, autocommit=True)
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT count(*), min(id) FROM {datagen.DIST_TABLE} WHERE tenant_id = %s", (self.tenant.pk,))
            n, base = cur.fetchone()
        if n < a.distributors:
            raise SystemExit(f"--reuse-db: {a.db_name} has {n:,} distributors in {SLUG}, fewer than {a.distributors:,}")
        self.tree.base_id = base
        self.run_tag = f"R{self.ts[-6:]}-"
        self.setup_times["total setup"] = time.perf_counter() - t0
        self.details.append(f"Reused the database {a.db_name} ({n:,} distributors in {SLUG}): no setup, floor or intake "
                            "in this run")
        self.add("distributors (reused database)", f"{n:,}", "", "")

    # -- 2. floor --

    def run_floor(self) -> None:
        a = self.a
        log(f"Floor: rendering {a.orders:,} orders' rows ...")
        t0 = time.perf_counter()
        self.conn.autocommit = False
        rendered = floor.render(self.conn, self.tree, m=a.orders, tenant_id=self.floor_tenant.pk,
                                plan_id=self.floor_plan.pk, rates=RATES, currency="CNY", seed=a.seed)
        log(f"  rendered in {time.perf_counter() - t0:.1f}s: " + ", ".join(f"{k} {v:,}" for k, v in rendered["counts"].items()))
        self.conn.autocommit = True
        self.conn.execute("CHECKPOINT")
        self.conn.autocommit = False
        timings = floor.write(self.conn, rendered)
        self.conn.autocommit = True
        self.floor_rate = a.orders / timings["total"]
        log(f"  written in {timings['total']:.2f}s = {self.floor_rate:,.0f} orders/s ("
            + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items() if k != "total") + ")")
        self.details.append("Floor rows: " + ", ".join(f"{k} {v:,}" for k, v in rendered["counts"].items())
                            + "; COPY timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
        self.add("floor: COPY of the same rows", f"{self.floor_rate:,.0f} orders/s", "", f"{timings['total']:.1f}s")
        with self.conn.cursor() as cur:
            for t in ("orders_order", "orders_orderline", "commissions_commissionrecord", "ledger_ledgerentry",
                      "ledger_balance", "ledger_outboxevent"):
                cur.execute(f"ANALYZE {t}")
            cur.execute("CHECKPOINT")

    # -- 3. servers --

    def gunicorn_args(self, port: int) -> list[str]:
        a = self.a
        args = ["--bind", f"127.0.0.1:{port}", "--no-control-socket", "--workers", str(a.gunicorn_workers),
                "--worker-class", a.gunicorn_class, "--timeout", str(a.gunicorn_timeout), "--backlog", "2048",
                "--keep-alive", "75"]
        if a.gunicorn_class == "gthread":
            args += ["--threads", str(a.gunicorn_threads)]
        return args

    def start_gunicorn(self) -> None:
        cmd = [str(VENV_BIN / "gunicorn"), "fenxiao.wsgi:application", *self.gunicorn_args(self.port)]
        self.gunicorn_cmd = " ".join(cmd[1:])
        log(f"Starting gunicorn: {self.gunicorn_cmd}")
        self.gunicorn = self.procs.start("gunicorn", cmd, self.server_env)
        self.mem.watch("gunicorn", self.gunicorn.pid)
        wait_http(self.port, self.gunicorn)

    def start_celery(self, concurrency: int) -> None:
        if self.celery is not None:
            self.procs.stop(self.celery, timeout=60)
        cmd = [str(VENV_BIN / "celery"), "-A", "fenxiao", "worker", "--pool", self.a.celery_pool, "--concurrency",
               str(concurrency), "--loglevel", "WARNING", "-n", f"bench{concurrency}@%h", "--without-gossip",
               "--without-mingle", "-Q", "celery"]
        self.celery_cmd = " ".join(cmd[1:])
        log(f"Starting Celery: {self.celery_cmd}")
        name = f"celery-{'t' if self.a.celery_pool == 'threads' else 'c'}{concurrency}"
        self.celery = self.procs.start(name, cmd, self.server_env)
        self.celery_conc = concurrency
        self.mem.watch(name, self.celery.pid)
        self.intake(prefix=f"{self.run_tag}WARM{concurrency}-", m=min(50, self.a.orders), clients=1, batch=25, record=False)

    # -- 4. intake --

    def start_counting(self) -> None:
        """Start a phase: count the tenant's orders once; the phase's threads add their 201s."""
        self.orders_base = self.sql("SELECT count(*) FROM orders_order WHERE tenant_id = %s", (self.tenant.pk,))
        self.new_201 = 0

    def done_count(self) -> int:
        """Orders of the tenant whose commissions are computed: those recorded minus those still
        `due` (counted through the small partial index of due orders, so polling every 0.2 s
        costs the database next to nothing whatever the table's size)."""
        due = self.sql("SELECT count(*) FROM orders_order WHERE tenant_id = %s AND commission_state = 'due'",
                       (self.tenant.pk,))
        return self.orders_base + self.new_201 - due

    def wait_done(self, target: int, posted: threading.Event | None = None, stall: float = 180) -> float:
        """Poll until `target` orders of the tenant are done; returns the time (perf_counter) seen."""
        last, last_change, last_print = -1, time.perf_counter(), time.perf_counter()
        while True:
            n = self.done_count()
            now = time.perf_counter()
            if n >= target:
                return now
            if n != last:
                last, last_change = n, now
            elif now - last_change > stall and (posted is None or posted.is_set()):
                raise SystemExit(f"No commission progress for {stall:.0f}s ({n:,}/{target:,} done); "
                                 f"see {self.logdir}/celery-*.log")
            if self.celery.poll() is not None:
                raise SystemExit(f"the Celery worker exited ({self.celery.returncode}); see {self.logdir}")
            if now - last_print > 10:
                log(f"    {n - self.base_done:,}/{target - self.base_done:,} orders computed")
                last_print = now
            time.sleep(0.2)

    def intake(self, *, prefix: str, m: int, clients: int, batch: int, record: bool = True) -> None:
        stream = datagen.OrderStream(self.tree, prefix=prefix, seed=self.a.seed)
        payloads = [stream.payload(k)[0] for k in range(m)]
        bodies = [json.dumps({"orders": payloads[i:i + batch]}).encode() for i in range(0, m, batch)]
        del payloads
        self.start_counting()
        self.base_done = self.done_count()
        records0 = self.sql("SELECT count(*) FROM commissions_commissionrecord WHERE tenant_id = %s", (self.tenant.pk,))
        work: queue.Queue = queue.Queue()
        for b in bodies:
            work.put(b)
        statuses: dict[int, int] = {}
        errors: list[str] = []
        ends: list[float] = []
        latencies: list[float] = []
        lock = threading.Lock()
        posted = threading.Event()

        def worker():
            c = Client(self.port, {"Authorization": f"Api-Key {self.api_key}"})
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    status, data, dt = c.call("POST", "/api/v1/orders/batch/", body)
                except Exception as exc:  # noqa: BLE001 - reported below
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                end = time.perf_counter()
                with lock:
                    ends.append(end)
                    latencies.append(dt)
                    if status != 207:
                        statuses[status] = statuses.get(status, 0) + 1
                        errors.append(f"HTTP {status}: {data[:300]!r}")
                        continue
                    for item in json.loads(data)["results"]:
                        statuses[item["status"]] = statuses.get(item["status"], 0) + 1
                        self.new_201 += item["status"] == 201
                        if item["status"] != 201 and len(errors) < 5:
                            errors.append(f"item {item['status']}: {json.dumps(item['body'])[:300]}")

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
        meter = CpuMeter(self, self.gunicorn.pid)
        meter.start()
        wall0 = self.sql("SELECT now()")  # the database's clock: the events' created_at are compared with it
        t0 = time.perf_counter()
        for t in threads:
            t.start()

        def joiner():
            for t in threads:
                t.join()
            posted.set()

        threading.Thread(target=joiner, daemon=True).start()
        t_done = self.wait_done(self.base_done + m, posted)
        posted.wait()
        cpu = meter.per_order(m)
        t_posted = max(ends) if ends else time.perf_counter()
        if errors or statuses.get(201, 0) != m:
            raise SystemExit(f"Intake {prefix}: statuses {statuses}, errors: {errors[:5]}")
        if not record:
            if self.a.webhooks:   # the warm-up's deliveries are done before a measured run starts
                self.webhook_deliveries(since=wall0, commissions_done=t_done - t0, record=False)
            return
        e2e, intake = m / (t_done - t0), m / (t_posted - t0)
        records = self.sql("SELECT count(*) FROM commissions_commissionrecord WHERE tenant_id = %s",
                           (self.tenant.pk,)) - records0
        c = self.celery_conc
        who = (f"1 Celery process ({c} threads)" if self.a.celery_pool == "threads"
               else f"{c} Celery process{'es' if c > 1 else ''}")
        log(f"  {m:,} orders: intake {t_posted - t0:.1f}s ({intake:,.0f}/s), all commissions at {t_done - t0:.1f}s "
            f"({e2e:,.0f}/s), {records:,} commission records; batch POST p50 {pct(latencies, 50):.2f}s "
            f"max {max(latencies):.2f}s")
        self.add(f"intake end-to-end, {who}", f"{e2e:,.1f} orders/s",
                 ">= 30% of floor", f"{e2e / self.floor_rate:.1%} of floor " + ("PASS" if e2e >= 0.3 * self.floor_rate else "FAIL"))
        self.add(f"intake only (last 207 answered), {who}", f"{intake:,.1f} orders/s", "",
                 f"{t_posted - t0:.1f}s for {m:,}")
        self.details.append(f"Intake with Celery concurrency {c}: {m:,} orders in {len(bodies)} batches of {batch} by "
                            f"{clients} clients; all 201; {records:,} commission records; batch POST latency "
                            f"p50 {pct(latencies, 50):.2f}s p99 {pct(latencies, 99):.2f}s max {max(latencies):.2f}s; "
                            f"last answer at {t_posted - t0:.1f}s, last commission at {t_done - t0:.1f}s; "
                            f"{cpu_text(cpu)}")
        log(f"  intake CPU per order: {cpu_text(cpu)}")
        if self.a.webhooks:
            self.webhook_deliveries(since=wall0, commissions_done=t_done - t0)

    # -- webhooks (--webhooks N) --

    def start_webhooks(self) -> None:
        """Start bench/receiver.py on a free port and subscribe N endpoints of the tenant to every
        event type (through the service, as the API does), each at its own path."""
        import socket

        from tenants.context import tenant_context
        from webhooks.events import EVENT_TYPES
        from webhooks.services import endpoint_create

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.receiver = self.procs.start("receiver", [str(VENV_BIN / "python"), "bench/receiver.py", "--port", str(port)],
                                         self.server_env)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("the webhook receiver did not start (see its log)")
        with tenant_context(self.tenant):
            for i in range(self.a.webhooks):
                endpoint_create(tenant=self.tenant, url=f"http://127.0.0.1:{port}/hook/{i}", events=list(EVENT_TYPES),
                                description=f"bench receiver {i}")
        # the webhooks queue's own worker, as docker-compose.yml's `webhooks` service
        cmd = [str(VENV_BIN / "celery"), "-A", "fenxiao", "worker", "--pool", "prefork", "--concurrency",
               str(self.a.webhook_concurrency), "--loglevel", "WARNING", "-n", "benchhooks@%h", "--without-gossip",
               "--without-mingle", "-Q", "webhooks"]
        self.hooks_worker_cmd = (f"(nice -n {self.a.webhook_nice}) " if self.a.webhook_nice else "") + " ".join(cmd[1:])
        if self.a.webhook_nice:   # a lower CPU priority: on a small host the deliveries yield to intake and accrual
            cmd = ["nice", "-n", str(self.a.webhook_nice), *cmd]
        self.hooks_worker = self.procs.start("celery-webhooks", cmd, self.server_env)
        self.mem.watch("celery-webhooks", self.hooks_worker.pid)
        log(f"Webhooks: {self.a.webhooks} endpoint(s) subscribed to every event type, receiver on 127.0.0.1:{port}; "
            f"Celery: {self.hooks_worker_cmd}")

    def webhook_deliveries(self, *, since, commissions_done: float, stall: float = 120, record: bool = True) -> None:
        """Wait until every event the tenant wrote since `since` (the database's clock at the start
        of the intake run) is fanned out and each of its deliveries succeeded; report the lag
        (event created -> 2xx recorded), the rate and the tail after the last commission."""
        tid = self.tenant.pk
        events = self.sql("SELECT count(*) FROM ledger_outboxevent WHERE tenant_id = %s AND created_at >= %s", (tid, since))
        want = events * self.a.webhooks
        last, last_change, last_print = -1, time.perf_counter(), time.perf_counter()
        while True:
            undispatched = self.sql("SELECT count(*) FROM ledger_outboxevent WHERE tenant_id = %s AND created_at >= %s "
                                    "AND dispatched_at IS NULL", (tid, since))
            done = self.sql("SELECT count(*) FROM webhooks_delivery d JOIN ledger_outboxevent e ON e.id = d.event_id "
                            "WHERE d.tenant_id = %s AND e.created_at >= %s AND d.status = 'succeeded'", (tid, since))
            now = time.perf_counter()
            if not undispatched and done >= want:
                break
            if done != last:
                last, last_change = done, now
            elif now - last_change > stall:
                raise SystemExit(f"No webhook delivery progress for {stall:.0f}s ({done:,}/{want:,}); see {self.logdir}")
            if now - last_print > 10:
                log(f"    webhooks: {done:,}/{want:,} delivered")
                last_print = now
            time.sleep(0.2)
        if not record:
            return
        with self.conn.cursor() as cur:
            cur.execute("SELECT extract(epoch FROM d.delivered_at - e.created_at), d.attempts FROM webhooks_delivery d "
                        "JOIN ledger_outboxevent e ON e.id = d.event_id WHERE d.tenant_id = %s AND e.created_at >= %s",
                        (tid, since))
            rows = cur.fetchall()
            cur.execute("SELECT extract(epoch FROM max(d.delivered_at) - min(e.created_at)), "
                        "extract(epoch FROM max(d.delivered_at) - %s) FROM webhooks_delivery d "
                        "JOIN ledger_outboxevent e ON e.id = d.event_id WHERE d.tenant_id = %s AND e.created_at >= %s",
                        (since, tid, since))
            span, last_at = cur.fetchone()
        lags = [float(r[0]) for r in rows]
        retried = sum(1 for r in rows if r[1] > 1)
        rate = len(rows) / float(span) if span else float("nan")
        tail = float(last_at) - commissions_done
        log(f"  webhooks: {len(rows):,} deliveries ({events:,} events x {self.a.webhooks} endpoints), lag p50 "
            f"{pct(lags, 50):.2f}s p99 {pct(lags, 99):.2f}s max {max(lags):.2f}s, {rate:,.0f} deliveries/s, "
            f"last one {tail:.1f}s after the last commission, {retried} retried")
        who = f"{self.a.webhooks} endpoint{'s' if self.a.webhooks > 1 else ''}, Celery concurrency {self.celery_conc}"
        self.add(f"webhook delivery lag (event -> 2xx), {who}", f"p50 {pct(lags, 50):.2f}s p99 {pct(lags, 99):.2f}s",
                 "", f"max {max(lags):.2f}s")
        self.add(f"webhook deliveries, {who}", f"{rate:,.1f}/s", "",
                 f"{len(rows):,} in {float(span):.1f}s, last {tail:.1f}s after the last commission, {retried} retried")
        self.details.append(f"Webhooks with Celery concurrency {self.celery_conc}: {events:,} events x {self.a.webhooks} "
                            f"endpoints = {len(rows):,} deliveries, all 2xx ({retried} needed more than one attempt); "
                            f"lag event -> 2xx p50 {pct(lags, 50):.2f}s p99 {pct(lags, 99):.2f}s max {max(lags):.2f}s; "
                            f"{rate:,.1f} deliveries/s from the first event to the last delivery ({float(span):.1f}s); the "
                            f"last one {tail:.1f}s after the last commission of the run")

    # -- 5. single orders --

    def closed_loop(self, *, port: int, key: str, prefix: str, seconds: float, clients: int, warm: float = 2.0,
                    count_201: bool = True, web_pid: int | None = None) -> dict:
        """`clients` threads, each with a persistent connection, POST one order at a time for
        `warm` + `seconds`; the requests finished after the warm-up are measured."""
        results: list[list[tuple[float, float, int]]] = [[] for _ in range(clients)]
        errors: list[str] = []
        count_lock = threading.Lock()
        t0 = time.perf_counter()
        stop_at = t0 + warm + seconds
        meter = CpuMeter(self, web_pid)
        timer = threading.Timer(warm, meter.start)
        timer.start()

        def worker(idx: int):
            c = Client(port, {"Authorization": f"Api-Key {key}"})
            stream = datagen.OrderStream(self.tree, prefix=f"{prefix}{idx:02d}-", seed=self.a.seed)
            k = 0
            while time.perf_counter() < stop_at:
                body = json.dumps(stream.payload(k)[0]).encode()
                k += 1
                try:
                    status, data, dt = c.call("POST", "/api/v1/orders/", body)
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                results[idx].append((time.perf_counter(), dt, status))
                if status == 201 and count_201:
                    with count_lock:
                        self.new_201 += 1
                if status != 201 and len(errors) < 5:
                    errors.append(f"HTTP {status}: {data[:300]!r}")

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        allr = [r for rs in results for r in rs]
        measured = [r for r in allr if r[0] >= t0 + warm]
        cpu = meter.per_order(len(measured))  # the accrual of the last orders is still to come
        span = max(r[0] for r in measured) - (t0 + warm) if measured else 1
        lat = [r[1] * 1000 for r in measured] or [float("nan")]
        ok = sum(1 for r in allr if r[2] == 201)
        return {"rate": len(measured) / span, "lat": lat, "ok": ok, "all": len(allr), "measured": len(measured),
                "errors": errors, "cpu": cpu}

    def single_orders(self) -> None:
        a = self.a
        n_clients, duration = a.single_clients, a.single_seconds
        log(f"Single orders: {n_clients} clients x {duration}s on POST /api/v1/orders/ ...")
        self.start_counting()
        self.base_done = self.done_count()
        r = self.closed_loop(port=self.port, key=self.api_key, prefix=f"{self.run_tag}S", seconds=duration, clients=n_clients,
                             web_pid=self.gunicorn.pid)
        rate, lat, ok = r["rate"], r["lat"], r["ok"]
        log(f"  CPU per order: {cpu_text(r['cpu'])}")
        log(f"  {r['measured']:,} requests = {rate:,.0f}/s; p50 {pct(lat, 50):.1f} ms, "
            f"p99 {pct(lat, 99):.1f} ms, max {max(lat):.1f} ms; non-201: {r['all'] - ok}")
        self.single_rate = rate
        self.add(f"single order POST, {n_clients} clients (closed loop)",
                 f"{rate:,.0f} req/s, p50 {pct(lat, 50):.1f} / p99 {pct(lat, 99):.1f} ms", "", "")
        if r["errors"] or ok != r["all"]:
            self.add("single order POST errors", f"{r['all'] - ok} of {r['all']}", "0", "FAIL")
            self.details.append("Single-order errors: " + "; ".join(r["errors"][:5]))
        t1 = time.perf_counter()
        t_done = self.wait_done(self.base_done + ok)
        self.details.append(f"Single orders, closed loop, CPU per order while measured: {cpu_text(r['cpu'])}")
        self.details.append(f"Single orders, closed loop: {r['all']:,} posted ({r['measured']:,} measured after a 2s "
                            f"warm-up), max latency {max(lat):.1f} ms; the Celery backlog drained "
                            f"{t_done - t1:.1f}s after the last answer")

    def single_floor(self) -> None:
        """The single-order floor (bench/floor_app.py) under the same gunicorn settings and the same
        closed-loop clients; fenxiao's closed-loop rate as a fraction of it."""
        a = self.a
        port = self.port + 1
        env = dict(self.server_env, FLOOR_DSN=self.pg, FLOOR_TENANT_ID=str(self.floor_tenant.pk),
                   FLOOR_TREE_TENANT_ID=str(self.tenant.pk), FLOOR_PLAN_ID=str(self.floor_plan.pk),
                   FLOOR_RATES=",".join(str(RATES[k]) for k in sorted(RATES)))
        cmd = [str(VENV_BIN / "gunicorn"), "bench.floor_app:application", *self.gunicorn_args(port)]
        log(f"Single-order floor: bench/floor_app.py under gunicorn {' '.join(cmd[2:])} ...")
        proc = self.procs.start("gunicorn-floor", cmd, env)
        try:
            deadline = time.time() + 60
            while True:  # any answer (401 without a key) means it is up
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    c.request("POST", "/", body=b"{}")
                    c.getresponse().read()
                    c.close()
                    break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        raise SystemExit("the floor app did not start (see gunicorn-floor.log)")
                    time.sleep(0.2)
            r = self.closed_loop(port=port, key=self.floor_key, prefix=f"{self.run_tag}FS", seconds=a.single_seconds,
                                 clients=a.single_clients, count_201=False, web_pid=proc.pid)
        finally:
            self.procs.stop(proc)
        lat = r["lat"]
        self.details.append(f"Single-order floor, CPU per order: {cpu_text(r['cpu'])} (the worker's share is "
                            f"fenxiao's backlog, if any)")
        log(f"  floor CPU per order: {cpu_text(r['cpu'])}")
        log(f"  floor: {r['measured']:,} requests = {r['rate']:,.0f}/s; p50 {pct(lat, 50):.1f} ms, "
            f"p99 {pct(lat, 99):.1f} ms; non-201: {r['all'] - r['ok']} {r['errors'][:2]}")
        if r["ok"] != r["all"]:
            self.add("single-order floor errors", f"{r['all'] - r['ok']} of {r['all']}", "0", "FAIL")
            self.details.append("Floor errors: " + "; ".join(r["errors"][:5]))
        self.add(f"single-order floor (minimal WSGI app, same gunicorn), {a.single_clients} clients",
                 f"{r['rate']:,.0f} req/s, p50 {pct(lat, 50):.1f} / p99 {pct(lat, 99):.1f} ms", "", "")
        ratio = getattr(self, "single_rate", 0) / r["rate"] if r["rate"] else float("nan")
        self.add("single order POST rate / floor rate", f"{ratio:.1%}", "(reported)", "")

    def open_loop(self) -> None:
        """A fixed arrival rate: request i is due at t0 + i/rate whatever happened to the others
        (a pool of connections sends each at its time; a late send counts its wait, so queueing
        shows in the latency instead of slowing the arrivals). Latency p50/p99 from the due time;
        accrual lag = from the 201 to the first poll (every LAG_POLL s) that no longer sees the
        order `due` (its records are committed with that flip)."""
        a = self.a
        rate, seconds, pool = a.open_rate, a.open_seconds, a.open_connections
        n = int(rate * seconds)
        stream = datagen.OrderStream(self.tree, prefix=f"{self.run_tag}O-", seed=a.seed)
        items = []
        for k in range(n):
            payload = stream.payload(k)[0]
            items.append((payload["external_id"], json.dumps(payload).encode()))
        log(f"Open loop: {rate}/s for {seconds}s ({n:,} orders, up to {pool} connections) ...")
        self.start_counting()
        self.base_done = self.done_count()
        answered: dict[str, float] = {}  # external_id -> time of its 201 (perf_counter)
        lat: list[float] = []
        bad: list[str] = []
        lock = threading.Lock()
        nxt = iter(range(n))
        t0 = time.perf_counter() + 0.5
        stop = threading.Event()
        lags: dict[str, float] = {}
        polls = [0]

        def sender():
            c = Client(self.port, {"Authorization": f"Api-Key {self.api_key}"})
            while True:
                with lock:
                    i = next(nxt, None)
                if i is None:
                    return
                due = t0 + i / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                ext, body = items[i]
                try:
                    status, data, _ = c.call("POST", "/api/v1/orders/", body)
                except Exception as exc:  # noqa: BLE001
                    with lock:
                        bad.append(f"{type(exc).__name__}: {exc}")
                    continue
                end = time.perf_counter()
                with lock:
                    lat.append((end - due) * 1000)
                    if status == 201:
                        answered[ext] = end
                        self.new_201 += 1
                    elif len(bad) < 5:
                        bad.append(f"HTTP {status}: {data[:200]!r}")

        def poller():
            import psycopg

            conn = psycopg.connect(self.pg, autocommit=True)
            sql = ("SELECT external_id FROM orders_order WHERE tenant_id = %s AND commission_state = 'due'"
                   f" AND external_id LIKE '{self.run_tag}O-%%'")
            while not stop.is_set():
                started = time.perf_counter()
                with lock:
                    waiting = [(e, t) for e, t in answered.items() if e not in lags]
                due_now = {r[0] for r in conn.execute(sql, (self.tenant.pk,)).fetchall()}
                polls[0] += 1
                for ext, t in waiting:
                    if t < started and ext not in due_now:
                        lags[ext] = started - t
                time.sleep(max(0.0, LAG_POLL - (time.perf_counter() - started)))
            conn.close()

        threads = [threading.Thread(target=sender, daemon=True) for _ in range(pool)]
        meter = CpuMeter(self, self.gunicorn.pid)
        meter.start()
        lag_thread = threading.Thread(target=poller, daemon=True)
        lag_thread.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t_end = time.perf_counter()
        ok = len(answered)
        deadline = time.perf_counter() + 120
        while len(lags) < ok and time.perf_counter() < deadline:
            time.sleep(0.1)
        stop.set()
        lag_thread.join()
        cpu = meter.per_order(ok)  # every order answered and accrued (or the lag wait timed out)
        achieved = ok / (t_end - t0)
        lag_ms = [v * 1000 for v in lags.values()] or [float("nan")]
        p50, p99 = pct(lat, 50), pct(lat, 99)
        log(f"  {ok:,} of {n:,} answered 201 in {t_end - t0:.1f}s ({achieved:,.0f}/s); latency p50 {p50:.1f} ms "
            f"p99 {p99:.1f} ms max {max(lat):.1f} ms; accrual lag p50 {pct(lag_ms, 50):.0f} ms p99 "
            f"{pct(lag_ms, 99):.0f} ms ({len(lags):,} measured, {polls[0]} polls); errors {bad[:3]}")
        sustained = ok == n and achieved >= 0.97 * rate
        self.add(f"single orders open loop at {rate}/s for {seconds}s", f"{achieved:,.0f}/s answered 201",
                 f">= {rate}/s sustained", "PASS" if sustained and rate >= 300 else "FAIL")
        self.add("open loop latency (from the due time)", f"p50 {p50:.1f} / p99 {p99:.1f} ms", "p99 < 50 ms",
                 "PASS" if p99 < 50 else "FAIL")
        self.add("accrual lag (201 to commission records)", f"p50 {pct(lag_ms, 50):.0f} / p99 {pct(lag_ms, 99):.0f} ms",
                 "p99 < 2 s", "PASS" if pct(lag_ms, 99) < 2000 and len(lags) == ok else "FAIL")
        log(f"  open loop CPU per order (answer and accrual): {cpu_text(cpu)}")
        self.details.append(f"Open loop, CPU per order, answer and accrual: {cpu_text(cpu)}")
        self.details.append(f"Open loop: {n:,} orders due at {rate}/s over {seconds}s on up to {pool} persistent "
                            f"connections; {ok:,} answered 201 by {t_end - t0:.1f}s; latency max {max(lat):.1f} ms; "
                            f"accrual lag measured for {len(lags):,} orders by polling the due orders every "
                            f"{LAG_POLL * 1000:.0f} ms (resolution), max {max(lag_ms):.0f} ms; errors: {bad[:5]}")
        self.wait_done(self.base_done + ok)

    # -- 6. portal --

    def portal(self) -> None:
        a = self.a
        log("Portal: logins ...")
        c = Client(self.port, {})
        tokens: list[tuple[str, str]] = []
        login_ms = []
        for kind, idxs in self.logins.items():
            for i in idxs:
                body = json.dumps({"tenant": SLUG, "username": datagen.ext_id(i), "password": PASSWORD}).encode()
                status, data, dt = c.call("POST", "/api/v1/auth/token/", body)
                if status != 200:
                    raise SystemExit(f"login {datagen.ext_id(i)}: HTTP {status} {data[:200]!r}")
                login_ms.append(dt * 1000)
                tokens.append((kind, json.loads(data)["access"]))
        log(f"  {len(tokens)} logins, p50 {pct(login_ms, 50):.0f} ms")
        lat: dict[str, list[float]] = {name: [] for name, _ in ENDPOINTS}
        lat_top: dict[str, list[float]] = {name: [] for name, _ in ENDPOINTS}
        bad = []
        log(f"  {a.portal_reps} rounds x {len(tokens)} distributors x {len(ENDPOINTS)} endpoints ...")
        for _ in range(a.portal_reps):
            for kind, token in tokens:
                for name, path in ENDPOINTS:
                    status, data, dt = c.call("GET", path, headers={"Authorization": f"Bearer {token}"})
                    if status != 200:
                        bad.append(f"{name} {status} {data[:200]!r}")
                    lat[name].append(dt * 1000)
                    if kind == "top":
                        lat_top[name].append(dt * 1000)
        for name, _ in ENDPOINTS:
            p50, p99 = pct(lat[name], 50), pct(lat[name], 99)
            target = "p99 < 15 ms" if name in TARGETED else "(no target)"
            result = ("PASS" if p99 < 15 else "FAIL") if name in TARGETED else ""
            self.add(f"portal {name}", f"p50 {p50:.1f} / p99 {p99:.1f} ms", target, result)
            self.details.append(f"Portal {name}: top recruiters only p50 {pct(lat_top[name], 50):.1f} ms "
                                f"p99 {pct(lat_top[name], 99):.1f} ms max {max(lat_top[name]):.1f} ms; "
                                f"all max {max(lat[name]):.1f} ms ({len(lat[name])} requests)")
        self.add("portal login POST /auth/token/", f"p50 {pct(login_ms, 50):.0f} ms", "(no target)", "")
        self.incentives(c, tokens, bad)
        if bad:
            self.add("portal errors", str(len(bad)), "0", "FAIL")
            self.details.append("Portal errors: " + "; ".join(bad[:5]))

    def incentives(self, c: "Client", tokens: list[tuple[str, str]], bad: list[str]) -> None:
        """Contest leaderboards at scale (issue 11): a direct_sales contest over the last 30 local
        days (every order the intake phases posted), created through the service (a reused
        database keeps its own); then, one request at a time, the staff leaderboard (top 20), a
        distributor's contests with its rank (/me/contests/) and its masked leaderboard, as many
        requests each as a portal row (--portal-reps rounds over the logged-in distributors; the
        staff one repeats its single caller), and this month's rankings (/me/rankings/, direct and
        team sales; the tenant's show_rankings turned on; the first request of each, which makes
        the month's ranking board, is reported apart). Target p99 < 15 ms."""
        from datetime import timedelta as td
        from zoneinfo import ZoneInfo

        from django.contrib.auth.models import Permission, User

        from incentives.services import contest_create
        from tenants.context import tenant_context
        from tenants.models import StaffMembership, Tenant

        tenant = Tenant.objects.get(slug=SLUG)
        today = datetime.now(ZoneInfo(tenant.timezone)).date()
        tz = ZoneInfo(tenant.timezone)
        with tenant_context(tenant):
            from incentives.models import Contest

            # a reused database (--reuse-db) keeps the contest of the run that built it
            contest = Contest.objects.filter(name="bench sprint", finalized_at__isnull=True).order_by("-id").first()
            contest = contest or contest_create(
                tenant=tenant, name="bench sprint", measure="direct_sales", prizes=["500.00", "300.00", "100.00"],
                starts_at=datetime.combine(today - td(days=31), datetime.min.time(), tz),
                ends_at=datetime.combine(today + td(days=1), datetime.min.time(), tz))
        with self.conn.cursor() as cur:  # the scores just written (see analyze(): autovacuum's job in production)
            cur.execute("ANALYZE incentives_contestscore")
        user = User.objects.filter(username=STAFF_USER).first() or User.objects.create_user(
            STAFF_USER, password=STAFF_PASSWORD, is_staff=True)
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="incentives"))
        StaffMembership.objects.get_or_create(user=user, defaults={"tenant": tenant})
        status, data, _ = c.call("POST", "/api/v1/auth/staff-token/",
                                 json.dumps({"username": STAFF_USER, "password": STAFF_PASSWORD}).encode())
        if status != 200:
            bad.append(f"staff login {status} {data[:200]!r}")
            return
        staff = json.loads(data)["access"]
        calls = [("GET /admin/contests/{id}/leaderboard/ (staff, top 20)",
                  f"/api/v1/admin/contests/{contest.public_id}/leaderboard/?limit=20", [("staff", staff)]),
                 ("GET /me/contests/", "/api/v1/me/contests/", tokens),
                 ("GET /me/contests/{id}/leaderboard/", f"/api/v1/me/contests/{contest.public_id}/leaderboard/", tokens),
                 ("GET /me/rankings/ (this month, direct sales)", "/api/v1/me/rankings/", tokens),
                 ("GET /me/rankings/?measure=team_sales", "/api/v1/me/rankings/?measure=team_sales", tokens)]
        if not tenant.show_rankings:  # the brand shows rankings to its distributors
            tenant.show_rankings = True
            tenant.save(update_fields=["show_rankings"])
        for _, path, who in calls[-2:]:  # the month's ranking boards are made by their first request
            status, data, dt = c.call("GET", path, headers={"Authorization": f"Bearer {who[0][1]}"})
            self.details.append(f"{path}: first request (makes the month's ranking board) {dt * 1000:.0f} ms")
        with self.conn.cursor() as cur:
            cur.execute("ANALYZE incentives_rankingscore")
        # every endpoint gets as many requests as the portal rows (rounds x distributors): the staff
        # leaderboard, which has one caller, repeats it (20 requests made its p99 the slowest one)
        n = self.a.portal_reps * len(tokens)
        log(f"  contest leaderboards: {n} requests per endpoint ...")
        for name, path, who in calls:
            times = []
            for i in range(n):
                token = who[i % len(who)][1]
                status, data, dt = c.call("GET", path, headers={"Authorization": f"Bearer {token}"})
                if status != 200:
                    bad.append(f"{name} {status} {data[:200]!r}")
                times.append(dt * 1000)
            p50, p99 = pct(times, 50), pct(times, 99)
            self.add(f"incentives {name}", f"p50 {p50:.1f} / p99 {p99:.1f} ms", "p99 < 15 ms", "PASS" if p99 < 15 else "FAIL")
            self.details.append(f"Incentives {name}: {len(times)} requests by {len(who)} caller(s), max {max(times):.1f} ms")
        with tenant_context(tenant):
            from incentives.models import DailyFigure

            self.details.append(f"Contest leaderboards and rankings over {DailyFigure.objects.count():,} day figures "
                                f"({tenant.slug}, 31 local days).")

    def login_latency(self) -> None:
        """Login latency with the production password hasher (bench/login.py: its own SQLite
        database and gunicorn, one request at a time): p50/p99 of a right password, a wrong one and
        an unknown username on the distributor and staff token endpoints (the last two should cost
        the same: no username enumeration by timing)."""
        import re

        log("Login latency (bench/login.py, production hasher) ...")
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
        r = subprocess.run([sys.executable, str(REPO / "bench" / "login.py"), "--requests", str(self.a.login_requests)],
                           env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
        if r.returncode:
            log(f"  bench/login.py failed ({r.returncode}): {r.stderr[-500:]}")
            return
        log(r.stdout.strip())
        for label, p50, p99 in re.findall(r"^\s+(.+?)\s+p50\s+([0-9.]+)\s+p99\s+([0-9.]+)", r.stdout, re.M):
            self.add(f"login {label}", f"p50 {float(p50):.0f} / p99 {float(p99):.0f} ms", "(no target)", "")
        for who, ratio in re.findall(r"^\s+(.+?): unknown username / wrong password p50 ratio ([0-9.]+)", r.stdout, re.M):
            self.add(f"login {who}: unknown / wrong password", f"{ratio} x", "about 1 (no enumeration)", "")

    # -- report --

    def memory_rows(self) -> None:
        self.mem.sample()
        g_root, g_max, g_sum, g_n = self.mem.report("gunicorn")
        self.add(f"gunicorn worker peak RSS (max of {g_n})", f"{g_max} MB", "< 250 MB", "PASS" if g_max < 250 else "FAIL")
        self.details.append(f"gunicorn: master {g_root} MB, {g_n} workers sum of peaks {g_sum} MB")
        for name in [n for n in self.mem.roots if n.startswith("celery")]:
            root, kmax, ksum, kn = self.mem.report(name)
            peak = max(root, kmax)
            self.add(f"Celery peak RSS per process ({name})", f"{peak} MB", "< 250 MB", "PASS" if peak < 250 else "FAIL")
            self.details.append(f"{name}: main process {root} MB, {kn} pool processes max {kmax} MB sum {ksum} MB")

    def machine(self) -> list[str]:
        def first(path: str, key: str) -> str:
            try:
                for line in open(path):
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
            except OSError:
                pass
            return "?"

        import redis

        try:
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
            dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                                   capture_output=True, text=True).stdout.strip()
            commit += " (+ uncommitted changes)" if dirty else ""
        except OSError:
            commit = "?"
        return [
            f"load average at the start: {self.load_start}; at the end: {os.getloadavg()[0]:.2f} "
            f"(1-minute; other work on the machine shares its cores)",
            f"CPU: {first('/proc/cpuinfo', 'model name')}, {os.cpu_count()} cores",
            f"RAM: {first('/proc/meminfo', 'MemTotal')}",
            f"PostgreSQL: {self.sql('SHOW server_version')}",
            f"Redis: {redis.Redis.from_url(self.broker).info('server')['redis_version']}",
            f"Python: {platform.python_version()} ({platform.platform()})",
            f"git commit: {commit}",
        ]

    def report(self) -> Path:
        a = self.a
        headers = ("metric", "value", "target", "result")
        widths = [max(len(headers[i]), *(len(r[i]) for r in self.rows)) for i in range(4)]
        fmt = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths))  # noqa: E731
        log("\n" + fmt(headers) + "\n" + "  ".join("-" * w for w in widths))
        for r in self.rows:
            log(fmt(r))
        params = [
            f"command: bench/run.py {' '.join(sys.argv[1:])}",
            f"distributors {a.distributors:,}, orders {a.orders:,} per intake run, batch {a.batch_size}, "
            f"{a.clients} batch clients, Celery concurrency runs {a.worker_counts}, seed {a.seed}",
            f"gunicorn {self.gunicorn_cmd}",
            f"celery {self.celery_cmd} (pool {a.celery_pool}; the last one served the single-order and portal phases)",
            f"DATABASE_URL {self.db_url}, CELERY_BROKER_URL {self.broker}, DEBUG off",
            f"webhooks: {a.webhooks} endpoint(s) subscribed to every event type (bench/receiver.py), their worker "
            f"celery {self.hooks_worker_cmd}" if a.webhooks else "webhooks: none subscribed",
            f"single orders: {a.single_clients} clients x {a.single_seconds}s (Celery concurrency "
            f"{a.single_worker_concurrency or 'as the last intake run'}); open loop {a.open_rate}/s x {a.open_seconds}s on up "
            f"to {a.open_connections} connections; portal: {a.portal_reps} rounds, "
            f"{sum(len(v) for v in self.logins.values())} distributors ({len(self.logins['top'])} top recruiters, "
            f"{len(self.logins['chain'])} chain ends, {len(self.logins['sample'])} random)",
            "setup: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.setup_times.items()),
        ]
        label = f"scale{a.scale}" if a.label is None else a.label
        out = REPO / "bench" / "results" / f"{self.ts}-{label}.md"
        out.parent.mkdir(exist_ok=True)
        md = [f"# fenxiao bench {self.ts} ({label})", "", "| " + " | ".join(headers) + " |",
              "|" + "|".join("---" for _ in headers) + "|"]
        md += ["| " + " | ".join(r) + " |" for r in self.rows]
        md += ["", "## Machine", ""] + [f"- {x}" for x in self.machine()]
        md += ["", "## Parameters", ""] + [f"- {x}" for x in params]
        md += ["", "## Details", ""] + [f"- {x}" if not x.startswith("  ") else f"  - {x.strip()}" for x in self.details]
        out.write_text("\n".join(md) + "\n")
        log(f"\nWritten to {out.relative_to(REPO)}; server logs in {self.logdir}")
        return out

    def analyze(self) -> None:
        """ANALYZE the tables the intake grew. The intake adds a new tenant's rows far faster than
        autovacuum re-analyzes (it wakes once a minute); with statistics that still say "tenant 1
        has no orders", PostgreSQL picks plans that scan the whole tenant (500 ms portal pages at
        1M). Production gets this from autovacuum; the bench does it explicitly, timed."""
        t0 = time.perf_counter()
        with self.conn.cursor() as cur:
            for t in ("orders_order", "orders_orderline", "commissions_commissionrecord", "ledger_ledgerentry",
                      "ledger_balance", "ledger_outboxevent", "distributors_distributor",
                      "incentives_dailyfigure", "incentives_salescredit", "incentives_tenantday"):
                cur.execute(f"ANALYZE {t}")
        log(f"  ANALYZE after the intake: {time.perf_counter() - t0:.1f}s")

    def run(self) -> None:
        a = self.a
        self.setup()
        if not a.reuse_db:
            self.run_floor()
        self.mem.start()
        self.start_gunicorn()
        if a.webhooks:
            self.start_webhooks()
        for c in ([] if a.reuse_db else a.worker_counts):
            self.start_celery(c)
            log(f"Intake: {a.orders:,} orders, Celery concurrency {c} ...")
            self.intake(prefix=f"B{c}-", m=a.orders, clients=a.clients, batch=a.batch_size)
            self.analyze()
        if a.single_seconds > 0:
            if self.celery is None or (a.single_worker_concurrency and a.single_worker_concurrency != self.celery_conc):
                self.start_celery(a.single_worker_concurrency or 2)
            self.single_orders()
            self.single_floor()
        if a.open_seconds > 0:
            self.open_loop()
        if a.portal_reps > 0:
            self.portal()
        if a.login_requests > 0:
            self.login_latency()
        self.memory_rows()
        self.report()

    def cleanup(self) -> None:
        self.mem.stop_event.set()
        self.procs.stop_all()
        if getattr(self, "conn", None) is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001
                pass
        if self.a.drop_db:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001
                pass
            import psycopg

            with psycopg.connect(self.pg_admin, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{self.a.db_name}" WITH (FORCE)')
            log(f"Dropped {self.a.db_name}")
        else:
            log(f"Database {self.a.db_name} left for inspection (--drop-db drops it)")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=int, default=1, choices=sorted(SCALES),
                   help="0: 20k distributors / 5k orders; 1 (default): 100k / 20k; 2: 1M / 100k; 3: 1M / 1M")
    p.add_argument("--distributors", type=int, help="override the scale's distributor count")
    p.add_argument("--orders", type=int, help="override the scale's order count (per intake run)")
    p.add_argument("--worker-counts", default="1", help="Celery --concurrency of each intake run, e.g. 1,2 (default 1)")
    p.add_argument("--workers", type=int, help="shorthand for --worker-counts N")
    p.add_argument("--celery-pool", default="prefork", choices=["prefork", "solo", "threads"])
    p.add_argument("--gunicorn-workers", type=int, default=2, help="default 2 (WEB_CONCURRENCY in docker-compose.yml)")
    p.add_argument("--gunicorn-class", default="gthread", choices=["sync", "gthread"],
                   help="gthread (default, as docker-compose.yml) or sync (the Dockerfile's bare CMD)")
    p.add_argument("--gunicorn-threads", type=int, default=4, help="default 4 (WEB_THREADS in docker-compose.yml)")
    p.add_argument("--gunicorn-timeout", type=int, default=300, help="seconds (the Dockerfile's web service uses 60)")
    p.add_argument("--conn-max-age", type=int, default=None,
                   help="add ?CONN_MAX_AGE=N to DATABASE_URL (default: none, as docker-compose.yml)")
    p.add_argument("--clients", type=int, default=3, help="concurrent batch clients")
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--single-clients", type=int, default=32)
    p.add_argument("--single-seconds", type=int, help="single-order phase duration (0 skips it)")
    p.add_argument("--single-worker-concurrency", type=int, default=2,
                   help="Celery concurrency for the single-order phases (default 2, as docker-compose's worker; 0: keep the last)")
    p.add_argument("--open-rate", type=int, default=300, help="open-loop arrival rate, orders/s (default 300)")
    p.add_argument("--open-seconds", type=int, help="open-loop duration (default: the scale's single-order seconds; 0 skips)")
    p.add_argument("--open-connections", type=int, default=64, help="connections the open loop may use at once")
    p.add_argument("--portal-reps", type=int, default=20, help="rounds over every login and endpoint (0 skips)")
    p.add_argument("--login-requests", type=int, default=10,
                   help="requests per case of the login latency phase (bench/login.py; 0 skips)")
    p.add_argument("--portal-sample", type=int, default=20, help="random distributors logged in besides the top ones")
    p.add_argument("--no-history", action="store_true", help="do not write the HistoricalDistributor rows")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--db-name", default="fenxiao_bench")
    p.add_argument("--broker", default="redis://127.0.0.1:6379/9")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--label", help="result file label (default scale<k>)")
    p.add_argument("--drop-db", action="store_true", help="drop the bench database at the end")
    p.add_argument("--reuse-db", action="store_true",
                   help="keep the database a previous run built (same --distributors and --seed) and skip the setup, "
                        "the floor and the intake runs: for rerunning the order, portal and incentive phases")
    p.add_argument("--webhooks", type=int, default=0, metavar="N",
                   help="subscribe N webhook endpoints (0-20) to every event before the intake runs, on a local receiver "
                        "answering 200; report the delivery lag and rate after each intake run (default 0: none)")
    p.add_argument("--webhook-nice", type=int, default=0, metavar="N",
                   help="run the webhooks queue's worker under `nice -n N` (default 0: the same priority as the rest)")
    p.add_argument("--webhook-concurrency", type=int, default=2,
                   help="Celery concurrency of the webhooks queue's worker (default 2, as docker-compose's `webhooks`)")
    a = p.parse_args(argv)
    if a.webhook_concurrency < 1:
        p.error("--webhook-concurrency takes 1 or more")
    if not 0 <= a.webhooks <= 20:
        p.error("--webhooks takes 0 to 20 (a tenant has at most 20 endpoints)")
    n, m, secs = SCALES[a.scale]
    if a.distributors is not None or a.orders is not None:
        a.label = a.label or f"d{a.distributors or n}-o{a.orders or m}"
    a.distributors = a.distributors or n
    a.orders = a.orders or m
    a.single_seconds = secs if a.single_seconds is None else a.single_seconds
    a.open_seconds = secs if a.open_seconds is None else a.open_seconds
    a.worker_counts = [a.workers] if a.workers else [int(x) for x in a.worker_counts.split(",") if x.strip()]
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    if Path(sys.executable).resolve().parent != VENV_BIN.resolve() and not (VENV_BIN / "python").exists():
        raise SystemExit("run `make venv` first (bench/run.py needs .venv)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(args)
    t0 = time.perf_counter()
    try:
        bench.run()
    except KeyboardInterrupt:
        log("Interrupted")
        return 130
    finally:
        bench.cleanup()
        log(f"Total {time.perf_counter() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
