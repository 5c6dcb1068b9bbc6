from django.urls import path

from . import views

urlpatterns = [
    path("commissions/", views.CommissionListView.as_view(), name="commission-list"),
    path("orders/<str:external_id>/commissions/", views.OrderCommissionsView.as_view(), name="order-commissions"),
    path("me/commissions/", views.MyCommissionsView.as_view(), name="me-commissions"),
]
