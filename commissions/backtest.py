"""Backtests: re-price recorded orders under another plan version (issue: PM console).

Each order keeps what it was recorded with (beneficiary chain, grades, lines, refunds); only the
plan's rules change. The re-priced amount of each level is computed exactly as a real record
would be (domain rules section 6: rounded once per record, refunds prorated by the same
factors), so the delta is to the cent what the plan would have changed. Nothing is written to
the ledger; the result is kept on the Backtest row.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from fenxiao.exceptions import invalid
from tenants.models import Tenant

from . import arithmetic as ar
from .models import Backtest, CommissionPlan, CommissionRecord
from .selectors import plan_rules

ZERO = Decimal("0.00")
CHUNK = 500


@transaction.atomic
def backtest_create(*, tenant: Tenant, plan: CommissionPlan, date_from: date, date_to: date, actor: str = "") -> Backtest:
    """Queue a backtest of `plan` on the orders paid from `date_from` to `date_to` (inclusive, local
    days of the tenant). 400 for a reversed range or one longer than 10 years. Runs in a Celery task
    enqueued on commit (or by the minute's sweep when the broker was down)."""
    if date_to < date_from:
        raise invalid("date_to", "date_to is before date_from.", "reversed_range")
    if (date_to - date_from).days > 10 * 366:
        raise invalid("date_to", "A backtest covers at most 10 years.", "range_too_long")
    bt = Backtest.objects.create(tenant=tenant, plan=plan, date_from=date_from, date_to=date_to, created_by=actor)
    from .tasks import backtest_enqueue

    # a broker outage leaves it `queued`: the per-tenant sweep sends it again (tasks.sweep_tenant)
    transaction.on_commit(lambda: backtest_enqueue(backtest_id=bt.pk, tenant_id=tenant.pk))
    return bt


def _bounds(tenant: Tenant, d0: date, d1: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(tenant.timezone)
    return datetime.combine(d0, time.min, tz), datetime.combine(d1 + timedelta(days=1), time.min, tz)


def _factors(order, lines) -> dict:
    if order.refund_mode == "lines":
        return ar.refund_factors_by_lines({l.line_id: l.quantity for l in lines}, {l.line_id: l.refunded_quantity for l in lines})
    if order.refund_mode == "amount":
        f = ar.refund_factor_by_amount(order.goods_total, order.refunded_amount)
        return {l.line_id: f for l in lines}
    return {}


def backtest_run(*, backtest_id: int) -> Backtest:
    """Run a queued backtest (idempotent: a done one is returned as is). Progress is saved after
    every chunk of orders. Results: totals actual / backtest / delta, per level, per category
    (unrounded line values, for orientation), and the 20 distributors most affected."""
    from orders.models import Order

    claimed = Backtest.objects.filter(pk=backtest_id, status__in=[Backtest.Status.QUEUED, Backtest.Status.FAILED]).update(
        status=Backtest.Status.RUNNING)
    bt = Backtest.objects.select_related("tenant", "plan").get(pk=backtest_id)
    if not claimed:
        return bt
    tenant = bt.tenant
    start, end = _bounds(tenant, bt.date_from, bt.date_to)
    orders = Order.objects.filter(paid_at__gte=start, paid_at__lt=end, commission_state="done").order_by("pk")
    bt.total_orders = orders.count()
    bt.save(update_fields=["total_orders"])
    rules = plan_rules(plan_id=bt.plan_id)
    by_level = {lvl: {"actual": ZERO, "backtest": ZERO} for lvl in (1, 2, 3)}
    by_category: dict[str, dict[str, Fraction]] = defaultdict(lambda: {"actual": Fraction(0), "backtest": Fraction(0)})
    by_distributor: dict[int, dict[str, Decimal]] = defaultdict(lambda: {"actual": ZERO, "backtest": ZERO})
    try:
        last_pk = 0
        while True:
            chunk = list(orders.filter(pk__gt=last_pk).prefetch_related("lines")[:CHUNK])
            if not chunk:
                break
            last_pk = chunk[-1].pk
            actual = defaultdict(dict)
            for r in CommissionRecord.objects.filter(order_id__in=[o.pk for o in chunk]).only(
                    "order_id", "level", "beneficiary_id", "amount", "reversed_amount", "lines"):
                actual[r.order_id][r.level] = r
            for order in chunk:
                lines = list(order.lines.all())
                factors = _factors(order, lines)
                arith = [ar.Line(l.line_id, l.quantity, l.unit_price, l.discount, l.commissionable, l.sku, l.category) for l in lines]
                category_of = {l.line_id: l.category for l in lines}
                base = ar.order_base(arith, discount=order.discount, non_cash_amount=order.non_cash_amount,
                                     exchange_rate=order.exchange_rate)
                for entry in order.attribution.get("chain", []):
                    lvl, who = entry["level"], entry["distributor_id"]
                    ov = entry.get("override")
                    override = ar.RuleValue(ov["kind"], Decimal(ov["value"])) if ov else None
                    values = ar.level_line_values(arith, base, lvl, rules, grade_override=override, exchange_rate=order.exchange_rate)
                    new = ar.record_amount(values, tenant.rounding, factors)
                    rec = actual[order.pk].get(lvl)
                    old = rec.net_amount if rec else ZERO
                    by_level[lvl]["actual"] += old
                    by_level[lvl]["backtest"] += new
                    by_distributor[who]["actual"] += old
                    by_distributor[who]["backtest"] += new
                    for v in values:
                        by_category[category_of[v.line_id]]["backtest"] += Fraction(v.value) * factors.get(v.line_id, 1)
                    for v in (rec.lines if rec else []):
                        by_category[category_of[v["line_id"]]]["actual"] += Fraction(Decimal(v["value"])) * factors.get(v["line_id"], 1)
            bt.processed_orders += len(chunk)
            Backtest.objects.filter(pk=bt.pk).update(processed_orders=bt.processed_orders)
    except Exception as exc:  # noqa: BLE001 - kept on the row for the PM, then re-raised for the worker log
        Backtest.objects.filter(pk=bt.pk).update(status=Backtest.Status.FAILED, error=str(exc)[:2000])
        raise
    from distributors.models import Distributor

    money = lambda f: ar.quantize_money(f, "half_up")  # noqa: E731
    top = sorted(by_distributor.items(), key=lambda kv: (-abs(kv[1]["backtest"] - kv[1]["actual"]), kv[0]))[:20]
    names = {d.pk: d.external_id for d in Distributor.objects.filter(pk__in=[k for k, _ in top])}
    total_actual = sum((v["actual"] for v in by_level.values()), ZERO)
    total_backtest = sum((v["backtest"] for v in by_level.values()), ZERO)
    bt.results = {
        "currency": tenant.currency,
        "plan_version": bt.plan.version,
        "orders": bt.total_orders,
        "actual": str(total_actual), "backtest": str(total_backtest), "delta": str(total_backtest - total_actual),
        "by_level": {str(k): {"actual": str(v["actual"]), "backtest": str(v["backtest"]), "delta": str(v["backtest"] - v["actual"])}
                     for k, v in by_level.items()},
        "by_category": {k: {"actual": str(money(v["actual"])), "backtest": str(money(v["backtest"])),
                            "delta": str(money(v["backtest"] - v["actual"]))} for k, v in sorted(by_category.items())},
        "top_distributors": [{"external_id": names[k], "actual": str(v["actual"]), "backtest": str(v["backtest"]),
                              "delta": str(v["backtest"] - v["actual"])} for k, v in top],
        "by_distributor": {str(k): [str(v["actual"]), str(v["backtest"])] for k, v in sorted(by_distributor.items())},
    }
    bt.status = Backtest.Status.DONE
    bt.finished_at = timezone.now()
    bt.save(update_fields=["results", "status", "finished_at", "processed_orders"])
    return bt


def backtest_csv(bt: Backtest) -> str:
    """One row per distributor with a record in the range: actual, backtest and delta (tenant currency)."""
    import csv
    import io

    from distributors.models import Distributor

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["distributor_id", "distributor_external_id", "actual", "backtest", "delta"])
    rows = bt.results.get("by_distributor", {})
    ids = {str(d.pk): d.external_id for d in Distributor.objects.filter(pk__in=[int(k) for k in rows])}
    for key, (a, b) in sorted(rows.items(), key=lambda kv: int(kv[0])):
        w.writerow([key, ids.get(key, ""), a, b, str(Decimal(b) - Decimal(a))])
    return out.getvalue()
