"""The console's webhook pages (domain rules section 10): the tenant's endpoints (with a "Rotate the
signing secret" action) and the delivery log with every attempt (read-only, with a "Replay"
action). Scoped to the staff's tenant like every console page (tenants.admin_scoping).

The signing secret is shown exactly once, on the page that follows the creation of an endpoint or
the rotation of its secret (never stored in a message or the session); the endpoint's page never
shows it again, nor does its history (the secret is excluded from the audit trail). Endpoints that
are failing carry a red badge, can be filtered, and are announced on the endpoint list and on the
console's home page.
"""
from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from incentives.admin import ServiceAdminMixin, ServiceForm, TenantTimeAdminMixin, choice_filter
from tenants.admin_scoping import (
    ReadOnlyTenantScopedAdmin, TenantScopedHistoryAdmin, TenantScopedInline, apply_per_object, staff_tenant_id,
)
from tenants.context import tenant_context

from . import selectors, services
from .events import EVENT_TYPES
from .models import Delivery, WebhookAttempt, WebhookEndpoint

BADGE_COLOURS = {
    "active": "#2e7d32", "succeeded": "#2e7d32", "failing": "#c62828", "failed": "#c62828",
    "disabled": "#757575", "pending": "#ef6c00", "sending": "#1565c0",
}


def badge(value: str, label) -> str:
    return format_html('<span class="webhook-badge webhook-{}" style="color:#fff;background:{};padding:1px 6px;'
                       'border-radius:3px;white-space:nowrap">{}</span>', value, BADGE_COLOURS.get(value, "#555"), label)


def failing_notice(request) -> None:
    """Tell the staff (an admin message) which of their tenant's webhook endpoints are failing: a
    delivery used every attempt. Superusers hear about every tenant's."""
    if not request.user.is_active or not request.user.is_staff:
        return
    tenant_id = None if request.user.is_superuser else staff_tenant_id(request)
    if tenant_id is None and not request.user.is_superuser:
        return
    if not request.user.has_perm("webhooks.view_webhookendpoint"):
        return
    failing = selectors.failing_endpoints(tenant_id=tenant_id)
    if failing:
        messages.warning(request, ngettext(
            "%(n)d webhook endpoint is failing (a delivery used every attempt): %(urls)s. Check the receiver, "
            "then set the endpoint active again and replay the failed deliveries.",
            "%(n)d webhook endpoints are failing (a delivery used every attempt): %(urls)s. Check the receivers, "
            "then set the endpoints active again and replay the failed deliveries.", len(failing))
            % {"n": len(failing), "urls": ", ".join(e.url[:80] for e in failing[:5])})


def _secret_page(request, admin_obj, *, title, rows: list[tuple[WebhookEndpoint, str]], back: str):
    """The one page that shows new signing secrets (not cached, stored nowhere else)."""
    body = format_html(
        '<table id="webhook-secrets"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>',
        gettext("endpoint"), gettext("URL"), gettext("signing secret"),
        format_html_join("", '<tr><td>{}</td><td>{}</td><td><code class="webhook-secret">{}</code></td></tr>',
                         ((e.public_id, e.url, secret) for e, secret in rows)))
    context = {**admin_obj.admin_site.each_context(request), "title": title, "opts": admin_obj.model._meta,
               "intro": gettext("Copy the signing secret now and give it to the receiver: it is not shown again "
                                "(rotate it to get a new one). Receivers verify each delivery with it "
                                "(Standard Webhooks: standardwebhooks.Webhook(secret).verify(body, headers))."),
               "body": body, "submit": "", "back": back, "back_label": gettext("Back")}
    response = TemplateResponse(request, "admin/fenxiao_action_form.html", context)
    response["Cache-Control"] = "no-store"
    return response


class EndpointForm(ServiceForm):
    """Create or change an endpoint through webhooks.services (the URL and event checks of the API:
    its 400s become form errors and nothing is written)."""

    events = forms.MultipleChoiceField(label=_("Events"), widget=forms.CheckboxSelectMultiple,
                                       choices=[(k, format_lazy("{} — {}", k, v)) for k, v in EVENT_TYPES.items()])
    status = forms.ChoiceField(label=_("Status"), required=False, choices=WebhookEndpoint.Status.choices,
                               help_text=_("disabled: nothing is delivered to it; active: in service again "
                                           "(also after failing)"))

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description"]
        labels = {"url": _("URL"), "description": _("Description")}
        help_texts = {"url": _("http:// or https://, at most 2000 characters, of a public address")}
        widgets = {"url": forms.TextInput(attrs={"size": 80})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.update({"events": list(self.instance.events), "status": self.instance.status})
        else:
            del self.fields["status"]

    def write(self, tenant, data):
        if self.instance.pk is None:
            endpoint, secret = services.endpoint_create(tenant=tenant, url=data["url"], events=data["events"],
                                                        description=data.get("description") or "")
            endpoint.new_secret = secret
            return endpoint
        changes = {name: data.get(name) for name in ("url", "events", "description") if name in self.changed_data}
        if "status" in self.changed_data and data.get("status"):
            changes["status"] = data["status"]
        return services.endpoint_update(endpoint=self.instance, **changes)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantTimeAdminMixin, ServiceAdminMixin, TenantScopedHistoryAdmin):
    """Webhook endpoints (回调地址): where and which events are delivered, signed."""

    form = EndpointForm
    list_display = ["public_id", "status_badge", "url", "events_short", "failing_since", "created_at"]
    list_filter = [choice_filter("status", _("status"), dict(WebhookEndpoint.Status.choices))]
    search_fields = ["public_id", "url", "description"]
    actions = ["rotate_secret"]

    def get_fieldsets(self, request, obj=None):
        tenant = ["tenant"] if request.user.is_superuser and obj is None else []
        main = [*tenant, "url", "events", "description", *([] if obj is None else ["status"])]
        sets = [(None, {"fields": main})]
        if obj is not None:
            sets.append((_("State"), {"fields": ["public_id", "status_badge", "failing_since", "secret_note",
                                                 "deliveries_link", "created_at", "updated_at"]}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["public_id", "status_badge", "failing_since", "secret_note", "deliveries_link",
                                       "created_at", "updated_at"]

    @admin.display(description=_("events"))
    def events_short(self, obj):
        return format_html_join(mark_safe("<br>"), "{}", ((e,) for e in obj.events))

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description=_("signing secret"))
    def secret_note(self, obj):
        return gettext("shown once, when the endpoint was created or its secret rotated; use the "
                       "“Rotate the signing secret” action for a new one")

    @admin.display(description=_("deliveries"))
    def deliveries_link(self, obj):
        url = reverse("admin:webhooks_delivery_changelist") + f"?endpoint__public_id={obj.public_id}"
        return format_html('<a href="{}">{}</a>', url, gettext("the delivery log of this endpoint"))

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(obj, "new_secret", None)
        if not secret:
            return super().response_add(request, obj, post_url_continue)
        return _secret_page(request, self, title=gettext("Webhook endpoint created"), rows=[(obj, secret)],
                            back=reverse("admin:webhooks_webhookendpoint_change", args=[obj.pk]))

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            failing_notice(request)
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Rotate the signing secret of the selected endpoints"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        rows = []
        for endpoint in queryset.order_by("pk"):
            with tenant_context(endpoint.tenant_id):
                endpoint, secret = services.endpoint_rotate_secret(endpoint=endpoint)
            rows.append((endpoint, secret))
        if not rows:
            return None
        return _secret_page(request, self, title=gettext("Signing secrets rotated"), rows=rows,
                            back=reverse("admin:webhooks_webhookendpoint_changelist"))


class AttemptInline(TenantScopedInline, admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["number", "trigger", "actor", "at", "status_code", "error", "duration_ms", "response_excerpt"]
    readonly_fields = fields
    ordering = ["number"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(TenantTimeAdminMixin, ReadOnlyTenantScopedAdmin):
    """The delivery log (投递记录): each event for each endpoint, its attempts, and a Replay action."""

    list_display = ["public_id", "status_badge", "endpoint_url", "event_type", "attempts", "next_attempt_at",
                    "last_status_code", "last_error", "created_at"]
    list_filter = [choice_filter("status", _("status"), dict(Delivery.Status.choices)),
                   choice_filter("event_type", _("event type"), {k: k for k in EVENT_TYPES})]
    search_fields = ["public_id", "endpoint__public_id", "endpoint__url"]
    list_select_related = ["endpoint"]
    inlines = [AttemptInline]
    actions = ["replay"]
    fields = ["public_id", "endpoint_url", "event_type", "status_badge", "attempts", "next_attempt_at",
              "last_status_code", "last_error", "created_at", "delivered_at", "failed_at", "body"]
    readonly_fields = fields

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "endpoint__public_id" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("endpoint"), ordering="endpoint__url")
    def endpoint_url(self, obj):
        return f"{obj.endpoint.public_id} {obj.endpoint.url[:80]}"

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description=_("body"))
    def body(self, obj):
        from .signing import body_of

        body = json.loads(body_of(type=obj.event.type, created_at=obj.event.created_at, payload=obj.event.payload))
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(body, indent=2, ensure_ascii=False))

    def has_replay_permission(self, request):
        return request.user.has_perm("webhooks.change_delivery")

    @admin.action(description=_("Replay the selected deliveries (a new attempt, the same webhook-id)"),
                  permissions=["replay"])
    def replay(self, request, queryset):
        actor = request.user.get_username()
        apply_per_object(self, request, queryset, lambda d: services.delivery_replay(delivery=d, actor=actor),
                         gettext("Queued for replay"), describe=lambda d: d.public_id)
