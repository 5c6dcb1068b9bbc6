"""Reports endpoints (domain rules section 9; spec/api.md "Incentives, reports, relationship and
webhooks"): the tenant summary and sales by channel for staff, distributors' monthly statements
(对账单) for staff and for the distributor, a distributor's months. Every answer is what
reports.selectors returns; the CSV and PDF files render the same dicts (reports.exports).

Staff views name the Django model permissions they need (`staff_perms`, the ones tenants.roles
gives the pm and finance roles); another tenant's distributor is a 404 like a missing one; a bad
query or month is a 400 in the contract's error shape and writes nothing (nothing here writes)."""
from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from distributors.selectors import distributor_by_external_id
from fenxiao.api.base import PortalAPIView, StaffAPIView
from fenxiao.exceptions import NotFound

from .. import exports, selectors
from .serializers import (
    ChannelsQuery, ChannelsSerializer, MonthlyQuery, MyMonthsSerializer, StatementSerializer, SummaryQuery,
    SummarySerializer,
)

MONTH_PARAM = OpenApiParameter("month", str, OpenApiParameter.PATH, description="the local month, YYYY-MM")
CSV = {(200, "text/csv"): OpenApiTypes.STR}
PDF = {(200, "application/pdf"): OpenApiTypes.BINARY}


def query_params(serializer_class, request) -> dict:
    s = serializer_class(data=request.query_params)
    s.is_valid(raise_exception=True)
    return s.validated_data


def download(body, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# --- the tenant summary ----------------------------------------------------------------------------

SUMMARY_PERMS = {"GET": ["orders.view_order", "commissions.view_commissionrecord", "ledger.view_withdrawal"]}


def summary_of(request) -> dict:
    q = query_params(SummaryQuery, request)
    return selectors.summary(first_day=q["from"], end_day=q["to"], interval=q["interval"], channel=q["channel"] or None)


class SummaryView(StaffAPIView):
    staff_perms = SUMMARY_PERMS

    @extend_schema(parameters=[SummaryQuery], responses=SummarySerializer)
    def get(self, request):
        """The tenant summary (domain rules section 9) of the local days [from, to) by `interval`
        (day, week from Monday, or month; buckets in the tenant's time zone, the first and last cut
        at the range's ends): per bucket and for the whole range, orders, sales (commission base)
        and gmv gross, refunded and net, commission per level accrued, reversed and net, commission
        settled, bonuses, new and active distributors, withdrawals paid and their fees. Sales
        figures belong to the day an order was paid (net of the refunds recorded so far, like every
        measure); money figures to the day the ledger journalled them (so they equal the ledger and
        the statements). The buckets add up to `total` (`active_distributors` counts each
        distributor once over the range). `channel` keeps one channel's orders (the figures no
        order carries are null). 400: `to` not after `from` (`invalid_range`), more than 366
        buckets (`too_many_buckets`), an unknown interval (`invalid_choice`), a malformed channel
        (`invalid_channel`) or one no order carries (`unknown_channel`). A fixed number of queries
        whatever the tenant's size."""
        return Response(summary_of(request))


class SummaryCsvView(StaffAPIView):
    staff_perms = SUMMARY_PERMS

    @extend_schema(parameters=[SummaryQuery], responses=CSV)
    def get(self, request):
        """The tenant summary as CSV (the same query and 400s as /admin/reports/summary/): a header
        row, one row per bucket, then the `total` row; the per-level commission as columns
        level_<n>_accrued / _reversed / _net. Cells a spreadsheet would run as formulas are
        neutralised (domain rules section 9)."""
        data = summary_of(request)
        return download(exports.summary_csv(data), "text/csv; charset=utf-8",
                        f"summary-{data['from']}-{data['to']}-{data['interval']}.csv")


class ChannelsView(StaffAPIView):
    staff_perms = {"GET": ["orders.view_order", "commissions.view_commissionrecord"]}

    @extend_schema(parameters=[ChannelsQuery], responses=ChannelsSerializer)
    def get(self, request):
        """Sales per channel (domain rules section 9) of the orders paid on the local days [from,
        to): orders, sales and gmv gross, refunded and net, the commission the ledger journalled on
        those days for each channel's orders, and each channel's share of the net sales; orders
        without a channel are the row with channel null. Largest net sales first; the rows add up
        to `total`. 400 `invalid_range` when `to` is not after `from`. Three queries."""
        q = query_params(ChannelsQuery, request)
        return Response(selectors.channels(first_day=q["from"], end_day=q["to"]))


# --- statements ------------------------------------------------------------------------------------

STATEMENT_PERMS = {"GET": ["distributors.view_distributor", "ledger.view_balance"]}


def staff_statement(external_id: str, month: str) -> dict:
    """The statement of the tenant's distributor `external_id` (404 first, also for another
    tenant's), then the month (400)."""
    distributor = distributor_by_external_id(external_id)
    if distributor is None:
        raise NotFound(_("No distributor with this external_id."))
    return selectors.statement(distributor=distributor, month=selectors.parse_month(month))


def statement_name(data: dict, ext: str) -> str:
    return f"statement-{data['distributor_external_id']}-{data['month']}.{ext}"


class StaffStatementView(StaffAPIView):
    staff_perms = STATEMENT_PERMS

    @extend_schema(parameters=[MONTH_PARAM], responses=StatementSerializer)
    def get(self, request, external_id, month):
        """A distributor's monthly statement (对账单, domain rules section 9) for the local month
        `month` (YYYY-MM), from its ledger: opening balances (frozen, available, in withdrawal,
        withdrawn, fees, total earned), the month's movements (commission accrued, reversed,
        clawed back, settled; bonuses; withdrawals requested, rejected, paid and their fees),
        commission per level, closing balances (= opening + movements = the ledger at the month's
        end, or now for the month running) and the month's entries. 404 for a distributor the
        tenant has not; 400 `invalid_month`, `month_not_begun`. Three queries."""
        return Response(staff_statement(external_id, month))


class StaffStatementCsvView(StaffAPIView):
    staff_perms = STATEMENT_PERMS

    @extend_schema(parameters=[MONTH_PARAM], responses=CSV)
    def get(self, request, external_id, month):
        """A distributor's monthly statement as CSV (blocks: who and when, opening and closing
        balances, movements and commission per level, entries); formula-like cells neutralised.
        The same 404 and 400s as the JSON statement."""
        data = staff_statement(external_id, month)
        return download(exports.statement_csv(data), "text/csv; charset=utf-8", statement_name(data, "csv"))


class StaffStatementPdfView(StaffAPIView):
    staff_perms = STATEMENT_PERMS

    @extend_schema(parameters=[MONTH_PARAM], responses=PDF)
    def get(self, request, external_id, month):
        """A distributor's monthly statement as a PDF for finance to print or send (A4, the CJK
        font embedded: Chinese names render). The same 404 and 400s as the JSON statement."""
        data = staff_statement(external_id, month)
        return download(exports.statement_pdf(data), "application/pdf", statement_name(data, "pdf"))


def my_statement(request, month: str) -> dict:
    return selectors.statement(distributor=request.user, month=selectors.parse_month(month))


class MyStatementView(PortalAPIView):
    @extend_schema(parameters=[MONTH_PARAM], responses=StatementSerializer)
    def get(self, request, month):
        """My monthly statement (对账单) for the local month `month` (YYYY-MM): opening balances, the
        month's movements, commission per level, closing balances (= my ledger at the month's end)
        and the month's entries. 400 `invalid_month`, `month_not_begun`."""
        return Response(my_statement(request, month))


class MyStatementCsvView(PortalAPIView):
    @extend_schema(parameters=[MONTH_PARAM], responses=CSV)
    def get(self, request, month):
        """My monthly statement as CSV (the same blocks as the staff download)."""
        data = my_statement(request, month)
        return download(exports.statement_csv(data), "text/csv; charset=utf-8", statement_name(data, "csv"))


class MyStatementPdfView(PortalAPIView):
    @extend_schema(parameters=[MONTH_PARAM], responses=PDF)
    def get(self, request, month):
        """My monthly statement as a PDF (A4, names in any script rendered)."""
        data = my_statement(request, month)
        return download(exports.statement_pdf(data), "application/pdf", statement_name(data, "pdf"))


class MyMonthlyView(PortalAPIView):
    @extend_schema(parameters=[MonthlyQuery], responses=MyMonthsSerializer)
    def get(self, request):
        """My sales and earnings per local month of `year` (default: this year), up to the current
        month: direct and team sales and my counted orders (by the month the orders were paid,
        net of refunds), the commission of those orders, and what the ledger journalled each month
        (commission accrued, reversed, settled; bonuses; earned; withdrawals paid and fees), with
        the year's total. 400 `invalid_year`, `year_not_begun`. Two queries."""
        q = query_params(MonthlyQuery, request)
        return Response(selectors.my_months(distributor=request.user, year=q["year"]))
