"""Serializers of the webhook endpoints API (spec/api.md "Incentives, reports, relationship and
webhooks"; domain rules section 10). Endpoints and deliveries are named by their public ids
(`we_...`, `msg_...`), never by primary keys. The secret appears only in the answers that create an
endpoint or rotate its secret."""
from __future__ import annotations

from rest_framework import serializers

from fenxiao.api.fields import StrictSerializer

from ..events import EVENT_TYPES
from ..models import Delivery, WebhookAttempt, WebhookEndpoint

EVENTS_HELP = "event types: " + ", ".join(EVENT_TYPES)


class EndpointSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True, help_text="the endpoint's id (we_...)")
    url = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    events = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=EVENTS_HELP)
    status = serializers.ChoiceField(choices=WebhookEndpoint.Status.choices, read_only=True,
                                     help_text="active; failing (a delivery used every attempt); disabled")
    failing_since = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="the signing secret (whsec_...): shown only in this answer")


class EndpointCreateSerializer(StrictSerializer):
    url = serializers.CharField(trim_whitespace=False,
                                help_text="http:// or https:// URL, at most 2000 characters, of a public address")
    events = serializers.ListField(child=serializers.CharField(trim_whitespace=False), allow_empty=True,
                                   help_text=EVENTS_HELP)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EndpointPatchSerializer(StrictSerializer):
    url = serializers.CharField(trim_whitespace=False, required=False)
    events = serializers.ListField(child=serializers.CharField(trim_whitespace=False), allow_empty=True, required=False,
                                   help_text=EVENTS_HELP)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    status = serializers.CharField(required=False, help_text="active or disabled")


class NoBodySerializer(StrictSerializer):
    """An empty body ({}); any field is refused (unknown_field)."""


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "trigger", "actor", "at", "status_code", "error", "duration_ms", "response_excerpt"]


class DeliverySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True,
                               help_text="the delivery's id: the webhook-id header of every attempt (msg_...)")
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "event_type", "status", "attempts", "next_attempt_at", "last_status_code", "last_error",
                  "created_at", "delivered_at", "failed_at", "attempt_log"]


class PageQuery(StrictSerializer):
    cursor = serializers.CharField(required=False, help_text="from `next` or `previous`")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


class DeliveryQuery(PageQuery):
    status = serializers.ChoiceField(choices=Delivery.Status.choices, required=False)
