"""Commission records for partners, and a distributor's earnings and records in the portal."""
from decimal import Decimal

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from fenxiao.api.base import PartnerGenericView, PortalAPIView, PortalGenericView
from orders.api.views import get_order

from .. import selectors
from ..models import CommissionRecord
from .filters import CommissionRecordFilter
from .serializers import CommissionRecordSerializer


def records():
    return CommissionRecord.objects.select_related("order", "beneficiary", "plan", "grade").order_by("-id")


class _RecordList(PartnerGenericView):
    serializer_class = CommissionRecordSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CommissionRecordFilter

    def list_response(self, qs):
        page = self.paginate_queryset(self.filter_queryset(qs))
        return self.get_paginated_response(CommissionRecordSerializer(page, many=True).data)


class CommissionListView(_RecordList):
    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CommissionRecord.unscoped.none()
        return records()

    @extend_schema(responses=CommissionRecordSerializer(many=True))
    def get(self, request):
        """Tenant-wide commission records; filters beneficiary, level, status, created_after/before."""
        return self.list_response(self.get_queryset())


class OrderCommissionsView(PartnerGenericView):
    serializer_class = CommissionRecordSerializer
    queryset = CommissionRecord.unscoped.none()  # schema only
    pagination_class = None

    @extend_schema(responses=CommissionRecordSerializer(many=True))
    def get(self, request, external_id):
        """An order's records, level 1 first: beneficiary, level, rate, amount, reversed, net, status."""
        order = get_order(external_id)
        return Response(CommissionRecordSerializer(records().filter(order=order).order_by("level"), many=True).data)


class MyEarningsView(PortalAPIView):
    @extend_schema(responses=inline_serializer("Earnings", {
        "currency": serializers.CharField(),
        "frozen": serializers.DecimalField(max_digits=18, decimal_places=2),
        "available": serializers.DecimalField(max_digits=18, decimal_places=2),
        "total_earned": serializers.DecimalField(max_digits=18, decimal_places=2),
        "by_level": serializers.DictField(child=serializers.DecimalField(max_digits=18, decimal_places=2)),
    }))
    def get(self, request):
        """My commission: total_earned (net of reversals) and by_level, frozen and available
        (by record status), in the tenant currency. Two queries."""
        by_level = selectors.earnings_by_level(beneficiary_id=request.user.pk)
        by_status = selectors.earnings_by_status(beneficiary_id=request.user.pk)
        zero = Decimal("0.00")
        return Response({
            "currency": request.user.tenant.currency,
            "frozen": str(by_status.get("frozen", zero)),
            "available": str(by_status.get("available", zero)),
            "total_earned": str(sum(by_level.values(), zero)),
            "by_level": {k: str(v) for k, v in by_level.items()},
        })


class MyCommissionsView(PortalGenericView):
    serializer_class = CommissionRecordSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CommissionRecordFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CommissionRecord.unscoped.none()
        return records().filter(beneficiary=self.request.user)

    @extend_schema(responses=CommissionRecordSerializer(many=True))
    def get(self, request):
        """My commission records; filters level, status, created_after/before."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CommissionRecordSerializer(page, many=True).data)
