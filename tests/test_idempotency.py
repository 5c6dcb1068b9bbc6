"""Idempotency-Key on every POST without a natural key (issue 13 scope 4; fenxiao.api.idempotency):
the same key and request answer the first answer again without a second effect, another request
with the key is a 409, a failed request leaves the key free, a key over 255 characters is a 400.
The concurrent case (threads on PostgreSQL) is tests/integration/test_idempotency_pg.py."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.apps import apps

from ledger.models import Withdrawal
from ledger.services import settle_due, withdrawal_approve, withdrawal_request
from tenants.context import tenant_context
from tests.factories import chain, order_json
from tests.incentives.apidata import clock, staff_client  # noqa: F401 (fixture)
from tests.routes import api_routes

pytestmark = pytest.mark.usefixtures("clock")   # 2026-04-20 12:00 +08:00: March is over

LATER = datetime(2027, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def world(in_tenant, partner, portal_for):
    """C0 <- C1 <- C2, an order of 1000.00 referred by C2, settled: C2 has 100.00 available."""
    c0, c1, c2 = chain(in_tenant, 3)
    assert partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C2", status="paid",
                                                      paid_at="2026-03-10T10:00:00+08:00",
                                                      lines=[{"line_id": "1", "sku": "S", "quantity": 1,
                                                              "unit_price": "1000.00"}]), format="json").status_code == 201
    settle_due(tenant=in_tenant, now=LATER)
    return {"tenant": in_tenant, "staff": staff_client(in_tenant, "pm"), "portal": portal_for(c2), "c2": c2}


def a_withdrawal(world, approved=False):
    w, _ = withdrawal_request(distributor=world["c2"], amount=Decimal("10.00"), method="bank",
                              account="6222")
    if approved:
        w = withdrawal_approve(withdrawal=w, actor="x")
    return w.public_id


def a_plan(world):
    return world["staff"].post("/api/v1/admin/plans/", {"rules": [{"level": 1, "value": "0.1000"}]},
                               format="json").json()["id"]


def a_contest(world):
    return world["staff"].post("/api/v1/admin/contests/", {"name": "March", "starts_at": "2026-03-01",
                                                           "ends_at": "2026-04-01", "measure": "direct_sales"},
                               format="json").json()["id"]


def a_scheme(world):
    return world["staff"].post("/api/v1/admin/tier-bonuses/", {"name": "T", "measure": "direct_sales", "tiers": [
        {"threshold": "100.00", "amount": "5.00"}]}, format="json").json()["id"]


#: name: (who, path(world), body(world))
CASES = {
    "withdrawal request": ("portal", lambda w: "/api/v1/me/withdrawals/",
                           lambda w: {"amount": "20.00", "method": "bank", "account": "6222"}),
    "withdrawal approve": ("staff", lambda w: f"/api/v1/admin/withdrawals/{a_withdrawal(w)}/approve/", lambda w: {}),
    "withdrawal reject": ("staff", lambda w: f"/api/v1/admin/withdrawals/{a_withdrawal(w)}/reject/",
                          lambda w: {"reason": "wrong account"}),
    "withdrawal pay": ("staff", lambda w: f"/api/v1/admin/withdrawals/{a_withdrawal(w, approved=True)}/pay/",
                       lambda w: {"payout_reference": "BANK-1"}),
    "commission preview": ("staff", lambda w: "/api/v1/commission-preview/",
                           lambda w: {"order": order_json("PV", referrer_external_id="C2")}),
    "plan create": ("staff", lambda w: "/api/v1/admin/plans/",
                    lambda w: {"name": "spring", "rules": [{"level": 1, "value": "0.1200"}]}),
    "plan publish": ("staff", lambda w: f"/api/v1/admin/plans/{a_plan(w)}/publish/", lambda w: {}),
    "backtest create": ("staff", lambda w: "/api/v1/admin/backtests/",
                        lambda w: {"plan_id": a_plan(w), "date_from": "2026-03-01", "date_to": "2026-03-31"}),
    "grade create": ("staff", lambda w: "/api/v1/admin/grades/", lambda w: {"code": "gold", "name": "Gold"}),
    "grades evaluate": ("staff", lambda w: "/api/v1/admin/grades/evaluate/", lambda w: {}),
    "contest create": ("staff", lambda w: "/api/v1/admin/contests/",
                       lambda w: {"name": "March", "starts_at": "2026-03-01", "ends_at": "2026-04-01",
                                  "measure": "direct_sales", "prizes": ["50.00"]}),
    "contest finalize": ("staff", lambda w: f"/api/v1/admin/contests/{a_contest(w)}/finalize/", lambda w: {}),
    "tier bonus create": ("staff", lambda w: "/api/v1/admin/tier-bonuses/",
                          lambda w: {"name": "T", "measure": "direct_sales",
                                     "tiers": [{"threshold": "100.00", "amount": "5.00"}]}),
    "tier bonus evaluate": ("staff", lambda w: f"/api/v1/admin/tier-bonuses/{a_scheme(w)}/evaluate/",
                            lambda w: {"period": "2026-03"}),
    "target create": ("staff", lambda w: "/api/v1/admin/targets/",
                      lambda w: {"name": "Q2", "scope": "tenant", "measure": "direct_sales", "period": "month",
                                 "starts_on": "2026-04-01", "goal": "1000.00"}),
    "distributor freeze": ("staff", lambda w: "/api/v1/admin/distributors/C1/freeze/", lambda w: {"reason": "audit"}),
    "distributor move": ("staff", lambda w: "/api/v1/admin/distributors/C2/move/",
                         lambda w: {"parent_external_id": "C0", "reason": "merge"}),
}


def counts() -> dict[str, int]:
    """Rows of every table: a replay writes none."""
    return {m._meta.label: m._base_manager.count() for m in apps.get_models()}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_same_key_same_request_answers_the_same_once(world, case):
    who, path_of, body_of = CASES[case]
    client = world[who]
    path, body = path_of(world), body_of(world)
    first = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert 200 <= first.status_code < 300, first.json()
    assert "Idempotent-Replayed" not in first
    before = counts()
    again = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert counts() == before   # nothing written: no second withdrawal, plan, contest, prize, ...
    other = client.post(path, {**body, "zzz": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409, other.json()
    assert [(e["code"], e["attr"]) for e in other.json()["errors"]] == [("idempotency_key_reused", None)]
    assert counts() == before


@pytest.mark.parametrize("case", ["withdrawal request", "withdrawal approve", "plan create", "contest finalize"])
def test_a_key_over_255_characters_is_400_and_writes_nothing(world, case):
    who, path_of, body_of = CASES[case]
    client = world[who]
    path, body = path_of(world), body_of(world)
    before = counts()
    for bad, code in (("k" * 256, "max_length"), ("", "blank"), ("  ", "blank"), ("clé", "invalid"), ("a\tb", "invalid")):
        r = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=bad)
        assert r.status_code == 400, (bad, r.json())
        assert r.json() == {"type": "validation_error", "errors": [
            {"code": code, "detail": r.json()["errors"][0]["detail"], "attr": "Idempotency-Key"}]}
    assert counts() == before
    assert 200 <= client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 255).status_code < 300


def test_a_refused_request_leaves_the_key_free(world):
    portal = world["portal"]
    r = portal.post("/api/v1/me/withdrawals/", {"amount": "5000.00", "method": "bank", "account": "6222"},
                    format="json", HTTP_IDEMPOTENCY_KEY="try")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "insufficient_funds"
    r = portal.post("/api/v1/me/withdrawals/", {"amount": "50.00", "method": "bank", "account": "6222"},
                    format="json", HTTP_IDEMPOTENCY_KEY="try")
    assert r.status_code == 201 and r.json()["amount"] == "50.00"
    with tenant_context(world["tenant"]):
        assert list(Withdrawal.objects.values_list("amount", flat=True)) == [Decimal("50.00")]


def test_keys_belong_to_their_caller_and_request(world, portal_for):
    """Two staff users (or distributors) may use the same key; one caller's key on another path is a 409."""
    staff, other_staff = world["staff"], staff_client(world["tenant"], "fin")
    a = staff.post("/api/v1/admin/plans/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    b = other_staff.post("/api/v1/admin/plans/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert (a.status_code, b.status_code) == (201, 201) and a.json()["id"] != b.json()["id"]
    w1, w2 = a_withdrawal(world), a_withdrawal(world)
    assert staff.post(f"/api/v1/admin/withdrawals/{w1}/approve/", HTTP_IDEMPOTENCY_KEY="dec").status_code == 200
    r = staff.post(f"/api/v1/admin/withdrawals/{w2}/approve/", HTTP_IDEMPOTENCY_KEY="dec")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "idempotency_key_reused"
    with tenant_context(world["tenant"]):
        assert Withdrawal.objects.get(public_id=w2).status == "requested"
    # a replay answers the first answer, even once the state has moved on (a retry of a lost answer)
    staff.post(f"/api/v1/admin/withdrawals/{w1}/pay/", {}, format="json")
    again = staff.post(f"/api/v1/admin/withdrawals/{w1}/approve/", HTTP_IDEMPOTENCY_KEY="dec")
    assert (again.status_code, again.json()["status"]) == (200, "approved")
    assert staff.post(f"/api/v1/admin/withdrawals/{w1}/approve/").status_code == 409  # without the key: the state says no


def test_the_same_body_written_differently_is_the_same_request(world):
    portal = world["portal"]
    raw1 = '{"amount": "20.00", "method": "bank", "account": "6222"}'
    raw2 = '{"account":"6222","method":"bank",  "amount":"20.00"}'
    first = portal.post("/api/v1/me/withdrawals/", raw1, content_type="application/json", HTTP_IDEMPOTENCY_KEY="r")
    again = portal.post("/api/v1/me/withdrawals/", raw2, content_type="application/json", HTTP_IDEMPOTENCY_KEY="r")
    assert first.status_code == again.status_code == 201 and first.content == again.content


def test_answers_are_forgotten_after_30_days(world):
    import time_machine

    from tenants.services import idempotency_purge

    portal = world["portal"]
    body = {"amount": "20.00", "method": "bank", "account": "6222"}
    assert portal.post("/api/v1/me/withdrawals/", body, format="json", HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    with time_machine.travel(datetime(2026, 5, 19, 4, 0, tzinfo=timezone.utc), tick=False):
        assert idempotency_purge(tenant=world["tenant"]) == 0      # 29 days later: kept
    with time_machine.travel(datetime(2026, 5, 21, 4, 0, tzinfo=timezone.utc) + timedelta(minutes=1), tick=False):
        assert idempotency_purge(tenant=world["tenant"]) == 1


#: POSTs that are idempotent on a natural key (external_id) or have no effect to repeat.
NATURAL_OR_EXEMPT = {
    "distributor-list": "external_id", "customer-create": "external_id", "order-list": "external_id",
    "order-batch": "each order's external_id", "order-pay": "the order's state (a repeat is a no-op)",
    "order-complete": "the order's state", "order-cancel": "the order's state", "order-refunds": "the refund's external_id",
    "auth-token": "a login (no effect to repeat)", "auth-token-refresh": "no effect", "auth-staff-token": "a login",
    "me-lesson-complete": "the (lesson, distributor) completion: a repeat keeps the first time",
    "me-earn-preview": "nothing written (a read with lines in the body)",
    "me-password": "the current password: a repeat fails on it; no password body is kept for a replay",
    "auth-password-reset": "the one-time token: a repeat finds it spent",
    "staff-distributor-password-reset": "each call issues a new one-time link; its secret is never stored for a replay",
}


def test_every_post_honours_idempotency_key_or_has_a_natural_key():
    """A new POST endpoint must say which: decorate it with fenxiao.api.idempotency.idempotent, or
    list its natural key here."""
    posts = [r for r in api_routes() if hasattr(r.view, "post")]
    missing = [r.name for r in posts if not getattr(r.view.post, "idempotent", False) and r.name not in NATURAL_OR_EXEMPT]
    assert missing == []
    covered = {r.name for r in posts if getattr(r.view.post, "idempotent", False)}
    assert {"me-withdrawals", "staff-withdrawal-approve", "staff-withdrawal-reject", "staff-withdrawal-pay",
            "commission-preview", "staff-backtests", "staff-plans", "staff-plan-publish", "staff-contests",
            "staff-contest-finalize", "staff-tier-bonus-evaluate", "staff-distributor-approve",
            "staff-distributor-freeze", "staff-distributor-move", "staff-materials", "staff-announcements",
            "staff-feedback", "staff-feedback-reply", "staff-feedback-close", "me-feedback", "me-feedback-message",
            "me-feedback-close", "me-withdrawal-cancel", "sandbox-clock"} <= covered


def test_a_key_costs_its_claim_and_its_answer(world):
    """Pinned: without the header a POST costs what it did; with it, two more queries (claim the
    key, store the answer) plus the savepoints the view's own transactions become inside the
    key's; a replay costs the authentication, the claim and the read of the answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = world["staff"]
    w1, w2 = a_withdrawal(world), a_withdrawal(world)
    with CaptureQueriesContext(connection) as plain:
        assert staff.post(f"/api/v1/admin/withdrawals/{w1}/approve/").status_code == 200
    with CaptureQueriesContext(connection) as keyed:
        assert staff.post(f"/api/v1/admin/withdrawals/{w2}/approve/", HTTP_IDEMPOTENCY_KEY="q").status_code == 200
    with CaptureQueriesContext(connection) as replay:
        assert staff.post(f"/api/v1/admin/withdrawals/{w2}/approve/", HTTP_IDEMPOTENCY_KEY="q").status_code == 200
    real = lambda ctx: [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]  # noqa: E731
    assert len(real(plain)) == 7                       # as before (1 of them authenticates the staff user)
    assert len(real(keyed)) == 7 + 2                   # + the claim and the answer
    assert len(real(replay)) == 1 + 2                  # authentication, the claim (taken), the stored answer
    assert len(keyed) - len(real(keyed)) == len(plain) - len(real(plain)) + 2   # the key's transaction
