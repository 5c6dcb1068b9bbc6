"""The distributor's account (issue 14 scope 4): changing my password, a one-time reset link staff
issue, cancelling my own withdrawal while it is requested (money returned through the ledger;
check_ledger runs after every test), and what each downline's orders earned me per level and month
(from my commission records, in tenant time)."""
from datetime import datetime, timedelta, timezone as tz
from decimal import Decimal as D

import pytest
import time_machine

from distributors.models import Distributor
from ledger.models import Balance, LedgerEntry, Withdrawal
from ledger.services import settle_due, withdrawal_approve, withdrawal_pay, withdrawal_request
from relations.models import PasswordReset
from tenants.context import tenant_context
from tests.factories import CommitAPIClient, distributor, order_json
from tests.relations.helpers import errors, staff_client

NEW = "rose-garden-42"


def login(tenant, username, password) -> int:
    return CommitAPIClient().post("/api/v1/auth/token/", {"tenant": tenant.slug, "username": username,
                                                          "password": password}, format="json").status_code


@pytest.fixture
def alice(tenant):
    with tenant_context(tenant):
        return distributor(tenant, external_id="alice", name="Alice Wonderland", password="pass-word-1")


# --- password ----------------------------------------------------------------------------------

def test_i_change_my_password(tenant, alice, portal_for):
    me = portal_for(alice)
    r = me.post("/api/v1/me/password/", {"old_password": "pass-word-1", "new_password": NEW}, format="json")
    assert r.status_code == 204
    assert login(tenant, "alice", NEW) == 200 and login(tenant, "alice", "pass-word-1") == 401


@pytest.mark.parametrize("old,new,code,attr", [
    ("wrong-one-1", NEW, "wrong_password", "old_password"),
    ("pass-word-1", "short1", "password_too_short", "new_password"),
    ("pass-word-1", "80417362951", "password_entirely_numeric", "new_password"),
    ("pass-word-1", "password123", "password_too_common", "new_password"),
    ("pass-word-1", "wonderland1", "password_too_similar", "new_password"),
])
def test_a_wrong_old_or_a_weak_new_password_is_400_and_nothing_changes(tenant, alice, portal_for, old, new, code, attr):
    r = portal_for(alice).post("/api/v1/me/password/", {"old_password": old, "new_password": new}, format="json")
    assert r.status_code == 400 and errors(r)[0] == (code, attr), r.json()
    assert login(tenant, "alice", "pass-word-1") == 200


def test_a_reset_link_works_once(tenant, alice):
    staff = staff_client(tenant, "pm")
    with time_machine.travel(datetime(2026, 3, 1, 2, 0, tzinfo=tz.utc), tick=False):
        r = staff_client(tenant, "pm2").post("/api/v1/admin/distributors/alice/password-reset/", {"hours": 2},
                                             format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["expires_at"] == "2026-03-01T04:00:00Z" and body["distributor_external_id"] == "alice"
    assert body["url"] == f"http://127.0.0.1:8000/portal/acme/reset/?token={body['token']}"
    anyone = CommitAPIClient()
    with time_machine.travel(datetime(2026, 3, 1, 3, 0, tzinfo=tz.utc), tick=False):
        weak = anyone.post("/api/v1/auth/password-reset/", {"token": body["token"], "new_password": "123"}, format="json")
        assert weak.status_code == 400 and errors(weak)[0] == ("password_too_short", "new_password")
        ok = anyone.post("/api/v1/auth/password-reset/", {"token": body["token"], "new_password": NEW}, format="json")
        assert ok.status_code == 204
        again = anyone.post("/api/v1/auth/password-reset/", {"token": body["token"], "new_password": "another-pass-9"},
                            format="json")
        assert again.status_code == 400 and errors(again) == [("token_used", "token")]
    assert login(tenant, "alice", NEW) == 200                       # the second use changed nothing
    with tenant_context(tenant):
        reset = PasswordReset.objects.get()
        assert reset.used_at == datetime(2026, 3, 1, 3, 0, tzinfo=tz.utc) and reset.created_by == "pm2"
        assert len(reset.token_hash) == 64 and body["token"].split(".")[1] not in reset.token_hash
    assert staff.get("/api/v1/admin/feedback/").status_code == 200   # (the pm's token is still good)


def test_an_expired_reset_link_is_400_and_nothing_changes(tenant, alice):
    with time_machine.travel(datetime(2026, 3, 1, 2, 0, tzinfo=tz.utc), tick=False):
        token = staff_client(tenant, "pm").post("/api/v1/admin/distributors/alice/password-reset/", {"hours": 2},
                                                format="json").json()["token"]
    with time_machine.travel(datetime(2026, 3, 1, 4, 0, tzinfo=tz.utc), tick=False):   # exactly 2 hours later
        r = CommitAPIClient().post("/api/v1/auth/password-reset/", {"token": token, "new_password": NEW}, format="json")
    assert r.status_code == 400 and errors(r) == [("token_expired", "token")]
    assert login(tenant, "alice", "pass-word-1") == 200
    with tenant_context(tenant):
        assert PasswordReset.objects.get().used_at is None


@pytest.mark.parametrize("token", ["", "nonsense", "1.", ".abc", "999.abcdef", "１.abc", "1.wrong-secret"])
def test_a_malformed_or_unknown_token_is_400(tenant, alice, token):
    staff_client(tenant, "pm").post("/api/v1/admin/distributors/alice/password-reset/", {}, format="json")
    r = CommitAPIClient().post("/api/v1/auth/password-reset/", {"token": token, "new_password": NEW}, format="json")
    assert r.status_code == 400 and errors(r)[0][1] == "token", r.json()
    assert login(tenant, "alice", "pass-word-1") == 200


def test_changing_the_password_spends_earlier_reset_links(tenant, alice, portal_for):
    token = staff_client(tenant, "pm").post("/api/v1/admin/distributors/alice/password-reset/", {},
                                            format="json").json()["token"]
    portal_for(alice).post("/api/v1/me/password/", {"old_password": "pass-word-1", "new_password": NEW}, format="json")
    r = CommitAPIClient().post("/api/v1/auth/password-reset/", {"token": token, "new_password": "other-pass-77"},
                               format="json")
    assert r.status_code == 400 and errors(r) == [("token_used", "token")]


def test_reset_links_are_issued_for_the_staffs_tenant_only(tenant, alice, make_tenant):
    other = make_tenant(slug="other")
    r = staff_client(other, "pm-b").post("/api/v1/admin/distributors/alice/password-reset/", {}, format="json")
    assert r.status_code == 404 and errors(r) == [("not_found", None)]
    bad = staff_client(tenant, "pm").post("/api/v1/admin/distributors/alice/password-reset/", {"hours": 169}, format="json")
    assert bad.status_code == 400 and errors(bad) == [("max_value", "hours")]
    with tenant_context(tenant):
        assert PasswordReset.objects.count() == 0


# --- withdrawals -------------------------------------------------------------------------------

@pytest.fixture
def earner(tenant, alice, partner):
    """alice with 100.00 available (10% of a settled 1000.00 order)."""
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="alice", status="paid",
                                               paid_at="2026-01-15T10:05:00+08:00",
                                               lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "1000.00"}]),
                 format="json")
    with tenant_context(tenant):
        settle_due(tenant=tenant, now=datetime(2026, 6, 1, tzinfo=tz.utc))
        assert Balance.objects.get(distributor=alice).available == D("100.00")
    return alice


def test_i_cancel_my_requested_withdrawal_and_the_money_comes_back(tenant, earner, portal_for):
    me = portal_for(earner)
    w = me.post("/api/v1/me/withdrawals/", {"amount": "60.00", "method": "alipay", "account": "a@pay"}, format="json").json()
    assert me.get("/api/v1/me/earnings/").json()["available"] == "40.00"
    r = me.post(f"/api/v1/me/withdrawals/{w['id']}/cancel/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    money = me.get("/api/v1/me/earnings/").json()
    assert (money["available"], money["held"], money["withdrawn"]) == ("100.00", "0.00", "0.00")
    with tenant_context(tenant):
        moves = [(e.kind, e.amount, e.d_available, e.d_held)
                 for e in LedgerEntry.objects.filter(withdrawal__public_id=w["id"]).order_by("id")]
    assert moves == [("withdrawal_hold", D("60.00"), D("-60.00"), D("60.00")),
                     ("withdrawal_return", D("60.00"), D("60.00"), D("-60.00"))]
    again = me.post(f"/api/v1/me/withdrawals/{w['id']}/cancel/", {}, format="json")
    assert again.status_code == 409 and errors(again) == [("invalid_state", None)]


@pytest.mark.parametrize("step", ["approved", "paid", "rejected"])
def test_cancelling_a_withdrawal_staff_decided_is_409_and_nothing_is_written(tenant, earner, portal_for, step):
    from ledger.services import withdrawal_reject

    with tenant_context(tenant):
        w, _ = withdrawal_request(distributor=earner, amount=D("50.00"), method="bank", account="6222")
        if step == "rejected":
            withdrawal_reject(withdrawal=w, actor="fin")
        else:
            w = withdrawal_approve(withdrawal=w, actor="fin")
            if step == "paid":
                withdrawal_pay(withdrawal=w, actor="fin")
        entries = LedgerEntry.objects.count()
    r = portal_for(earner).post(f"/api/v1/me/withdrawals/{w.public_id}/cancel/", {}, format="json")
    assert r.status_code == 409 and errors(r) == [("invalid_state", None)]
    with tenant_context(tenant):
        assert LedgerEntry.objects.count() == entries and Withdrawal.objects.get().status == step


def test_another_distributors_withdrawal_is_404(tenant, earner, portal_for):
    with tenant_context(tenant):
        w, _ = withdrawal_request(distributor=earner, amount=D("50.00"), method="bank", account="6222")
        bob = distributor(tenant, external_id="bob")
    r = portal_for(bob).post(f"/api/v1/me/withdrawals/{w.public_id}/cancel/", {}, format="json")
    assert r.status_code == 404
    with tenant_context(tenant):
        assert Withdrawal.objects.get().status == "requested"


# --- my downlines' contribution ----------------------------------------------------------------

def post(partner, external_id, referrer, price, paid_at):
    r = partner.post("/api/v1/orders/", order_json(external_id, referrer_external_id=referrer, status="paid",
                                                   placed_at=paid_at, paid_at=paid_at,
                                                   lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": price}]),
                     format="json")
    assert r.status_code == 201, r.json()


def test_what_each_downline_brought_me_per_level_and_month(tenant, partner, portal_for):
    """A <- B <- C and A <- D (10% / 5% / 2%, Shanghai). March (local) for A: own O1 10.00 at level 1;
    B's O2 200.00 -> 10.00 at level 2, refunded 50.00 -> 7.50; C's O3 300.00 -> 6.00 at level 3;
    D's O4 50.00 at 23:30 on March 31 local -> 2.50. B's O5 at 00:10 on April 1 local (16:10 UTC on
    March 31) is April's: 5.00."""
    with tenant_context(tenant):
        a = distributor(tenant, external_id="A", name="张三")
        b = distributor(tenant, a, external_id="B", name="李四")
        distributor(tenant, b, external_id="C", name="王五")
        distributor(tenant, a, external_id="D", name="Dave")
    post(partner, "O1", "A", "100.00", "2026-03-10T10:00:00+08:00")
    post(partner, "O2", "B", "200.00", "2026-03-15T10:00:00+08:00")
    post(partner, "O3", "C", "300.00", "2026-03-20T10:00:00+08:00")
    post(partner, "O4", "D", "50.00", "2026-03-31T23:30:00+08:00")
    post(partner, "O5", "B", "100.00", "2026-04-01T00:10:00+08:00")
    assert partner.post("/api/v1/orders/O2/refunds/", {"external_id": "R1", "amount": "50.00"},
                        format="json").status_code == 201
    me = portal_for(a)
    r = me.get("/api/v1/me/downlines/contribution/", {"month": "2026-03"})
    assert r.status_code == 200, r.json()
    assert r.json() == {
        "month": "2026-03", "currency": "CNY", "total": "26.00",
        "by_level": {"1": "10.00", "2": "10.00", "3": "6.00"}, "own": {"1": "10.00", "2": "0.00", "3": "0.00"},
        "results": [{"external_id": "B", "name": "李四", "level": 2, "orders": 1, "amount": "7.50"},
                    {"external_id": "C", "name": "王五", "level": 3, "orders": 1, "amount": "6.00"},
                    {"external_id": "D", "name": "Dave", "level": 2, "orders": 1, "amount": "2.50"}]}
    april = me.get("/api/v1/me/downlines/contribution/", {"month": "2026-04"}).json()
    assert april["results"] == [{"external_id": "B", "name": "李四", "level": 2, "orders": 1, "amount": "5.00"}]
    assert april["total"] == "5.00"
    with time_machine.travel(datetime(2026, 4, 30, 16, 30, tzinfo=tz.utc), tick=False):   # May 1 00:30 in Shanghai
        default = portal_for(a).get("/api/v1/me/downlines/contribution/").json()
    assert default["month"] == "2026-05" and default["results"] == [] and default["total"] == "0.00"
    b_view = portal_for(Distributor.unscoped.get(external_id="B")).get("/api/v1/me/downlines/contribution/",
                                                                       {"month": "2026-03"}).json()
    assert b_view["results"] == [{"external_id": "C", "name": "王五", "level": 2, "orders": 1, "amount": "15.00"}]
    assert b_view["own"]["1"] == "15.00"                              # O2 after the refund: 10% of 150.00


@pytest.mark.parametrize("month,code", [("2026-13", "invalid"), ("2026-3", "invalid"), ("２０２６-03", "invalid"),
                                        ("1969-12", "out_of_range"), ("", "invalid")])
def test_a_bad_month_is_400(tenant, alice, portal_for, month, code):
    r = portal_for(alice).get("/api/v1/me/downlines/contribution/", {"month": month})
    assert r.status_code == 400 and errors(r) == [(code, "month")]
