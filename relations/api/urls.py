"""Support endpoints (domain rules section 8; spec/api.md "Incentives, reports, relationship and
webhooks"; issue 14): staff under admin/, the distributor portal under me/, the password reset."""
from django.urls import path

from . import staff, views

urlpatterns = [
    path("admin/materials/", staff.MaterialListView.as_view(), name="staff-materials"),
    path("admin/materials/<str:public_id>/", staff.MaterialDetailView.as_view(), name="staff-material"),
    path("admin/announcements/", staff.AnnouncementListView.as_view(), name="staff-announcements"),
    path("admin/announcements/<str:public_id>/", staff.AnnouncementDetailView.as_view(), name="staff-announcement"),
    path("admin/feedback/", staff.FeedbackListView.as_view(), name="staff-feedback"),
    path("admin/feedback/<str:public_id>/", staff.FeedbackDetailView.as_view(), name="staff-feedback-ticket"),
    path("admin/feedback/<str:public_id>/reply/", staff.FeedbackReplyView.as_view(), name="staff-feedback-reply"),
    path("admin/feedback/<str:public_id>/close/", staff.FeedbackCloseView.as_view(), name="staff-feedback-close"),
    path("admin/distributors/<str:external_id>/password-reset/", staff.PasswordResetIssueView.as_view(),
         name="staff-distributor-password-reset"),
    path("auth/password-reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("me/invite/", views.MyInviteView.as_view(), name="me-invite"),
    path("me/invite/qr.png", views.MyInviteQRView.as_view(), name="me-invite-qr"),
    path("me/materials/", views.MyMaterialsView.as_view(), name="me-materials"),
    path("me/materials/<str:public_id>/", views.MyMaterialDetailView.as_view(), name="me-material"),
    path("me/materials/<str:public_id>/poster.png", views.MyPosterView.as_view(), name="me-material-poster"),
    path("me/materials/<str:public_id>/download/", views.MyMaterialDownloadView.as_view(), name="me-material-download"),
    path("me/materials/<str:public_id>/lessons/<str:lesson_id>/complete/", views.MyLessonCompleteView.as_view(),
         name="me-lesson-complete"),
    path("me/announcements/", views.MyAnnouncementsView.as_view(), name="me-announcements"),
    path("me/feedback/", views.MyFeedbackView.as_view(), name="me-feedback"),
    path("me/feedback/<str:public_id>/", views.MyFeedbackDetailView.as_view(), name="me-feedback-ticket"),
    path("me/feedback/<str:public_id>/messages/", views.MyFeedbackMessageView.as_view(), name="me-feedback-message"),
    path("me/feedback/<str:public_id>/close/", views.MyFeedbackCloseView.as_view(), name="me-feedback-close"),
    path("me/earn-preview/", views.MyEarnPreviewView.as_view(), name="me-earn-preview"),
    path("me/password/", views.MyPasswordView.as_view(), name="me-password"),
    path("me/downlines/contribution/", views.MyContributionView.as_view(), name="me-downline-contribution"),
]
