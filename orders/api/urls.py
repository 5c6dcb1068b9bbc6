from django.urls import path

from . import views

urlpatterns = [
    path("orders/", views.OrderListCreateView.as_view(), name="order-list"),
    path("orders/batch/", views.OrderBatchView.as_view(), name="order-batch"),
    path("orders/<str:external_id>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:external_id>/pay/", views.OrderPayView.as_view(), name="order-pay"),
    path("orders/<str:external_id>/complete/", views.OrderCompleteView.as_view(), name="order-complete"),
    path("orders/<str:external_id>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<str:external_id>/refunds/", views.OrderRefundsView.as_view(), name="order-refunds"),
]
