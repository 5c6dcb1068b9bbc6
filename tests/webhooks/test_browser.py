"""The webhook pages in a real browser (headless Chromium, Playwright): a PM subscribes an endpoint
and copies its secret from the one page that shows it, sees a failing endpoint flagged on the
home page and the endpoint list, and reads the attempts of its delivery. Screenshots go to
tests/screenshots/ (webhooks-*.png) for a person to look at."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from tenants.context import tenant_context
from tests.factories import chain
from tests.staff.test_browser import page, screenshot  # noqa: F401 (the fixture)
from webhooks.models import WebhookEndpoint

from .helpers import deliveries, post_paid_order, relay, subscribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pm_subscribes_an_endpoint_and_sees_a_failing_one(live_server, make_tenant, partner_for, receiver,
                                                         page):  # noqa: F811
    from tenants.services import staff_create

    acme = make_tenant(slug="acme")
    with tenant_context(acme):
        chain(acme, 3)
    staff_create(tenant=acme, username="pm", role="pm", password="pm-pass-9876")
    partner = partner_for(acme)
    base = live_server.url
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "pm")
    page.fill("#id_password", "pm-pass-9876")
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard-acme")

    # subscribe: the next page is the only one that shows the secret
    page.goto(f"{base}/admin/webhooks/webhookendpoint/add/")
    page.fill("#id_url", "https://127.0.0.1:9/erp")
    page.check("input[name=events][value='order.commissions_created']")
    page.check("input[name=events][value='commission.settled']")
    page.fill("#id_description", "ERP")
    page.click("input[name=_save]")
    page.wait_for_selector("#webhook-secrets")
    shown = page.locator(".webhook-secret").inner_text()
    screenshot(page, "webhooks-secret-shown-once")
    with tenant_context(acme):
        endpoint = WebhookEndpoint.objects.get()
    assert shown == endpoint.secret
    page.goto(f"{base}/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert endpoint.secret not in page.content() and "shown once" in page.content()

    # a receiver that always answers 500: after 13 attempts in about 3 days the endpoint is failing
    receiver.expect_request("/hook", method="POST").respond_with_data("internal error", status=500)
    with time_machine.travel(datetime(2026, 1, 15, 3, tzinfo=timezone.utc), tick=False) as clock:
        subscribe(acme, receiver.url_for("/hook"))
        post_paid_order(partner, "O1")
        for _ in range(14):
            relay(acme)
            clock.shift(timedelta(hours=11))
    (d,) = deliveries(acme)
    assert (d.status, d.attempts) == ("failed", 13)
    page.goto(f"{base}/admin/")
    page.wait_for_selector("ul.messagelist")
    assert "1 webhook endpoint is failing" in page.locator("ul.messagelist").inner_text()
    screenshot(page, "webhooks-home-failing-message")
    page.goto(f"{base}/admin/webhooks/webhookendpoint/")
    page.wait_for_selector(".webhook-failing")
    screenshot(page, "webhooks-endpoint-list")
    page.goto(f"{base}/admin/webhooks/delivery/{d.pk}/change/")
    page.wait_for_selector("#attempt_log-group, .inline-group")
    text = page.content()
    assert d.public_id in text and "HTTP 500" in text and "internal error" in text
    screenshot(page, "webhooks-delivery-attempts")
