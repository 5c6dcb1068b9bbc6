"""The console's webhook pages (domain rules section 10): an endpoint made in the admin shows its
secret on the next page only (never on its page or its history), the rotate action shows the new
one once, bad URLs and events are form errors that write nothing, failing endpoints carry a badge,
a filter and a message (also on the home page), the delivery log shows every attempt and replays.
The PM is made by `create_staff --role pm` (tenants.roles)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from tenants.context import tenant_context
from webhooks.models import Delivery, WebhookEndpoint

from .helpers import deliveries, post_paid_order, relay, subscribe

ADD = "/admin/webhooks/webhookendpoint/add/"
LIST = "/admin/webhooks/webhookendpoint/"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{44}")


@pytest.fixture
def pm(client, shop):
    from tenants.services import staff_create

    tenant, _ = shop
    client.force_login(staff_create(tenant=tenant, username="pm", role="pm", password="pm-pass-9876"))
    return client


def the_endpoint(tenant) -> WebhookEndpoint:
    with tenant_context(tenant):
        return WebhookEndpoint.objects.get()


def test_an_endpoint_made_in_the_console_shows_its_secret_once(pm, shop):
    tenant, _ = shop
    r = pm.post(ADD, {"url": "https://127.0.0.1:9/erp", "events": ["order.commissions_created", "commission.settled"],
                      "description": "ERP"})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    shown = SECRET.findall(r.content.decode())
    e = the_endpoint(tenant)
    assert shown == [e.secret]
    assert (e.url, e.events, e.description, e.status) == ("https://127.0.0.1:9/erp",
                                                          ["order.commissions_created", "commission.settled"], "ERP",
                                                          "active")
    for page in (f"{LIST}{e.pk}/change/", f"{LIST}{e.pk}/history/", LIST):
        body = pm.get(page).content.decode()
        assert e.secret not in body and not SECRET.search(body), page
    assert "shown once" in pm.get(f"{LIST}{e.pk}/change/").content.decode()


@pytest.mark.parametrize("data,error", [
    ({"url": "ftp://example.com/x", "events": ["commission.settled"]}, "Webhooks are delivered only to http://"),
    ({"url": "https://example.com/" + "a" * 1981, "events": ["commission.settled"]}, "at most 2000 characters"),
    ({"url": "https://127.0.0.1:9/x", "events": []}, "This field is required"),
    ({"url": "https://127.0.0.1:9/x", "events": ["order.paid"]}, "Select a valid choice"),
])
def test_bad_endpoints_are_form_errors_and_write_nothing(pm, shop, data, error):
    tenant, _ = shop
    r = pm.post(ADD, data)
    assert r.status_code == 200 and error in r.content.decode()
    with tenant_context(tenant):
        assert WebhookEndpoint.objects.count() == 0


def test_a_private_address_is_a_form_error_when_the_setting_is_off(pm, shop, settings):
    tenant, _ = shop
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    r = pm.post(ADD, {"url": "http://127.0.0.1:8000/x", "events": ["commission.settled"]})
    assert "127.0.0.1, which is not a public address" in r.content.decode()
    with tenant_context(tenant):
        assert WebhookEndpoint.objects.count() == 0


def test_the_change_form_edits_and_disables_through_the_service(pm, shop):
    tenant, _ = shop
    endpoint, secret = subscribe(tenant, "https://127.0.0.1:9/erp")
    r = pm.post(f"{LIST}{endpoint.pk}/change/", {"url": "https://127.0.0.1:9/erp2", "events": ["withdrawal.updated"],
                                                 "description": "", "status": "disabled"})
    assert r.status_code == 302, r.content.decode()[:2000]
    e = the_endpoint(tenant)
    assert (e.url, e.events, e.status, e.secret) == ("https://127.0.0.1:9/erp2", ["withdrawal.updated"], "disabled",
                                                     secret)


def test_the_rotate_action_shows_the_new_secret_once(pm, shop):
    tenant, _ = shop
    endpoint, old = subscribe(tenant, "https://127.0.0.1:9/erp")
    r = pm.post(LIST, {"action": "rotate_secret", "_selected_action": [endpoint.pk]})
    assert r.status_code == 200
    e = the_endpoint(tenant)
    assert SECRET.findall(r.content.decode()) == [e.secret] and e.secret != old and e.previous_secret == old


def test_a_failing_endpoint_has_a_badge_a_filter_and_a_message(pm, shop, receiver):
    tenant, partner = shop
    receiver.expect_request("/hook", method="POST").respond_with_data("down", status=500)
    healthy, _ = subscribe(tenant, "https://127.0.0.1:9/healthy", ["withdrawal.updated"])
    with time_machine.travel(datetime(2026, 1, 15, 3, tzinfo=timezone.utc), tick=False) as clock:
        failing, _ = subscribe(tenant, receiver.url_for("/hook"))
        post_paid_order(partner, "O1")
        for _ in range(14):
            relay(tenant)
            clock.shift(timedelta(hours=11))
    (d,) = deliveries(tenant)
    assert (d.status, d.attempts) == ("failed", 13)
    page = pm.get(LIST).content.decode()
    assert "webhook-badge webhook-failing" in page and "webhook-badge webhook-active" in page
    assert "1 webhook endpoint is failing" in page and receiver.url_for("/hook") in page
    filtered = pm.get(LIST, {"status": "failing"}).content.decode()
    assert failing.public_id in filtered and healthy.public_id not in filtered
    home = pm.get("/admin/").content.decode()
    assert "1 webhook endpoint is failing" in home


def test_the_delivery_log_shows_the_attempts_and_replays(pm, shop, receiver):
    tenant, partner = shop
    receiver.expect_ordered_request("/hook", method="POST").respond_with_data("teapot", status=418)
    receiver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")
    subscribe(tenant, receiver.url_for("/hook"))
    post_paid_order(partner, "O1")
    relay(tenant)
    (d,) = deliveries(tenant)
    page = pm.get(f"/admin/webhooks/delivery/{d.pk}/change/").content.decode()
    assert d.public_id in page and "teapot" in page and "HTTP 418" in page and "O1" in page
    listed = pm.get("/admin/webhooks/delivery/", {"status": "pending"}).content.decode()
    assert d.public_id in listed
    r = pm.post("/admin/webhooks/delivery/", {"action": "replay", "_selected_action": [d.pk]}, follow=True)
    assert "Queued for replay: 1." in r.content.decode()
    with tenant_context(tenant):
        d = Delivery.objects.get()
    assert (d.status, d.replay, d.replay_by) == ("pending", True, "pm")
    relay(tenant)
    with tenant_context(tenant):
        log = list(d.attempt_log.order_by("number").values_list("number", "trigger", "actor", "status_code"))
    assert log == [(1, "auto", "", 418), (2, "replay", "pm", 200)]


def test_finance_sees_no_webhook_pages(client, shop):
    from tenants.services import staff_create

    tenant, _ = shop
    client.force_login(staff_create(tenant=tenant, username="fin", role="finance", password="fin-pass-9876"))
    assert client.get(LIST).status_code == 403
    assert client.get("/admin/webhooks/delivery/").status_code == 403
