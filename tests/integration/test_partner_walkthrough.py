"""README "Partner quick start: sandbox, webhooks and the test clock", steps 3 to 8, as a partner
runs them (issue 13, "Done when"): the sandbox twin made with `manage.py create_sandbox --key`,
two receivers subscribed with the test key through the API (the shipped
examples/webhook_receiver.py in a process of its own, and pytest-httpserver, whose every
request this test verifies with the `standardwebhooks` library itself), a tree and two paid
orders posted, the relay run as `make demo-relay` runs it, the clock moved 30 days, a replay.

Real time throughout (no frozen clock): the shipped receiver checks each webhook-timestamp
against the real time, as a partner's receiver does.

Worked values (the live tenant "shop" pays 10% / 5% / 2%, USD, Asia/Shanghai, settles 14 + 7 days
after payment; its running contest "Sprint" ranks direct sales, prizes 200.00 / 100.00 / 50.00,
and ends in 3 local days, so it is finalized 7 days after that; the sandbox copies it):
alice <- bob <- carol. T-1 referred by carol, 2 x 60.00 = 120.00: carol 12.00, bob 6.00,
alice 2.40. T-2 referred by bob, 80.00: bob 8.00, alice 4.00. 30 days later all five have
settled (21 days after payment) and the sprint is finalized: carol 120.00 first (200.00), bob
80.00 second (100.00); alice sold nothing herself and is not ranked.
"""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks import Webhook
from werkzeug import Response

from tests.factories import CommitAPIClient
from tests.webhooks.helpers import relay

RECEIVER = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"
EVENTS = ["order.commissions_created", "commission.settled", "contest.finalized", "bonus.credited"]
LINE = re.compile(r"^(msg_[0-9a-f]{24})( \(again\))? ([a-z_.]+) (\{.*\})$")


class ShippedReceiver:
    """examples/webhook_receiver.py in its own process on a free port; its lines collected."""

    def __init__(self, secret: str, port: int = 0):
        self.proc = subprocess.Popen([sys.executable, str(RECEIVER), secret, "--port", str(port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        first = self.proc.stdout.readline()
        found = re.match(r"listening on (http://127\.0\.0\.1:\d+/)", first)
        assert found, first
        self.url = found.group(1) + "fenxiao"
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, n: int, seconds: float = 20) -> list[str]:
        deadline = time.monotonic() + seconds
        while len(self.lines) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.lines)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now (the README subscribes the receiver's URL first)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(make_tenant):
    """The live tenant with a contest running now (the demo's sprint, smaller)."""
    from incentives.rules import local_window
    from incentives.services import contest_create
    from tenants.context import tenant_context

    shop = make_tenant(slug="shop", currency="USD", timezone="Asia/Shanghai")
    today = timezone.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    starts_at, ends_at = local_window("Asia/Shanghai", today - timedelta(days=1), today + timedelta(days=3))
    with tenant_context(shop):
        contest_create(tenant=shop, name="Sprint", starts_at=starts_at, ends_at=ends_at, measure="direct_sales",
                       prizes=["200.00", "100.00", "50.00"])
    return shop


@pytest.fixture
def shipped():
    receivers = []

    def start(secret, port=0):
        receivers.append(ShippedReceiver(secret, port))
        return receivers[-1]

    yield start
    for r in receivers:
        r.stop()


def test_the_quick_start_delivers_accrual_settlement_and_prize_events_verified(live, httpserver, shipped):
    from tenants.models import Tenant

    # 3. the sandbox and a test key
    out = StringIO()
    call_command("create_sandbox", "shop", "--key", "my-laptop", stdout=out)
    created, key = out.getvalue().split()[:2], out.getvalue().split()[2]
    assert created == ["created:", "shop-sandbox"] and key.startswith("test_")
    sandbox = Tenant.objects.get(slug="shop-sandbox")
    api = CommitAPIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert api.get("/api/v1/sandbox/clock/").status_code == 200

    # 4. subscribe the two receivers; each answer shows its secret once
    httpserver.expect_request("/hook", method="POST").respond_with_handler(lambda request: Response(status=204))
    r = api.post("/api/v1/webhook-endpoints/", {"url": httpserver.url_for("/hook"), "description": "test's own",
                                               "events": EVENTS}, format="json")
    assert r.status_code == 201, r.json()
    own_secret = r.json()["secret"]
    port = free_port()
    r = api.post("/api/v1/webhook-endpoints/", {"url": f"http://127.0.0.1:{port}/fenxiao", "description": "my laptop",
                                               "events": EVENTS}, format="json")
    assert r.status_code == 201, r.json()
    endpoint_id = r.json()["id"]
    # 5. the shipped receiver, started with the secret its subscription answered
    receiver = shipped(r.json()["secret"], port)

    # 6. a tree and two paid orders, paid now
    for body in ({"external_id": "alice", "name": "Alice"},
                 {"external_id": "bob", "name": "Bob", "parent_external_id": "alice"},
                 {"external_id": "carol", "name": "Carol", "parent_external_id": "bob"}):
        assert api.post("/api/v1/distributors/", body, format="json").status_code == 201
    paid = (timezone.now() - timedelta(minutes=1)).replace(microsecond=0).isoformat()
    for external_id, referrer, quantity, price in (("T-1", "carol", 2, "60.00"), ("T-2", "bob", 1, "80.00")):
        r = api.post("/api/v1/orders/", {
            "external_id": external_id, "referrer_external_id": referrer, "currency": "USD", "status": "paid",
            "placed_at": paid, "paid_at": paid,
            "lines": [{"line_id": "1", "sku": "TEA", "quantity": quantity, "unit_price": price}]}, format="json")
        assert r.status_code == 201, r.json()
    assert relay(sandbox)["deliveries"] == 4   # what make demo-relay does every 2 s: 2 events x 2 endpoints

    def verified():
        """Every request the test's receiver got, verified with standardwebhooks: (webhook-id, body)."""
        return [(req.headers["webhook-id"], Webhook(own_secret).verify(req.get_data(), dict(req.headers)))
                for req, _ in httpserver.log]

    first = verified()
    accrued = {b["data"]["order_external_id"]: [(c["level"], c["beneficiary_external_id"], c["amount"])
                                                for c in b["data"]["commissions"]] for _, b in first}
    assert [b["type"] for _, b in first] == ["order.commissions_created"] * 2
    assert accrued == {"T-1": [(1, "carol", "12.00"), (2, "bob", "6.00"), (3, "alice", "2.40")],
                       "T-2": [(1, "bob", "8.00"), (2, "alice", "4.00")]}
    assert {b["data"]["currency"] for _, b in first} == {"USD"}

    # 7. the clock, 30 days on: settlement and the sprint's finalization run as of its time
    r = api.post("/api/v1/sandbox/clock/", {"advance": "P30D"}, format="json", HTTP_IDEMPOTENCY_KEY="move-1")
    assert r.status_code == 200, r.json()
    assert r.json()["ran"] == {"settled": 5, "contests": 1, "months": 0}
    again = api.post("/api/v1/sandbox/clock/", {"advance": "P30D"}, format="json", HTTP_IDEMPOTENCY_KEY="move-1")
    assert again.json() == r.json() and again["Idempotent-Replayed"] == "true"   # moved once
    assert relay(sandbox)["deliveries"] == 16  # 5 settled + 1 contest + 2 prizes, to each endpoint

    later = verified()[2:]
    kinds = [b["type"] for _, b in later]
    assert sorted(kinds) == sorted(["commission.settled"] * 5 + ["contest.finalized"] + ["bonus.credited"] * 2)
    data = [b["data"] for _, b in later]
    assert sorted((d["order_external_id"], d["level"], d["beneficiary_external_id"], d["amount"], d["currency"])
                  for d in data if "settled_at" in d) == [
        ("T-1", 1, "carol", "12.00", "USD"), ("T-1", 2, "bob", "6.00", "USD"), ("T-1", 3, "alice", "2.40", "USD"),
        ("T-2", 1, "bob", "8.00", "USD"), ("T-2", 2, "alice", "4.00", "USD")]
    contest, = [d for d in data if "winners" in d]
    assert (contest["name"], contest["measure"], contest["currency"]) == ("Sprint", "direct_sales", "USD")
    assert contest["winners"] == [
        {"rank": 1, "distributor_external_id": "carol", "score": "120.00", "prize": "200.00"},
        {"rank": 2, "distributor_external_id": "bob", "score": "80.00", "prize": "100.00"}]
    assert contest["contest_id"].startswith("contest_")
    assert sorted((d["distributor_external_id"], d["amount"], d["source"], d["contest_id"])
                  for d in data if "source" in d) == [("bob", "100.00", "contest", contest["contest_id"]),
                                                      ("carol", "200.00", "contest", contest["contest_id"])]

    # the shipped receiver verified and printed the same ten messages (no refusal)
    lines = receiver.wait_for(10)
    assert len(lines) == 10 and not [x for x in lines if not LINE.match(x)], lines
    printed = [LINE.match(x).groups() for x in lines]
    assert sorted((t, json.loads(d)["order_external_id"]) for _, _, t, d in printed
                  if t == "order.commissions_created") == [("order.commissions_created", "T-1"),
                                                           ("order.commissions_created", "T-2")]
    assert sorted(t for _, _, t, _ in printed) == sorted(["order.commissions_created"] * 2 + kinds)
    assert [json.loads(d) for _, _, t, d in printed if t == "contest.finalized"] == [contest]

    # 8. the delivery log, and a replay: the same webhook-id again, marked so by the receiver
    log = api.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/", {"status": "succeeded"}).json()["results"]
    assert len(log) == 10 and {d["id"] for d in log} == {m for m, *_ in printed}
    prize = next(m for m, _, t, d in printed if t == "bonus.credited" and json.loads(d)["amount"] == "200.00")
    assert api.post(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{prize}/replay/").status_code == 202
    assert relay(sandbox)["deliveries"] == 1
    replayed = receiver.wait_for(11)[10]
    assert LINE.match(replayed).groups()[:3] == (prize, " (again)", "bonus.credited")


def test_the_shipped_receiver_refuses_what_does_not_verify(shipped):
    """A body changed after signing, another secret's signature, a timestamp 10 minutes old: 400,
    printed as refused; the genuine message: 204, printed."""
    import base64
    import urllib.error
    import urllib.request
    from datetime import datetime
    from datetime import timezone as tz

    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    other = "whsec_" + base64.b64encode(b"o" * 32).decode()
    receiver = shipped(secret)
    body = json.dumps({"type": "bonus.credited", "timestamp": "2026-12-01T00:00:00+00:00",
                       "data": {"amount": "200.00"}})

    def post(sign_with, payload, at=None):
        at = at or datetime.now(tz.utc)
        headers = {"webhook-id": "msg_" + "ab" * 12, "webhook-timestamp": str(int(at.timestamp())),
                   "webhook-signature": Webhook(sign_with).sign("msg_" + "ab" * 12, at, body),
                   "content-type": "application/json"}
        request = urllib.request.Request(receiver.url, data=payload.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert post(secret, body.replace("200.00", "900.00")) == 400
    assert post(other, body) == 400
    assert post(secret, body, at=datetime.now(tz.utc) - timedelta(minutes=10)) == 400
    assert post(secret, body) == 204
    lines = receiver.wait_for(4)
    assert [x.split(":")[0] for x in lines[:3]] == ["refused"] * 3
    assert lines[3] == 'msg_abababababababababababab bonus.credited {"amount": "200.00"}'
