"""/portal/: the distributors' mobile web portal (分销中心). Every page of a programme is under
/portal/<tenant slug>/: its login, the invite link's join page and the password reset link's page
(relations.selectors.invite_url and relations.services.reset_link name them) and, once logged in,
the distributor's own pages."""
from django.urls import path, re_path

from .views import account, money, support, team

app_name = "portal"

urlpatterns = [
    path("", account.choose, name="choose"),
    path("<slug:slug>/", money.home, name="home"),
    path("<slug:slug>/login/", account.login, name="login"),
    path("<slug:slug>/logout/", account.logout, name="logout"),
    path("<slug:slug>/join/", account.join, name="join"),
    path("<slug:slug>/reset/", account.reset, name="reset"),
    path("<slug:slug>/password/", account.password, name="password"),
    path("<slug:slug>/me/", account.me, name="me"),
    path("<slug:slug>/withdrawals/", money.withdrawals, name="withdrawals"),
    path("<slug:slug>/withdrawals/<str:public_id>/cancel/", money.withdrawal_cancel, name="withdrawal-cancel"),
    path("<slug:slug>/statements/", money.statements, name="statements"),
    re_path(r"^(?P<slug>[-\w]+)/statements/(?P<month>[0-9]{4}-[0-9]{2})\.(?P<ext>pdf|csv)$", money.statement_file,
            name="statement-file"),
    path("<slug:slug>/statements/<str:month>/", money.statement, name="statement"),
    path("<slug:slug>/preview/", money.preview, name="preview"),
    path("<slug:slug>/team/", team.team, name="team"),
    path("<slug:slug>/contests/", team.contests, name="contests"),
    path("<slug:slug>/contests/<str:public_id>/", team.contest, name="contest"),
    path("<slug:slug>/rankings/", team.rankings, name="rankings"),
    path("<slug:slug>/targets/", team.targets, name="targets"),
    path("<slug:slug>/invite/", team.invite, name="invite"),
    path("<slug:slug>/invite/qr.png", team.invite_qr, name="invite-qr"),
    path("<slug:slug>/materials/", support.materials, name="materials"),
    path("<slug:slug>/materials/<str:public_id>/", support.material, name="material"),
    path("<slug:slug>/materials/<str:public_id>/poster.png", support.poster, name="poster"),
    path("<slug:slug>/materials/<str:public_id>/download/", support.material_download, name="material-download"),
    path("<slug:slug>/materials/<str:public_id>/lessons/<str:lesson_id>/complete/", support.lesson_complete,
         name="lesson-complete"),
    path("<slug:slug>/announcements/", support.announcements, name="announcements"),
    path("<slug:slug>/announcements/<str:public_id>/", support.announcement, name="announcement"),
    path("<slug:slug>/feedback/", support.feedback, name="feedback"),
    path("<slug:slug>/feedback/<str:public_id>/", support.ticket, name="ticket"),
    path("<slug:slug>/feedback/<str:public_id>/close/", support.ticket_close, name="ticket-close"),
]
