from django.urls import path

from . import views

urlpatterns = [
    path("me/earnings/", views.MyEarningsView.as_view(), name="me-earnings"),
    path("me/ledger/", views.MyLedgerView.as_view(), name="me-ledger"),
    path("me/withdrawals/", views.MyWithdrawalsView.as_view(), name="me-withdrawals"),
    path("me/withdrawals/<str:public_id>/", views.MyWithdrawalDetailView.as_view(), name="me-withdrawal"),
    path("me/withdrawals/<str:public_id>/cancel/", views.MyWithdrawalCancelView.as_view(), name="me-withdrawal-cancel"),
    path("admin/withdrawals/", views.StaffWithdrawalListView.as_view(), name="staff-withdrawals"),
    path("admin/withdrawals/export.csv", views.StaffPayoutExportView.as_view(), name="staff-withdrawals-export"),
    path("admin/withdrawals/<str:public_id>/approve/", views.StaffWithdrawalApproveView.as_view(), name="staff-withdrawal-approve"),
    path("admin/withdrawals/<str:public_id>/reject/", views.StaffWithdrawalRejectView.as_view(), name="staff-withdrawal-reject"),
    path("admin/withdrawals/<str:public_id>/pay/", views.StaffWithdrawalPayView.as_view(), name="staff-withdrawal-pay"),
]
