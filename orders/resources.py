"""CSV import/export of orders for the admin (django-import-export): one row per order line.

Import groups the rows by `external_id` and records each order through `order_record` (the API's
service: validation, idempotency, base, attribution, commissions on commit). Any invalid order
marks all its rows invalid with the reason, and then nothing at all is imported.
"""
from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal, InvalidOperation

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from import_export import resources
from import_export.results import Result, RowResult
from rest_framework.exceptions import APIException

from fenxiao.csvsafe import safe_dataset
from fenxiao.currencies import money_str
from tenants.context import get_current_tenant_id

from .models import Order

ORDER_COLUMNS = ["external_id", "currency", "exchange_rate", "placed_at", "status", "paid_at", "referrer_external_id",
                 "buyer_external_id", "discount", "shipping", "tax", "non_cash_amount", "channel"]
LINE_COLUMNS = ["line_id", "sku", "category", "quantity", "unit_price", "line_discount", "commissionable"]
COLUMNS = ORDER_COLUMNS + LINE_COLUMNS


def _money(value, name) -> Decimal:
    text = str(value or "0").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(gettext("%(column)s: %(text)r is not an amount") % {"column": name, "text": text}) from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(gettext("%(column)s: %(text)r must be an amount >= 0") % {"column": name, "text": text})
    return amount  # its places are checked against the order's currency by order_record


def _time(value, name):
    text = str(value or "").strip()
    if not text:
        return None
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValueError(gettext("%(column)s: %(text)r is not an RFC 3339 time with an offset") % {"column": name, "text": text})
    return parsed


def _id(value, name: str) -> str:
    """An id column, edge spaces stripped, checked as the API checks ids (external_id_ok)."""
    from fenxiao.validators import EXTERNAL_ID_MESSAGE, external_id_ok

    text = str(value or "").strip(" ")
    if not external_id_ok(text):
        raise ValueError(f"{name}: {EXTERNAL_ID_MESSAGE}")
    return text


def _channel(value) -> str:
    """The optional `channel` column (a file without it: none), checked as the API checks it."""
    from fenxiao.validators import channel_message, channel_ok

    text = str(value or "").strip()
    if text and not channel_ok(text):
        raise ValueError(f"channel: {channel_message()}")
    return text


def order_input_from_rows(rows: list[dict]):
    """One OrderInput from the CSV rows of one order (ValueError with the reason if malformed)."""
    from .services import LineInput, OrderInput

    head = rows[0]
    for name in ("external_id", "referrer_external_id", "buyer_external_id"):
        _id(head.get(name), name)
    lines = []
    for row in rows:
        _id(row.get("line_id"), "line_id")
        try:
            quantity = int(str(row.get("quantity") or "").strip())
        except ValueError:
            raise ValueError(gettext("line %(line)s: quantity must be a whole number") % {"line": row.get("line_id")}) from None
        lines.append(LineInput(
            line_id=str(row.get("line_id") or "").strip(), sku=str(row.get("sku") or "").strip(),
            category=str(row.get("category") or "").strip(), quantity=quantity,
            unit_price=_money(row.get("unit_price"), "unit_price"), discount=_money(row.get("line_discount"), "line_discount"),
            commissionable=str(row.get("commissionable") or "true").strip().lower() not in ("false", "0", "no"),
        ))
    rate = str(head.get("exchange_rate") or "").strip()
    return OrderInput(
        external_id=str(head["external_id"]).strip(), currency=str(head.get("currency") or "").strip(),
        placed_at=_time(head.get("placed_at"), "placed_at"), status=str(head.get("status") or "pending").strip(),
        paid_at=_time(head.get("paid_at"), "paid_at"),
        referrer_external_id=str(head.get("referrer_external_id") or "").strip() or None,
        buyer_external_id=str(head.get("buyer_external_id") or "").strip(),
        exchange_rate=Decimal(rate) if rate else None,
        discount=_money(head.get("discount"), "discount"), shipping=_money(head.get("shipping"), "shipping"),
        tax=_money(head.get("tax"), "tax"), non_cash_amount=_money(head.get("non_cash_amount"), "non_cash_amount"),
        channel=_channel(head.get("channel")), lines=lines,
    )


class OrderResource(resources.ModelResource):
    """Orders as CSV, a row per line (see module docstring)."""

    class Meta:
        model = Order
        fields = ("external_id",)

    def get_user_visible_headers(self):
        return COLUMNS

    def get_export_headers(self, selected_fields=None):
        return COLUMNS

    def export(self, queryset=None, **kwargs):
        queryset = queryset if queryset is not None else Order.objects.all()
        data = tablib.Dataset(headers=COLUMNS)
        for o in queryset.select_related("referrer").prefetch_related("lines").order_by("pk"):
            def m(value):  # an amount of the order, with its currency's places
                return money_str(value, o.currency)

            for line in o.lines.all():
                data.append([o.external_id, o.currency, o.exchange_rate if o.currency != "" else "", o.placed_at.isoformat(),
                             "paid" if o.paid_at else "pending", o.paid_at.isoformat() if o.paid_at else "",
                             o.referrer.external_id if o.referrer_id else "", o.buyer_external_id, m(o.discount),
                             m(o.shipping), m(o.tax), m(o.non_cash_amount), o.channel, line.line_id, line.sku, line.category,
                             line.quantity, m(line.unit_price), m(line.discount), "true" if line.commissionable else "false"])
        return safe_dataset(data)  # no cell a spreadsheet would run as a formula (domain rules 9)

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, collect_failed_rows=False, **kwargs):
        """Record every order of the file, or none: a dry run (the admin's preview) and any invalid
        order roll everything back."""
        from tenants.models import Tenant

        from .services import order_record

        result = Result()
        result.diff_headers = COLUMNS
        result.add_dataset_headers(dataset.headers)
        tenant = Tenant.objects.get(pk=get_current_tenant_id())
        groups: OrderedDict[str, list[tuple[int, dict]]] = OrderedDict()
        for number, row in enumerate(dataset.dict, start=1):
            groups.setdefault(str(row.get("external_id") or "").strip(), []).append((number, row))
        with transaction.atomic():
            for external_id, numbered in groups.items():
                rows = [row for _, row in numbered]
                try:
                    if not external_id:
                        raise ValueError(gettext("external_id is required"))
                    with transaction.atomic():
                        order, created = order_record(tenant=tenant, data=order_input_from_rows(rows))
                except (ValueError, APIException) as exc:
                    detail = exc.detail if isinstance(exc, APIException) else str(exc)
                    if isinstance(detail, dict):
                        detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in detail.items())
                    for number, row in numbered:
                        result.append_invalid_row(number, row, ValidationError(
                            gettext("order %(id)r: %(detail)s") % {"id": external_id, "detail": detail}))
                    continue
                for number, _row in numbered:
                    rr = RowResult()
                    rr.import_type = RowResult.IMPORT_TYPE_NEW if created else RowResult.IMPORT_TYPE_SKIP
                    rr.object_id, rr.object_repr, rr.number, rr.instance = order.pk, external_id, number, order
                    result.increment_row_result_total(rr)
                    result.append_row_result(rr)
            if dry_run or result.has_validation_errors() or result.has_errors():
                transaction.set_rollback(True)
        return result
