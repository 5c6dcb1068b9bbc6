from django.urls import path

from . import views

partner = [
    path("distributors/", views.DistributorListCreateView.as_view(), name="distributor-list"),
    path("distributors/<str:external_id>/", views.DistributorDetailView.as_view(), name="distributor-detail"),
    path("customers/", views.CustomerCreateView.as_view(), name="customer-create"),
    path("customers/<str:external_id>/", views.CustomerDetailView.as_view(), name="customer-detail"),
]
portal = [
    path("me/", views.MeView.as_view(), name="me"),
    path("me/downlines/", views.MyDownlinesView.as_view(), name="me-downlines"),
    path("me/team/summary/", views.MyTeamSummaryView.as_view(), name="me-team-summary"),
]
urlpatterns = partner + portal

from . import staff  # noqa: E402

urlpatterns += [
    path("admin/distributors/", staff.StaffDistributorListView.as_view(), name="staff-distributors"),
    path("admin/distributors/<str:external_id>/move/", staff.StaffMoveView.as_view(), name="staff-distributor-move"),
] + [
    path(f"admin/distributors/<str:external_id>/{name}/", staff.step_view(name).as_view(), name=f"staff-distributor-{name}")
    for name in ("approve", "reject", "freeze", "unfreeze", "disable")
]
