"""External ids refuse every Unicode control and separator, on every intake path (issue 10).

One definition, fenxiao.api.fields.external_id_ok: no "/", and no character of the Unicode
categories C* (Cc, Cf, Cs, Co, Cn) or Z* (Zs, Zl, Zp), the ASCII space included (no id in use
needs one). ASCII spaces at the edges are stripped, as before; any other character at an edge is
refused like one inside (str.strip() used to cut U+0085 or U+2028 off silently, making "P1\\u2028"
the same order as "P1"). Applied to every id and id reference: orders (external_id,
referrer_external_id, buyer_external_id, lines' line_id), refunds (external_id, lines' line_id),
distributors (external_id, parent_external_id), customers (external_id, referrer_external_id),
the staff move and the preview, the batch fast path and the CSV imports.
"""
import json
import unicodedata

import pytest
import tablib
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from distributors.api.serializers import CustomerCreateSerializer, DistributorCreateSerializer
from distributors.models import Customer, Distributor
from distributors.resources import DistributorResource
from fenxiao.api.fields import external_id_ok
from orders.api.fastpath import order_create_fast
from orders.api.serializers import OrderCreateSerializer, RefundCreateSerializer
from orders.models import Order, Refund
from orders.resources import OrderResource
from tests.factories import chain, order_json, paid_order

BAD_CATEGORIES = ["Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"]
SAFE = st.text(st.sampled_from("abcXYZ019-_.:#@é中"), max_size=8)
#: The characters of the report and their neighbours: C1 control NEL, line and paragraph
#: separators, no-break and ideographic spaces, TAB, private use, an unassigned code point, BOM,
#: a zero-width joiner, the ASCII space inside an id, and "/".
REPORTED = ["\u0085", "\u2028", "\u2029", "\u00a0", "\u3000", "\t", "\ue000", "\u0378", "\ufeff", "\u200d", " ", "/"]


def forbidden(ch: str) -> bool:
    return ch == "/" or unicodedata.category(ch)[0] in "CZ"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=12))
@example("P\u0085")
@example("\u2028P")
@example("P Q")
@example("P/Q")
@example("中文-1")
@example("")
def test_external_id_ok_is_no_control_no_separator_no_slash(text):
    assert external_id_ok(text) == (not any(forbidden(ch) for ch in text))


def _serializer_codes(serializer_class, body, attr):
    """The error codes the serializer gives `attr` (dotted, e.g. "lines.0.line_id")."""
    try:
        serializer_class().run_validation(json.loads(json.dumps(body)))
    except ValidationError as exc:
        detail = exc.detail
        for part in attr.split("."):
            if isinstance(detail, dict):   # nested lists' errors are keyed by index
                detail = detail.get(part, detail.get(int(part), []) if part.isdigit() else [])
            elif isinstance(detail, list):
                detail = detail[int(part)] if int(part) < len(detail) else []
        return {getattr(d, "code", None) for d in (detail if isinstance(detail, list) else [detail])}
    return set()


def order_body(**kw):
    body = order_json("F1", referrer_external_id="C1", buyer_external_id="U1",
                      lines=[{"line_id": "1", "sku": "S1", "quantity": 1, "unit_price": "10.00"}])
    body.update(kw)
    return body


ORDER_ID_FIELDS = ["external_id", "referrer_external_id", "buyer_external_id", "lines.0.line_id"]


def with_id(body, attr, value):
    if attr == "lines.0.line_id":
        body["lines"][0]["line_id"] = value
    else:
        body[attr] = value
    return body


@settings(max_examples=300, deadline=None)
@given(bad=st.characters(categories=BAD_CATEGORIES) | st.just("/"), before=SAFE, after=SAFE,
       attr=st.sampled_from(ORDER_ID_FIELDS))
@example(bad="\u0085", before="P", after="", attr="external_id")
@example(bad="\u2028", before="", after="P", attr="referrer_external_id")
@example(bad="\u2029", before="U", after="1", attr="buyer_external_id")
@example(bad="\u00a0", before="", after="", attr="lines.0.line_id")
def test_both_order_paths_refuse_any_control_or_separator_in_any_id(bad, before, after, attr):
    if bad == " " and not (before and after):
        return   # ASCII spaces at the edges are stripped (the id is then what remains)
    value = before + bad + after
    body = with_id(order_body(), attr, value)
    assert order_create_fast(json.loads(json.dumps(body))) is None, (attr, value)     # the fast path falls back
    assert "invalid_external_id" in _serializer_codes(OrderCreateSerializer, body, attr), (attr, value)


@settings(max_examples=150, deadline=None)
@given(bad=st.characters(categories=BAD_CATEGORIES) | st.just("/"), before=SAFE, after=SAFE)
def test_distributor_customer_and_refund_ids_refuse_the_same(bad, before, after):
    if bad == " " and not (before and after):
        return
    value = before + bad + after
    cases = [
        (DistributorCreateSerializer, {"external_id": value, "name": "n"}, "external_id"),
        (DistributorCreateSerializer, {"external_id": "D1", "name": "n", "parent_external_id": value}, "parent_external_id"),
        (CustomerCreateSerializer, {"external_id": value, "referrer_external_id": "C1"}, "external_id"),
        (CustomerCreateSerializer, {"external_id": "K1", "referrer_external_id": value}, "referrer_external_id"),
        (RefundCreateSerializer, {"external_id": value, "amount": "1.00"}, "external_id"),
        (RefundCreateSerializer, {"external_id": "R1", "lines": [{"line_id": value, "quantity": 1}]}, "lines.0.line_id"),
    ]
    for serializer_class, body, attr in cases:
        assert "invalid_external_id" in _serializer_codes(serializer_class, body, attr), (serializer_class, attr, value)


def test_edge_spaces_are_stripped_but_nothing_else_is():
    assert OrderCreateSerializer().run_validation(order_body(external_id="  P1  "))["external_id"] == "P1"
    assert order_create_fast(order_body(external_id="  P1  "))["external_id"] == "P1"
    for value in ("P1\u2028", "\u0085P1", "P1\t", "\u3000P1", "P1\n"):
        assert "invalid_external_id" in _serializer_codes(OrderCreateSerializer, order_body(external_id=value), "external_id")
        assert order_create_fast(order_body(external_id=value)) is None


def _error(r):
    body = r.json()
    return body["type"], {(e["attr"], e["code"]) for e in body["errors"]}


@pytest.mark.usefixtures("both_intake_paths")
@pytest.mark.parametrize("attr", ORDER_ID_FIELDS)
def test_order_intake_answers_400_invalid_external_id_and_writes_nothing(partner, in_tenant, attr):
    chain(in_tenant, 2)
    for ch in REPORTED:
        r = partner.post("/api/v1/orders/", with_id(order_body(), attr, f"A{ch}B"), format="json")
        assert r.status_code == 400, (f"U+{ord(ch):04X}", r.json())
        assert _error(r) == ("validation_error", {(attr, "invalid_external_id")}), f"U+{ord(ch):04X}"
    assert Order.objects.count() == 0


@pytest.mark.parametrize("ch", ["\u0085", "\u2028", "\u2029", " "])
def test_distributor_customer_and_refund_endpoints_refuse_them(partner, in_tenant, ch):
    chain(in_tenant, 2)
    paid_order(in_tenant, "O1")
    bad = f"X{ch}Y"
    for url, body, attr in [
        ("/api/v1/distributors/", {"external_id": bad, "name": "n"}, "external_id"),
        ("/api/v1/distributors/", {"external_id": "N1", "name": "n", "parent_external_id": bad}, "parent_external_id"),
        ("/api/v1/customers/", {"external_id": bad, "referrer_external_id": "C1"}, "external_id"),
        ("/api/v1/customers/", {"external_id": "K1", "referrer_external_id": bad}, "referrer_external_id"),
        ("/api/v1/orders/O1/refunds/", {"external_id": bad, "amount": "1.00"}, "external_id"),
        ("/api/v1/orders/O1/refunds/", {"external_id": "R1", "lines": [{"line_id": bad, "quantity": 1}]}, "lines.0.line_id"),
    ]:
        r = partner.post(url, body, format="json")
        assert r.status_code == 400 and _error(r) == ("validation_error", {(attr, "invalid_external_id")}), (url, attr, r.json())
    assert Distributor.objects.count() == 2 and Customer.objects.count() == 0 and Refund.objects.count() == 0


@pytest.mark.parametrize("ch", ["\u0085", "\u2028", " ", "/"])
def test_csv_imports_refuse_them_too(in_tenant, ch):
    chain(in_tenant, 1)
    result = DistributorResource().import_data(tablib.Dataset(
        (f"A{ch}B", "Ann", "", "", ""), ("C", "Cy", "", f"C{ch}0", ""),
        headers=["external_id", "name", "phone", "parent_external_id", "grade"]), dry_run=False)
    errors = {row.number: str(row.error) for row in result.invalid_rows}
    assert set(errors) == {1, 2} and "external_id: An external id may not contain" in errors[1]
    assert "parent_external_id: An external id may not contain" in errors[2]
    assert Distributor.objects.count() == 1
    headers = ["external_id", "currency", "placed_at", "status", "paid_at", "referrer_external_id", "buyer_external_id",
               "line_id", "sku", "quantity", "unit_price"]
    rows = [(f"O{ch}1", "CNY", "2026-01-15T10:00:00+08:00", "pending", "", "", "", "1", "S", "1", "10.00"),
            ("O2", "CNY", "2026-01-15T10:00:00+08:00", "pending", "", "", f"U{ch}1", "1", "S", "1", "10.00"),
            ("O3", "CNY", "2026-01-15T10:00:00+08:00", "pending", "", "", "", f"L{ch}1", "S", "1", "10.00")]
    result = OrderResource().import_data(tablib.Dataset(*rows, headers=headers), dry_run=False)
    errors = [str(row.error) for row in result.invalid_rows]
    assert len(errors) == 3 and all("An external id may not contain" in e for e in errors), errors
    assert [e.split(":")[1].strip() for e in errors] == ["external_id", "buyer_external_id", "line_id"]
    assert Order.objects.count() == 0
