"""Data generation for the benchmark: the distributor tree (loaded with COPY) and the orders.

The tree
--------
N distributors, ids ascending with creation (a parent is always created before its children), built
in one pass:

- `top` top recruiters are roots; each later distributor is, with probability `root_share`, a
  root (signed up without an inviter); with probability `top_share` a direct downline of a top
  recruiter (Zipf over the top recruiters: the first gets the most); otherwise it picks its upline
  by preferential attachment (probability proportional to 1 + number of downlines so far, the
  Barabasi-Albert rule), which gives a power-law fan-out.
- then `chains` chains of 30-60 distributors, each hanging off a random distributor, every link the
  only downline of the previous one (the deepest trees a real programme sees).

Every column is filled as `distributors.services.distributor_register` fills it: status `active`
(enrollment open), username = external_id, invite code 8 characters of INVITE_ALPHABET (unique),
parent / ancestor_2 / ancestor_3 / depth / ancestor_path as `_place` computes them, joined_at
ascending with the id, created_at now; the password hash only on the portal logins; the per-level
downline counters (`downline_count_1..3`) when the table has them. A column added to the schema
that this file does not know gets its model field's default (printed). Registration
writes one `HistoricalDistributor` row ("+") per distributor (django-simple-history), so the loader
writes those too; nothing else is written per distributor (Balance rows come with the first
ledger entry).

The load drops the tables' secondary indexes and unique constraints, COPYs the rows with foreign-key
triggers off (the rows are consistent by construction), recreates the indexes and constraints
exactly as they were, moves the id sequence past the last id and ANALYZEs.

The orders
----------
`order_payload(k)` is the k-th order of a stream (seeded by the stream name): status `paid`, 1-5
lines (more often 1-2), log-normal prices, 20% with a coupon, 40% with shipping, a buyer id, and a
heavy-tailed referrer: 5% a top recruiter, 5% a distributor on a deep chain, 90% picked with
probability proportional to 1 + number of downlines.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as distributors.services
CATEGORIES = ["Tea", "Snacks", "Beauty", "Home", "Baby", "Digital"]
DIST_TABLE = "distributors_distributor"
HIST_TABLE = "distributors_historicaldistributor"
DIST_COLS = ("id", "external_id", "name", "phone", "invite_code", "status", "depth", "ancestor_path", "username",
             "password", "joined_at", "created_at", "ancestor_2_id", "ancestor_3_id", "parent_id", "tenant_id", "grade_id")
HIST_COLS = ("id", "external_id", "name", "phone", "invite_code", "status", "depth", "username", "joined_at",
             "history_date", "history_change_reason", "history_type", "grade_id", "history_user_id", "parent_id",
             "tenant_id")


def ext_id(i: int) -> str:
    return f"D{i + 1:07d}"


@dataclass
class Tree:
    n: int
    base_id: int                     # id of index 0
    parent: list[int]                # index of the parent, -1 for a root
    depth: list[int]
    top: list[int]                   # indexes of the top recruiters, most downlines first
    chain_nodes: list[int]           # indexes of distributors on the deep chains
    chain_ends: list[int]            # the last distributor of each chain
    pa_targets: list[int] = field(repr=False, default_factory=list)  # index i once + once per child
    children: list[int] = field(repr=False, default_factory=list)

    def id(self, i: int) -> int:
        return self.base_id + i

    def chain_ids(self, i: int, levels: int = 3) -> list[int]:
        """Beneficiary candidates of an order referred by i: i, its parent, its grandparent (ids)."""
        out = []
        while i >= 0 and len(out) < levels:
            out.append(self.base_id + i)
            i = self.parent[i]
        return out


def build_tree(n: int, *, seed: int = 1, top: int = 5, root_share: float = 0.002, top_share: float = 0.10,
               chains: int | None = None, chain_len: tuple[int, int] = (30, 60)) -> Tree:
    rng = random.Random(seed)
    if chains is None:
        chains = max(3, n // 25_000)
    lengths = [rng.randint(*chain_len) for _ in range(chains)]
    while sum(lengths) > n // 4 and lengths:  # tiny trees: fewer chains
        lengths.pop()
    main = n - sum(lengths)
    top = min(top, main)
    parent = [-1] * n
    depth = [0] * n
    children = [0] * n
    targets: list[int] = []
    zipf = [1 / (k + 1) for k in range(top)]
    zipf_cum = []
    acc = 0.0
    for w in zipf:
        acc += w / sum(zipf)
        zipf_cum.append(acc)
    rand = rng.random
    for i in range(main):
        p = -1
        if i >= top:
            r = rand()
            if r < root_share:
                p = -1
            elif r < root_share + top_share:
                x = rand()
                p = next(k for k, c in enumerate(zipf_cum) if x <= c or k == top - 1)
            else:
                p = targets[int(rand() * len(targets))]
        parent[i] = p
        targets.append(i)
        if p >= 0:
            targets.append(p)
            children[p] += 1
            depth[i] = depth[p] + 1
    chain_nodes, chain_ends = [], []
    i = main
    for length in lengths:
        prev = int(rand() * main)
        for _ in range(length):
            parent[i] = prev
            depth[i] = depth[prev] + 1
            children[prev] += 1
            chain_nodes.append(i)
            prev = i
            i += 1
        chain_ends.append(prev)
    tops = sorted(range(min(top, n)), key=lambda k: -children[k])
    return Tree(n=n, base_id=1, parent=parent, depth=depth, top=tops, chain_nodes=chain_nodes,
                chain_ends=chain_ends, pa_targets=targets, children=children)


def downline_counts(tree: Tree) -> tuple[list[int], list[int], list[int]]:
    """Per distributor, how many are exactly 1, 2 and 3 levels below (one pass)."""
    c1, c2, c3 = [0] * tree.n, [0] * tree.n, [0] * tree.n
    par = tree.parent
    for i in range(tree.n):
        p = par[i]
        if p >= 0:
            c1[p] += 1
            pp = par[p]
            if pp >= 0:
                c2[pp] += 1
                ppp = par[pp]
                if ppp >= 0:
                    c3[ppp] += 1
    return c1, c2, c3


def tree_stats(tree: Tree, who: list[int]) -> dict[int, tuple[int, int, int]]:
    """Level 1/2/3 downline counts of the distributors `who` (one pass over the tree)."""
    want = set(who)
    out = {i: [0, 0, 0] for i in who}
    par = tree.parent
    for i in range(tree.n):
        p = par[i]
        for lvl in range(3):
            if p < 0:
                break
            if p in want:
                out[p][lvl] += 1
            p = par[p]
    return {i: tuple(v) for i, v in out.items()}


N = "\\N"


def _copy_text(value) -> str:
    if value is None:
        return N
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        return json.dumps(value).replace("\\", "\\\\")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\")


def adapt(conn, texts: dict) -> dict:
    """Columns added to the schema since this file was written get their model field's default
    (the Django model behind each table), so the floor keeps working while the models change."""
    from django.apps import apps

    models = {m._meta.db_table: m for m in apps.get_models()}
    out = {}
    with conn.cursor() as cur:
        for table, (cols, text) in texts.items():
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s"
                        " AND is_identity = 'NO' AND column_default IS NULL", (table,))
            missing = [c for (c,) in cur.fetchall() if c not in cols]
            if missing:
                fields = {f.column: f for f in models[table]._meta.concrete_fields}
                unknown = [c for c in missing if c not in fields]
                if unknown:
                    raise SystemExit(f"{table} has columns the models do not know: {unknown}")
                values = [_copy_text(fields[c].get_default()) for c in missing]
                print(f"  {table}.{', '.join(missing)} not computed here: filled with the model default "
                      f"{values}", flush=True)
                suffix = "\t" + "\t".join(values)
                text = text.replace("\n", suffix + "\n")  # one row per line (no raw newline inside a row)
                cols = tuple(cols) + tuple(missing)
            out[table] = (cols, text)
    conn.commit()
    return out



# -- loading ---------------------------------------------------------------------------------------

def _secondary_ddl(cur, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(unique constraints [(name, definition)], plain indexes [(name, CREATE INDEX ...)]) of `table`,
    except the primary key."""
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
        (table,))
    uniques = cur.fetchall()
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND i.indexname NOT IN ("
        " SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u'))",
        (table, table))
    return uniques, cur.fetchall()


def _copy(cur, table: str, cols, text: str, chunk: int = 1 << 22) -> None:
    data = text.encode()
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        for i in range(0, len(data), chunk):
            cp.write(data[i:i + chunk])


def load_distributors(conn, tree: Tree, *, tenant_id: int, password_hash: str, logins: set[int],
                      history: bool = True, seed: int = 1, log=print) -> dict[str, float]:
    """COPY the tree into the tenant (ids tree.base_id..). Returns timings in seconds."""
    rng = random.Random(seed + 7)
    timings = {}
    t0 = time.perf_counter()
    now = datetime.now(timezone.utc)
    now_s = now.isoformat()
    start = now - timedelta(days=730)
    step = 730 * 86400 / max(tree.n, 1)
    codes: set[str] = set()
    choices = rng.choices
    n = tree.n
    par, depth = tree.parent, tree.depth
    paths = [""] * n
    dist_lines, hist_lines = [], []
    with conn.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", (DIST_TABLE,))
        counted = "downline_count_1" in {r[0] for r in cur.fetchall()}  # per-level counts kept on the row
    conn.commit()
    dist_cols = DIST_COLS + (("downline_count_1", "downline_count_2", "downline_count_3") if counted else ())
    counts = downline_counts(tree) if counted else None
    for i in range(n):
        while True:
            code = "".join(choices(INVITE_ALPHABET, k=8))
            if code not in codes:
                codes.add(code)
                break
        p = par[i]
        if p < 0:
            path = "/"
            a2 = a3 = pid = "\\N"
        else:
            path = f"{paths[p]}{tree.base_id + p}/"
            pid = str(tree.base_id + p)
            pp = par[p]
            a2 = str(tree.base_id + pp) if pp >= 0 else "\\N"
            ppp = par[pp] if pp >= 0 else -1
            a3 = str(tree.base_id + ppp) if ppp >= 0 else "\\N"
        paths[i] = path
        x = ext_id(i)
        joined = (start + timedelta(seconds=i * step)).isoformat()
        pw = password_hash if i in logins else ""
        did = tree.base_id + i
        dist_lines.append(f"{did}\t{x}\tDistributor {i + 1}\t\t{code}\tactive\t{depth[i]}\t{path}\t{x}\t{pw}\t"
                          f"{joined}\t{now_s}\t{a2}\t{a3}\t{pid}\t{tenant_id}\t\\N"
                          + (f"\t{counts[0][i]}\t{counts[1][i]}\t{counts[2][i]}\n" if counted else "\n"))
        if history:
            hist_lines.append(f"{did}\t{x}\tDistributor {i + 1}\t\t{code}\tactive\t{depth[i]}\t{x}\t{joined}\t"
                              f"{now_s}\t\\N\t+\t\\N\t\\N\t{pid}\t{tenant_id}\n")
    del paths
    timings["generate rows"] = time.perf_counter() - t0
    log(f"  generated {n:,} distributor rows in {timings['generate rows']:.1f}s")

    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET session_replication_role = replica")  # no FK triggers: consistent by construction
        texts = {DIST_TABLE: (dist_cols, "".join(dist_lines))}
        if history:
            texts[HIST_TABLE] = (HIST_COLS, "".join(hist_lines))
        del dist_lines, hist_lines
        for table, (cols, text) in adapt(conn, texts).items():
            rows = text.count("\n")
            t1 = time.perf_counter()
            uniques, indexes = _secondary_ddl(cur, table)
            for name, _ in uniques:
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            _copy(cur, table, cols, text)
            t2 = time.perf_counter()
            for name, ddl in indexes:
                cur.execute(ddl)
            for name, definition in uniques:
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            t3 = time.perf_counter()
            timings[f"COPY {table}"] = t2 - t1
            timings[f"indexes {table}"] = t3 - t2
            log(f"  {table}: COPY {rows:,} rows {t2 - t1:.1f}s, "
                f"{len(indexes)} indexes + {len(uniques)} unique constraints rebuilt {t3 - t2:.1f}s")
        cur.execute("SET session_replication_role = DEFAULT")
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{DIST_TABLE}', 'id'), (SELECT max(id) FROM {DIST_TABLE}))")
    conn.commit()
    t4 = time.perf_counter()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"ANALYZE {DIST_TABLE}")
        cur.execute(f"ANALYZE {HIST_TABLE}")
    conn.autocommit = False
    timings["analyze"] = time.perf_counter() - t4
    return timings


# -- orders ----------------------------------------------------------------------------------------

class OrderStream:
    """Deterministic stream of order payloads for one tenant's tree (see the module docstring)."""

    def __init__(self, tree: Tree, *, prefix: str, seed: int, now: datetime | None = None):
        self.tree = tree
        self.prefix = prefix
        self.rng = random.Random(f"{seed}:{prefix}")
        self.now = now or datetime.now(timezone.utc)

    def referrer(self) -> int:
        t, r = self.tree, self.rng.random()
        if r < 0.05 and t.top:
            return t.top[min(int(self.rng.paretovariate(1.2)) - 1, len(t.top) - 1)]
        if r < 0.10 and t.chain_nodes:
            return self.rng.choice(t.chain_nodes)
        return t.pa_targets[int(self.rng.random() * len(t.pa_targets))]

    def payload(self, k: int) -> tuple[dict, int]:
        """(the k-th order as posted, referrer index)."""
        rng = self.rng
        ref = self.referrer()
        n_lines = rng.choices((1, 2, 3, 4, 5), weights=(40, 30, 15, 10, 5))[0]
        lines = []
        goods = 0
        for j in range(n_lines):
            price = min(max(round(rng.lognormvariate(4.0, 0.8), 1), 1.0), 5000.0)
            qty = rng.choices((1, 2, 3, 5), weights=(70, 20, 7, 3))[0]
            sku = rng.randrange(2000)
            lines.append({"line_id": str(j + 1), "sku": f"SKU-{sku:05d}", "category": CATEGORIES[sku % len(CATEGORIES)],
                          "quantity": qty, "unit_price": f"{price:.2f}"})
            goods += int(round(price * 100)) * qty
        placed = self.now - timedelta(seconds=rng.randrange(30 * 86400))
        paid = placed + timedelta(seconds=rng.randrange(60, 1800))
        order = {
            "external_id": f"{self.prefix}{k:08d}",
            "referrer_external_id": ext_id(ref),
            "buyer_external_id": f"U{rng.randrange(10_000_000):08d}",
            "currency": "CNY",
            "placed_at": placed.isoformat(timespec="seconds"),
            "status": "paid",
            "paid_at": paid.isoformat(timespec="seconds"),
            "lines": lines,
        }
        if rng.random() < 0.2:
            order["discount"] = f"{(goods * rng.choice((5, 10, 15)) // 100) / 100:.2f}"
        if rng.random() < 0.4:
            order["shipping"] = rng.choice(("8.00", "10.00", "12.00", "15.00"))
        return order, ref
