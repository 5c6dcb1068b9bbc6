"""`/api/v1/webhook-endpoints/` (spec/api.md; domain rules section 10) for the partner's API key and
for tenant staff: the secret shown once, rotation, the delivery log and replay, bad input as 400s
that write nothing, another tenant's ids as 404s like missing ones."""
from __future__ import annotations

import base64
import json
import socket

import pytest

from tenants.context import tenant_context
from tests.incentives.apidata import staff_client
from webhooks.models import Delivery, WebhookEndpoint

from .helpers import deliveries, post_paid_order, relay

URL = "/api/v1/webhook-endpoints/"
ALL_PERMS = ["webhooks.view_webhookendpoint", "webhooks.add_webhookendpoint", "webhooks.change_webhookendpoint",
             "webhooks.delete_webhookendpoint", "webhooks.view_delivery", "webhooks.change_delivery"]


def create(client, url="http://127.0.0.1:9/hook", events=("order.commissions_created",), **extra):
    return client.post(URL, {"url": url, "events": list(events), **extra}, format="json")


def endpoint_count(tenant) -> int:
    with tenant_context(tenant):
        return WebhookEndpoint.objects.count()


def test_create_answers_the_secret_once_and_never_again(shop):
    tenant, partner = shop
    r = create(partner, events=["order.commissions_created", "commission.settled", "order.commissions_created"],
               description="ERP")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["id"].startswith("we_") and len(body["id"]) == 27
    assert (body["url"], body["events"], body["status"], body["description"]) == (
        "http://127.0.0.1:9/hook", ["order.commissions_created", "commission.settled"], "active", "ERP")
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[len("whsec_"):])) == 32
    with tenant_context(tenant):
        assert WebhookEndpoint.objects.get().secret == secret
    listed = partner.get(URL)
    detail = partner.get(f"{URL}{body['id']}/")
    assert listed.status_code == detail.status_code == 200
    assert secret not in listed.content.decode() and secret not in detail.content.decode()
    assert "secret" not in detail.json() and "secret" not in listed.json()["results"][0]
    assert detail.json() == {k: v for k, v in body.items() if k != "secret"}


def test_rotation_answers_a_new_secret_once(shop):
    tenant, partner = shop
    first = create(partner).json()
    r = partner.post(f"{URL}{first['id']}/rotate-secret/", {}, format="json")
    assert r.status_code == 200
    new = r.json()["secret"]
    assert new.startswith("whsec_") and new != first["secret"] and r.json()["id"] == first["id"]
    with tenant_context(tenant):
        e = WebhookEndpoint.objects.get()
    assert (e.secret, e.previous_secret) == (new, first["secret"])
    assert new not in partner.get(f"{URL}{first['id']}/").content.decode()
    assert partner.post(f"{URL}{first['id']}/rotate-secret/", {"secret": "mine"}, format="json").status_code == 400


def test_patch_and_delete(shop):
    tenant, partner = shop
    eid = create(partner).json()["id"]
    r = partner.patch(f"{URL}{eid}/", {"events": ["withdrawal.updated"], "url": "https://127.0.0.1:9/v2",
                                       "status": "disabled"}, format="json")
    assert r.status_code == 200
    assert (r.json()["events"], r.json()["url"], r.json()["status"]) == (["withdrawal.updated"],
                                                                         "https://127.0.0.1:9/v2", "disabled")
    r = partner.patch(f"{URL}{eid}/", {"status": "failing"}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "invalid_choice"
    assert partner.delete(f"{URL}{eid}/").status_code == 204
    assert partner.get(f"{URL}{eid}/").status_code == 404
    assert endpoint_count(tenant) == 0


BAD = [
    ({"url": "ftp://example.com/hook"}, "url", "invalid_scheme"),
    ({"url": "https://example.com/" + "a" * 1981}, "url", "url_too_long"),
    ({"url": "http://user:pw@example.com/"}, "url", "invalid_url"),
    ({"events": ["order.paid"]}, "events.0", "unknown_event"),
    ({"events": ["commission.settled", "nope"]}, "events.1", "unknown_event"),
    ({"events": []}, "events", "required"),
    ({"secret": "whsec_mine"}, "secret", "unknown_field"),
]


@pytest.mark.parametrize("change,attr,code", BAD)
def test_bad_bodies_are_400_and_write_nothing(shop, change, attr, code):
    tenant, partner = shop
    body = {"url": "http://127.0.0.1:9/hook", "events": ["order.commissions_created"], **change}
    r = partner.post(URL, body, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["type"] == "validation_error"
    assert (r.json()["errors"][0]["attr"], r.json()["errors"][0]["code"]) == (attr, code)
    assert endpoint_count(tenant) == 0


def test_private_addresses_are_refused_when_the_setting_is_off(shop, settings, monkeypatch):
    from webhooks import net

    tenant, partner = shop
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    answers = {"erp.partner.example": ["10.20.30.40"], "hooks.partner.example": ["93.184.215.14"]}

    def resolve(host, port):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    monkeypatch.setattr(net, "resolve", resolve)
    for url, code in [("http://127.0.0.1/hook", "forbidden_address"), ("http://localhost:8000/hook", "unresolvable_host"),
                      ("https://erp.partner.example/hook", "forbidden_address"),
                      ("http://169.254.169.254/latest/meta-data/", "forbidden_address"),
                      ("http://[::1]:8000/", "forbidden_address")]:
        r = create(partner, url=url)
        assert r.status_code == 400, url
        assert r.json()["errors"][0] == {"code": code, "attr": "url", "detail": r.json()["errors"][0]["detail"]}
    assert "10.20.30.40" in create(partner, url="https://erp.partner.example/hook").json()["errors"][0]["detail"]
    assert endpoint_count(tenant) == 0
    assert create(partner, url="https://hooks.partner.example/hook").status_code == 201
    eid = partner.get(URL).json()["results"][0]["id"]
    r = partner.patch(f"{URL}{eid}/", {"url": "https://erp.partner.example/hook"}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "forbidden_address"
    with tenant_context(tenant):
        assert WebhookEndpoint.objects.get().url == "https://hooks.partner.example/hook"


def test_a_tenant_has_at_most_20_endpoints_listed_in_pages(shop):
    tenant, partner = shop
    made = [create(partner, url=f"http://127.0.0.1:9/h{i}").json()["id"] for i in range(20)]
    r = create(partner, url="http://127.0.0.1:9/h21")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "too_many_endpoints"
    assert endpoint_count(tenant) == 20
    first = partner.get(URL, {"page_size": 15}).json()
    rest = partner.get(first["next"]).json()
    assert [e["id"] for e in first["results"] + rest["results"]] == made[::-1] and rest["next"] is None
    assert partner.get(URL, {"status": "active"}).status_code == 400   # unknown parameter


def test_another_tenants_endpoints_and_deliveries_are_404_like_missing_ones(shop, make_tenant, partner_for, receiver):
    tenant, partner = shop
    other = make_tenant(slug="other")
    other_partner = partner_for(other)
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    eid = create(partner, url=receiver.url_for("/hook")).json()["id"]
    post_paid_order(partner, "O1")
    relay(tenant)
    (d,) = deliveries(tenant)
    paths = [("get", f"{URL}{eid}/"), ("patch", f"{URL}{eid}/"), ("delete", f"{URL}{eid}/"),
             ("post", f"{URL}{eid}/rotate-secret/"), ("get", f"{URL}{eid}/deliveries/"),
             ("get", f"{URL}{eid}/deliveries/{d.public_id}/"), ("post", f"{URL}{eid}/deliveries/{d.public_id}/replay/")]
    for method, path in paths:
        r = getattr(other_partner, method)(path, {}, format="json")
        missing = getattr(other_partner, method)(path.replace(eid, "we_000000000000000000000000")
                                                 .replace(d.public_id, "msg_000000000000000000000000"), {}, format="json")
        assert r.status_code == missing.status_code == 404, (method, path)
        assert r.json() == missing.json()
    assert other_partner.get(URL).json()["results"] == []
    # and a delivery of one endpoint is not found under another endpoint of the same tenant
    eid2 = create(partner, url="http://127.0.0.1:9/two").json()["id"]
    assert partner.get(f"{URL}{eid2}/deliveries/{d.public_id}/").status_code == 404
    with tenant_context(tenant):
        assert WebhookEndpoint.objects.filter(public_id=eid).exists() and Delivery.objects.get().attempts == 1


def test_the_delivery_log_and_replay(shop, receiver):
    tenant, partner = shop
    receiver.expect_ordered_request("/hook", method="POST").respond_with_data("boom", status=500)
    receiver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")
    eid = create(partner, url=receiver.url_for("/hook"), events=["order.commissions_created"]).json()["id"]
    post_paid_order(partner, "O1")
    relay(tenant)
    r = partner.get(f"{URL}{eid}/deliveries/")
    assert r.status_code == 200
    (row,) = r.json()["results"]
    (d,) = deliveries(tenant)
    assert (row["id"], row["event_type"], row["status"], row["attempts"], row["last_status_code"]) == (
        d.public_id, "order.commissions_created", "pending", 1, 500)
    (a,) = row["attempt_log"]
    assert (a["number"], a["trigger"], a["status_code"], a["error"], a["response_excerpt"]) == (
        1, "auto", 500, "HTTP 500", "boom")
    assert partner.get(f"{URL}{eid}/deliveries/", {"status": "succeeded"}).json()["results"] == []
    bad = partner.get(f"{URL}{eid}/deliveries/", {"parent": "x"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "unknown_field"
    assert partner.get(f"{URL}{eid}/deliveries/", {"status": "lost"}).status_code == 400
    r = partner.post(f"{URL}{eid}/deliveries/{d.public_id}/replay/", {}, format="json")
    assert r.status_code == 202 and r.json()["status"] == "pending"
    relay(tenant)
    r = partner.get(f"{URL}{eid}/deliveries/{d.public_id}/")
    assert (r.json()["status"], [(x["number"], x["trigger"], x["status_code"]) for x in r.json()["attempt_log"]]) == (
        "succeeded", [(1, "auto", 500), (2, "replay", 200)])
    assert r.json()["attempt_log"][1]["actor"].startswith("api-key:")
    assert [q.headers["webhook-id"] for q, _ in receiver.log] == [d.public_id] * 2


def test_the_delivery_log_is_cursor_paginated(shop):
    from ledger.services import event_record
    from webhooks.services import outbox_fan_out

    tenant, partner = shop
    eid = create(partner, events=["withdrawal.updated"]).json()["id"]
    with tenant_context(tenant):
        for i in range(5):
            event_record(tenant=tenant, type="withdrawal.updated", payload={"i": i})
        outbox_fan_out(tenant=tenant)
    first = partner.get(f"{URL}{eid}/deliveries/", {"page_size": 2}).json()
    second = partner.get(first["next"]).json()
    third = partner.get(second["next"]).json()
    ids = [r["id"] for page in (first, second, third) for r in page["results"]]
    assert len(ids) == len(set(ids)) == 5 and third["next"] is None
    assert ids == [d.public_id for d in reversed(deliveries(tenant))]   # newest first


def test_staff_with_the_permissions_use_the_same_endpoints(shop):
    tenant, partner = shop
    pm = staff_client(tenant, "pm-hooks", ALL_PERMS)
    r = create(pm)
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    eid = r.json()["id"]
    assert [e["id"] for e in partner.get(URL).json()["results"]] == [eid]   # one list for the partner and staff
    assert pm.patch(f"{URL}{eid}/", {"description": "ERP"}, format="json").json()["description"] == "ERP"
    assert pm.post(f"{URL}{eid}/rotate-secret/", {}, format="json").status_code == 200
    reader = staff_client(tenant, "viewer", ["webhooks.view_webhookendpoint"])
    assert reader.get(URL).status_code == 200
    assert create(reader).status_code == 403
    assert reader.post(f"{URL}{eid}/rotate-secret/", {}, format="json").status_code == 403
    assert reader.get(f"{URL}{eid}/deliveries/").status_code == 403
    assert staff_client(tenant, "nobody", []).get(URL).status_code == 403


def test_staff_of_another_tenant_get_404(shop, make_tenant):
    tenant, partner = shop
    eid = create(partner).json()["id"]
    other = staff_client(make_tenant(slug="other"), "pm-other", ALL_PERMS)
    assert other.get(f"{URL}{eid}/").status_code == 404
    assert other.get(URL).json()["results"] == []


def test_without_credentials_401(client, shop):
    r = client.get(URL)
    assert r.status_code == 401
    assert json.loads(r.content)["errors"][0]["code"] == "not_authenticated"


def test_the_role_pm_holds_the_webhook_permissions():
    from tenants.roles import ROLES

    assert set(ALL_PERMS) <= set(ROLES["pm"].permissions)
    assert not any(p.startswith("webhooks.") for p in ROLES["finance"].permissions)
