"""The single-order floor: a minimal WSGI app that does what POST /api/v1/orders/ and its accrual
must do for one paid order, with nothing else.

Per request: read the JSON body; authenticate `Authorization: Api-Key <prefix>.<secret>` (the key
row by prefix, its SHA-512 hash compared as djangorestframework-api-key does, not revoked, the
tenant active: one query); read the referrer's row (id, ancestor path: one query); then in one
transaction write the same rows fenxiao writes for a paid order, computed with the product's own
arithmetic (commissions.arithmetic): the order, its lines, one commission record and one ledger
accrual per paid level, the beneficiaries' balances (insert or add, in distributor id order) and
the `order.commissions_created` outbox event; answer 201 with a small JSON body.

No framework, no validation beyond what the arithmetic needs, no idempotency lookup (the unique
constraint answers a duplicate with 409), no separate accrual step. bench/run.py serves it with
the same gunicorn settings as fenxiao and reports fenxiao's single-order rate as a fraction of it.

Environment: FLOOR_DSN (libpq), FLOOR_TENANT_ID (the floor tenant whose API key is used and whose
rows are written), FLOOR_TREE_TENANT_ID (the tenant whose distributors the orders name),
FLOOR_PLAN_ID, FLOOR_RATES ("0.10,0.05,0.02"), FLOOR_SETTLE_DAYS.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg
from psycopg.types.json import Jsonb

from commissions import arithmetic as ar

DSN = os.environ.get("FLOOR_DSN", "")
TENANT_ID = int(os.environ.get("FLOOR_TENANT_ID", "0"))
TREE_TENANT_ID = int(os.environ.get("FLOOR_TREE_TENANT_ID", "0"))
PLAN_ID = int(os.environ.get("FLOOR_PLAN_ID", "0"))
RATES = [Decimal(x) for x in os.environ.get("FLOOR_RATES", "0.10,0.05,0.02").split(",")]
SETTLE_DAYS = int(os.environ.get("FLOOR_SETTLE_DAYS", "21"))
RULES = ar.PlanRules(default={i + 1: ar.RuleValue("percent", r, "default") for i, r in enumerate(RATES)})
CURRENCY = "CNY"

KEY_SQL = ("SELECT k.hashed_key, k.revoked, k.expiry_date, t.is_active FROM tenants_tenantapikey k"
           " JOIN tenants_tenant t ON t.id = k.tenant_id WHERE k.prefix = %s AND k.tenant_id = %s")
REFERRER_SQL = "SELECT id, ancestor_path FROM distributors_distributor WHERE tenant_id = %s AND external_id = %s"
ORDER_SQL = (
    "INSERT INTO orders_order (external_id, buyer_external_id, currency, exchange_rate, placed_at, paid_at, status,"
    " discount, shipping, tax, non_cash_amount, goods_total, base_order_currency, commission_base, net_base,"
    " refund_mode, refunded_amount, refunded_shipping, refunded_tax, attribution, commission_state, content_hash,"
    " created_at, updated_at, attributed_to_id, plan_id, referrer_id, tenant_id) VALUES (%s, %s, %s, 1, %s, %s, 'paid',"
    " %s, %s, 0, 0, %s, %s, %s, %s, '', 0, 0, 0, %s, 'done', %s, %s, %s, %s, %s, %s, %s) RETURNING id")
LINE_SQL = (
    "INSERT INTO orders_orderline (line_id, sku, category, quantity, unit_price, discount, commissionable,"
    " discount_share, non_cash_share, net, refunded_quantity, order_id, tenant_id)"
    " VALUES (%s, %s, %s, %s, %s, 0, true, %s, %s, %s, 0, %s, %s)")
RECORD_SQL = (
    "INSERT INTO commissions_commissionrecord (level, currency, base, rate, amount, reversed_amount, status, lines,"
    " settles_at, created_at, beneficiary_id, order_id, plan_id, tenant_id)"
    " VALUES (%s, %s, %s, %s, %s, 0, 'frozen', %s, %s, %s, %s, %s, %s, %s) RETURNING id")
ENTRY_SQL = (
    "INSERT INTO ledger_ledgerentry (kind, amount, d_frozen, d_available, d_held, d_withdrawn, d_fees,"
    " d_total_earned, memo, created_at, distributor_id, record_id, tenant_id)"
    " VALUES ('accrual', %s, %s, 0, 0, 0, 0, %s, '', %s, %s, %s, %s)")
BALANCE_SQL = (
    "INSERT INTO ledger_balance (currency, frozen, available, held, withdrawn, fees, total_earned, updated_at,"
    " distributor_id, tenant_id, earned_level_1, earned_level_2, earned_level_3)"
    " VALUES (%s, %s, 0, 0, 0, 0, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (tenant_id, distributor_id) DO UPDATE SET frozen = ledger_balance.frozen + excluded.frozen,"
    " total_earned = ledger_balance.total_earned + excluded.total_earned, updated_at = excluded.updated_at,"
    " earned_level_1 = ledger_balance.earned_level_1 + excluded.earned_level_1,"
    " earned_level_2 = ledger_balance.earned_level_2 + excluded.earned_level_2,"
    " earned_level_3 = ledger_balance.earned_level_3 + excluded.earned_level_3")
OUTBOX_SQL = "INSERT INTO ledger_outboxevent (type, payload, created_at, tenant_id) VALUES (%s, %s, %s, %s)"

_local = threading.local()  # one connection per thread (gunicorn's gthread workers), kept open


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(DSN, autocommit=True)
    return conn


def _answer(start_response, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _authenticated(cur, header: str) -> bool:
    if not header.startswith("Api-Key "):
        return False
    key = header[8:].strip()
    prefix = key.partition(".")[0]
    row = cur.execute(KEY_SQL, (prefix, TENANT_ID)).fetchone()
    if row is None:
        return False
    hashed, revoked, expiry, active = row
    expected = "sha512$$" + hashlib.sha512(key.encode()).hexdigest()
    return (hmac.compare_digest(hashed, expected) and not revoked and active
            and (expiry is None or expiry > datetime.now(timezone.utc)))


def application(environ, start_response):
    """POST any path with one order (bench/datagen.py's shape); 201 {"external_id", "commissions"}."""
    size = int(environ.get("CONTENT_LENGTH") or 0)
    conn = _connection()
    with conn.cursor() as cur:
        if not _authenticated(cur, environ.get("HTTP_AUTHORIZATION", "")):
            return _answer(start_response, "401 Unauthorized", {"detail": "invalid API key"})
        raw = environ["wsgi.input"].read(size)
        o = json.loads(raw)
        ref = cur.execute(REFERRER_SQL, (TREE_TENANT_ID, o["referrer_external_id"])).fetchone()
        if ref is None:
            return _answer(start_response, "400 Bad Request", {"detail": "unknown referrer"})
        chain = [ref[0], *reversed([int(x) for x in ref[1].strip("/").split("/") if x])][:len(RATES)]
        lines = [ar.Line(l["line_id"], l["quantity"], Decimal(l["unit_price"]), Decimal("0.00"), True, l["sku"],
                         l.get("category", "")) for l in o["lines"]]
        discount = Decimal(o.get("discount", "0.00"))
        base = ar.order_base(lines, discount=discount)
        now = datetime.now(timezone.utc)
        paid = datetime.fromisoformat(o["paid_at"])
        settles = paid + timedelta(days=SETTLE_DAYS)
        snapshot = {"chain": [{"level": i + 1, "distributor_id": d, "grade_id": None, "override": None}
                              for i, d in enumerate(chain)]}
        digest = hashlib.sha256(raw).hexdigest()
        made, balances = [], {}
        try:
            with conn.transaction():
                order_id = cur.execute(ORDER_SQL, (
                    o["external_id"], o.get("buyer_external_id", ""), CURRENCY, o["placed_at"], o["paid_at"], discount,
                    Decimal(o.get("shipping", "0.00")), base.goods_total, base.base_order_currency,
                    base.commission_base, base.commission_base, Jsonb(snapshot), digest, now, now, chain[0], PLAN_ID,
                    chain[0], TENANT_ID)).fetchone()[0]
                cur.executemany(LINE_SQL, [(
                    l.line_id, l.sku, l.category, l.quantity, l.unit_price, base.discount_shares.get(l.line_id, 0),
                    base.non_cash_shares.get(l.line_id, 0), base.line_nets.get(l.line_id, 0), order_id, TENANT_ID)
                    for l in lines])
                for level, beneficiary in enumerate(chain, start=1):
                    values = ar.level_line_values(lines, base, level, RULES)
                    amount = ar.record_amount(values, "down")
                    if amount <= 0:
                        continue
                    record_id = cur.execute(RECORD_SQL, (
                        level, CURRENCY, base.commission_base, ar.uniform_rate(values), amount,
                        Jsonb([v.as_dict() for v in values]), settles, now, beneficiary, order_id, PLAN_ID,
                        TENANT_ID)).fetchone()[0]
                    cur.execute(ENTRY_SQL, (amount, amount, amount, now, beneficiary, record_id, TENANT_ID))
                    levels = [Decimal(0)] * 3
                    levels[level - 1] = amount
                    balances[beneficiary] = (amount, levels)
                    made.append({"commission_id": record_id, "beneficiary_id": beneficiary, "level": level,
                                 "amount": str(amount), "settles_at": settles.isoformat()})
                cur.executemany(BALANCE_SQL, [(CURRENCY, a, a, now, d, TENANT_ID, *lv)
                                              for d, (a, lv) in sorted(balances.items())])
                if made:
                    cur.execute(OUTBOX_SQL, ("order.commissions_created", Jsonb({
                        "order_external_id": o["external_id"], "currency": CURRENCY, "commissions": made}),
                        now, TENANT_ID))
        except psycopg.errors.UniqueViolation:
            return _answer(start_response, "409 Conflict", {"detail": "exists"})
    return _answer(start_response, "201 Created", {"external_id": o["external_id"], "commission_base":
                                                   str(base.commission_base), "commissions": made})
