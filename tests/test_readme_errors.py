"""The README's error table says what the API answers (issue 10: it used to show only a
validation_error, while 401/404/409 answer a client_error). Every row is parsed from README.md and
checked against a real request: status, type, code and attr ("..." stands for any detail)."""
import json
import re
from pathlib import Path

from tests.factories import CommitAPIClient, chain, order_json, paid_order

README = Path(__file__).resolve().parent.parent / "README.md"
ROW = re.compile(r"^\| (?P<label>[0-9]{3}[^|]*?) \| `(?P<answer>\{.*\})` \|$", re.M)


def documented() -> dict[str, dict]:
    return {m["label"]: json.loads(m["answer"]) for m in ROW.finditer(README.read_text())}


def test_every_documented_error_is_what_the_api_answers(partner, in_tenant):
    from tests.incentives.apidata import staff_client

    staff = staff_client(in_tenant, "pm")
    chain(in_tenant, 1)
    paid_order(in_tenant, "O1")                                          # goods 100.00
    partner.post("/api/v1/orders/", order_json("P1"), format="json")      # pending
    requests = {
        "400": lambda: partner.post("/api/v1/orders/O1/refunds/", {"external_id": "R1", "amount": "100.01"}, format="json"),
        "400, a body that is not JSON (or not UTF-8)": lambda: partner.post("/api/v1/orders/", b"{", content_type="application/json"),
        "401": lambda: CommitAPIClient().get("/api/v1/orders/"),
        "404": lambda: partner.get("/api/v1/orders/NOPE/"),
        "409, the same id with other content": lambda: partner.post("/api/v1/orders/", order_json("P1", currency="USD",
                                                                                                   exchange_rate="7.1"), format="json"),
        "409, a step the state does not allow": lambda: partner.post("/api/v1/orders/P1/complete/",
                                                                     {"completed_at": "2026-01-16T10:00:00+08:00"}, format="json"),
        "415, a charset other than UTF-8": lambda: partner.post("/api/v1/orders/", json.dumps(order_json("X")).encode(),
                                                                content_type="application/json; charset=latin-1"),
        "400, a query parameter the endpoint does not read": lambda: partner.get("/api/v1/distributors/?parent=alice"),
        "400, a cursor that was changed or is another list's": lambda: partner.get("/api/v1/orders/?cursor=cD0xMA"),
        "400, an Idempotency-Key over 255 characters": lambda: staff.post("/api/v1/admin/plans/", {}, format="json",
                                                                          HTTP_IDEMPOTENCY_KEY="k" * 256),
        "409, an Idempotency-Key used with another request": lambda: (
            staff.post("/api/v1/admin/plans/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k"),
            staff.post("/api/v1/admin/plans/", {"name": "b"}, format="json", HTTP_IDEMPOTENCY_KEY="k"))[1],
    }
    rows = documented()
    assert set(rows) == set(requests), sorted(rows)
    for label, example in rows.items():
        r = requests[label]()
        status = int(label[:3])
        assert r.status_code == status, (label, r.content)
        body = r.json()
        assert set(body) == {"type", "errors"} and body["type"] == example["type"], (label, body)
        (want,) = example["errors"]
        assert want["detail"] == "..."
        assert {"code": want["code"], "attr": want["attr"]} in [{"code": e["code"], "attr": e["attr"]} for e in body["errors"]], (label, body)
        assert all(e["detail"] for e in body["errors"])
    # the prose matches the table: every 4xx other than a validation failure is a client_error
    assert all(ex["type"] == "client_error" for label, ex in rows.items() if ex["type"] != "validation_error")
    assert [label for label, ex in rows.items() if ex["type"] == "validation_error"] == [
        "400", "400, a query parameter the endpoint does not read", "400, a cursor that was changed or is another list's",
        "400, an Idempotency-Key over 255 characters"]
