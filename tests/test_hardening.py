"""Inputs found by a newcomer trying to break the API: each answers 4xx in the contract's shape."""
import base64

import pytest
from django.contrib.auth.models import Permission, User

from distributors.models import Distributor
from orders.models import Order
from tenants.models import StaffMembership
from tests.factories import CommitAPIClient, chain, order_json


def shape(r, status):
    assert r.status_code == status, r.content
    body = r.json()
    assert set(body) == {"type", "errors"} and all(set(e) == {"code", "detail", "attr"} for e in body["errors"]), body
    return body


@pytest.mark.parametrize("url", ["/api/v1/orders/%00/", "/api/v1/distributors/a%00b/", "/api/v1/orders/x%00/commissions/"])
def test_nul_in_a_path_is_404(partner, in_tenant, url):
    shape(partner.get(url), 404)


def test_nul_in_a_body_string_is_400(partner, in_tenant):
    body = shape(partner.post("/api/v1/orders/", order_json("A\x00B"), format="json"), 400)
    assert body["errors"][0]["attr"] == "external_id"


def test_deeply_nested_json_is_400(partner, in_tenant):
    shape(partner.post("/api/v1/orders/", "[" * 100000 + "]" * 100000, content_type="application/json"), 400)


def test_impossible_times_are_400(partner, in_tenant):
    partner.post("/api/v1/orders/", order_json("P1"), format="json")
    for bad in ("2026-02-30T10:00:00+08:00", "2026-13-01T10:00:00+08:00", "2026-01-20T10:00:00+24:00"):
        body = shape(partner.post("/api/v1/orders/P1/pay/", {"paid_at": bad}, format="json"), 400)
        assert body["errors"][0]["attr"] == "paid_at"
    assert Order.objects.get().status == "pending"


@pytest.mark.parametrize("raw", ["[]", "null", '"x"', "3"])
def test_non_object_bodies_on_actions_are_400_and_change_nothing(partner, in_tenant, raw):
    partner.post("/api/v1/orders/", order_json("P1"), format="json")
    shape(partner.post("/api/v1/orders/P1/cancel/", raw, content_type="application/json"), 400)
    assert Order.objects.get().status == "pending"


def test_crafted_ledger_cursor_is_400(in_tenant, portal_for):
    (d,) = chain(in_tenant, 1)
    cursor = base64.b64encode(b"p=abc").decode()
    shape(portal_for(d).get(f"/api/v1/me/ledger/?cursor={cursor}"), 400)


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer", "Bearer a.b.c"])
def test_bad_tokens_answer_a_clean_401(in_tenant, header):
    client = CommitAPIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    body = shape(client.get("/api/v1/me/"), 401)
    assert len(body["errors"]) == 1 and body["errors"][0]["attr"] is None


def test_post_without_trailing_slash_is_a_json_404_not_a_redirect(partner, in_tenant):
    shape(partner.post("/api/v1/orders", order_json("P1"), format="json"), 404)
    assert CommitAPIClient().get("/admin").status_code == 301   # the admin still gets its slash


def test_admin_adds_distributors_and_reports_duplicates_as_form_errors(client, tenant, in_tenant):
    pm = User.objects.create_user("pm", password="pw", is_staff=True)
    pm.user_permissions.set(Permission.objects.filter(content_type__app_label="distributors"))
    StaffMembership.objects.create(user=pm, tenant=tenant)
    client.force_login(pm)
    form = {"external_id": "N1", "name": "n", "phone": "", "status": "active", "grade": "", "username": "",
            "joined_at_0": "2026-01-01", "joined_at_1": "10:00:00"}
    for ext in ("N1", "N2"):
        r = client.post("/admin/distributors/distributor/add/", dict(form, external_id=ext))
        assert r.status_code == 302, r.content.decode()[-3000:]
    codes = set(Distributor.objects.values_list("invite_code", flat=True))
    assert len(codes) == 2 and "" not in codes
    n2 = Distributor.objects.get(external_id="N2")
    r = client.post(f"/admin/distributors/distributor/{n2.pk}/change/", dict(form, external_id="N1"))
    assert r.status_code == 200 and "already exists" in r.content.decode()


def test_external_ids_with_a_slash_are_refused(partner, in_tenant):
    shape(partner.post("/api/v1/orders/", order_json("a/b"), format="json"), 400)
    shape(partner.post("/api/v1/distributors/", {"external_id": "x/y", "name": "n"}, format="json"), 400)


def test_leftover_shipping_can_be_refunded_after_the_goods(partner, in_tenant):
    chain(in_tenant, 1)
    partner.post("/api/v1/orders/", order_json("S1", referrer_external_id="C0", shipping="8.00", status="paid",
                 paid_at="2026-01-15T10:05:00+08:00"), format="json")
    assert partner.post("/api/v1/orders/S1/refunds/", {"external_id": "R1", "amount": "100.00"}, format="json").status_code == 201
    r = partner.post("/api/v1/orders/S1/refunds/", {"external_id": "R2", "amount": "0", "shipping": "8.00"}, format="json")
    assert r.status_code == 201
    o = partner.get("/api/v1/orders/S1/").json()
    assert (o["status"], o["refunded_shipping"]) == ("refunded", "8.00")
    shape(partner.post("/api/v1/orders/S1/refunds/", {"external_id": "R3", "amount": "0.01"}, format="json"), 400)


def test_times_out_of_order_are_400(partner, in_tenant):
    partner.post("/api/v1/orders/", order_json("T1"), format="json")
    shape(partner.post("/api/v1/orders/T1/cancel/", {"cancelled_at": "2020-01-01T00:00:00+08:00"}, format="json"), 400)
    partner.post("/api/v1/orders/T1/pay/", {"paid_at": "2026-01-15T10:05:00+08:00"}, format="json")
    shape(partner.post("/api/v1/orders/T1/complete/", {"completed_at": "2099-01-01T00:00:00+08:00"}, format="json"), 400)


def test_overlong_idempotency_key_is_400(in_tenant, portal_for):
    (d,) = chain(in_tenant, 1)
    r = portal_for(d).post("/api/v1/me/withdrawals/", {"amount": "10.00", "method": "bank", "account": "x"}, format="json",
                           HTTP_IDEMPOTENCY_KEY="k" * 256)
    shape(r, 400)


@pytest.mark.parametrize("charset", ["latin-1", "ISO-8859-1", "gbk", "utf-16", "no-such-charset", ""])
def test_a_declared_charset_other_than_utf8_is_415_and_writes_nothing(partner, in_tenant, charset):
    """JSON is read as UTF-8 only: a UTF-8 body declared as latin-1 used to be decoded as latin-1
    and "中文" stored as mojibake (issue 10)."""
    raw = '{"external_id": "D1", "name": "中文"}'.encode()
    r = partner.post("/api/v1/distributors/", raw, content_type=f"application/json; charset={charset}")
    body = shape(r, 415)
    assert body["type"] == "client_error" and body["errors"][0]["code"] == "unsupported_media_type"
    assert "UTF-8 only" in body["errors"][0]["detail"]
    assert Distributor.objects.count() == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/json; charset=UTF-8", "application/json;charset=utf8",
                                          'application/json; charset="Utf-8"'])
def test_utf8_bodies_keep_their_text_exactly(partner, in_tenant, content_type):
    raw = '{"external_id": "中文-1", "name": "中文"}'.encode()
    r = partner.post("/api/v1/distributors/", raw, content_type=content_type)
    assert r.status_code == 201, r.content
    assert (r.json()["external_id"], r.json()["name"]) == ("中文-1", "中文")
    assert Distributor.objects.get().name == "中文"


@pytest.mark.parametrize("raw", ['{"external_id": "D1", "name": "中文"}'.encode("gbk"),
                                 '{"external_id": "D1", "name": "é"}'.encode("latin-1"), b'{"name": "\xff"}'])
def test_a_body_that_is_not_utf8_is_400_never_guessed(partner, in_tenant, raw):
    body = shape(partner.post("/api/v1/distributors/", raw, content_type="application/json"), 400)
    assert body["errors"][0]["code"] == "parse_error" and "not valid UTF-8" in body["errors"][0]["detail"]
    assert Distributor.objects.count() == 0
