"""Webhook subscriptions and their delivery log (spec/api.md; domain rules section 10): for the
partner's API key and for tenant staff alike."""
from django.urls import path

from . import views

urlpatterns = [
    path("webhook-endpoints/", views.EndpointListView.as_view(), name="webhook-endpoints"),
    path("webhook-endpoints/<str:endpoint_id>/", views.EndpointDetailView.as_view(), name="webhook-endpoint"),
    path("webhook-endpoints/<str:endpoint_id>/rotate-secret/", views.EndpointRotateSecretView.as_view(),
         name="webhook-endpoint-rotate-secret"),
    path("webhook-endpoints/<str:endpoint_id>/deliveries/", views.DeliveryListView.as_view(),
         name="webhook-deliveries"),
    path("webhook-endpoints/<str:endpoint_id>/deliveries/<str:delivery_id>/", views.DeliveryDetailView.as_view(),
         name="webhook-delivery"),
    path("webhook-endpoints/<str:endpoint_id>/deliveries/<str:delivery_id>/replay/",
         views.DeliveryReplayView.as_view(), name="webhook-delivery-replay"),
]
