"""Commission records for partners, and a distributor's earnings and records in the portal."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from fenxiao.api.base import PartnerGenericView, PortalGenericView
from orders.api.views import get_order

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
