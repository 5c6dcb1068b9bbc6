"""CPU time and queries per request of the incentive reads (issue 11), in process, against a bench
database: not a test, a measurement to iterate on.

    .venv/bin/python bench/profile_incentives.py --db-name fenxiao_bench_perf
    .venv/bin/python bench/profile_incentives.py --db-name fenxiao_bench_perf --reps 400 --only leaderboard
    .venv/bin/python bench/profile_incentives.py --db-name fenxiao_bench_perf --profile "me/contests/ " --top 40
    .venv/bin/python bench/profile_incentives.py --db-name fenxiao_bench_perf --save /tmp/before.json
    .venv/bin/python bench/profile_incentives.py --db-name fenxiao_bench_perf --check /tmp/before.json

Needs a database built by bench/run.py (tenant `bench` with its distributors and orders; the
bench's portal phase creates the contest `bench sprint` and the staff user `bench-pm`, which
this script also creates when missing, as the bench does). What it adds when missing, through the
services: that contest, the staff user, and a team target and a distributor target for each
distributor it logs in as (so /me/targets/ has rows); with --show-rankings it turns the tenant's
`show_rankings` on (/me/rankings/ answers 403 otherwise).

Each endpoint is called through Django's WSGI handler (middleware, DRF, authentication,
rendering: everything gunicorn runs except the socket), one request at a time, round-robin over
the logged-in distributors (the top recruiters by level-1 downlines, the best-ranked in the
contest, and a seeded random sample), --reps requests each after a warm-up. Reported per
endpoint: the process's CPU time per request (time.process_time: waits for PostgreSQL do not
count, nor does other work on the machine, so it holds on a busy box where wall time does not),
wall time p50/p99, the Python function calls per request (cProfile's count over 10 requests: a
figure the machine's load does not move), the full (generation 2) garbage collections during the
measured requests and their longest pause, and the statements run per request (min-max over the callers, counted once
per caller from Django's query log, as the tests' pins count them).

--save writes every answer (status and body, per endpoint and caller) to a JSON file; --check
compares the answers with such a file and lists any difference (the same data must give the same
JSON after a change; a target's `expected` pace and the status it decides move with the clock and
are left out of the comparison). --profile NAME runs cProfile over that endpoint's requests and prints the
top functions by cumulative and by own time.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if "--code" in sys.argv:  # the product from another checkout (a before/after under the same load)
    REPO = Path(sys.argv[sys.argv.index("--code") + 1]).resolve()
    os.chdir(REPO)  # Celery puts the working directory first on sys.path when it loads
sys.path.insert(0, str(REPO))

SLUG = "bench"
STAFF_USER = "bench-pm"
CONTEST_NAME = "bench sprint"


def setup_django(db_name: str) -> None:
    os.environ.update(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{db_name}", CELERY_BROKER_URL="",
                      DEBUG="0", LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="fenxiao.settings")
    os.environ.setdefault("SECRET_KEY", "fenxiao-bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    import django

    django.setup()


def fixtures(args):
    """(tenant, contest, staff token, [(label, distributor token)], staff target public id)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.contrib.auth.models import Permission, User
    from rest_framework_simplejwt.tokens import RefreshToken

    from distributors.models import Distributor
    from incentives.models import Contest, Target
    from incentives.services import contest_create, target_create
    from tenants.api import distributor_tokens
    from tenants.context import tenant_context
    from tenants.models import StaffMembership, Tenant

    tenant = Tenant.objects.get(slug=SLUG)
    tz = ZoneInfo(tenant.timezone)
    today = datetime.now(tz).date()
    with tenant_context(tenant):
        contest = Contest.objects.filter(name=CONTEST_NAME, finalized_at__isnull=True).order_by("-id").first()
        if contest is None:
            contest = contest_create(
                tenant=tenant, name=CONTEST_NAME, measure="direct_sales", prizes=["500.00", "300.00", "100.00"],
                starts_at=datetime.combine(today - timedelta(days=31), datetime.min.time(), tz),
                ends_at=datetime.combine(today + timedelta(days=1), datetime.min.time(), tz))
            print(f"created the contest {contest.public_id}")
        if args.show_rankings and not tenant.show_rankings:
            from tenants.services import tenant_update

            tenant_update(tenant=tenant, show_rankings=True)
            tenant.refresh_from_db()
            print("turned show_rankings on")
        top = list(Distributor.objects.order_by("-downline_count_1").values_list("pk", flat=True)[:5])
        board = [r.distributor_id for r in __import__("incentives.measures", fromlist=["x"]).contest_board(
            contest, limit=3, active_only=True)]
        lo, hi = Distributor.objects.order_by("pk").values_list("pk", flat=True).first(), \
            Distributor.objects.order_by("-pk").values_list("pk", flat=True).first()
        rng = random.Random(args.seed)
        sample = []
        while len(sample) < args.sample:
            pk = rng.randint(lo, hi)
            if pk not in sample and Distributor.objects.filter(pk=pk, status=Distributor.Status.ACTIVE).exists():
                sample.append(pk)
        people = {pk: Distributor.objects.get(pk=pk) for pk in dict.fromkeys(top + board + sample)}
        first = today.replace(day=1)
        for d in people.values():
            if not Target.objects.filter(distributor=d).exists():
                target_create(tenant=tenant, name=f"team {d.external_id}", scope="team", distributor=d,
                              measure="direct_sales", period="month", starts_on=first, goal="10000.00")
                target_create(tenant=tenant, name=f"own {d.external_id}", scope="distributor", distributor=d,
                              measure="order_count", period="month", starts_on=first, goal="20")
        staff_target = Target.objects.filter(scope="team", distributor_id=top[0]).order_by("-id").first()
    user = User.objects.filter(username=STAFF_USER).first() or User.objects.create_user(
        STAFF_USER, password="bench-pm-password-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="incentives"))
    StaffMembership.objects.get_or_create(user=user, defaults={"tenant": tenant})
    staff = str(RefreshToken.for_user(user).access_token)
    kinds = {**{pk: "sample" for pk in sample}, **{pk: "board" for pk in board}, **{pk: "top" for pk in top}}
    tokens = [(f"{kinds[pk]} {d.external_id}", distributor_tokens(d)["access"]) for pk, d in people.items()]
    return tenant, contest, staff, tokens, staff_target.public_id


def endpoints(contest, staff, tokens, target_id):
    """[(name, path, [(caller label, token)])]."""
    staff_only = [("staff", staff)]
    return [
        ("GET /admin/contests/{id}/leaderboard/?limit=20", f"/api/v1/admin/contests/{contest.public_id}/leaderboard/?limit=20",
         staff_only),
        ("GET /admin/contests/{id}/leaderboard/ (100)", f"/api/v1/admin/contests/{contest.public_id}/leaderboard/",
         staff_only),
        ("GET /admin/targets/{id}/", f"/api/v1/admin/targets/{target_id}/", staff_only),
        ("GET /me/contests/", "/api/v1/me/contests/", tokens),
        ("GET /me/contests/{id}/leaderboard/", f"/api/v1/me/contests/{contest.public_id}/leaderboard/", tokens),
        ("GET /me/rankings/", "/api/v1/me/rankings/", tokens),
        ("GET /me/targets/", "/api/v1/me/targets/", tokens),
        ("GET /me/team/summary/", "/api/v1/me/team/summary/", tokens),
        ("GET /me/downlines/?level=1", "/api/v1/me/downlines/?level=1", tokens),
        ("GET /me/earnings/", "/api/v1/me/earnings/", tokens),
    ]


class Caller:
    """GET through Django's WSGI handler, as gunicorn calls it; counts the statements run."""

    def __init__(self):
        from fenxiao.wsgi import application  # the entry point gunicorn loads, with what it does at startup

        self.app = application

    def counted(self, path: str, token: str) -> tuple[str, bytes, list[str]]:
        """get() with Django's query log on (as the tests' query-count pins see it; the raw
        statements of fenxiao.bulk.query log there too): (status, body, the statements)."""
        from django.db import connection

        connection.force_debug_cursor = True
        connection.queries_log.clear()
        try:
            status, body = self.get(path, token)
            return status, body, [q["sql"] for q in connection.queries_log]
        finally:
            connection.force_debug_cursor = False

    def get(self, path: str, token: str) -> tuple[str, bytes]:
        path, _, qs = path.partition("?")
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": qs, "SCRIPT_NAME": "",
                   "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
                   "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1", "HTTP_AUTHORIZATION": f"Bearer {token}",
                   "HTTP_ACCEPT": "application/json", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
                   "wsgi.multiprocess": True, "wsgi.run_once": False}
        status = []
        response = self.app(environ, lambda s, h, exc_info=None: status.append(s))
        try:
            body = b"".join(response)
        finally:
            response.close()
        return status[0], body


def _timeless(body: str):
    """An answer without what moves with the clock alone: a target's `expected` pace (the elapsed
    fraction of its period) and the `status` it decides."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if not ("expected" in x and k in ("expected", "status"))}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    try:
        return strip(json.loads(body))
    except ValueError:
        return body


def pct(values, q):
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db-name", default="fenxiao_bench")
    p.add_argument("--reps", type=int, default=200, help="measured requests per endpoint (default 200)")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured requests per endpoint first (default 20)")
    p.add_argument("--sample", type=int, default=12, help="random distributors logged in besides the top ones")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--only", help="only the endpoints whose name contains this")
    p.add_argument("--profile", help="cProfile the endpoint whose name contains this")
    p.add_argument("--dump", help="write the profile's stats to this file (pstats / snakeviz)")
    p.add_argument("--top", type=int, default=30, help="rows of the profile (default 30)")
    p.add_argument("--show-rankings", action="store_true", help="turn the tenant's show_rankings on when off")
    p.add_argument("--sql", help="print the statements of the endpoint whose name contains this")
    p.add_argument("--code", help="import fenxiao from this checkout instead of this one's (e.g. a worktree of main, "
                                  "for a before/after under the same load)")
    p.add_argument("--save", help="write every answer to this JSON file")
    p.add_argument("--check", help="compare every answer with this JSON file (written by --save)")
    args = p.parse_args(argv)
    setup_django(args.db_name)

    tenant, contest, staff, tokens, target_id = fixtures(args)
    caller = Caller()
    calls = endpoints(contest, staff, tokens, target_id)
    if args.only:
        calls = [c for c in calls if args.only in c[0]]
    answers: dict[str, dict[str, list]] = {}
    print(f"tenant {tenant.slug}, contest {contest.public_id}, {len(tokens)} distributors; {args.reps} requests per "
          f"endpoint after {args.warmup}; CPU = process time per request (in process, WSGI handler)")
    import gc

    gc_pauses: list[float] = []
    gc_started = [0.0]

    def on_gc(phase, info):
        if phase == "start":
            gc_started[0] = time.perf_counter()
        elif info["generation"] == 2:
            gc_pauses.append((time.perf_counter() - gc_started[0]) * 1000)

    gc.callbacks.append(on_gc)
    print(f"{'endpoint':52} {'CPU ms mean':>11} {'p50':>6} {'p99':>6}  {'wall p50':>8} {'p99':>6}  queries  "
          f"{'calls':>6}  full GCs")
    for name, path, who in calls:
        queries = []
        for label, token in who:  # every answer once, its statements counted (and a warm-up)
            status, body, sqls = caller.counted(path, token)
            answers.setdefault(name, {})[label] = [status, body.decode()]
            queries.append(len(sqls))
            if not status.startswith("200"):
                print(f"  {name} as {label}: {status} {body[:200]!r}")
            if args.sql and args.sql in name:
                print(f"  {name} as {label}: {len(sqls)} statements\n    " + "\n    ".join(q[:300] for q in sqls))
        for i in range(args.warmup):
            caller.get(path, who[i % len(who)][1])
        calls_prof = cProfile.Profile()
        calls_prof.enable()
        for i in range(10):
            caller.get(path, who[i % len(who)][1])
        calls_prof.disable()
        calls = pstats.Stats(calls_prof).total_calls / 10
        gc_pauses.clear()
        cpu, wall = [], []
        prof = cProfile.Profile() if args.profile and args.profile in name else None
        for i in range(args.reps):
            token = who[i % len(who)][1]
            if prof:
                prof.enable()
            c0, w0 = time.process_time(), time.perf_counter()
            caller.get(path, token)
            c1, w1 = time.process_time(), time.perf_counter()
            if prof:
                prof.disable()
            cpu.append((c1 - c0) * 1000)
            wall.append((w1 - w0) * 1000)
        q = f"{min(queries)}" if min(queries) == max(queries) else f"{min(queries)}-{max(queries)}"
        print(f"{name:52} {statistics.fmean(cpu):11.2f} {pct(cpu, 50):6.2f} {pct(cpu, 99):6.2f}  "
              f"{pct(wall, 50):8.2f} {pct(wall, 99):6.2f}  {q:7}  {calls:6.0f}  "
              f"{len(gc_pauses)}{f' (max {max(gc_pauses):.1f} ms)' if gc_pauses else ''}", flush=True)
        if prof and args.dump:
            prof.dump_stats(args.dump)
        if prof:
            for key in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(prof, stream=out).strip_dirs().sort_stats(key).print_stats(args.top)
                print(out.getvalue())
    if args.save:
        Path(args.save).write_text(json.dumps(answers, ensure_ascii=False, indent=1, sort_keys=True))
        print(f"answers written to {args.save}")
    if args.check:
        want = json.loads(Path(args.check).read_text())
        for saved in (want, answers):
            for per in saved.values():
                for label, (status, body) in per.items():
                    per[label] = [status, _timeless(body)]
        diffs = [(n, label) for n in answers for label in answers[n]
                 if n in want and label in want[n] and want[n][label] != answers[n][label]]
        missing = [(n, label) for n in answers for label in answers[n] if n not in want or label not in want[n]]
        for n, label in diffs[:10]:
            print(f"DIFFERENT: {n} as {label}:\n  was {want[n][label][1][:400]}\n  now {answers[n][label][1][:400]}")
        compared = sum(len(v) for v in answers.values()) - len(missing)
        print(f"check against {args.check}: {compared} answers compared, {len(diffs)} different, {len(missing)} not in the file")
        return 1 if diffs else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
