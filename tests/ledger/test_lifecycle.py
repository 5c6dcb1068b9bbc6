"""The money lifecycle walked through time (domain rules section 7), exact balances at every step."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
import time_machine
from django.core.management import CommandError, call_command

from commissions.models import CommissionRecord
from ledger.models import Balance, LedgerEntry, OutboxEvent
from ledger.services import settle_due
from tests.factories import chain, order_json

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=CST)


def money(client):
    b = client.get("/api/v1/me/earnings/").json()
    return {k: b[k] for k in ("frozen", "available", "held", "withdrawn", "total_earned")}


def M(frozen="0.00", available="0.00", held="0.00", withdrawn="0.00", total="0.00"):
    return {"frozen": frozen, "available": available, "held": held, "withdrawn": withdrawn, "total_earned": total}


def test_paid_completed_settled_refunded_withdrawn(partner, in_tenant, portal_for, client):
    c0, c1, c2 = chain(in_tenant, 3)

    class Me:  # a fresh token at every call: the clock jumps weeks, tokens live an hour
        def __getattr__(self, name):
            return getattr(portal_for(c2), name)

    me = Me()
    with time_machine.travel(T0, tick=False) as clock:
        partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C2", placed_at=T0.isoformat(),
                     status="paid", paid_at=T0.isoformat(),
                     lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "1000.00"}]), format="json")
        assert money(me) == M(frozen="100.00", total="100.00")
        assert money(portal_for(c0)) == M(frozen="20.00", total="20.00")

        clock.move_to(T0 + timedelta(days=1))
        partner.post("/api/v1/orders/O1/complete/", {"completed_at": (T0 + timedelta(days=1)).isoformat()}, format="json")
        rec = partner.get("/api/v1/orders/O1/commissions/").json()[0]
        assert (rec["status"], rec["settles_at"]) == ("frozen", "2026-03-09T02:00:00Z")

        clock.move_to(T0 + timedelta(days=7))
        assert settle_due(tenant=in_tenant) == 0                      # one day early: nothing
        partner.post("/api/v1/orders/O1/refunds/", {"external_id": "R1", "amount": "200.00"}, format="json")
        assert money(me) == M(frozen="80.00", total="80.00")         # reversed from frozen money

        clock.move_to(T0 + timedelta(days=8, seconds=1))
        assert settle_due(tenant=in_tenant) == 3
        assert settle_due(tenant=in_tenant) == 0                      # idempotent
        assert money(me) == M(available="80.00", total="80.00")
        assert money(portal_for(c1)) == M(available="40.00", total="40.00")
        assert partner.get("/api/v1/orders/O1/commissions/").json()[0]["status"] == "available"

        partner.post("/api/v1/orders/O1/refunds/", {"external_id": "R2", "amount": "500.00"}, format="json")
        assert money(me) == M(available="30.00", total="30.00")      # clawed back from available

        r = me.post("/api/v1/me/withdrawals/", {"amount": "25.00", "method": "alipay", "account": "a@b.cn"}, format="json")
        assert r.status_code == 201 and r.json()["status"] == "requested"
        wid = r.json()["id"]
        assert money(me) == M(available="5.00", held="25.00", total="30.00")

        staff = staff_client(in_tenant, client)
        r = staff.post(f"/api/v1/admin/withdrawals/{wid}/approve/")
        assert r.json()["status"] == "approved", r.json()
        csv_text = staff.get("/api/v1/admin/withdrawals/export.csv").content.decode()
        assert csv_text.splitlines()[1].split(",")[1:4] + csv_text.splitlines()[1].split(",")[6:10] == [
            "C2", "Distributor C2", "alipay", "CNY", "25.00", "0.00", "25.00"]
        assert staff.post(f"/api/v1/admin/withdrawals/{wid}/pay/", {"payout_reference": "ALI-1"}, format="json").json()["status"] == "paid"
        assert staff.post(f"/api/v1/admin/withdrawals/{wid}/pay/").status_code == 409   # never twice
        assert money(me) == M(available="5.00", withdrawn="25.00", total="30.00")

        partner.post("/api/v1/orders/O1/refunds/", {"external_id": "R3", "amount": "300.00"}, format="json")
        assert money(me) == M(available="-25.00", withdrawn="25.00", total="0.00")   # debt

        partner.post("/api/v1/orders/", order_json("O2", referrer_external_id="C2", placed_at=clock_now(),
                     status="paid", paid_at=clock_now(),
                     lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "500.00"}]), format="json")
        assert money(me) == M(frozen="50.00", available="-25.00", withdrawn="25.00", total="50.00")
        # never completed: treated as completed 14 days after payment, then settles 7 days later
        clock.move_to(datetime.now(timezone.utc) + timedelta(days=21, seconds=1))
        assert settle_due(tenant=in_tenant) == 3
        assert money(me) == M(available="25.00", withdrawn="25.00", total="50.00")    # debt offset

    kinds = list(LedgerEntry.objects.filter(distributor=c2).order_by("id").values_list("kind", "amount"))
    assert kinds == [("accrual", D("100.00")), ("reversal", D("20.00")), ("settlement", D("80.00")),
                     ("clawback", D("50.00")), ("withdrawal_hold", D("25.00")), ("withdrawal_paid", D("25.00")),
                     ("clawback", D("30.00")), ("accrual", D("50.00")), ("settlement", D("50.00"))]
    assert sorted(set(OutboxEvent.objects.values_list("type", flat=True))) == [
        "commission.reversed", "commission.settled", "order.commissions_created", "withdrawal.updated"]
    call_command("check_ledger")


def clock_now() -> str:
    return datetime.now(timezone.utc).isoformat()


def staff_client(tenant, client, username="fin"):
    from tests.staff.test_staff_api import staff_for

    return staff_for(tenant, username)


def test_withdrawal_fee_and_rejection(make_tenant, partner_for, portal_for, client):
    from tenants.context import tenant_context

    t = make_tenant(slug="fee", withdraw_fee_rate=D("0.0060"), withdraw_min_amount=D("100.00"), settle_after_days=0,
                    auto_complete_days=0)
    with tenant_context(t):
        (c0,) = chain(t, 1)
        partner_for(t).post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", status="paid",
                            paid_at="2026-01-15T10:00:00+08:00",
                            lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "2000.00"}]), format="json")
        settle_due(tenant=t)
        me = portal_for(c0)
        assert money(me)["available"] == "200.00"
        w = me.post("/api/v1/me/withdrawals/", {"amount": "123.45", "method": "bank", "account": "6222 0000"}, format="json").json()
        assert (w["fee"], w["transfer_amount"]) == ("0.74", "122.71")        # 123.45 x 0.006 = 0.7407 -> down
        staff = staff_client(t, client)
        staff.post(f"/api/v1/admin/withdrawals/{w['id']}/approve/")
        staff.post(f"/api/v1/admin/withdrawals/{w['id']}/pay/")
        bal = Balance.objects.get(distributor=c0)
        assert (bal.available, bal.held, bal.withdrawn, bal.fees) == (D("76.55"), D("0.00"), D("122.71"), D("0.74"))
        w2 = me.post("/api/v1/me/withdrawals/", {"amount": "76.55", "method": "bank", "account": "x"}, format="json")
        assert w2.status_code == 400 and w2.json()["errors"][0]["code"] == "below_minimum"


def test_reject_returns_the_money_and_states_are_enforced(partner, in_tenant, portal_for, client):
    (c0,) = chain(in_tenant, 1)
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", status="paid",
                 paid_at="2026-01-15T10:00:00+08:00"), format="json")
    settle_due(tenant=in_tenant, now=datetime(2027, 1, 1, tzinfo=timezone.utc))
    me = portal_for(c0)
    wid = me.post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "wechat", "account": "wx"}, format="json").json()["id"]
    staff = staff_client(in_tenant, client)
    assert staff.post(f"/api/v1/admin/withdrawals/{wid}/pay/").status_code == 409          # not approved
    r = staff.post(f"/api/v1/admin/withdrawals/{wid}/reject/", {"reason": "account name mismatch"}, format="json")
    assert r.json()["status"] == "rejected" and r.json()["reason"] == "account name mismatch"
    assert staff.post(f"/api/v1/admin/withdrawals/{wid}/approve/").status_code == 409      # approving a rejected one
    assert staff.post(f"/api/v1/admin/withdrawals/{wid}/reject/").status_code == 409
    assert money(me) == M(available="10.00", total="10.00")


@pytest.fixture
def rich(partner, in_tenant, portal_for):
    (c0,) = chain(in_tenant, 1)
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", status="paid",
                 paid_at="2026-01-15T10:00:00+08:00",
                 lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "500.00"}]), format="json")
    settle_due(tenant=in_tenant, now=datetime(2027, 1, 1, tzinfo=timezone.utc))
    return portal_for(c0)   # 50.00 available


@pytest.mark.parametrize("body,attr,code", [
    ({"amount": "-10.00", "method": "bank", "account": "x"}, "amount", "min_value"),
    ({"amount": "0", "method": "bank", "account": "x"}, "amount", "min_value"),
    ({"amount": "ten", "method": "bank", "account": "x"}, "amount", "invalid"),
    ({"amount": "10.001", "method": "bank", "account": "x"}, "amount", "max_decimal_places"),
    ({"amount": "NaN", "method": "bank", "account": "x"}, "amount", "invalid"),
    ({"amount": "9.99", "method": "bank", "account": "x"}, "amount", "below_minimum"),
    ({"amount": "50.01", "method": "bank", "account": "x"}, "amount", "insufficient_funds"),
    ({"amount": "10.00", "method": "paypal", "account": "x"}, "method", "invalid_choice"),
    ({"amount": "10.00", "method": "bank"}, "account", "required"),
    ({"amount": "10.00", "method": "bank", "account": "   "}, "account", "blank"),
])
def test_bad_withdrawals_are_400_and_write_nothing(rich, body, attr, code):
    from ledger.models import Withdrawal

    r = rich.post("/api/v1/me/withdrawals/", body, format="json")
    assert r.status_code == 400, r.json()
    assert {"code": code, "attr": attr} in [{"code": e["code"], "attr": e["attr"]} for e in r.json()["errors"]]
    assert Withdrawal.objects.count() == 0
    assert money(rich) == M(available="50.00", total="50.00")


def test_idempotency_key(rich):
    body = {"amount": "20.00", "method": "bank", "account": "6222"}
    first = rich.post("/api/v1/me/withdrawals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = rich.post("/api/v1/me/withdrawals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = rich.post("/api/v1/me/withdrawals/", dict(body, amount="21.00"), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert other.status_code == 409
    assert money(rich) == M(available="30.00", held="20.00", total="50.00")
    assert rich.get("/api/v1/me/withdrawals/").json()["count"] == 1


def test_frozen_distributor_cannot_withdraw(rich, in_tenant):
    from distributors.models import Distributor
    from distributors.services import distributor_update

    distributor_update(distributor=Distributor.objects.get(external_id="C0"), status="frozen")
    r = rich.post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "bank", "account": "x"}, format="json")
    assert r.status_code == 409


def test_ledger_is_cursor_paginated(rich):
    page = rich.get("/api/v1/me/ledger/?page_size=1").json()
    assert [e["kind"] for e in page["results"]] == ["settlement"] and page["next"] and "cursor=" in page["next"]
    nxt = rich.get(page["next"]).json()
    assert [(e["kind"], e["amount"], e["order_external_id"], e["level"]) for e in nxt["results"]] == [
        ("accrual", "50.00", "O1", 1)]


def test_staff_scoping(make_tenant, partner_for, portal_for, client):
    from tenants.context import tenant_context

    a, b = make_tenant(slug="a", settle_after_days=0, auto_complete_days=0), make_tenant(slug="b")
    with tenant_context(a):
        (c0,) = chain(a, 1)
        partner_for(a).post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", status="paid",
                            paid_at="2026-01-15T10:00:00+08:00"), format="json")
        settle_due(tenant=a)
        wid = portal_for(c0).post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "bank", "account": "x"},
                                  format="json").json()["id"]
    other_staff = staff_client(b, client, "other")
    assert other_staff.post(f"/api/v1/admin/withdrawals/{wid}/approve/").status_code == 404
    assert other_staff.get("/api/v1/admin/withdrawals/").json()["count"] == 0
    assert other_staff.get("/api/v1/admin/withdrawals/export.csv").content.decode().count("\n") == 1
    assert portal_for(c0).get("/api/v1/admin/withdrawals/").status_code in (401, 403)
    assert partner_for(a).get("/api/v1/admin/withdrawals/").status_code in (401, 403)
    assert staff_client(a, client, "own").get("/api/v1/admin/withdrawals/").json()["count"] == 1


@pytest.mark.ledger_drift_expected
def test_check_ledger_reports_drift(partner, in_tenant):
    chain(in_tenant, 1)
    partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C0", status="paid",
                 paid_at="2026-01-15T10:00:00+08:00"), format="json")
    call_command("check_ledger", "--tenant", "acme")
    Balance.objects.update(frozen=D("9.99"))                    # someone edits a balance by hand
    CommissionRecord.objects.update(reversed_amount=D("1.00"))  # and a record
    from io import StringIO

    err = StringIO()
    with pytest.raises(CommandError, match="3 disagreement"):
        call_command("check_ledger", "--tenant", "acme", stderr=err)
    lines = err.getvalue().splitlines()
    assert any("balance.frozen" in x and "ledger says 10.00, stored 9.99" in x for x in lines), lines
    assert any("record.reversed" in x and "ledger says 0.00, stored 1.00" in x for x in lines), lines
    # the balance's level-1 total no longer matches the (edited) record's net 9.00
    assert any("balance.earned_level_1" in x and "ledger says 9.00, stored 10.00" in x for x in lines), lines


def test_each_tenant_gets_a_settlement_schedule_and_the_task_settles(make_tenant):
    import json

    from django_celery_beat.models import PeriodicTask

    from ledger.tasks import settle_tenant

    t = make_tenant(slug="sched", settle_after_days=0, auto_complete_days=0)
    task = PeriodicTask.objects.get(name="settle:sched")
    assert (task.task, json.loads(task.kwargs), task.interval.every, task.interval.period) == (
        "ledger.tasks.settle_tenant", {"tenant_id": t.pk}, 15, "minutes")
    from tenants.context import tenant_context
    from tests.factories import paid_order

    with tenant_context(t):
        chain(t, 2)
        paid_order(t, referrer_external_id="C1")
    assert settle_tenant.delay(tenant_id=t.pk).get() == 2
    assert settle_tenant.delay(tenant_id=t.pk).get() == 0


def test_admin_bulk_decisions(rich, in_tenant, client):
    from django.contrib.auth.models import Permission, User

    from ledger.models import Withdrawal
    from tenants.models import StaffMembership

    for i in range(2):
        rich.post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "bank", "account": f"acct-{i}"}, format="json")
    pm = User.objects.create_user("finance", password="pw", is_staff=True)
    pm.user_permissions.set(Permission.objects.filter(content_type__app_label="ledger"))
    StaffMembership.objects.create(user=pm, tenant=in_tenant)
    client.force_login(pm)
    ids = list(Withdrawal.objects.order_by("pk").values_list("pk", flat=True))
    url = "/admin/ledger/withdrawal/"
    client.post(url, {"action": "approve", "_selected_action": ids})
    assert set(Withdrawal.objects.values_list("status", flat=True)) == {"approved"}
    export = client.post(url, {"action": "export_payouts", "_selected_action": ids})
    assert export["Content-Type"] == "text/csv" and export.content.decode().count("acct-") == 2
    client.post(url, {"action": "mark_paid", "_selected_action": ids[:1]})
    client.post(url, {"action": "reject", "_selected_action": ids})      # the paid one is refused
    assert list(Withdrawal.objects.order_by("pk").values_list("status", flat=True)) == ["paid", "rejected"]
    assert money(rich) == M(available="40.00", withdrawn="10.00", total="50.00")


def test_another_distributors_withdrawal_is_404(rich, in_tenant, portal_for):
    from distributors.models import Distributor

    wid = rich.post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "bank", "account": "x"}, format="json").json()["id"]
    assert rich.get(f"/api/v1/me/withdrawals/{wid}/").json()["amount"] == "10.00"
    other = Distributor.objects.create(tenant=in_tenant, external_id="OTHER", name="o", invite_code="OTHER123")
    r = portal_for(other).get(f"/api/v1/me/withdrawals/{wid}/")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "not_found"


def test_paying_keeps_the_approval_time_and_approver(rich, in_tenant, portal_for):
    """decided_at / decided_by are the approval's; paying sets paid_at only (issue 10: paying used
    to overwrite the approval with the payment, and the payout file's approved_at with it)."""
    from distributors.models import Distributor
    from ledger.models import Withdrawal
    from tests.staff.test_staff_api import staff_for

    t0, t1, t2 = (datetime(2027, 2, 1, 9, 30, tzinfo=timezone.utc), datetime(2027, 2, 2, 14, 15, 30, tzinfo=timezone.utc),
                  datetime(2027, 2, 4, 8, 0, 5, tzinfo=timezone.utc))
    with time_machine.travel(t0, tick=False):   # tokens are issued inside each jump (they live an hour)
        wid = portal_for(Distributor.objects.get(external_id="C0")).post("/api/v1/me/withdrawals/", {"amount": "20.00", "method": "bank", "account": "acct-9"},
                        format="json").json()["id"]
    with time_machine.travel(t1, tick=False):
        r = staff_for(in_tenant, "approver").post(f"/api/v1/admin/withdrawals/{wid}/approve/")
        assert (r.json()["decided_at"], r.json()["decided_by"]) == ("2027-02-02T14:15:30Z", "approver")
    with time_machine.travel(t2, tick=False):
        payer = staff_for(in_tenant, "payer")
        csv_before = payer.get("/api/v1/admin/withdrawals/export.csv").content.decode().splitlines()
        r = payer.post(f"/api/v1/admin/withdrawals/{wid}/pay/", {"payout_reference": "BANK-7"}, format="json")
    body = r.json()
    assert (body["status"], body["requested_at"], body["decided_at"], body["decided_by"], body["paid_at"],
            body["payout_reference"]) == ("paid", "2027-02-01T09:30:00Z", "2027-02-02T14:15:30Z", "approver",
                                          "2027-02-04T08:00:05Z", "BANK-7")
    w = Withdrawal.objects.get(public_id=wid)
    assert (w.decided_at, w.decided_by, w.paid_at) == (t1, "approver", t2)
    last = Withdrawal.history.filter(id=w.pk).latest("history_id")
    assert (last.status, last.history_change_reason, last.history_user.username) == ("paid", "paid by payer", "payer")
    assert csv_before[0].split(",")[-1] == "approved_at" and csv_before[1].split(",")[-1] == "2027-02-02T14:15:30+00:00"


def test_refusals_read_well(rich, in_tenant, client):
    """409 details name the state with the right article ("an approved withdrawal", was "a
    approved"), in the API and in the admin's messages."""
    from django.contrib.auth.models import Permission, User

    from distributors.models import Distributor
    from ledger.models import Withdrawal
    from tenants.models import StaffMembership
    from tests.staff.test_staff_api import staff_for

    wid = rich.post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "bank", "account": "x"}, format="json").json()["id"]
    staff = staff_for(in_tenant, "fin")
    detail = lambda r: (r.status_code, r.json()["errors"][0]["detail"])  # noqa: E731
    assert detail(staff.post(f"/api/v1/admin/withdrawals/{wid}/pay/")) == (409, "A requested withdrawal cannot be paid.")
    staff.post(f"/api/v1/admin/withdrawals/{wid}/approve/")
    assert detail(staff.post(f"/api/v1/admin/withdrawals/{wid}/approve/")) == (409, "An approved withdrawal cannot be approved.")
    staff.post(f"/api/v1/admin/withdrawals/{wid}/pay/")
    assert detail(staff.post(f"/api/v1/admin/withdrawals/{wid}/reject/")) == (409, "A paid withdrawal cannot be rejected.")
    assert detail(staff.post("/api/v1/admin/distributors/C0/approve/")) == (409, "Cannot approve an active distributor.")
    staff.post("/api/v1/admin/distributors/C0/freeze/", {"reason": "checks"}, format="json")
    r = rich.post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "bank", "account": "x"}, format="json")
    assert detail(r) == (409, "A frozen distributor cannot withdraw.")

    pm = User.objects.create_user("console", password="pw", is_staff=True)
    pm.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["ledger", "distributors"]))
    StaffMembership.objects.create(user=pm, tenant=in_tenant)
    client.force_login(pm)
    pk = Withdrawal.objects.get(public_id=wid).pk   # the console's own key
    page = client.post("/admin/ledger/withdrawal/", {"action": "approve", "_selected_action": [pk]}, follow=True).content.decode()
    assert f"Refused — {wid}: A paid withdrawal cannot be approved." in page
    c0 = Distributor.objects.get(external_id="C0")
    page = client.post("/admin/distributors/distributor/", {"action": "unfreeze", "_selected_action": [c0.pk],
                                                            "reason": "checked"}, follow=True)
    assert "Unfrozen distributor(s): 1." in page.content.decode()
    assert Withdrawal.objects.get(public_id=wid).status == "paid"


def test_the_settle_command_refuses_a_future_now_unless_early(partner, in_tenant):
    """`manage.py settle --now <future>` would make frozen money withdrawable before it is due: a
    CommandError, nothing settled; with --early (demos, tests) it settles: 100.00 and 50.00."""
    chain(in_tenant, 2)
    with time_machine.travel(T0, tick=False):
        assert partner.post("/api/v1/orders/", order_json("O1", referrer_external_id="C1", placed_at=T0.isoformat(),
                            status="paid", paid_at=T0.isoformat(),
                            lines=[{"line_id": "1", "sku": "S", "quantity": 1, "unit_price": "1000.00"}]),
                            format="json").status_code == 201
        later = (T0 + timedelta(days=60)).isoformat()
        with pytest.raises(CommandError, match="in the future"):
            call_command("settle", "--tenant", in_tenant.slug, "--now", later)
        assert CommissionRecord.objects.filter(status="available").count() == 0
        call_command("settle", "--tenant", in_tenant.slug, "--now", later, "--early")
    assert sorted(Balance.objects.values_list("available", flat=True)) == [D("50.00"), D("100.00")]
