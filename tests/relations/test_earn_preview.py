"""What a distributor would earn (issue 14 scope 3): GET /api/v1/me/earn-preview/?sku=&category=&price=
and the POST with lines answer the amount at each of my levels (1: my own link; 2 and 3: my
downlines' links) under the plan in force and my grade, priced by the commission engine itself
(commissions.services.commission_earn_preview -> compute_order_levels), nothing written.

The plan: default 10% / 5% / 2%; category Furniture 8% / 4% / 1%; SKU TEA-1 3.00 per unit at
level 1 only; grade gold overrides level 1 with 12% and level 2 with 6% (SKU and category rules
still win, domain rules section 5). Rounding `down` unless said.
"""
from decimal import Decimal as D

import pytest

from commissions.models import CommissionRecord
from commissions.services import grade_override_set
from distributors.models import Grade
from distributors.services import distributor_update
from orders.models import Order
from tenants.context import tenant_context
from tests.factories import distributor, line, paid_order
from tests.relations.helpers import errors

PLAN = {"default": {1: ("percent", D("0.1000")), 2: ("percent", D("0.0500")), 3: ("percent", D("0.0200"))},
        "categories": {"Furniture": {1: ("percent", D("0.0800")), 2: ("percent", D("0.0400")), 3: ("percent", D("0.0100"))}},
        "skus": {"TEA-1": {1: ("fixed", D("3.00"))}}}


def programme(make_tenant, slug="acme", **settings):
    levels = settings.get("levels", 3)
    plan = {k: ({lv: v for lv, v in spec.items() if lv <= levels} if k == "default" else
                {scope: {lv: v for lv, v in rules.items() if lv <= levels} for scope, rules in spec.items()})
            for k, spec in PLAN.items()}
    tenant = make_tenant(slug=slug, **plan, **settings)
    with tenant_context(tenant):
        gold = Grade.objects.create(tenant=tenant, code="gold", name="金牌", rank=1)
        grade_override_set(grade=gold, level=1, kind="percent", value=D("0.1200"))
        grade_override_set(grade=gold, level=2, kind="percent", value=D("0.0600"))
        a = distributor(tenant, external_id="A", name="张三")
        b = distributor(tenant, a, external_id="B")              # A's downline
        c = distributor(tenant, b, external_id="C")              # B's downline
        distributor_update(distributor=a, grade=gold)
    return tenant, a, b, c


def amounts(body) -> list[tuple[int, str]]:
    return [(lv["level"], lv["amount"]) for lv in body["levels"]]


@pytest.fixture
def world(make_tenant, portal_for):
    tenant, a, b, c = programme(make_tenant)
    return tenant, portal_for(a), portal_for(b), a, b, c


def test_my_levels_with_my_grades_override(world):
    _, me, plain, *_ = world
    r = me.get("/api/v1/me/earn-preview/", {"sku": "PEN-9", "category": "Office", "price": "199.99"})
    assert r.status_code == 200, r.json()
    body = r.json()
    # 12% x 199.99 = 23.9988 -> 23.99; 6% -> 11.9994 -> 11.99; 2% (no override at 3) -> 3.9998 -> 3.99
    assert amounts(body) == [(1, "23.99"), (2, "11.99"), (3, "3.99")]
    assert (body["grade"], body["active"], body["commission_base"], body["currency"], body["plan_version"]) == \
        ("gold", True, "199.99", "CNY", 1)
    assert [lv["rate"] for lv in body["levels"]] == ["0.1200", "0.0600", "0.0200"]
    # no grade: the plan's default 10% / 5% / 2%: 19.999 -> 19.99, 9.9995 -> 9.99, 3.99
    assert amounts(plain.get("/api/v1/me/earn-preview/", {"category": "Office", "price": "199.99"}).json()) == \
        [(1, "19.99"), (2, "9.99"), (3, "3.99")]


def test_category_and_sku_rules_win_over_the_grade(world):
    _, me, *_ = world
    r = me.get("/api/v1/me/earn-preview/", {"category": "Furniture", "price": "199.99"}).json()
    assert amounts(r) == [(1, "15.99"), (2, "7.99"), (3, "1.99")]          # 8%, 4%, 1% of 199.99, down
    r = me.get("/api/v1/me/earn-preview/", {"sku": "TEA-1", "category": "Furniture", "price": "54.90", "quantity": "3"}).json()
    assert amounts(r) == [(1, "9.00"), (2, "0.00"), (3, "0.00")]           # 3.00 x 3; the SKU pays nothing above
    assert r["levels"][0]["rate"] is None and r["commission_base"] == "164.70"


def test_a_basket_is_rounded_once_per_level(world):
    _, me, *_ = world
    r = me.post("/api/v1/me/earn-preview/", {"lines": [{"category": "Office", "price": "199.99"},
                                                       {"category": "Furniture", "price": "50.00", "quantity": 2}]},
                format="json")
    assert r.status_code == 200, r.json()
    # level 1: 23.9988 + 8.0000 = 31.9988 -> 31.99; level 2: 11.9994 + 4.00 = 15.9994 -> 15.99;
    # level 3: 3.9998 + 1.00 = 4.9998 -> 4.99
    assert amounts(r.json()) == [(1, "31.99"), (2, "15.99"), (3, "4.99")]
    assert r.json()["commission_base"] == "299.99"


def test_the_preview_is_what_a_recorded_order_pays(world):
    """The same engine: an order through my link pays me the level-1 preview, through my downline's
    the level-2 one, through my downline's downline the level-3 one."""
    tenant, me, *_ = world
    preview = amounts(me.get("/api/v1/me/earn-preview/", {"category": "Office", "price": "199.99"}).json())
    with tenant_context(tenant):
        for n, referrer in enumerate(("A", "B", "C"), start=1):
            paid_order(tenant, f"O{n}", lines=[line(sku="PEN-9", category="Office", unit_price="199.99")],
                       referrer_external_id=referrer)
        paid = [(r.level, str(r.amount.quantize(D("0.01"))))
                for r in CommissionRecord.objects.filter(beneficiary__external_id="A").order_by("level")]
    assert paid == preview == [(1, "23.99"), (2, "11.99"), (3, "3.99")]


def test_half_up_two_levels_and_an_inactive_distributor(make_tenant, portal_for):
    tenant, a, b, _ = programme(make_tenant, slug="round", rounding="half_up", levels=2)
    r = portal_for(a).get("/api/v1/me/earn-preview/", {"price": "199.99"}).json()
    assert amounts(r) == [(1, "24.00"), (2, "12.00")]                     # 23.9988, 11.9994 half up; no level 3
    with tenant_context(tenant):
        distributor_update(distributor=b, status="frozen")
    r = portal_for(b).get("/api/v1/me/earn-preview/", {"price": "199.99"}).json()
    assert r["active"] is False and amounts(r) == [(1, "0.00"), (2, "0.00")]   # a frozen distributor earns nothing


def test_a_jpy_tenant_previews_whole_yen(make_tenant, portal_for):
    tenant, a, *_ = programme(make_tenant, slug="yen", currency="JPY")
    me = portal_for(a)
    assert amounts(me.get("/api/v1/me/earn-preview/", {"price": "1999"}).json()) == [(1, "239"), (2, "119"), (3, "39")]
    r = me.get("/api/v1/me/earn-preview/", {"price": "1999.5"})
    assert r.status_code == 400 and errors(r) == [("max_decimal_places", "lines.0.price")]


@pytest.mark.parametrize("query,code,attr", [
    ({"price": "-0.01"}, "min_value", "price"),
    ({"price": "-100"}, "min_value", "price"),
    ({"price": "abc"}, "invalid", "price"),
    ({}, "required", "price"),
    ({"price": "10", "quantity": "0"}, "min_value", "quantity"),
    ({"price": "10", "colour": "red"}, "unknown_parameter", "colour"),
])
def test_a_negative_price_is_400_and_nothing_is_written(world, query, code, attr):
    tenant, me, *_ = world
    r = me.get("/api/v1/me/earn-preview/", query)
    assert r.status_code == 400 and errors(r) == [(code, attr)], r.json()
    with tenant_context(tenant):
        assert Order.objects.count() == 0 and CommissionRecord.objects.count() == 0


def test_a_negative_price_in_a_basket_is_400_on_its_line(world):
    _, me, *_ = world
    r = me.post("/api/v1/me/earn-preview/", {"lines": [{"price": "10.00"}, {"price": "-5.00"}]}, format="json")
    assert r.status_code == 400 and errors(r) == [("min_value", "lines.1.price")]
    r = me.post("/api/v1/me/earn-preview/", {"lines": []}, format="json")
    assert r.status_code == 400 and errors(r)[0][1].startswith("lines")


def test_the_service_refuses_a_negative_price_for_the_portal_pages(world):
    from rest_framework.exceptions import ValidationError

    from relations import services

    tenant, _, _, a, *_ = world
    with tenant_context(tenant), pytest.raises(ValidationError) as exc:
        services.earn_preview(distributor=a, lines=[services.PreviewLine(price=D("-1.00"))])
    assert exc.value.detail["lines.0.price"][0].code == "min_value"
