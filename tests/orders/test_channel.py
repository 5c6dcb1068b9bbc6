"""Orders carry an optional sales channel (domain rules section 9; spec/api.md: "Orders accept an
optional `channel` (a code up to 32 characters) on both intake paths"): stored, answered, part of
the content an idempotent replay must repeat, and an empty one leaves the content hash of an order
as it was before orders had channels."""
import pytest

from orders.models import Order
from tenants.context import tenant_context
from tests.factories import chain, order_json

pytestmark = pytest.mark.usefixtures("both_intake_paths")


@pytest.fixture
def seller(tenant):
    with tenant_context(tenant):
        return chain(tenant, 1)[0]


def post(partner, external_id="O1", **kw):
    return partner.post("/api/v1/orders/", order_json(external_id, referrer_external_id="C0", **kw), format="json")


def stored(tenant, external_id="O1") -> str:
    with tenant_context(tenant):
        return Order.objects.get(external_id=external_id).channel


def test_a_channel_is_stored_and_answered(partner, tenant, seller):
    r = post(partner, channel="mini_program")
    assert r.status_code == 201, r.json()
    assert r.json()["channel"] == "mini_program"
    assert stored(tenant) == "mini_program"
    assert partner.get("/api/v1/orders/O1/").json()["channel"] == "mini_program"
    assert partner.get("/api/v1/orders/").json()["results"][0]["channel"] == "mini_program"


@pytest.mark.parametrize("absent", [{}, {"channel": ""}, {"channel": None}])
def test_no_channel_is_the_empty_code(partner, tenant, seller, absent):
    r = post(partner, **absent)
    assert r.status_code == 201 and r.json()["channel"] == ""
    assert stored(tenant) == ""


def test_an_order_without_a_channel_replays_as_before(partner, tenant, seller):
    """Recorded without a channel: the same body again (with no channel, an empty one or null) is a
    replay (200); with a channel it is other content (409), like any other change."""
    from orders.services import content_hash, order_payload
    from tests.factories import order_input

    assert post(partner).status_code == 201
    for same in ({}, {"channel": ""}, {"channel": None}):
        assert post(partner, **same).status_code == 200, same
    r = post(partner, channel="app")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "conflict"
    assert stored(tenant) == ""
    # the hash of a channel-less order is the one stored before channels existed (pinned in test_content_hash)
    assert content_hash(order_payload(order_input("X"))) == content_hash(order_payload(order_input("X", channel="")))
    assert content_hash(order_payload(order_input("X"))) != content_hash(order_payload(order_input("X", channel="app")))


def test_an_order_with_a_channel_replays_only_with_it(partner, tenant, seller):
    assert post(partner, channel="app").status_code == 201
    assert post(partner, channel="app").status_code == 200
    assert post(partner, channel="h5").status_code == 409
    assert post(partner).status_code == 409
    assert stored(tenant) == "app"


@pytest.mark.parametrize("value,code", [
    ("App", "invalid_channel"), ("mini program", "invalid_channel"), ("-app", "invalid_channel"),
    ("_app", "invalid_channel"), ("商城", "invalid_channel"), ("app/x", "invalid_channel"),
    ("a" * 33, "invalid_channel"), (["app"], "invalid"), ({"a": 1}, "invalid"),
])
def test_a_malformed_channel_is_a_400(partner, tenant, seller, value, code):
    r = post(partner, channel=value)
    assert r.status_code == 400, r.json()
    assert [(e["attr"], e["code"]) for e in r.json()["errors"]] == [("channel", code)]
    with tenant_context(tenant):
        assert not Order.objects.exists()


def test_the_longest_channel(partner, tenant, seller):
    code = "a" + "-_0" * 10 + "z"   # 32 characters
    assert post(partner, channel=code).status_code == 201 and stored(tenant) == code
