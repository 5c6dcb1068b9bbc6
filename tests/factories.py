"""Test data through the services (CONVENTIONS: set up state through services, not raw inserts)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import factory
from django.db import connection
from django.test import TestCase
from rest_framework.test import APIClient

from distributors.services import DistributorInput, distributor_register
from orders.services import LineInput, OrderInput, order_record, orders_record_batch

T0 = datetime(2026, 1, 15, 2, 0, tzinfo=timezone.utc)


class DistributorInputFactory(factory.Factory):
    class Meta:
        model = DistributorInput

    external_id = factory.Sequence(lambda n: f"D{n:04d}")
    name = factory.LazyAttribute(lambda o: f"Distributor {o.external_id}")
    password = "pass-word-1"


def committed():
    """Run the on_commit hooks (the commission task) of what the block does, as a real commit would.
    Inside a test transaction nothing commits; outside one (transactional tests) hooks run anyway."""
    if connection.in_atomic_block:
        return TestCase.captureOnCommitCallbacks(execute=True)
    import contextlib

    return contextlib.nullcontext()


# Which intake path order creation takes in tests: "single" (POST /orders/, order_record) or
# "batch" (POST /orders/batch/, orders_record_batch). The `both_intake_paths` fixture runs a
# module's tests through both, so the two paths share their tests.
INTAKE = {"path": "single"}


class ItemResponse:
    """One item of a 207 batch answer, shaped like the response of the single endpoint."""

    def __init__(self, status_code, body):
        self.status_code, self.data, self._body = status_code, body, body

    def json(self):
        return self._body


class CommitAPIClient(APIClient):
    """APIClient whose every request runs its on_commit hooks, as a committed request would.

    With INTAKE["path"] == "batch", POST /api/v1/orders/ goes through POST /api/v1/orders/batch/
    as a batch of one, and the item's status and body come back as the response."""

    def generic(self, *args, **kwargs):
        with committed():
            return super().generic(*args, **kwargs)

    def post(self, path, data=None, format=None, content_type=None, **extra):
        if INTAKE["path"] != "batch" or path != "/api/v1/orders/":
            return super().post(path, data, format=format, content_type=content_type, **extra)
        if content_type is not None and isinstance(data, (str, bytes)):
            raw = data.decode() if isinstance(data, bytes) else data
            r = super().post("/api/v1/orders/batch/", '{"orders": [' + raw + "]}", content_type=content_type, **extra)
        else:
            r = super().post("/api/v1/orders/batch/", {"orders": [data]}, format=format or "json", **extra)
        if r.status_code != 207:
            return r
        (item,) = r.json()["results"]
        return ItemResponse(item["status"], item["body"])


def record(*, tenant, data: OrderInput):
    """order_record or, with INTAKE["path"] == "batch", orders_record_batch of one (raises the same)."""
    if INTAKE["path"] != "batch":
        return order_record(tenant=tenant, data=data)
    (result,) = orders_record_batch(tenant=tenant, items=[data])
    if isinstance(result, Exception):
        raise result
    return result


def distributor(tenant, parent=None, **kw):
    """Register a distributor under `parent` (a Distributor or None) through the service."""
    data = DistributorInputFactory(parent_external_id=parent.external_id if parent else None, **kw)
    d, _ = distributor_register(tenant=tenant, data=data)
    return d


def chain(tenant, n, prefix="C"):
    """n distributors, each the downline of the previous: returns [root, ..., deepest]."""
    out = []
    for i in range(n):
        out.append(distributor(tenant, out[-1] if out else None, external_id=f"{prefix}{i}"))
    return out


def line(line_id="1", sku="SKU-1", quantity=1, unit_price="100.00", **kw):
    return LineInput(line_id=line_id, sku=sku, quantity=quantity, unit_price=Decimal(unit_price),
                     **{k: (Decimal(v) if k == "discount" else v) for k, v in kw.items()})


def order_input(external_id="O1", lines=None, **kw):
    money = {k: Decimal(kw.pop(k)) for k in ("discount", "shipping", "tax", "non_cash_amount", "exchange_rate") if k in kw}
    kw.setdefault("currency", "CNY")
    kw.setdefault("placed_at", T0)
    if kw.get("status") == "paid":
        kw.setdefault("paid_at", T0)
    return OrderInput(external_id=external_id, lines=lines or [line()], **money, **kw)


def paid_order(tenant, external_id="O1", lines=None, **kw):
    """Record a paid order (its commission task runs eagerly on commit)."""
    with committed():
        order, _ = record(tenant=tenant, data=order_input(external_id, lines, status="paid", **kw))
    return order


def order_json(external_id="O1", **kw):
    body = {
        "external_id": external_id, "currency": "CNY", "placed_at": "2026-01-15T10:00:00+08:00",
        "lines": [{"line_id": "1", "sku": "SKU-1", "quantity": 1, "unit_price": "100.00"}],
    }
    body.update(kw)
    return body


def copy_inserts(n: int) -> int:
    """Extra queries of `n` bulk inserts on PostgreSQL, where fenxiao.bulk.bulk_insert writes rows
    as two statements (ids from the sequence, then COPY) instead of bulk_create's one."""
    from django.db import connection

    return n if connection.vendor == "postgresql" else 0
