"""The console's dashboard (issue 12 item 2): a tenant's figures over a chosen range as KPI tiles
and ECharts charts, each figure with the link to the filtered list behind it.

Every figure is what the reports API serves (reports.selectors.summary, channels,
top_distributors: one query path for the API, the console and the exports), plus the commission
records by status (commissions.selectors.totals_by_status) and the targets' progress the target
pages show (incentives.services.target_progress). The range is in the tenant's time zone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

RANGES = {"30d": _("Last 30 days"), "month": _("This month"), "12m": _("Last 12 months"), "custom": _("Custom")}
INTERVAL_LABELS = {"day": _("day"), "week": _("week"), "month": _("month")}
DEFAULT_INTERVAL = {"30d": "day", "month": "day", "12m": "month"}


@dataclass
class Choice:
    """The chosen range: local days [first_day, end_day) by `interval`; `to` is the last day shown
    (end_day - 1 day); `error` a message for a choice that cannot be read."""

    key: str
    first_day: date
    end_day: date
    interval: str
    error: str = ""

    @property
    def to(self) -> date:
        return self.end_day - timedelta(days=1)


def month_back(day: date, months: int) -> date:
    """The first day of the month `months` before `day`'s."""
    n = day.year * 12 + day.month - 1 - months
    return date(n // 12, n % 12 + 1, 1)


def choose_range(params, tz_name: str, now: datetime | None = None) -> Choice:
    """The range a query string chooses (`range`: 30d, month, 12m or custom with `from` and `to`,
    both local days, `to` included; `interval`: day, week or month), in the time zone `tz_name`.
    An unreadable custom day falls back to the last 30 days with `error` set; the summary itself
    refuses a backwards range or too many buckets (reports.selectors.report_buckets)."""
    today = (now or timezone.now()).astimezone(ZoneInfo(tz_name)).date()
    key = params.get("range") or "30d"
    if key not in RANGES:
        key = "30d"
    interval = params.get("interval") or ""
    if key == "custom":
        try:
            first, last = date.fromisoformat(params.get("from", "")), date.fromisoformat(params.get("to", ""))
        except ValueError:
            choice = choose_range({"interval": interval}, tz_name, now)
            choice.error = gettext("Give the days as YYYY-MM-DD.")
            return choice
        if not interval:
            interval = "day" if (last - first).days < 62 else "month"
        return Choice(key, first, last + timedelta(days=1), interval)
    first = {"30d": today - timedelta(days=29), "month": today.replace(day=1), "12m": month_back(today, 11)}[key]
    return Choice(key, first, today + timedelta(days=1), interval or DEFAULT_INTERVAL[key])


def _instant(day: str | date, tz: ZoneInfo) -> str:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(day, datetime.min.time(), tz).isoformat()


def changelist(name: str, **params) -> str:
    """The admin changelist `name` ("orders_order") filtered by `params` (lookups as the
    changelist reads them from its query string)."""
    return f"{reverse(f'admin:{name}_changelist')}?{urlencode(params)}"


def links(tz: ZoneInfo, start: str, end: str) -> dict:
    """The lists behind a bucket's (or the range's) figures: orders paid, commission records
    created (all, per level), distributors joined (pending applicants not counted, like the
    summary)."""
    s, e = _instant(start, tz), _instant(end, tz)
    records = {"created_at__gte": s, "created_at__lt": e}
    return {
        "orders": changelist("orders_order", paid_at__gte=s, paid_at__lt=e),
        "commission": changelist("commissions_commissionrecord", **records),
        "levels": {level: changelist("commissions_commissionrecord", level__exact=level, **records)
                   for level in ("1", "2", "3")},
        "distributors": changelist("distributors_distributor", joined_at__gte=s, joined_at__lt=e,
                                   status__in="active,frozen,disabled"),
    }


def tenant_figures(tenant, choice: Choice, *, now: datetime | None = None) -> dict:
    """The dashboard of `tenant` (call it inside the tenant's context) for `choice`:

        {"summary": reports.selectors.summary(...) as the API serves it,
         "channels": reports.selectors.channels(...), "top": reports.selectors.top_distributors(...)
         (direct sales, 10) with each row's "url" (the distributor's page),
         "status": {"frozen", "available", "reversed"} of the records created in the range with
         "links" per status, "targets": [{"name", "percent", "expected", "status", "url"}],
         "links": links(...) of the range, "bucket_links": [links(...) per bucket],
         "channel_links": {channel: orders of that channel in the range}}

    money as decimal strings in the tenant currency's places. Raises the summary's 400s
    (rest_framework ValidationError) for a range it refuses."""
    from commissions.selectors import totals_by_status
    from distributors.selectors import by_external_ids
    from fenxiao.currencies import money_str
    from incentives.selectors import targets_meeting
    from incentives.services import target_progress
    from reports import selectors as reports

    tz = ZoneInfo(tenant.timezone)
    summary = reports.summary(first_day=choice.first_day, end_day=choice.end_day, interval=choice.interval)
    chans = reports.channels(first_day=choice.first_day, end_day=choice.end_day)
    top = reports.top_distributors(first_day=choice.first_day, end_day=choice.end_day, measure="direct_sales", limit=10)
    pks = by_external_ids([r["distributor_external_id"] for r in top["results"]], fields=("id", "external_id"))
    for row in top["results"]:
        d = pks.get(row["distributor_external_id"])
        row["url"] = reverse("admin:distributors_distributor_change", args=[d.pk]) if d else ""
    start, end = _instant(choice.first_day, tz), _instant(choice.end_day, tz)
    status = {k: money_str(v, tenant.currency) for k, v in
              totals_by_status(start=datetime.fromisoformat(start), end=datetime.fromisoformat(end)).items()}
    records = {"created_at__gte": start, "created_at__lt": end}
    status_links = {k: changelist("commissions_commissionrecord", status__exact=k, **records) for k in status}
    targets = []
    for t in targets_meeting(start=datetime.fromisoformat(start), end=datetime.fromisoformat(end)):
        p = target_progress(t, now=now)
        targets.append({"name": t.name, "percent": f"{p.progress * 100:.2f}", "expected": f"{p.expected * 100:.2f}",
                        "status": p.status, "url": reverse("admin:incentives_target_change", args=[t.pk])})
    channel_links = {(r["channel"] or ""): changelist("orders_order", channel__exact=r["channel"] or "",
                                                      paid_at__gte=start, paid_at__lt=end)
                     for r in chans["results"]}
    return {"summary": summary, "channels": chans, "top": top, "status": status, "status_links": status_links,
            "targets": targets, "links": links(tz, summary["from"], summary["to"]),
            "bucket_links": [links(tz, b["start"], b["end"]) for b in summary["buckets"]],
            "channel_links": channel_links}


def chart_labels() -> dict:
    """The words the charts print, in the active language."""
    return {
        "net_sales": gettext("Net sales"), "orders": gettext("Orders"), "level": gettext("Level %(n)s"),
        "new_distributors": gettext("New distributors"), "frozen": gettext("Frozen"),
        "available": gettext("Available"), "reversed": gettext("Reversed"), "no_channel": gettext("(no channel)"),
        "direct_sales": gettext("Direct sales"), "progress": gettext("Progress %"),
        "expected": gettext("Expected pace %"), "empty": gettext("Nothing in this range."),
    }


__all__ = ["RANGES", "Choice", "chart_labels", "choose_range", "links", "tenant_figures"]
