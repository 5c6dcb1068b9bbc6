"""Incentive endpoints (domain rules section 8; spec/api.md "Incentives, reports, relationship and
webhooks"): staff under admin/, the distributor portal under me/."""
from django.urls import path

from . import staff, views

urlpatterns = [
    path("admin/contests/", staff.ContestListView.as_view(), name="staff-contests"),
    path("admin/contests/<str:public_id>/", staff.ContestDetailView.as_view(), name="staff-contest"),
    path("admin/contests/<str:public_id>/leaderboard/", staff.ContestLeaderboardView.as_view(), name="staff-contest-leaderboard"),
    path("admin/contests/<str:public_id>/finalize/", staff.ContestFinalizeView.as_view(), name="staff-contest-finalize"),
    path("admin/tier-bonuses/", staff.TierSchemeListView.as_view(), name="staff-tier-bonuses"),
    path("admin/tier-bonuses/<str:public_id>/", staff.TierSchemeDetailView.as_view(), name="staff-tier-bonus"),
    path("admin/tier-bonuses/<str:public_id>/evaluate/", staff.TierSchemeEvaluateView.as_view(), name="staff-tier-bonus-evaluate"),
    path("admin/tier-bonuses/<str:public_id>/awards/", staff.TierAwardListView.as_view(), name="staff-tier-bonus-awards"),
    path("admin/targets/", staff.TargetListView.as_view(), name="staff-targets"),
    path("admin/targets/<str:public_id>/", staff.TargetDetailView.as_view(), name="staff-target"),
    path("admin/rankings/", staff.RankingView.as_view(), name="staff-rankings"),
    path("admin/grades/evaluate/", staff.GradeEvaluateView.as_view(), name="staff-grades-evaluate"),
    path("admin/distributors/<str:external_id>/grade-history/", staff.GradeHistoryView.as_view(),
         name="staff-distributor-grade-history"),
    path("me/contests/", views.MyContestsView.as_view(), name="me-contests"),
    path("me/contests/<str:public_id>/leaderboard/", views.MyContestLeaderboardView.as_view(), name="me-contest-leaderboard"),
    path("me/targets/", views.MyTargetsView.as_view(), name="me-targets"),
    path("me/rankings/", views.MyRankingsView.as_view(), name="me-rankings"),
]
