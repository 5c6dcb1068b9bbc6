from django.urls import path

from . import views

urlpatterns = [
    path("admin/risk/holds/", views.RiskHoldListView.as_view(), name="staff-risk-holds"),
    path("admin/risk/holds/<str:distributor_external_id>/release/", views.RiskHoldReleaseView.as_view(),
         name="staff-risk-hold-release"),
]
