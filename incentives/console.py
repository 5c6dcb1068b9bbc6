"""What the console shows of the incentives (domain rules section 8), as a person reads it: the
pieces incentives/admin.py and distributors/admin.py put on their pages.

- `local_str`, `window_str`     times and windows in the tenant's time zone
- `value_str`, `rate_str`       a measure's value (money with the currency's places, counts whole),
                                a rate as a percentage ("3%" for 0.0300)
- `MEASURE_LABELS`, `STATUS_LABELS`, `TARGET_STATUS_LABELS`: translated labels
- `leaderboard_html`            a contest's ranking (live, or frozen once finalized) as a table
- `progress_html`               a target's progress bar with its expected-pace marker
- `awards_html`                 a tier scheme's awards per evaluated month as tables
- `service_errors`              a service's refusal (400/409) as [(attr, message)] in the
                                person's language where the message is a known one

Every function takes the tenant's row (or works inside its context) and reads through the
services and measures; none writes.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy as _, gettext_noop

from fenxiao.currencies import money_str

from . import rules
from .models import MONEY_MEASURES, Contest, Measure, Target

#: How many rows of a leaderboard the contest page shows (the rest: the staff API's pages).
LEADERBOARD_ROWS = 50
#: How many evaluated months, and awards per month, a scheme's page shows.
AWARD_MONTHS, AWARDS_PER_MONTH = 12, 100

MEASURE_LABELS = {
    Measure.DIRECT_SALES: _("direct sales (orders the distributor referred)"),
    Measure.TEAM_SALES: _("team sales (orders of the distributor's 3 levels)"),
    Measure.ORDER_COUNT: _("orders (counted in direct sales)"),
    Measure.NEW_DIRECT_RECRUITS: _("new direct recruits (active)"),
    Measure.COMMISSION: _("commission (net of reversals)"),
    Measure.ACTIVE_DISTRIBUTORS: _("active distributors (with a counted direct order)"),
    Measure.NET_SALES: _("net sales of the whole programme"),
}
#: The same, short: column headers and lists.
SHORT_MEASURE_LABELS = {
    Measure.DIRECT_SALES: _("direct sales"),
    Measure.TEAM_SALES: _("team sales"),
    Measure.ORDER_COUNT: _("orders"),
    Measure.NEW_DIRECT_RECRUITS: _("new direct recruits"),
    Measure.COMMISSION: _("commission"),
    Measure.ACTIVE_DISTRIBUTORS: _("active distributors"),
    Measure.NET_SALES: _("net sales"),
}
STATUS_LABELS = {
    Contest.Status.SCHEDULED: _("scheduled"),
    Contest.Status.RUNNING: _("running"),
    Contest.Status.ENDED: _("ended, awaiting finalization"),
    Contest.Status.FINALIZED: _("finalized"),
}
TARGET_STATUS_LABELS = {
    rules.MET: _("met"), rules.AHEAD: _("ahead"), rules.ON_TRACK: _("on track"), rules.BEHIND: _("behind"),
}
SCOPE_LABELS = {
    Target.Scope.TENANT: _("the whole programme"),
    Target.Scope.DISTRIBUTOR: _("one distributor"),
    Target.Scope.TEAM: _("a distributor's team (3 levels)"),
}
PERIOD_LABELS = {
    Target.Period.MONTH: _("month"), Target.Period.QUARTER: _("quarter"), Target.Period.YEAR: _("year"),
    Target.Period.CUSTOM: _("custom period"),
}
#: Bar colours of a target's status.
STATUS_COLOURS = {rules.MET: "#2e7d32", rules.AHEAD: "#43a047", rules.ON_TRACK: "#1e88e5", rules.BEHIND: "#e53935"}

#: The services' fixed messages, offered to the catalogue so a refusal reads in the person's
#: language (`service_errors` looks each message up; unknown ones stay as the service wrote them).
SERVICE_MESSAGES = [
    gettext_noop("A contest needs a name."),
    gettext_noop("The window ends before it starts."),
    gettext_noop("A prize cannot be negative."),
    gettext_noop("A prize cannot be more than the prize of the rank above it."),
    gettext_noop("A contest is finalized after it ends."),
    gettext_noop("A finalized contest cannot be changed."),
    gettext_noop("A contest is finalized once it has ended."),
    gettext_noop("A scheme needs a name."),
    gettext_noop("Give at least one tier."),
    gettext_noop("A threshold must be above 0."),
    gettext_noop("Thresholds must increase from one tier to the next."),
    gettext_noop("Give each tier either an amount or a rate."),
    gettext_noop("A rate is a fraction above 0 and at most 1 (1.0000 = 100%), 4 places."),
    gettext_noop("A threshold is an amount in the tenant currency's minor units."),
    gettext_noop("Give the month as YYYY-MM."),
    gettext_noop("A target needs a name."),
    gettext_noop("Use tenant, distributor or team."),
    gettext_noop("A distributor or team target names its distributor; a tenant target none."),
    gettext_noop("A month starts on its first day."),
    gettext_noop("A quarter starts on January, April, July or October 1."),
    gettext_noop("A year starts on January 1."),
    gettext_noop("A custom period needs its last day."),
    gettext_noop("The period ends before it starts."),
    gettext_noop("Not a number."),
    gettext_noop("Give a day from 1970-01-01 to 9899-12-31."),
]


def local_str(instant: datetime | None, tz_name: str) -> str:
    """An instant as the tenant's local time, "2018-07-08 00:00" ("-" for None)."""
    if instant is None:
        return "-"
    return instant.astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M")


def window_str(starts_at: datetime, ends_at: datetime, tz_name: str) -> str:
    """A window of whole local days as its first and last day: "2018-06-01 – 2018-06-30"."""
    tz = ZoneInfo(tz_name)
    first = starts_at.astimezone(tz).date()
    last = (ends_at.astimezone(tz) - timedelta(days=1)).date()
    return f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"


def value_str(measure: str, value: Decimal | None, currency: str) -> str:
    """A measure's value as a person reads it: money with the currency's places ("1234.50"),
    counts as whole numbers ("3")."""
    if value is None:
        return "-"
    if measure in MONEY_MEASURES:
        return money_str(Decimal(value), currency)
    return str(int(value))


def rate_str(rate: Decimal | None) -> str:
    """A rate as a percentage: 0.0300 -> "3%", 0.0125 -> "1.25%"."""
    from fenxiao.percent import percent_str

    return percent_str(rate)


def measure_label(measure: str, *, short: bool = False) -> str:
    return str((SHORT_MEASURE_LABELS if short else MEASURE_LABELS).get(measure, measure))


def measure_header(measure: str, currency: str) -> str:
    """A column header for a measure's values: "direct sales (USD)", "orders"."""
    label = measure_label(measure, short=True)
    return f"{label} ({currency})" if measure in MONEY_MEASURES else label


#: The services' messages that carry a value (a number of places, a month), as (the English
#: message's pattern, its catalogue template with the pattern's named groups): `translated`
#: finds the template for a message the catalogue cannot know verbatim.
SERVICE_PATTERNS = [
    (re.compile(r"A prize has at most (?P<places>\d+) decimal places\."),
     gettext_noop("A prize has at most %(places)s decimal places.")),
    (re.compile(r"An amount is >= 0 with at most (?P<places>\d+) decimal places\."),
     gettext_noop("An amount is >= 0 with at most %(places)s decimal places.")),
    (re.compile(r"Give a number >= 0 with at most (?P<places>\d+) decimal places\."),
     gettext_noop("Give a number >= 0 with at most %(places)s decimal places.")),
    (re.compile(r"A goal is above 0 with at most (?P<places>\d+) decimal places\."),
     gettext_noop("A goal is above 0 with at most %(places)s decimal places.")),
    (re.compile(r"(?P<month>\d{4}-\d{2}) has not ended yet; a month is evaluated once it is over\."),
     gettext_noop("%(month)s has not ended yet; a month is evaluated once it is over.")),
]


def translated(message: str) -> str:
    """A service's message in the person's language: the catalogue's translation of the message
    itself (SERVICE_MESSAGES), or of its template (SERVICE_PATTERNS); else as the service wrote it."""
    for pattern, template in SERVICE_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return gettext(template) % found.groupdict()
    return gettext(message)


def service_errors(exc) -> list[tuple[str | None, str]]:
    """[(attr or None, message)] of a service's refusal (a DRF APIException: a 400 on an attribute,
    a 409 on the whole). Messages the catalogue knows are translated (`translated`)."""
    detail = exc.detail
    out = []
    if isinstance(detail, dict):
        for attr, messages in detail.items():
            for m in messages if isinstance(messages, list) else [messages]:
                out.append((None if attr == "non_field_errors" else attr, translated(str(m))))
    elif isinstance(detail, list):
        out += [(None, translated(str(m))) for m in detail]
    else:
        out.append((None, translated(str(detail))))
    return out


# --- contests ----------------------------------------------------------------------------------

def leaderboard_html(contest: Contest, tenant, *, limit: int = LEADERBOARD_ROWS) -> str:
    """The contest's ranking as a table (rank, distributor, score, reached at, prize): frozen once
    finalized (with the ledger entry of each prize paid), else live. Call it inside the tenant's
    context. A fixed number of queries."""
    from distributors.models import Distributor

    from .models import ContestResult
    from .services import contest_leaderboard

    rows = contest_leaderboard(contest=contest, limit=limit)
    people = {d.pk: d for d in Distributor.objects.filter(pk__in=[r.distributor_id for r, _ in rows])}
    entries = {}
    if contest.finalized_at is not None:
        entries = dict(ContestResult.objects.filter(contest=contest, rank__lte=limit).values_list("rank", "entry_id"))
    currency, tz = tenant.currency, tenant.timezone
    if contest.finalized_at is not None:
        caption = gettext("Final ranking, frozen when the contest was finalized on %(when)s by %(who)s. Each prize was "
                          "credited once to its winner's ledger as a bonus entry.") % {
            "when": local_str(contest.finalized_at, tz), "who": contest.finalized_by or "-"}
    else:
        caption = gettext("Live ranking as of %(now)s (%(tz)s): it changes with every order until the contest is "
                          "finalized. The prize column shows what each rank would win.") % {
            "now": local_str(timezone.now(), tz), "tz": tz}
    head = format_html(
        "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>{}</tr>",
        gettext("rank"), gettext("distributor"), measure_header(contest.measure, currency), gettext("reached at"),
        gettext("prize (%(currency)s)") % {"currency": currency},
        format_html("<th>{}</th>", gettext("credited")) if contest.finalized_at is not None else "")

    def cells(ranked, prize):
        d = people.get(ranked.distributor_id)
        who = format_html('<a href="{}">{} {}</a>', reverse("admin:distributors_distributor_change",
                                                            args=[ranked.distributor_id]),
                          d.external_id if d else ranked.distributor_id, d.name if d else "")
        credited = ""
        if contest.finalized_at is not None:
            entry = entries.get(ranked.rank)
            credited = format_html("<td>{}</td>", gettext("ledger entry #%(id)s") % {"id": entry} if entry else "-")
        return (ranked.rank, who, value_str(contest.measure, ranked.score, currency), local_str(ranked.reached_at, tz),
                money_str(prize, currency) if prize is not None else "-", credited)

    body = format_html_join("", '<tr class="rank-{}"><td>{}</td><td>{}</td><td class="score">{}</td><td>{}</td>'
                                '<td class="prize">{}</td>{}</tr>',
                            ((r.rank, *cells(r, p)) for r, p in rows))
    if not rows:
        body = format_html('<tr><td colspan="6">{}</td></tr>', gettext("Nobody has scored yet."))
    more = ""
    if len(rows) == limit:
        more = format_html("<p>{}</p>", gettext("The first %(n)d ranks are shown.") % {"n": limit})
    return format_html('<p class="leaderboard-caption">{}</p><table id="leaderboard" class="leaderboard">'
                       "<thead>{}</thead><tbody>{}</tbody></table>{}", caption, head, body, more)


# --- targets -----------------------------------------------------------------------------------

def progress_html(target: Target, tenant, *, now: datetime | None = None, compact: bool = False) -> str:
    """A target's progress bar: the bar is value / goal (full at the goal), the dark marker the
    expected pace (the elapsed share of the period), then value / goal, both percentages and the
    status (met, ahead, on track, behind). Call it inside the tenant's context (one query)."""
    from .services import target_progress

    p = target_progress(target, now=now)
    width = min(p.progress, Decimal(1)) * 100
    pace = p.expected * 100
    colour = STATUS_COLOURS[p.status]
    status = str(TARGET_STATUS_LABELS[p.status])
    value, goal = value_str(target.measure, p.value, tenant.currency), value_str(target.measure, p.goal, tenant.currency)
    bar_width = 160 if compact else 360
    bar = format_html(
        '<div class="progress-track" style="position:relative;display:inline-block;vertical-align:middle;width:{}px;'
        'height:{}px;background:#e0e0e0;border-radius:3px;overflow:visible">'
        '<div class="progress-bar" style="width:{}%;height:100%;background:{};border-radius:3px"></div>'
        '<div class="progress-pace" title="{}" style="position:absolute;left:{}%;top:-4px;bottom:-4px;'
        'border-left:2px solid #263238"></div></div>',
        bar_width, 12 if compact else 18, f"{width:.2f}", colour,
        gettext("expected pace: %(pace)s%%") % {"pace": f"{pace:.2f}"}, f"{pace:.2f}")
    badge = format_html('<span class="progress-status status-{}" style="color:#fff;background:{};padding:1px 6px;'
                        'border-radius:8px;margin-left:6px">{}</span>', p.status, colour, status)
    if compact:
        text = format_html('<span class="progress-text" style="margin-left:6px">{}%</span>', f"{p.progress * 100:.2f}")
        return format_html('<span class="target-progress" data-status="{}">{}{}{}</span>', p.status, bar, text, badge)
    text = format_html(
        '<div class="progress-text" style="margin-top:6px">{}</div>',
        gettext("%(value)s of %(goal)s (%(progress)s%%) · expected pace %(pace)s%% · %(status)s") % {
            "value": value, "goal": goal, "progress": f"{p.progress * 100:.2f}", "pace": f"{pace:.2f}", "status": status})
    return format_html('<div class="target-progress" id="target-progress" data-status="{}">{}{}{}</div>',
                       p.status, bar, badge, text)


# --- tier bonuses ------------------------------------------------------------------------------

def tiers_summary(tiers: list[dict], currency: str) -> str:
    """A scheme's tiers in a line: "≥ 500.00: 20.00 · ≥ 2000.00: 3%"."""
    parts = []
    for t in tiers:
        pays = money_str(Decimal(t["amount"]), currency) if "amount" in t else rate_str(Decimal(t["rate"]))
        parts.append(f"≥ {t['threshold']}: {pays}")
    return " · ".join(parts)


def awards_html(scheme, tenant) -> str:
    """The scheme's evaluated months, newest first (AWARD_MONTHS of them), each with its awards as a
    table (distributor, measure value, tier reached, award). Call it inside the tenant's context."""
    from distributors.models import Distributor
    from fenxiao.currencies import exact_sum
    from django.db.models import Sum

    from .models import TierAward, TierEvaluation

    months = list(TierEvaluation.objects.filter(scheme=scheme).order_by("-period")[:AWARD_MONTHS])
    if not months:
        return format_html("<p>{}</p>", gettext("No month has been evaluated yet."))
    currency, tz = tenant.currency, tenant.timezone
    totals = dict(TierAward.objects.filter(scheme=scheme, period__in=[m.period for m in months]).values("period")
                  .annotate(t=Sum("amount")).values_list("period", "t"))
    out = []
    for m in months:
        title = gettext("%(month)s: %(n)d award(s), %(total)s %(currency)s in all; evaluated %(when)s by %(who)s") % {
            "month": f"{m.period:%Y-%m}", "n": m.awards,
            "total": money_str(exact_sum(totals.get(m.period), currency), currency),
            "currency": currency, "when": local_str(m.evaluated_at, tz), "who": m.evaluated_by or "-"}
        if not m.awards:
            out.append(format_html('<h3 class="award-month" data-period="{}">{}</h3>', f"{m.period:%Y-%m}", title))
            continue
        awards = list(TierAward.objects.filter(scheme=scheme, period=m.period).order_by("-amount", "id")[:AWARDS_PER_MONTH])
        people = {d.pk: d for d in Distributor.objects.filter(pk__in=[a.distributor_id for a in awards])}
        rows = format_html_join("", '<tr><td>{} {}</td><td>{}</td><td>≥ {}</td><td>{}</td><td class="award">{}</td></tr>', (
            (people[a.distributor_id].external_id, people[a.distributor_id].name,
             value_str(scheme.measure, a.measure_value, currency), money_str(a.threshold, currency),
             rate_str(a.rate) if a.rate is not None else gettext("fixed amount"), money_str(a.amount, currency))
            for a in awards))
        more = ""
        if m.awards > len(awards):
            more = format_html('<p><a href="{}?scheme__id__exact={}&period={}">{}</a></p>',
                               reverse("admin:incentives_tieraward_changelist"), scheme.pk, f"{m.period:%Y-%m-%d}",
                               gettext("All %(n)d awards of %(month)s") % {"n": m.awards, "month": f"{m.period:%Y-%m}"})
        out.append(format_html(
            '<h3 class="award-month" data-period="{}">{}</h3><table class="tier-awards" data-period="{}"><thead><tr>'
            "<th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>{}",
            f"{m.period:%Y-%m}", title, f"{m.period:%Y-%m}", gettext("distributor"),
            measure_header(scheme.measure, currency), gettext("tier reached"), gettext("rate"),
            gettext("award (%(currency)s)") % {"currency": currency}, rows, more))
    return mark_safe("".join(out))
