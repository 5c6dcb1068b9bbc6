"""Reports endpoints (domain rules section 9): staff under admin/, the distributor portal under me/.
A file variant replaces the trailing slash with its extension (summary.csv, 2026-03.pdf), as the
backtest's CSV does."""
from django.urls import path

from . import views

urlpatterns = [
    path("admin/reports/summary/", views.SummaryView.as_view(), name="staff-report-summary"),
    path("admin/reports/summary.csv", views.SummaryCsvView.as_view(), name="staff-report-summary-csv"),
    path("admin/reports/channels/", views.ChannelsView.as_view(), name="staff-report-channels"),
    path("admin/distributors/<str:external_id>/statements/<str:month>/", views.StaffStatementView.as_view(),
         name="staff-distributor-statement"),
    path("admin/distributors/<str:external_id>/statements/<str:month>.csv", views.StaffStatementCsvView.as_view(),
         name="staff-distributor-statement-csv"),
    path("admin/distributors/<str:external_id>/statements/<str:month>.pdf", views.StaffStatementPdfView.as_view(),
         name="staff-distributor-statement-pdf"),
    path("me/reports/monthly/", views.MyMonthlyView.as_view(), name="me-reports-monthly"),
    path("me/statements/<str:month>/", views.MyStatementView.as_view(), name="me-statement"),
    path("me/statements/<str:month>.csv", views.MyStatementCsvView.as_view(), name="me-statement-csv"),
    path("me/statements/<str:month>.pdf", views.MyStatementPdfView.as_view(), name="me-statement-pdf"),
]
