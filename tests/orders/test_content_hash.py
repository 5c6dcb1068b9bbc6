"""The content hash decides replay (200) against conflict (409): its canonical form must never
change, or every stored order would answer 409 to its own replay."""
import hashlib
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from orders.services import content_hash, order_payload
from tests.factories import line, order_input


def _canonical(value):
    """The original canonical form: decimals normalised, times in UTC, keys sorted."""
    if isinstance(value, D):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def reference(payload):
    return hashlib.sha256(json.dumps(_canonical(payload), sort_keys=True).encode()).hexdigest()


def test_a_stored_hash_stays_valid():
    data = order_input("H1", lines=[line("1", quantity=2, unit_price="19.90", discount="1.00", category="Tea"),
                                    line("2", sku="S2", unit_price="5")],
                       discount="2.50", shipping="8.00", referrer_external_id="C1", buyer_external_id="U9",
                       exchange_rate="0.93000000", status="paid")
    assert content_hash(order_payload(data)) == reference(order_payload(data))
    assert content_hash(order_payload(data)) == "2f2ed923b70848c2c46e4c09dfd36e2b3857fd1dbf73a5d566d9f068f0d0622a"


money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@given(prices=st.lists(money, min_size=1, max_size=5), discount=money, offset=st.integers(-12, 14),
       text=st.text(max_size=12), rate=st.one_of(st.none(), st.decimals(min_value=D("0.00000001"), max_value=100, places=8)))
def test_hash_equals_the_canonical_definition(prices, discount, offset, text, rate):
    at = datetime(2026, 1, 15, 10, tzinfo=timezone(timedelta(hours=offset)))
    data = order_input("H", lines=[line(str(i), sku=text or "S", unit_price=str(p), category=text) for i, p in enumerate(prices)],
                       discount=str(discount), placed_at=at, buyer_external_id=text,
                       **({"exchange_rate": str(rate)} if rate is not None else {}))
    assert content_hash(order_payload(data)) == reference(order_payload(data))
