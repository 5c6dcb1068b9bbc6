"""My money: the home page (balances, today's and this month's earnings), withdrawals (request,
cancel while requested), monthly statements (对账单, with their PDF and CSV) and what I would earn
on a product. Every figure comes from the selectors the API's /me/ endpoints read, every change
from the services they call (domain rules sections 5-7 and 9)."""
from __future__ import annotations

import secrets
from datetime import date
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from ..forms import PreviewForm, WithdrawalForm, refuse
from .base import page, portal_page, url


def _local_today(tenant) -> date:
    return timezone.now().astimezone(ZoneInfo(tenant.timezone)).date()


@portal_page
def home(request):
    """Balances (ledger.selectors.earnings_of, as /me/earnings/), today's and this month's figures
    (reports.selectors.my_day and my_months, as /me/reports/monthly/), my team's size
    (distributors.selectors.team_counts) and unread announcements."""
    from distributors.selectors import team_counts
    from ledger.selectors import earnings_of
    from relations.selectors import unread_count
    from reports.selectors import my_day, my_months

    me = request.distributor
    balances, by_level = earnings_of(distributor_id=me.pk)
    month = my_months(distributor=me)["months"][-1]
    counts = team_counts(distributor=me)
    return page(request, "portal/home.html", {
        "balances": balances, "by_level": sorted(by_level.items()), "today": my_day(distributor=me), "month": month,
        "team": counts, "team_total": sum(counts.values()), "unread": unread_count(me),
        "welcome": request.GET.get("welcome") == "1",
    }, tab="home")


# --- withdrawals -------------------------------------------------------------------------------

def _methods():
    from ledger.models import Withdrawal

    return list(Withdrawal.Method.choices)


@portal_page
def withdrawals(request):
    """My withdrawals (ledger.selectors.withdrawals_of) and the form to ask for one
    (ledger.services.withdrawal_request: amount >= the minimum and <= available, the fee by the
    tenant's rate; the money is held at once). The form carries a one-time token used as the
    request's idempotency key: a second tap on "submit" answers the same withdrawal. A refusal
    stays on the form (400; 409 for a distributor that may not withdraw), nothing written."""
    from ledger.selectors import earnings_of, withdrawals_of
    from ledger.services import withdrawal_request
    from orders.services import content_hash

    me, tenant = request.distributor, request.tenant
    fresh = {"token": secrets.token_urlsafe(24), "method": "alipay"}
    form = WithdrawalForm(request.POST or None, initial=fresh, methods=_methods())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            body = {"amount": str(d["amount"]), "method": d["method"], "account": d["account"],
                    "account_name": d["account_name"]}
            try:
                with transaction.atomic():
                    w, _created = withdrawal_request(
                        distributor=me, amount=d["amount"], method=d["method"], account=d["account"],
                        account_name=d["account_name"], idempotency_key=f"portal:{d['token']}",
                        request_hash=content_hash(body))
            except APIException as exc:
                status = refuse(form, exc)
            else:
                return HttpResponseRedirect(url("withdrawals", request) + f"?done={w.public_id}")
        else:
            status = 400
    balances, _levels = earnings_of(distributor_id=me.pk)
    rows = list(withdrawals_of(distributor=me)[:50])
    return page(request, "portal/withdrawals.html", {
        "form": form, "rows": rows, "available": balances["available"], "held": balances["held"],
        "minimum": tenant.withdraw_min_amount, "fee_rate": tenant.withdraw_fee_rate,
        "done": request.GET.get("done", ""), "cancelled": request.GET.get("cancelled", ""),
    }, status=status, tab="home")


@require_POST
@portal_page
def withdrawal_cancel(request, public_id):
    """Cancel my withdrawal while it is requested (ledger.services.withdrawal_cancel: the money
    returns to available). Another distributor's: 404. Approved, paid, rejected or cancelled
    already: the list again with the refusal (409), nothing written."""
    from ledger.selectors import withdrawal_of
    from ledger.services import withdrawal_cancel as cancel

    w = withdrawal_of(distributor=request.distributor, public_id=public_id)
    try:
        with transaction.atomic():
            cancel(withdrawal=w, distributor=request.distributor)
    except APIException as exc:
        from ..messages import refusal

        request.refusal = " ".join(message for _attr, message in refusal(exc))
        return _withdrawals_refused(request, exc.status_code)
    return HttpResponseRedirect(url("withdrawals", request) + f"?cancelled={w.public_id}")


def _withdrawals_refused(request, status: int):
    from ledger.selectors import earnings_of, withdrawals_of

    me, tenant = request.distributor, request.tenant
    balances, _levels = earnings_of(distributor_id=me.pk)
    form = WithdrawalForm(initial={"token": secrets.token_urlsafe(24), "method": "alipay"}, methods=_methods())
    return page(request, "portal/withdrawals.html", {
        "form": form, "rows": list(withdrawals_of(distributor=me)[:50]), "available": balances["available"],
        "held": balances["held"], "minimum": tenant.withdraw_min_amount, "fee_rate": tenant.withdraw_fee_rate,
        "refused": request.refusal}, status=status, tab="home")


# --- statements --------------------------------------------------------------------------------

def _months_back(today: date, joined: date, n: int = 12) -> list[str]:
    y, m, out = today.year, today.month, []
    while len(out) < n and (y, m) >= (joined.year, joined.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


@portal_page
def statements(request):
    """My monthly statements: the last 12 local months since I joined, and any month by its
    YYYY-MM (?month=)."""
    tenant, me = request.tenant, request.distributor
    chosen = (request.GET.get("month") or "").strip()
    if chosen:
        return HttpResponseRedirect(url("statement", request, chosen[:7]))
    tz = ZoneInfo(tenant.timezone)
    months = _months_back(_local_today(tenant), me.joined_at.astimezone(tz).date())
    return page(request, "portal/statements.html", {"months": months}, tab="me")


def _statement(request, month: str):
    from reports.selectors import parse_month, statement

    return statement(distributor=request.distributor, month=parse_month(month))


@portal_page
def statement(request, month):
    """One month's statement (reports.selectors.statement, as /me/statements/<month>/): opening,
    movements, commission per level, closing, entries; links to its PDF and CSV. A malformed
    month or one not begun: the message (400)."""
    try:
        data = _statement(request, month)
    except APIException as exc:
        from ..messages import refusal

        return page(request, "portal/statement.html", {"month": month, "error": refusal(exc)[0][1]},
                    status=exc.status_code, tab="me")
    return page(request, "portal/statement.html", {"month": month, "s": data}, tab="me")


@portal_page
def statement_file(request, month, ext):
    """The statement as PDF or CSV (reports.exports: the API's and the console's files)."""
    from reports import exports

    try:
        data = _statement(request, month)
    except APIException as exc:
        from ..messages import refusal

        return page(request, "portal/statement.html", {"month": month, "error": refusal(exc)[0][1]},
                    status=exc.status_code, tab="me")
    if ext == "pdf":
        body, kind = exports.statement_pdf(data), "application/pdf"
    else:
        body, kind = exports.statement_csv(data), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = content_disposition_header(
        True, f"statement-{data['distributor_external_id']}-{data['month']}.{ext}")
    return response


# --- what I would earn -------------------------------------------------------------------------

@portal_page
def preview(request):
    """What I would earn on a product at each level (relations.services.earn_preview, as
    /me/earn-preview/): nothing is written. A negative price, a price finer than the currency's
    unit, a quantity below 1: the message on the form (400)."""
    from relations.services import PreviewLine, earn_preview

    form = PreviewForm(request.GET or None)
    result, status = None, 200
    if request.GET:
        if form.is_valid():
            d = form.cleaned_data
            try:
                result = earn_preview(distributor=request.distributor, lines=[PreviewLine(
                    sku=d["sku"], category=d["category"], price=d["price"], quantity=d["quantity"])])
            except APIException as exc:
                status = refuse(form, exc)
        else:
            status = 400
    return page(request, "portal/preview.html", {"form": form, "result": result}, status=status, tab="promote")
