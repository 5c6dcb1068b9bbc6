"""`/api/v1/webhook-endpoints/`: a tenant's webhook subscriptions and their delivery log (spec/api.md;
domain rules section 10), for the partner (`Authorization: Api-Key ...`) and for tenant staff (staff
token or admin session, with the Django model permissions of the console: `staff_perms`). Another
tenant's endpoint or delivery answers 404 like a missing one; ids are the public ones (`we_...`,
`msg_...`). Writes go through webhooks.services; a refused body writes nothing."""
from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from fenxiao.api.base import IsPartner, IsTenantStaff, TenantViewMixin, body_or_empty
from fenxiao.api.idempotency import idempotent
from fenxiao.api.pagination import CursorPagination
from fenxiao.api.throttles import ApiKeyRateThrottle
from fenxiao.exceptions import NotFound
from tenants.authentication import ApiKeyAuthentication, StaffJWTAuthentication

from .. import selectors, services
from .serializers import (
    DeliveryQuery, DeliverySerializer, PageQuery, EndpointCreateSerializer, EndpointPatchSerializer, EndpointSerializer,
    EndpointWithSecretSerializer, NoBodySerializer,
)


class IsPartnerOrTenantStaff(permissions.BasePermission):
    """A partner API key, or tenant staff with the view's `staff_perms` (fenxiao.api.base)."""

    message = "This endpoint needs a partner API key or a tenant staff user with the permission for it."

    def has_permission(self, request, view):
        return IsPartner().has_permission(request, view) or IsTenantStaff().has_permission(request, view)


class PartnerOrStaffView(TenantViewMixin, APIView):
    authentication_classes = [ApiKeyAuthentication, StaffJWTAuthentication, SessionAuthentication]
    permission_classes = [IsPartnerOrTenantStaff]
    throttle_classes = [ApiKeyRateThrottle]   # partner keys only; staff requests pass


def get_endpoint(endpoint_id: str):
    found = selectors.endpoint_by_public_id(endpoint_id)
    if found is None:
        raise NotFound(gettext("No webhook endpoint with this id."))
    return found


def get_delivery(endpoint, delivery_id: str):
    found = selectors.delivery_by_public_id(endpoint, delivery_id)
    if found is None:
        raise NotFound(gettext("No delivery with this id."))
    return found


ENDPOINT_ID = OpenApiParameter("endpoint_id", str, OpenApiParameter.PATH, description="the endpoint's id (we_...)")
DELIVERY_ID = OpenApiParameter("delivery_id", str, OpenApiParameter.PATH,
                               description="the delivery's id, its webhook-id (msg_...)")


class EndpointListView(PartnerOrStaffView):
    staff_perms = {"GET": ["webhooks.view_webhookendpoint"], "POST": ["webhooks.add_webhookendpoint"]}
    pagination_class = CursorPagination  # newest first (fenxiao.api.pagination: opaque, list-bound cursors)
    query_serializer = PageQuery

    @extend_schema(parameters=[PageQuery], responses=EndpointSerializer(many=True))
    def get(self, request):
        """The tenant's webhook endpoints, newest first, cursor-paginated (`next`, `previous`,
        `results`; `page_size` up to 200): id, url, description, events, status (active, failing,
        disabled). The secret is never in it. Unknown query parameters are 400 `unknown_parameter`."""
        PageQuery(data=request.query_params).is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.endpoints(), request, view=self)
        return paginator.get_paginated_response(EndpointSerializer(page, many=True).data)

    @extend_schema(request=EndpointCreateSerializer, responses={201: EndpointWithSecretSerializer})
    @idempotent  # a retried create with the key answers the same endpoint (and secret) once more
    def post(self, request):
        """Subscribe a URL to events (domain rules section 10). 201 with the endpoint and its signing
        `secret` (`whsec_...`, Standard Webhooks): shown in this answer only. 400 (nothing written):
        `url` not http(s) (`invalid_scheme`), over 2000 characters (`url_too_long`), malformed
        (`invalid_url`), of a host that does not resolve (`unresolvable_host`) or resolves to a
        loopback, private, link-local or reserved address (`forbidden_address`); an unknown event
        type (`unknown_event`, attr `events.<i>`); no event (`required`); `too_many_endpoints`."""
        s = EndpointCreateSerializer(data=body_or_empty(request))
        s.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_create(tenant=request.tenant, **s.validated_data)
        return Response(_with_secret(endpoint, secret), status=201)


def _with_secret(endpoint, secret: str) -> dict:
    return {**EndpointSerializer(endpoint).data, "secret": secret}


class EndpointDetailView(PartnerOrStaffView):
    staff_perms = {"GET": ["webhooks.view_webhookendpoint"], "PATCH": ["webhooks.change_webhookendpoint"],
                   "DELETE": ["webhooks.delete_webhookendpoint"]}

    @extend_schema(parameters=[ENDPOINT_ID], responses=EndpointSerializer)
    def get(self, request, endpoint_id):
        """One webhook endpoint (without its secret); 404 for an id the tenant has not."""
        return Response(EndpointSerializer(get_endpoint(endpoint_id)).data)

    @extend_schema(parameters=[ENDPOINT_ID], request=EndpointPatchSerializer, responses=EndpointSerializer)
    def patch(self, request, endpoint_id):
        """Change an endpoint's `url` or `events` (checked as on creation: the same 400s),
        `description`, or `status`: `disabled` (nothing more is delivered to it) or `active` (in
        service again, also after `failing`); another status is 400 `invalid_choice`."""
        endpoint = get_endpoint(endpoint_id)
        s = EndpointPatchSerializer(data=body_or_empty(request))
        s.is_valid(raise_exception=True)
        services.endpoint_update(endpoint=endpoint, **s.validated_data)
        return Response(EndpointSerializer(get_endpoint(endpoint_id)).data)

    @extend_schema(parameters=[ENDPOINT_ID], responses={204: None})
    def delete(self, request, endpoint_id):
        """Remove an endpoint with its delivery log: 204. Nothing more is delivered to it."""
        services.endpoint_delete(endpoint=get_endpoint(endpoint_id))
        return Response(status=204)


class EndpointRotateSecretView(PartnerOrStaffView):
    staff_perms = {"POST": ["webhooks.change_webhookendpoint"]}

    @extend_schema(parameters=[ENDPOINT_ID], request=NoBodySerializer, responses=EndpointWithSecretSerializer)
    @idempotent  # a retry with the key does not rotate twice
    def post(self, request, endpoint_id):
        """Give the endpoint a new signing secret, answered in `secret` this once. For the next
        settings.WEBHOOKS_ROTATION_OVERLAP (24 hours) every delivery carries two signatures (the
        new secret's and the old one's), so the receiver can switch without losing a message."""
        endpoint = get_endpoint(endpoint_id)
        NoBodySerializer(data=body_or_empty(request)).is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_rotate_secret(endpoint=endpoint)
        return Response(_with_secret(endpoint, secret))


class DeliveryListView(PartnerOrStaffView):
    staff_perms = {"GET": ["webhooks.view_delivery"]}
    pagination_class = CursorPagination  # newest first
    query_serializer = DeliveryQuery

    @extend_schema(parameters=[ENDPOINT_ID, DeliveryQuery], responses=DeliverySerializer(many=True))
    def get(self, request, endpoint_id):
        """The endpoint's delivery log, newest first, cursor-paginated (`next`, `previous`;
        `page_size` up to 200), `status` to filter (pending, sending, succeeded, failed): each
        delivery with its webhook-id (`id`), event type, status, attempts and next attempt, and
        every attempt (when, trigger auto or replay, status code or error, duration in ms, the
        first KB of the answer). Unknown query parameters are 400 `unknown_parameter`."""
        endpoint = get_endpoint(endpoint_id)
        q = DeliveryQuery(data=request.query_params)
        q.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.deliveries_of(endpoint, status=q.validated_data.get("status")),
                                           request, view=self)
        return paginator.get_paginated_response(DeliverySerializer(page, many=True).data)


class DeliveryDetailView(PartnerOrStaffView):
    staff_perms = {"GET": ["webhooks.view_delivery"]}

    @extend_schema(parameters=[ENDPOINT_ID, DELIVERY_ID], responses=DeliverySerializer)
    def get(self, request, endpoint_id, delivery_id):
        """One delivery of the endpoint with all its attempts; 404 for an id it has not."""
        return Response(DeliverySerializer(get_delivery(get_endpoint(endpoint_id), delivery_id)).data)


class DeliveryReplayView(PartnerOrStaffView):
    staff_perms = {"POST": ["webhooks.change_delivery"]}

    @extend_schema(parameters=[ENDPOINT_ID, DELIVERY_ID], request=NoBodySerializer, responses={202: DeliverySerializer})
    @idempotent  # a retry with the key makes no second attempt
    def post(self, request, endpoint_id, delivery_id):
        """Deliver this event again: 202, the delivery pending; the relay makes a new attempt with
        the same webhook-id (logged as a replay, with who asked). A succeeded or failed delivery
        gets one attempt; a pending one is attempted now and keeps its retries. 409
        `invalid_state` while an attempt is under way."""
        delivery = get_delivery(get_endpoint(endpoint_id), delivery_id)
        NoBodySerializer(data=body_or_empty(request)).is_valid(raise_exception=True)
        endpoint = delivery.endpoint
        services.delivery_replay(delivery=delivery, actor=services.replay_actor(request.user))
        return Response(DeliverySerializer(get_delivery(endpoint, delivery_id)).data, status=202)
