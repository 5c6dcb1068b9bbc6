"""Commission records for partners, and a distributor's earnings and records in the portal."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from fenxiao.api.base import PartnerGenericView, PortalGenericView
from fenxiao.api.pagination import CursorPagination
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
    pagination_class = CursorPagination  # newest first; a walk answers each record once (fenxiao.api.pagination)
    cursor_ordering = "-id"

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
        """Tenant-wide commission records, newest first, cursor-paginated (`next`, `previous`,
        `results`; `page_size` up to 200): walking every page answers each record that existed
        when the walk began exactly once, while orders keep arriving. Filters beneficiary
        (external_id), level, status, created_after/before, and updated_after (RFC 3339: records
        created or changed since, e.g. settled or reversed, for incremental sync). 400 for an
        unknown query parameter, a malformed time or a cursor that is not this list's."""
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
    pagination_class = CursorPagination
    cursor_ordering = "-id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CommissionRecord.unscoped.none()
        return records().filter(beneficiary=self.request.user)

    @extend_schema(responses=CommissionRecordSerializer(many=True))
    def get(self, request):
        """My commission records, newest first, cursor-paginated (`next`, `previous`, `results`);
        filters level, status, created_after/before, updated_after (RFC 3339)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CommissionRecordSerializer(page, many=True).data)
