from django.urls import path

from . import views

urlpatterns = [
    path("commissions/", views.CommissionListView.as_view(), name="commission-list"),
    path("orders/<str:external_id>/commissions/", views.OrderCommissionsView.as_view(), name="order-commissions"),
    path("me/commissions/", views.MyCommissionsView.as_view(), name="me-commissions"),
]

from . import staff  # noqa: E402

urlpatterns += [
    path("admin/plans/", staff.PlanListView.as_view(), name="staff-plans"),
    path("admin/plans/<str:public_id>/", staff.PlanDetailView.as_view(), name="staff-plan"),
    path("admin/plans/<str:public_id>/publish/", staff.PlanPublishView.as_view(), name="staff-plan-publish"),
    path("admin/grades/", staff.GradeListView.as_view(), name="staff-grades"),
    path("admin/grades/<int:pk>/", staff.GradeDetailView.as_view(), name="staff-grade"),
    path("commission-preview/", staff.PreviewView.as_view(), name="commission-preview"),
]
urlpatterns += [
    path("admin/backtests/", staff.BacktestListView.as_view(), name="staff-backtests"),
    path("admin/backtests/<str:public_id>/", staff.BacktestDetailView.as_view(), name="staff-backtest"),
    path("admin/backtests/<str:public_id>.csv", staff.BacktestCsvView.as_view(), name="staff-backtest-csv"),
]
