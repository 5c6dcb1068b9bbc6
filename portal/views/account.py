"""Logging in and out, joining through an invite link, the password (changed, or reset with a
staff-issued link) and the "me" page with the language switch.

Login takes the tenant from the URL and the same username and password as the API's token
endpoint, through the same guard (tenants.login_guard: per-minute limits per address and account,
lockouts after repeated failures; a refusal answers 429 with when to try again) and the same
check (distributors.services.distributor_authenticate: one password hash whatever the outcome).
"""
from __future__ import annotations

from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from ..forms import JoinForm, LoginForm, PasswordForm, ResetForm, refuse
from ..session import session_login, session_logout, session_refresh
from .base import page, portal_page, public_page, safe_next, tenant_by_slug, url


@never_cache
def choose(request):
    """/portal/: the programme's code (the tenant's slug) -> its login page."""
    code = (request.GET.get("tenant") or "").strip().lower()
    error = ""
    if code:
        tenant = tenant_by_slug(code)
        if tenant is not None:
            return HttpResponseRedirect(reverse("portal:login", args=[tenant.slug]))
        error = _("No programme has this code.")
    return render(request, "portal/choose.html", {"code": code, "error": error}, status=404 if error else 200)


@public_page
def login(request):
    """GET the form; POST tenant-less credentials (the tenant is the URL's) -> the session, then
    ?next= (a page of this portal) or home. 400 wrong credentials (one message whichever part was
    wrong), 429 over the limits."""
    from distributors.services import distributor_authenticate
    from tenants.login_guard import LoginThrottled, distributor_account, login_failed, login_gate

    tenant = request.tenant
    if request.method == "GET" and request.distributor is not None:   # logged in already
        return HttpResponseRedirect(safe_next(request, tenant, url("home", request)))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        account = distributor_account(tenant.slug, username)
        try:
            login_gate(request, account)
        except LoginThrottled as exc:
            form.add_error(None, str(exc.detail))
            status = 429
        else:
            distributor = distributor_authenticate(tenant_slug=tenant.slug, username=username,
                                                   password=form.cleaned_data["password"])
            if distributor is None:
                login_failed(request, account)
                form.add_error(None, _("Wrong username or password."))
                status = 400
            else:
                session_login(request, distributor)
                return HttpResponseRedirect(safe_next(request, tenant, url("home", request)))
    elif request.method == "POST":
        status = 400
    return page(request, "portal/login.html", {"form": form, "next": safe_next(request, tenant, "")}, status=status)


@require_POST
@public_page
def logout(request):
    """POST only (CSRF-checked): ends this browser's portal login, back to the login page."""
    session_logout(request)
    return HttpResponseRedirect(url("login", request))


def inviter_name(code: str) -> str | None:
    """The name of the invite code's owner as a stranger sees it (masked, as in the rankings:
    张*三), or None for no code or an unknown one."""
    from distributors.services import distributor_by_invite_code
    from incentives.rules import mask_name

    if not code:
        return None
    try:
        return mask_name(distributor_by_invite_code(invite_code=code).name)
    except APIException:
        return None


@public_page
def join(request):
    """/portal/<slug>/join/?code=<invite code>: the invite link's page. A newcomer registers
    (relations.services.distributor_join: bound under the code's owner; logged in at once unless
    the programme reviews applications first). A distributor already logged in here is offered to
    join the code owner's team instead (relations.services.distributor_bind_invite: as the
    tenant's bind_mode allows). Refusals on the form (400, 409), nothing written; more than
    JOIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS sign-ups from one address in a minute: 429 on the form
    (tenants.login_guard.join_gate)."""
    from distributors.models import Distributor
    from relations.services import distributor_bind_invite, distributor_join

    tenant, me = request.tenant, request.distributor
    code = (request.POST.get("invite_code") or request.GET.get("code") or "").strip().upper()[:16]
    inviter = inviter_name(code)
    status, done = 200, None
    form = JoinForm(request.POST or None, initial={"invite_code": code})
    if request.method == "POST" and request.POST.get("action") == "bind" and me is not None:
        try:
            with transaction.atomic():
                distributor_bind_invite(distributor=me, invite_code=code)
            done = "bound"
        except APIException as exc:
            status = refuse(form, exc, {"parent_external_id": "invite_code"})
    elif request.method == "POST" and me is None:
        from tenants.login_guard import join_gate, join_refusal

        wait = join_gate(request)
        if wait:
            form.is_valid()   # the fields keep what was typed; the refusal goes on top
            form.add_error(None, join_refusal(wait))
            status = 429
        elif form.is_valid():
            d = form.cleaned_data
            try:
                with transaction.atomic():
                    newcomer = distributor_join(tenant=tenant, username=d["username"], name=d["name"],
                                                password=d["password"], invite_code=d["invite_code"] or code,
                                                phone=d["phone"])
            except APIException as exc:
                status = refuse(form, exc)
            else:
                if newcomer.status == Distributor.Status.ACTIVE:
                    session_login(request, newcomer)
                    return HttpResponseRedirect(url("home", request) + "?welcome=1")
                done = "pending"
        else:
            status = 400
    return page(request, "portal/join.html", {"form": form, "code": code, "inviter": inviter, "done": done,
                                              "bind_mode": tenant.bind_mode}, status=status)


@public_page
def reset(request):
    """/portal/<slug>/reset/?token=...: set a new password with a staff-issued one-time link
    (relations.services.password_reset_redeem). A link used already, expired or malformed: the
    message on the page (400), nothing written."""
    from relations.services import password_reset_redeem

    token = request.POST.get("token") or request.GET.get("token") or ""
    form = ResetForm(request.POST or None, initial={"token": token})
    status, done = 200, ""
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    distributor = password_reset_redeem(token=token, new_password=form.cleaned_data["new_password"])
            except APIException as exc:
                status = refuse(form, exc, {"token": "__all__"})
            else:   # the token names its distributor: log in on its programme's portal
                done = reverse("portal:login", args=[distributor.tenant.slug])
        else:
            status = 400
    return page(request, "portal/reset.html", {"form": form, "done": done, "token": token}, status=status)


@portal_page
def password(request):
    """Change my password (relations.services.password_change: the current one, Django's password
    validators); this session stays logged in, my other sessions end."""
    from relations.services import password_change

    form = PasswordForm(request.POST or None)
    status, done = 200, False
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                with transaction.atomic():
                    password_change(distributor=request.distributor, old_password=d["old_password"],
                                    new_password=d["new_password"])
            except APIException as exc:
                status = refuse(form, exc)
            else:
                request.distributor.refresh_from_db(fields=["password"])
                session_refresh(request, request.distributor)
                form, done = PasswordForm(), True
        else:
            status = 400
    return page(request, "portal/password.html", {"form": form, "done": done}, status=status, tab="me")


@portal_page
def me(request):
    """My profile: name, grade, upline, invite code, links to the rest, language, logout."""
    return page(request, "portal/me.html", {"upline": request.distributor.parent}, tab="me")
