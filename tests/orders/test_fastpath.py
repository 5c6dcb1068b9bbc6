"""orders.api.fastpath: the batch intake's fast validation equals OrderCreateSerializer exactly
where it answers, and never accepts what the serializer refuses."""
import json
from datetime import datetime
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from orders.api.fastpath import order_create_fast
from orders.api.serializers import OrderCreateSerializer
from tests.factories import order_json

REFUSED = object()


def canon(value):
    """Values with their exact form: decimal places, time zone, str subclasses (choice enums)."""
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canon(v) for v in value]
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), str(value.tzinfo))
    return (type(value).__name__, value)


def serializer(item):
    try:
        return OrderCreateSerializer().run_validation(item)
    except ValidationError:
        return REFUSED


def check(item):
    fast = order_create_fast(json.loads(json.dumps(item)))
    slow = serializer(json.loads(json.dumps(item)))
    if slow is REFUSED:
        assert fast is None, item
    elif fast is not None:
        assert canon(fast) == canon(dict(slow)), item
    return fast


def base(**kw):
    body = order_json("F1", referrer_external_id="C1", status="paid", paid_at="2026-01-15T10:05:00+08:00",
                      buyer_external_id="U1", discount="3.30", shipping="8.00",
                      lines=[{"line_id": "1", "sku": "S1", "category": "Tea", "quantity": 2, "unit_price": "19.90",
                              "discount": "1.00", "commissionable": True},
                             {"line_id": "2", "sku": "S2", "quantity": 1, "unit_price": "5.5"}])
    body.update(kw)
    return body


def test_plain_bodies_take_the_fast_path_with_the_serializers_values():
    for body in (base(), order_json("F2"), base(status="pending", paid_at=None, referrer_external_id=None),
                 base(referrer_external_id="", buyer_external_id="", placed_at="2026-01-15T02:00:00Z"),
                 base(non_cash_amount="0", tax="0.1", external_id="  padded  ")):
        assert check(body) is not None, body
    fast = order_create_fast(base())
    assert fast["lines"][1]["unit_price"] == Decimal("5.5") and str(fast["lines"][1]["unit_price"]) == "5.5000"  # MoneyField: 4 places
    assert str(fast["placed_at"].tzinfo) == "UTC"


def test_bench_bodies_take_the_fast_path():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import datagen

    tree = datagen.build_tree(200, seed=3)
    stream = datagen.OrderStream(tree, prefix="T", seed=3)
    for k in range(200):
        assert check(stream.payload(k)[0]) is not None


ODD = [None, "", "  ", " x ", "x", 0, 1, 5, -1, 1.5, True, False, "1e2", "-1.00", "12.345", "007.50", "0.05",
       "99999999999999.99", "100000000000000.00", "１", "5_0", "a/b", "a\x00b", "\ud800", "x" * 65, "é",
       "2026-01-15T10:00:00", "2026-01-15T10:00:00+08:00", " 2026-01-15T10:00:00Z", "2026-02-30T10:00:00Z",
       "9999-12-31T23:59:59-14:00", "\uff12\uff10\uff12\uff16-01-15T10:00:00Z", "20260115T100000+0800",
       "2026-01-15T10:00:00.1234567Z", "2026-01-15t10:00z", "P\u200b", "P\u202e", "\ufeffP", "CNY", "cny", "USD", "XXX", "paid", "pending", "completed", [], {}, ["1"],
       {"a": 1}, "1000000", 1000000, 1000001, "0.00000001", "1.5"]
ORDER_KEYS = ["external_id", "referrer_external_id", "buyer_external_id", "currency", "exchange_rate", "placed_at",
              "paid_at", "status", "discount", "shipping", "tax", "non_cash_amount", "lines", "unknown"]
LINE_KEYS = ["line_id", "sku", "category", "quantity", "unit_price", "discount", "commissionable", "extra"]
MISSING = "<missing>"


@settings(max_examples=600, deadline=None)
@given(order_changes=st.dictionaries(st.sampled_from(ORDER_KEYS), st.sampled_from(ODD + [MISSING]), max_size=3),
       line_changes=st.dictionaries(st.sampled_from(LINE_KEYS), st.sampled_from(ODD + [MISSING]), max_size=3),
       which=st.integers(0, 1), duplicate=st.booleans())
@example(order_changes={"lines": ["1"]}, line_changes={"line_id": None}, which=0, duplicate=False)  # found by a newcomer
@example(order_changes={"lines": [{"a": 1}]}, line_changes={"sku": MISSING}, which=1, duplicate=True)
def test_mutated_bodies_are_never_accepted_wrongly(order_changes, line_changes, which, duplicate):
    body = base()
    for key, value in order_changes.items():
        if value is MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    line = body["lines"][which % len(body["lines"])] if isinstance(body.get("lines"), list) and body["lines"] else None
    if isinstance(line, dict):  # "lines" itself may have been replaced by an odd value above
        for key, value in line_changes.items():
            if value is MISSING:
                line.pop(key, None)
            else:
                line[key] = value
        if duplicate:
            body["lines"].append(dict(line))
    check(body)
