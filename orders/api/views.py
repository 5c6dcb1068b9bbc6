"""Partner endpoints for orders and refunds (domain rules sections 3, 4 and 6)."""
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from fenxiao.api.base import PartnerAPIView, PartnerGenericView, body_or_empty
from fenxiao.exceptions import NotFound

from .. import services
from ..models import Order
from ..validation import order_input
from .fastpath import order_create_fast
from .serializers import (
    CancelSerializer, CompleteSerializer, OrderCreateSerializer, OrderSerializer, PaySerializer,
    RefundCreateSerializer, RefundSerializer, new_order_body, order_bodies,
)


def order_queryset():
    return Order.objects.select_related("referrer", "attributed_to", "plan").prefetch_related("lines", "refunds__lines__line")


def get_order(external_id: str) -> Order:
    """The current tenant's order, or 404 (also for another tenant's id)."""
    found = order_queryset().filter(external_id=external_id).first()
    if found is None:
        raise NotFound(gettext("No order with this external_id."))
    return found


class OrderListCreateView(PartnerGenericView):
    serializer_class = OrderSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.unscoped.none()
        return order_queryset().order_by("-id")

    @extend_schema(responses=OrderSerializer(many=True))
    def get(self, request):
        """The tenant's orders, newest first (paginated)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(request=OrderCreateSerializer, responses={201: OrderSerializer, 200: OrderSerializer})
    def post(self, request):
        """Record an order: 201 new; 200 the same external_id and content again (nothing created);
        409 the same external_id with other content; 400 invalid body. A `paid` order's
        commissions are computed by a Celery task after commit."""
        validated = order_create_fast(request.data)  # None unless plainly well formed (orders.api.fastpath)
        if validated is None:
            s = OrderCreateSerializer(data=request.data)
            s.is_valid(raise_exception=True)
            validated = s.validated_data
        order, created = services.order_record(tenant=request.tenant, data=order_input(dict(validated)))
        body = new_order_body(order, order.new_lines) if created else None  # from memory: no query
        if body is None:
            body = order_bodies([order.pk], new=created)[order.pk]
        return Response(body, status=201 if created else 200)


class OrderDetailView(PartnerAPIView):
    @extend_schema(responses=OrderSerializer)
    def get(self, request, external_id):
        """An order with its lines (and their allocated shares and nets), refunds and commission base."""
        return Response(OrderSerializer(get_order(external_id)).data)


class _OrderActionView(PartnerAPIView):
    """POST /orders/{external_id}/<action>/: 404 for an unknown (or another tenant's) order first,
    then the body is validated, then the service runs; answers the order."""

    body_serializer: type
    service = None

    def post(self, request, external_id):
        order = get_order(external_id)
        s = self.body_serializer(data=body_or_empty(request))
        s.is_valid(raise_exception=True)
        type(self).service(order=order, **s.validated_data)
        return Response(OrderSerializer(get_order(external_id)).data)


@extend_schema(request=PaySerializer, responses=OrderSerializer,
               description="pending -> paid; repeated notifications are no-ops; cancelled -> 409.")
class OrderPayView(_OrderActionView):
    body_serializer = PaySerializer
    service = services.order_pay


@extend_schema(request=CompleteSerializer, responses=OrderSerializer,
               description="Mark a paid order completed at completed_at (starts the settle window).")
class OrderCompleteView(_OrderActionView):
    body_serializer = CompleteSerializer
    service = services.order_complete


@extend_schema(request=CancelSerializer, responses=OrderSerializer,
               description="pending -> cancelled; a paid order answers 409 (refund it instead).")
class OrderCancelView(_OrderActionView):
    body_serializer = CancelSerializer
    service = services.order_cancel


class OrderRefundsView(PartnerAPIView):
    @extend_schema(responses=RefundSerializer(many=True))
    def get(self, request, external_id):
        """Every refund of the order, oldest first: kind (amount or lines), goods amount, shipping
        and tax (order currency), the lines and quantities refunded; 404 for an unknown order."""
        return Response(RefundSerializer(get_order(external_id).refunds.all(), many=True).data)

    @extend_schema(request=RefundCreateSerializer, responses={201: RefundSerializer, 200: RefundSerializer})
    def post(self, request, external_id):
        """Refund by `amount` (goods money, order currency) or by `lines`; reverses every level.
        201 new; 200 replay; 409 same external_id with other content; 400 over-refund."""
        order = get_order(external_id)
        s = RefundCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = dict(s.validated_data)
        d["lines"] = [(line["line_id"], line["quantity"]) for line in d["lines"]]
        refund, created = services.refund_create(order=order, data=services.RefundInput(**d))
        refund = order.refunds.model.objects.prefetch_related("lines__line").select_related("order").get(pk=refund.pk)
        return Response(RefundSerializer(refund).data, status=201 if created else 200)


BATCH_MAX = 1000


class OrderBatchView(PartnerAPIView):
    @extend_schema(request=inline_serializer("OrderBatch", {"orders": serializers.ListField(child=serializers.DictField())}),
                   responses={207: inline_serializer("OrderBatchResult", {"results": serializers.ListField(child=serializers.DictField())})})
    def post(self, request):
        """Up to 1000 orders in one request (207). Each item is answered exactly as POST /orders/
        would answer it alone, had the items been posted one after the other (201 new, 200 replay,
        409 conflict, 400 invalid, in the contract's error shape): one bad item never blocks the
        others. The valid new orders are written with bulk inserts in one transaction and their
        commissions computed by chunked Celery tasks (orders.services.orders_record_batch)."""
        from rest_framework.exceptions import ValidationError

        from fenxiao.api.exception_handler import exception_handler
        from fenxiao.exceptions import invalid

        body = request.data
        if not isinstance(body, dict) or set(body) != {"orders"} or not isinstance(body["orders"], list):
            raise invalid("orders", gettext('Send {"orders": [...]} with nothing else.'), "invalid")
        if not 1 <= len(body["orders"]) <= BATCH_MAX:
            raise invalid("orders", gettext("Send between 1 and %(max)s orders.") % {"max": BATCH_MAX}, "max_length")
        results: list = [None] * len(body["orders"])
        inputs, positions = [], []
        # One serializer validates every item (as ListSerializer does with its child): the same
        # validation and errors as OrderCreateSerializer(data=item).is_valid(), without building
        # (deep-copying) its fields once per item.
        validator = OrderCreateSerializer()
        for index, item in enumerate(body["orders"]):
            try:
                # plainly well-formed bodies: the serializer's exact result, without its per-field
                # machinery; anything else goes through the serializer (orders.api.fastpath)
                validated = order_create_fast(item) or validator.run_validation(item)
            except ValidationError:
                # the error exactly as the single endpoint words it (is_valid's .errors edge cases)
                alone = OrderCreateSerializer(data=item)
                alone.is_valid()
                results[index] = ValidationError(alone.errors)
                continue
            inputs.append(order_input(dict(validated)))
            positions.append(index)
        for index, outcome in zip(positions, services.orders_record_batch(tenant=request.tenant, items=inputs)):
            results[index] = outcome
        recorded = [r for r in results if isinstance(r, tuple)]
        new = {r[0].pk for r in recorded if r[1]}
        replayed = {r[0].pk for r in recorded if not r[1]} - new
        bodies = {**order_bodies(list(new), new=True), **order_bodies(list(replayed))}
        out = []
        for index, r in enumerate(results):
            if isinstance(r, tuple):
                out.append({"index": index, "status": 201 if r[1] else 200, "body": bodies[r[0].pk]})
            else:
                err = exception_handler(r, {"request": request, "view": self})
                out.append({"index": index, "status": err.status_code, "body": err.data})
        return Response({"results": out}, status=207)
