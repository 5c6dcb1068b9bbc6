"""The floor: the rows fenxiao writes for M paid orders, written with COPY as fast as PostgreSQL can.

For the same kind of orders as the end-to-end run (the same generator, its own external ids, a
tenant of its own whose orders point at the same distributor rows), this computes in Python
everything the intake and the commission task store, using the product's own arithmetic
(`commissions.arithmetic`): per order the `orders_order` row (commission_state already `done`,
attribution snapshot, content hash), its `orders_orderline` rows (discount shares, nets), one
`commissions_commissionrecord` per paid level (amount, rate, per-line JSON, settles_at), one
`ledger_ledgerentry` accrual per record, one `ledger_outboxevent` per order with records, and the
final `ledger_balance` row of every beneficiary. Everything is rendered to COPY text first (not
timed); the timed part is one transaction: COPY into each table (all indexes, unique constraints,
check constraints and deferred foreign keys in place) and COMMIT.

That is a lower bound on the database cost of the work; fenxiao's end-to-end rate divided by the
floor's rate says how much of the machine the application layers (HTTP, validation, ORM, Celery,
one transaction per order, balance locking) take on top.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from commissions import arithmetic as ar

from bench.datagen import OrderStream, Tree, adapt, ext_id

N = "\\N"
ORDER_COLS = ("id", "external_id", "buyer_external_id", "currency", "exchange_rate", "placed_at", "paid_at",
              "completed_at", "cancelled_at", "status", "discount", "shipping", "tax", "non_cash_amount", "goods_total",
              "base_order_currency", "commission_base", "net_base", "refund_mode", "refunded_amount",
              "refunded_shipping", "refunded_tax", "attribution", "commission_state", "content_hash", "created_at",
              "updated_at", "attributed_to_id", "plan_id", "referrer_id", "tenant_id")
LINE_COLS = ("line_id", "sku", "category", "quantity", "unit_price", "discount", "commissionable", "discount_share",
             "non_cash_share", "net", "refunded_quantity", "order_id", "tenant_id")
RECORD_COLS = ("id", "level", "currency", "base", "rate", "amount", "reversed_amount", "status", "lines", "settles_at",
               "created_at", "beneficiary_id", "grade_id", "order_id", "plan_id", "tenant_id", "settled_at")
ENTRY_COLS = ("kind", "amount", "d_frozen", "d_available", "d_held", "d_withdrawn", "d_fees", "d_total_earned", "memo",
              "created_at", "distributor_id", "record_id", "refund_id", "tenant_id", "withdrawal_id")
BALANCE_COLS = ("currency", "frozen", "available", "held", "withdrawn", "fees", "total_earned", "updated_at",
                "distributor_id", "tenant_id")
OUTBOX_COLS = ("type", "payload", "created_at", "dispatched_at", "tenant_id")


def _j(value) -> str:
    """JSON for a COPY text field (backslashes doubled)."""
    return json.dumps(value, separators=(", ", ": ")).replace("\\", "\\\\")


def _reserve(cur, table: str, count: int) -> int:
    """Reserve `count` ids of `table` (nothing else writes during the floor); returns the first."""
    cur.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
    first = cur.fetchone()[0]
    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", (first + max(count, 1),))
    return first


def render(conn, tree: Tree, *, m: int, tenant_id: int, plan_id: int, rates: dict[int, Decimal], currency: str,
           seed: int, prefix: str = "F-", settle_days: int = 21) -> dict:
    """Compute and render the rows of `m` orders. Returns {"texts": {table: (cols, str)}, "counts": {...}}."""
    stream = OrderStream(tree, prefix=prefix, seed=seed)
    rules = ar.PlanRules(default={lvl: ar.RuleValue("percent", r, "default") for lvl, r in rates.items()})
    now = datetime.now(timezone.utc).isoformat()
    orders, lines_out, records, entries, outbox = [], [], [], [], []
    balances: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    by_level: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal("0.00")] * 4)
    with conn.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'ledger_balance'")
        level_columns = "earned_level_1" in {r[0] for r in cur.fetchall()}  # per-level totals kept on the balance
        order_id = _reserve(cur, "orders_order", m)
        record_id = _reserve(cur, "commissions_commissionrecord", 3 * m)
    conn.commit()
    for k in range(m):
        payload, ref = stream.payload(k)
        chain = tree.chain_ids(ref)
        ar_lines = [ar.Line(l["line_id"], l["quantity"], Decimal(l["unit_price"]), Decimal("0.00"), True, l["sku"],
                            l["category"]) for l in payload["lines"]]
        discount = Decimal(payload.get("discount", "0.00"))
        shipping = payload.get("shipping", "0.00")
        base = ar.order_base(ar_lines, discount=discount)
        snapshot = {"chain": [{"level": i + 1, "distributor_id": d, "grade_id": None, "override": None}
                              for i, d in enumerate(chain)]}
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        paid = datetime.fromisoformat(payload["paid_at"])
        settles = (paid + timedelta(days=settle_days)).isoformat()
        orders.append("\t".join((
            str(order_id), payload["external_id"], payload["buyer_external_id"], currency, "1.00000000",
            payload["placed_at"], payload["paid_at"], N, N, "paid", f"{discount:.2f}", shipping, "0.00", "0.00",
            f"{base.goods_total:.2f}", f"{base.base_order_currency:.2f}", f"{base.commission_base:.2f}",
            f"{base.commission_base:.2f}", "", "0.00", "0.00", "0.00", _j(snapshot), "done", digest, now, now,
            str(chain[0]), str(plan_id), str(chain[0]), str(tenant_id))) + "\n")
        for l in payload["lines"]:
            lid = l["line_id"]
            lines_out.append("\t".join((
                lid, l["sku"], l["category"], str(l["quantity"]), l["unit_price"], "0.00", "t",
                f"{base.discount_shares.get(lid, Decimal(0)):.2f}", f"{base.non_cash_shares.get(lid, Decimal(0)):.2f}",
                f"{base.line_nets.get(lid, Decimal(0)):.2f}", "0", str(order_id), str(tenant_id))) + "\n")
        made = []
        for level, beneficiary in enumerate(chain, start=1):
            values = ar.level_line_values(ar_lines, base, level, rules)
            amount = ar.record_amount(values, "down")
            if amount <= 0:
                continue
            rate = ar.uniform_rate(values)
            records.append("\t".join((
                str(record_id), str(level), currency, f"{base.commission_base:.2f}", N if rate is None else f"{rate:.4f}",
                f"{amount:.2f}", "0.00", "frozen", _j([v.as_dict() for v in values]), settles, now, str(beneficiary),
                N, str(order_id), str(plan_id), str(tenant_id), N)) + "\n")
            entries.append("\t".join((
                "accrual", f"{amount:.2f}", f"{amount:.2f}", "0.00", "0.00", "0.00", "0.00", f"{amount:.2f}", "", now,
                str(beneficiary), str(record_id), N, str(tenant_id), N)) + "\n")
            balances[beneficiary] += amount
            by_level[beneficiary][level] += amount
            made.append({"commission_id": record_id, "beneficiary_external_id": ext_id(beneficiary - tree.base_id),
                         "level": level,
                         "amount": str(amount), "settles_at": settles})
            record_id += 1
        if made:
            outbox.append("\t".join(("order.commissions_created", _j({
                "order_external_id": payload["external_id"], "currency": currency, "commissions": made}),
                now, N, str(tenant_id))) + "\n")
        order_id += 1
    bal_cols = BALANCE_COLS + (("earned_level_1", "earned_level_2", "earned_level_3") if level_columns else ())
    bal_lines = [f"{currency}\t{v:.2f}\t0.00\t0.00\t0.00\t0.00\t{v:.2f}\t{now}\t{d}\t{tenant_id}"
                 + ("".join(f"\t{x:.2f}" for x in by_level[d][1:]) if level_columns else "") + "\n"
                 for d, v in balances.items()]
    texts = {
        "orders_order": (ORDER_COLS, "".join(orders)),
        "orders_orderline": (LINE_COLS, "".join(lines_out)),
        "commissions_commissionrecord": (RECORD_COLS, "".join(records)),
        "ledger_ledgerentry": (ENTRY_COLS, "".join(entries)),
        "ledger_balance": (bal_cols, "".join(bal_lines)),
        "ledger_outboxevent": (OUTBOX_COLS, "".join(outbox)),
    }
    counts = {"orders_order": len(orders), "orders_orderline": len(lines_out),
              "commissions_commissionrecord": len(records), "ledger_ledgerentry": len(entries),
              "ledger_balance": len(bal_lines), "ledger_outboxevent": len(outbox)}
    return {"texts": adapt(conn, texts), "counts": counts}


def write(conn, rendered: dict, chunk: int = 1 << 20) -> dict[str, float]:
    """The timed part: one transaction of COPYs and the COMMIT. Returns seconds per table and total."""
    timings = {}
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        for table, (cols, text) in rendered["texts"].items():
            t1 = time.perf_counter()
            data = text.encode()
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                for i in range(0, len(data), chunk):
                    cp.write(data[i:i + chunk])
            timings[table] = time.perf_counter() - t1
    t1 = time.perf_counter()
    conn.commit()  # deferred foreign keys are checked here
    timings["commit"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t0
    return timings
