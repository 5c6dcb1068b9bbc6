"""Backtests: re-price recorded orders under another plan version (issue: PM console).

Each order keeps what it was recorded with (beneficiary chain, grades, lines, refunds); only the
plan's rules change. The re-priced amount of each level is computed exactly as a real record
would be (domain rules section 6: rounded once per record, refunds prorated by the same
factors), so the delta is to the cent what the plan would have changed. Nothing is written to
the ledger; the result is kept on the Backtest row.
"""
from __future__ import annotations

from collections import defaultdict, namedtuple
from datetime import date, datetime, time, timedelta
from decimal import Context, Decimal, Inexact, Rounded
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from fenxiao import oncommit
from fenxiao.csvsafe import safe_row
from fenxiao.currencies import minor_units, money_str
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
        raise invalid("date_to", gettext("date_to is before date_from."), "reversed_range")
    if (date_to - date_from).days > 10 * 366:
        raise invalid("date_to", gettext("A backtest covers at most 10 years."), "range_too_long")
    bt = Backtest.objects.create(tenant=tenant, plan=plan, date_from=date_from, date_to=date_to, created_by=actor)
    # sent on commit by tasks.backtest_enqueue (registered in commissions.apps: the task module
    # imports this one); a broker outage leaves it `queued`: the per-tenant sweep sends it again
    # (tasks.sweep_tenant)
    oncommit.enqueue("commissions.backtest", backtest_id=bt.pk, tenant_id=tenant.pk)
    return bt


def _bounds(tenant: Tenant, d0: date, d1: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(tenant.timezone)
    return datetime.combine(d0, time.min, tz), datetime.combine(d1 + timedelta(days=1), time.min, tz)


# What a backtest reads of an order and of its lines (a chunk's lines in one query, as tuples:
# prefetch_related built a queryset per order, a third of the run).
ORDER_FIELDS = ("id", "refund_mode", "goods_total", "refunded_amount", "discount", "non_cash_amount", "exchange_rate",
                "attribution")
_LineRow = namedtuple("_LineRow", "line_id quantity unit_price discount commissionable sku category refunded_quantity")


_EXACT = Context(prec=80, traps=[Inexact, Rounded])  # a Decimal sum that would round raises instead


def _add(sums: dict, key: str, value: Decimal, factor: Fraction | None) -> None:
    """sums[key] += value x factor exactly: unprorated values (the common case) in a Decimal that
    must stay exact (sums[key + "_d"]), prorated ones as Fractions (Fraction(Decimal) for every
    value was a third of a backtest's time)."""
    if factor is None:
        sums[key + "_d"] = _EXACT.add(sums[key + "_d"], value)
    else:
        sums[key] += Fraction(value) * factor


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
    from orders.models import Order, OrderLine

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
    places = minor_units(tenant.currency)
    by_level = {lvl: {"actual": ZERO, "backtest": ZERO} for lvl in (1, 2, 3)}
    # per category: exact sums of the unrounded values, Decimal where no refund prorates them
    by_category: dict[str, dict[str, Decimal | Fraction]] = defaultdict(
        lambda: {"actual": Fraction(0), "backtest": Fraction(0), "actual_d": ZERO, "backtest_d": ZERO})
    by_distributor: dict[int, dict[str, Decimal]] = defaultdict(lambda: {"actual": ZERO, "backtest": ZERO})
    try:
        last_pk = 0
        while True:
            chunk = list(orders.filter(pk__gt=last_pk).only(*ORDER_FIELDS)[:CHUNK])
            if not chunk:
                break
            last_pk = chunk[-1].pk
            lines_of = defaultdict(list)  # in primary-key order, as order.lines.all() gives them
            for order_id, *line in OrderLine.objects.filter(order_id__in=[o.pk for o in chunk]).order_by("pk").values_list(
                    "order_id", *_LineRow._fields):
                lines_of[order_id].append(_LineRow(*line))
            actual = defaultdict(dict)
            for r in CommissionRecord.objects.filter(order_id__in=[o.pk for o in chunk]).only(
                    "order_id", "level", "beneficiary_id", "amount", "reversed_amount", "lines"):
                actual[r.order_id][r.level] = r
            for order in chunk:
                lines = lines_of[order.pk]
                factors = _factors(order, lines)
                arith = [ar.Line(l.line_id, l.quantity, l.unit_price, l.discount, l.commissionable, l.sku, l.category) for l in lines]
                category_of = {l.line_id: l.category for l in lines}
                base = ar.order_base(arith, discount=order.discount, non_cash_amount=order.non_cash_amount,
                                     exchange_rate=order.exchange_rate, places=minor_units(order.currency),
                                     base_places=places)
                for entry in order.attribution.get("chain", []):
                    lvl, who = entry["level"], entry["distributor_id"]
                    ov = entry.get("override")
                    override = ar.RuleValue(ov["kind"], Decimal(ov["value"])) if ov else None
                    values = ar.level_line_values(arith, base, lvl, rules, grade_override=override, exchange_rate=order.exchange_rate)
                    new = ar.record_amount(values, tenant.rounding, factors, places)
                    rec = actual[order.pk].get(lvl)
                    old = rec.net_amount if rec else ZERO
                    by_level[lvl]["actual"] += old
                    by_level[lvl]["backtest"] += new
                    by_distributor[who]["actual"] += old
                    by_distributor[who]["backtest"] += new
                    for v in values:
                        _add(by_category[category_of[v.line_id]], "backtest", v.value, factors.get(v.line_id))
                    for v in (rec.lines if rec else []):
                        _add(by_category[category_of[v["line_id"]]], "actual", Decimal(v["value"]), factors.get(v["line_id"]))
            bt.processed_orders += len(chunk)
            Backtest.objects.filter(pk=bt.pk).update(processed_orders=bt.processed_orders)
    except Exception as exc:  # noqa: BLE001 - kept on the row for the PM, then re-raised for the worker log
        Backtest.objects.filter(pk=bt.pk).update(status=Backtest.Status.FAILED, error=str(exc)[:2000])
        raise
    from distributors.models import Distributor

    def money(f) -> str:  # an exact sum in the tenant currency, written with its places
        return money_str(ar.quantize_money(f, "half_up", places), tenant.currency)

    top = sorted(by_distributor.items(), key=lambda kv: (-abs(kv[1]["backtest"] - kv[1]["actual"]), kv[0]))[:20]
    names = {d.pk: d.external_id for d in Distributor.objects.filter(pk__in=[k for k, _ in top])}
    total_actual = sum((v["actual"] for v in by_level.values()), ZERO)
    total_backtest = sum((v["backtest"] for v in by_level.values()), ZERO)
    bt.results = {
        "currency": tenant.currency,
        "plan_version": bt.plan.version,
        "orders": bt.total_orders,
        "actual": money(total_actual), "backtest": money(total_backtest), "delta": money(total_backtest - total_actual),
        "by_level": {str(k): {"actual": money(v["actual"]), "backtest": money(v["backtest"]),
                              "delta": money(v["backtest"] - v["actual"])} for k, v in by_level.items()},
        "by_category": {k: {"actual": money(a), "backtest": money(b), "delta": money(b - a)}
                        for k, a, b in ((k, v["actual"] + Fraction(v["actual_d"]), v["backtest"] + Fraction(v["backtest_d"]))
                                        for k, v in sorted(by_category.items()))},
        "top_distributors": [{"external_id": names[k], "actual": money(v["actual"]), "backtest": money(v["backtest"]),
                              "delta": money(v["backtest"] - v["actual"])} for k, v in top],
        "by_distributor": {str(k): [money(v["actual"]), money(v["backtest"])] for k, v in sorted(by_distributor.items())},
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
        w.writerow(safe_row([key, ids.get(key, ""), a, b, money_str(Decimal(b) - Decimal(a), bt.results["currency"])]))
    return out.getvalue()
