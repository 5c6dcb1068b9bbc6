"""The incentives console (issue 11, scope 8; domain rules section 8): contests with their leaderboard
and "Finalize now", tier bonus schemes with "Evaluate a month" and their awards, targets with their
progress bar, grades with upgrade conditions and "Evaluate upgrades now", the grade history on the
distributor page. Every form writes through the services: a refusal is a form error and nothing
is written; finalizing twice credits once; evaluating a month twice awards once; another
tenant's objects are 404. The PM is made by `create_staff --role pm` (tenants.roles)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone, translation

from distributors.models import Distributor, Grade, GradeChange
from incentives.models import Contest, ContestResult, Target, TierAward, TierBonusScheme, TierEvaluation
from ledger.models import LedgerEntry
from tenants.context import tenant_context
from tests.factories import chain, line, paid_order

SH = ZoneInfo("Asia/Shanghai")
#: January 2026 in Shanghai: [2025-12-31 16:00 UTC, 2026-01-31 16:00 UTC)
JAN_START, JAN_END = datetime(2026, 1, 1, tzinfo=SH), datetime(2026, 2, 1, tzinfo=SH)


@pytest.fixture
def pm(client, tenant):
    from tenants.services import staff_create

    user = staff_create(tenant=tenant, username="pm", role="pm", password="pm-pass-9876")
    client.force_login(user)
    return client


@pytest.fixture
def sales(in_tenant):
    """C0 <- C1 <- C2 <- C3 (tenant time Asia/Shanghai, CNY). January 2026: C2 refers 600.00 (the
    10th) and 100.00 (the 20th), C3 700.00 (the 15th), C1 300.00 (the 31st, 23:30). C1's 900.00 of
    2026-02-01 00:10 local is still January 31 in UTC (16:10): it counts in February."""
    c0, c1, c2, c3 = chain(in_tenant, 4)
    for ext, ref, amount, at in [("O1", "C2", "600.00", datetime(2026, 1, 10, 12, tzinfo=SH)),
                                 ("O2", "C3", "700.00", datetime(2026, 1, 15, 9, tzinfo=SH)),
                                 ("O3", "C2", "100.00", datetime(2026, 1, 20, 18, tzinfo=SH)),
                                 ("O4", "C1", "300.00", datetime(2026, 1, 31, 23, 30, tzinfo=SH)),
                                 ("O5", "C1", "900.00", datetime(2026, 2, 1, 0, 10, tzinfo=SH))]:
        paid_order(in_tenant, ext, referrer_external_id=ref, lines=[line(unit_price=amount)], placed_at=at, paid_at=at)
    return c0, c1, c2, c3


def contest_form(**kw):
    data = {"name": "January sprint", "first_day": "2026-01-01", "last_day": "2026-01-31", "measure": "direct_sales",
            "min_score": "", "prize_list": "500, 300", "finalize_at_0": "", "finalize_at_1": ""}
    data.update(kw)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- contests ----------------------------------------------------------------------------------

def test_a_contest_is_created_through_the_service_with_local_days_and_audited(pm, in_tenant):
    r = pm.post("/admin/incentives/contest/add/", contest_form())
    assert r.status_code == 302, r.content.decode()[-3000:]
    c = Contest.objects.get()
    assert (c.name, c.starts_at, c.ends_at, c.measure, c.prizes) == (
        "January sprint", JAN_START, JAN_END, "direct_sales", ["500.00", "300.00"])
    assert c.finalize_at == JAN_END + timedelta(days=7)         # ends_at + settle_after_days
    record = Contest.history.get()
    assert (record.history_type, record.history_user.username) == ("+", "pm")


@pytest.mark.parametrize("changes, field, message", [
    ({"last_day": "2025-12-31"}, "last_day", "The window must end after it starts."),
    ({"prize_list": "300, 500"}, "prize_list", "Prize 2: A prize cannot be more than the prize of the rank above it."),
    ({"prize_list": "-5"}, "prize_list", "Prize 1: A prize cannot be negative."),
    ({"prize_list": "10.005"}, "prize_list", "Prize 1: A prize has at most 2 decimal places."),
    ({"prize_list": "10, lots"}, "prize_list", "“lots” is not an amount."),
    ({"measure": "commission"}, "measure", "Select a valid choice."),
    ({"measure": "order_count", "min_score": "2.5"}, "min_score", "Give a number >= 0 with at most 0 decimal places."),
    ({"name": ""}, "name", "This field is required."),
    ({"finalize_at_0": "2026-01-20", "finalize_at_1": "00:00:00"}, "finalize_at", "A contest is finalized after it ends."),
    ({"last_day": "9999-12-31"}, "last_day", "Give a day from 1970-01-01 to 9899-12-31."),     # was a 500
    ({"first_day": "1900-01-01"}, "first_day", "Give a day from 1970-01-01 to 9899-12-31."),
])
def test_a_refused_contest_is_a_form_error_and_nothing_is_written(pm, in_tenant, changes, field, message):
    r = pm.post("/admin/incentives/contest/add/", contest_form(**changes))
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert any(message in e for e in errors.get(field, [])), errors
    assert Contest.objects.count() == 0 and Contest.history.count() == 0


def test_editing_a_contest_keeps_the_default_finalize_at_in_step(pm, in_tenant):
    pm.post("/admin/incentives/contest/add/", contest_form())
    c = Contest.objects.get()
    page = pm.get(f"/admin/incentives/contest/{c.pk}/change/").content.decode()
    assert 'value="2026-01-01"' in page and 'value="2026-01-31"' in page and "500.00, 300.00" in page
    r = pm.post(f"/admin/incentives/contest/{c.pk}/change/", contest_form(
        last_day="2026-01-20", finalize_at_0="2026-02-08", finalize_at_1="00:00:00"))   # the shown default, untouched
    assert r.status_code == 302
    c.refresh_from_db()
    assert (c.ends_at, c.finalize_at) == (datetime(2026, 1, 21, tzinfo=SH), datetime(2026, 1, 28, tzinfo=SH))
    r = pm.post(f"/admin/incentives/contest/{c.pk}/change/", contest_form(prize_list="1, 2"))
    assert r.status_code == 200
    c.refresh_from_db()
    assert c.prizes == ["500.00", "300.00"] and Contest.history.count() == 2


def test_eligible_grades_are_the_tenants_own(pm, in_tenant, make_tenant):
    other = make_tenant(slug="other")
    with tenant_context(other):
        foreign = Grade.objects.create(tenant=other, code="x", name="Foreign", rank=1)
    gold = Grade.objects.create(tenant=in_tenant, code="gold", name="Gold", rank=1)
    page = pm.get("/admin/incentives/contest/add/").content.decode()
    assert "Gold" in page and "Foreign" not in page
    r = pm.post("/admin/incentives/contest/add/", contest_form(grades=[foreign.pk]))
    assert r.status_code == 200 and Contest.objects.count() == 0
    assert pm.post("/admin/incentives/contest/add/", contest_form(grades=[gold.pk])).status_code == 302
    assert list(Contest.objects.get().grades.all()) == [gold]


def leaderboard_rows(page: str) -> list[list[str]]:
    table = re.search(r'<table id="leaderboard".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]


def test_the_contest_page_shows_the_live_leaderboard(pm, sales):
    from incentives.services import contest_create

    c = contest_create(tenant=sales[0].tenant, name="Jan", starts_at=JAN_START, ends_at=JAN_END, measure="direct_sales",
                       prizes=["500.00", "300.00"])
    page = pm.get(f"/admin/incentives/contest/{c.pk}/change/").content.decode()
    assert "Live ranking as of" in page
    # C3 700.00 (the 15th) ; C2 600 + 100 = 700.00 (last on the 20th) ; C1 300.00; O5 is February's
    assert leaderboard_rows(page) == [
        ["1", "C3 Distributor C3", "700.00", "2026-01-15 09:00", "500.00"],
        ["2", "C2 Distributor C2", "700.00", "2026-01-20 18:00", "300.00"],
        ["3", "C1 Distributor C1", "300.00", "2026-01-31 23:30", "-"],
    ]
    assert 'id="finalize-link"' in page       # it has ended: "Finalize now" is offered


def test_finalize_now_credits_the_prizes_once_and_freezes_the_contest(pm, sales):
    from incentives.services import contest_create

    c = contest_create(tenant=sales[0].tenant, name="Jan", starts_at=JAN_START, ends_at=JAN_END, measure="direct_sales",
                       prizes=["500.00", "300.00"])
    page = pm.get(f"/admin/incentives/contest/{c.pk}/finalize/").content.decode()
    assert "Yes, finalize now" in page and "500.00" in page
    assert ContestResult.objects.count() == 0          # GET writes nothing
    r = pm.post(f"/admin/incentives/contest/{c.pk}/finalize/", follow=True)
    assert messages_of(r) == ["“Jan” finalized: 2 prize(s) credited, 800.00 CNY in all."]
    bonuses = list(LedgerEntry.objects.filter(kind="bonus").order_by("amount").values_list("distributor__external_id", "amount"))
    assert bonuses == [("C2", D("300.00")), ("C3", D("500.00"))]
    r = pm.post(f"/admin/incentives/contest/{c.pk}/finalize/", follow=True)     # again: nothing more
    assert messages_of(r)[0].startswith("“Jan” was already finalized on ") and "nothing more was credited" in messages_of(r)[0]
    assert LedgerEntry.objects.filter(kind="bonus").count() == 2
    c.refresh_from_db()
    assert c.finalized_by == "pm"
    # frozen: the page is read-only and shows the frozen ranking with the ledger entries
    page = pm.get(f"/admin/incentives/contest/{c.pk}/change/").content.decode()
    entries = dict(ContestResult.objects.values_list("rank", "entry_id"))
    assert "Final ranking, frozen" in page and 'name="name"' not in page and 'id="finalize-link"' not in page
    assert leaderboard_rows(page)[0] == ["1", "C3 Distributor C3", "700.00", "2026-01-15 09:00", "500.00",
                                         f"ledger entry #{entries[1]}"]
    assert pm.post(f"/admin/incentives/contest/{c.pk}/change/", contest_form(name="renamed")).status_code == 403
    assert pm.post(f"/admin/incentives/contest/{c.pk}/delete/", {"post": "yes"}).status_code == 403
    c.refresh_from_db()
    assert c.name == "Jan"


def test_finalizing_before_the_end_is_refused_with_a_message(pm, sales):
    from incentives.services import contest_create

    today = timezone.now().astimezone(SH).date()
    c = contest_create(tenant=sales[0].tenant, name="Now", starts_at=datetime.combine(today, datetime.min.time(), SH),
                       ends_at=datetime.combine(today + timedelta(days=2), datetime.min.time(), SH),
                       measure="direct_sales", prizes=["10.00"])
    page = pm.get(f"/admin/incentives/contest/{c.pk}/change/").content.decode()
    assert 'id="finalize-link"' not in page     # running: not offered
    page = pm.get(f"/admin/incentives/contest/{c.pk}/finalize/").content.decode()
    assert "can be finalized once it has ended" in page and "Yes, finalize now" not in page
    r = pm.post(f"/admin/incentives/contest/{c.pk}/finalize/", follow=True)
    assert messages_of(r) == ["“Now” was not finalized: A contest is finalized once it has ended."]
    assert (ContestResult.objects.count(), LedgerEntry.objects.filter(kind="bonus").count()) == (0, 0)


def test_the_finalize_action_of_the_list(pm, sales):
    from incentives.services import contest_create

    c = contest_create(tenant=sales[0].tenant, name="Jan", starts_at=JAN_START, ends_at=JAN_END, measure="order_count",
                       prizes=["50.00"])
    r = pm.post("/admin/incentives/contest/", {"action": "finalize_selected", "_selected_action": [c.pk]}, follow=True)
    # order_count: C2 2 orders; C3 and C1 1 each (C3 reached it first)
    assert messages_of(r) == ["“Jan” finalized: 1 prize(s) credited, 50.00 CNY in all."]
    assert list(ContestResult.objects.values_list("rank", "distributor__external_id", "score", "prize")) == [
        (1, "C2", D("2"), D("50.00")), (2, "C3", D("1"), D("0")), (3, "C1", D("1"), D("0"))]
    r = pm.post("/admin/incentives/contest/", {"action": "finalize_selected", "_selected_action": [c.pk]}, follow=True)
    assert "nothing more was credited" in messages_of(r)[0]
    assert LedgerEntry.objects.filter(kind="bonus").count() == 1


def test_the_contest_list_shows_each_status(pm, sales):
    from incentives.services import contest_create

    tenant = sales[0].tenant
    today = timezone.now().astimezone(SH).date()
    at = lambda d: datetime.combine(d, datetime.min.time(), SH)   # noqa: E731
    contest_create(tenant=tenant, name="Past", starts_at=JAN_START, ends_at=JAN_END, measure="direct_sales", prizes=[])
    contest_create(tenant=tenant, name="Live", starts_at=at(today), ends_at=at(today + timedelta(days=1)),
                   measure="team_sales", prizes=[])
    contest_create(tenant=tenant, name="Later", starts_at=at(today + timedelta(days=3)), ends_at=at(today + timedelta(days=4)),
                   measure="direct_sales", prizes=[])
    r = pm.get("/admin/incentives/contest/")
    page = r.content.decode()
    statuses = re.findall(r'<th class="field-name"><a [^>]*>([^<]+)</a></th><td class="field-status">([^<]+)</td>', page)
    assert sorted(statuses) == [("Later", "scheduled"), ("Live", "running"), ("Past", "ended, awaiting finalization")]
    assert [c.name for c in pm.get("/admin/incentives/contest/?status=running").context["cl"].result_list] == ["Live"]
    assert [c.name for c in pm.get("/admin/incentives/contest/?status=ended").context["cl"].result_list] == ["Past"]


def test_the_contest_page_answers_in_the_same_queries_however_many_rank(pm, sales, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incentives.services import contest_create

    tenant = sales[0].tenant
    c = contest_create(tenant=tenant, name="Jan", starts_at=JAN_START, ends_at=JAN_END, measure="direct_sales", prizes=[])
    with CaptureQueriesContext(connection) as few:
        assert pm.get(f"/admin/incentives/contest/{c.pk}/change/").status_code == 200
    for i in range(6):
        paid_order(tenant, f"X{i}", referrer_external_id="C0", lines=[line(unit_price="10.00")],
                   placed_at=datetime(2026, 1, 5, tzinfo=SH), paid_at=datetime(2026, 1, 5, tzinfo=SH))
        paid_order(tenant, f"Y{i}", referrer_external_id=f"C{i % 4}", lines=[line(unit_price="10.00")],
                   placed_at=datetime(2026, 1, 6, tzinfo=SH), paid_at=datetime(2026, 1, 6, tzinfo=SH))
    with django_assert_max_num_queries(len(few)):
        r = pm.get(f"/admin/incentives/contest/{c.pk}/change/")
    assert len(leaderboard_rows(r.content.decode())) == 4


# --- tier bonus schemes ------------------------------------------------------------------------

def scheme_form(rows, **kw):
    data = {"name": "Monthly bonus", "measure": "direct_sales", "is_active": "on"}
    for i, row in enumerate(rows):
        for col, value in zip(("threshold", "amount", "rate"), row):
            data[f"tiers-{i}-{col}"] = value
    data.update(kw)
    return data


def test_a_scheme_is_created_from_rows_of_tiers(pm, in_tenant):
    r = pm.post("/admin/incentives/tierbonusscheme/add/", scheme_form([("500", "20", ""), ("", "", ""), ("1000", "", "0.05")]))
    assert r.status_code == 302, r.content.decode()[-2000:]
    s = TierBonusScheme.objects.get()
    assert (s.name, s.measure, s.is_active, s.tiers) == ("Monthly bonus", "direct_sales", True, [
        {"threshold": "500.00", "amount": "20.00"}, {"threshold": "1000.00", "rate": "0.0500"}])
    assert TierBonusScheme.history.get().history_user.username == "pm"
    page = pm.get(f"/admin/incentives/tierbonusscheme/{s.pk}/change/").content.decode()
    assert 'name="tiers-1-rate" id="id_tiers-1-rate" value="0.0500"' in page
    assert "No month has been evaluated yet." in page
    listed = pm.get("/admin/incentives/tierbonusscheme/").content.decode()
    assert "≥ 500.00: 20.00 · ≥ 1000.00: 5%" in listed


@pytest.mark.parametrize("rows, message", [
    ([("1000", "20", ""), ("500", "50", "")], "Tier 2: Thresholds must increase from one tier to the next."),
    ([("500", "20", "0.1")], "Tier 1: Give each tier either an amount or a rate."),
    ([("500", "", "")], "Tier 1: Give each tier either an amount or a rate."),
    ([("500", "", "1.5")], "Tier 1: A rate is a fraction above 0 and at most 1 (1.0000 = 100%), 4 places."),
    ([("500", "-1", "")], "Tier 1: An amount is >= 0 with at most 2 decimal places."),
    ([("0", "5", "")], "Tier 1: A threshold must be above 0."),
    ([("500.001", "5", "")], "Tier 1: A threshold is an amount in the tenant currency's minor units."),
    ([("five hundred", "5", "")], "Tier 1: “five hundred” is not a number."),
    ([("", "", "")], "Give at least one tier."),
])
def test_refused_tiers_are_form_errors_and_nothing_is_written(pm, in_tenant, rows, message):
    r = pm.post("/admin/incentives/tierbonusscheme/add/", scheme_form(rows))
    assert r.status_code == 200
    assert message in r.context["adminform"].form.errors.get("tiers", []), r.context["adminform"].form.errors
    assert TierBonusScheme.objects.count() == 0 and TierBonusScheme.history.count() == 0


def test_editing_a_scheme_goes_through_the_service(pm, in_tenant):
    from incentives.services import tier_scheme_create

    s = tier_scheme_create(tenant=in_tenant, name="B", measure="direct_sales", tiers=[{"threshold": "100", "amount": "1"}])
    r = pm.post(f"/admin/incentives/tierbonusscheme/{s.pk}/change/", scheme_form([("100", "1", ""), ("200", "3", "")],
                                                                                 name="Bonus", measure="team_sales"))
    assert r.status_code == 302
    s.refresh_from_db()
    assert (s.name, s.measure, s.is_active, s.tiers) == ("Bonus", "team_sales", True, [
        {"threshold": "100.00", "amount": "1.00"}, {"threshold": "200.00", "amount": "3.00"}])
    r = pm.post(f"/admin/incentives/tierbonusscheme/{s.pk}/change/", scheme_form([("200", "1", ""), ("100", "3", "")]))
    assert r.status_code == 200
    s.refresh_from_db()
    assert s.tiers[0] == {"threshold": "100.00", "amount": "1.00"} and TierBonusScheme.history.count() == 2


def test_evaluate_a_month_awards_once_and_refuses_an_open_month(pm, sales):
    from incentives.services import tier_scheme_create

    tenant = sales[0].tenant
    s = tier_scheme_create(tenant=tenant, name="Monthly", measure="direct_sales", tiers=[
        {"threshold": "300.00", "amount": "20.00"}, {"threshold": "700.00", "rate": "0.0300"}])
    url = f"/admin/incentives/tierbonusscheme/{s.pk}/evaluate/"
    assert 'type="month"' in pm.get(url).content.decode()
    this_month = timezone.now().astimezone(SH).strftime("%Y-%m")
    for month, error in [(this_month, f"{this_month} has not ended yet; a month is evaluated once it is over."),
                         ("2026-1", "Give the month as YYYY-MM."), ("January", "Give the month as YYYY-MM."),
                         ("+202-01", "Give the month as YYYY-MM."),                      # was year 202's evaluation
                         ("9999-12", "Give a day from 1970-01-01 to 9899-12-31.")]:      # was a 500
        r = pm.post(url, {"month": month})
        assert r.status_code == 200 and error in r.context["form"].errors["month"], r.context["form"].errors
    assert (TierEvaluation.objects.count(), TierAward.objects.count(), LedgerEntry.objects.filter(kind="bonus").count()) == (0, 0, 0)
    # January: C3 700.00 and C2 700.00 reach 700 (3% = 21.00), C1 300.00 reaches exactly 300 (20.00)
    r = pm.post(url, {"month": "2026-01"}, follow=True)
    assert messages_of(r) == ["2026-01 evaluated: 3 award(s), 62.00 CNY credited."]
    assert sorted(TierAward.objects.values_list("distributor__external_id", "threshold", "amount")) == [
        ("C1", D("300.00"), D("20.00")), ("C2", D("700.00"), D("21.00")), ("C3", D("700.00"), D("21.00"))]
    r = pm.post(url, {"month": "2026-01"}, follow=True)
    assert "nothing more was credited" in messages_of(r)[0] and "(3 award(s), 62.00 CNY)" in messages_of(r)[0]
    assert (TierAward.objects.count(), LedgerEntry.objects.filter(kind="bonus").count()) == (3, 3)
    # the scheme's page lists the month's awards; February: C1 900.00 -> 3% = 27.00
    pm.post(url, {"month": "2026-02"})
    page = pm.get(f"/admin/incentives/tierbonusscheme/{s.pk}/change/").content.decode()
    assert page.index("2026-02: 1 award(s), 27.00 CNY in all") < page.index("2026-01: 3 award(s), 62.00 CNY in all")
    jan = re.search(r'<table class="tier-awards" data-period="2026-01">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", jan, re.S)]
    assert cells == ["C3 Distributor C3", "700.00", "≥ 700.00", "3%", "21.00",     # ties in the tie rule's order
                     "C2 Distributor C2", "700.00", "≥ 700.00", "3%", "21.00",
                     "C1 Distributor C1", "300.00", "≥ 300.00", "fixed amount", "20.00"]
    listed = pm.get("/admin/incentives/tieraward/").content.decode()
    assert "27.00" in listed and "2026-02" in listed and "≥ 700.00" in listed


# --- targets -----------------------------------------------------------------------------------

def target_form(**kw):
    data = {"name": "Jan direct", "scope": "distributor", "measure": "direct_sales", "period": "month",
            "starts_on": "2026-01-01", "ends_on": "", "goal": "1000"}
    data.update(kw)
    return data


def test_a_target_is_created_and_shows_its_progress_bar(pm, sales):
    c2 = sales[2]
    r = pm.post("/admin/incentives/target/add/", target_form(distributor=c2.pk))
    assert r.status_code == 302, r.content.decode()[-2000:]
    t = Target.objects.get()
    assert (t.scope, t.distributor, t.starts_at, t.ends_at, t.goal) == ("distributor", c2, JAN_START, JAN_END, D("1000"))
    assert Target.history.get().history_user.username == "pm"
    # the month is over: expected pace 100%, 700.00 of 1000.00 -> behind
    page = pm.get(f"/admin/incentives/target/{t.pk}/change/").content.decode()
    assert 'data-status="behind"' in page
    assert "700.00 of 1000.00 (70.00%) · expected pace 100.00% · behind" in page
    assert 'class="progress-bar" style="width:70.00%' in page


@pytest.mark.parametrize("now, status, pace", [
    (datetime(2026, 1, 6, tzinfo=SH), "ahead", "50.00"),        # 60% done, 50% expected (+10%: 55%)
    (datetime(2026, 1, 7, tzinfo=SH), "on_track", "60.00"),
    (datetime(2026, 1, 8, 12, tzinfo=SH), "behind", "75.00"),   # 60% < 75% x 0.9
])
def test_the_progress_bar_marks_the_expected_pace(pm, sales, now, status, pace):
    from incentives.services import target_create

    tenant = sales[0].tenant
    t = target_create(tenant=tenant, name="Ten days", scope="tenant", measure="net_sales", period="custom",
                      starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 10), goal=D("1000.00"))
    with time_machine.travel(now, tick=False):
        page = pm.get(f"/admin/incentives/target/{t.pk}/change/").content.decode()
    # net sales of 2026-01-01..10: O1 600.00 (the progress counts the orders recorded so far)
    assert f'data-status="{status}"' in page
    assert f'class="progress-pace" title="expected pace: {pace}%" style="position:absolute;left:{pace}%' in page
    assert f"600.00 of 1000.00 (60.00%) · expected pace {pace}% · {status.replace('_', ' ')}" in page
    listed = pm.get("/admin/incentives/target/").content.decode()
    assert "60.00%" in listed


@pytest.mark.parametrize("changes, field, message", [
    ({"starts_on": "2026-01-02"}, "starts_on", "A month starts on its first day."),
    ({"scope": "tenant"}, "distributor", "A distributor or team target names its distributor; a tenant target none."),
    ({"scope": "team", "measure": "team_sales"}, "measure", "'team_sales' is not a measure of a team target"),
    ({"goal": "0"}, "goal", "A goal is above 0 with at most 2 decimal places."),
    ({"measure": "order_count", "goal": "2.5"}, "goal", "A goal is above 0 with at most 0 decimal places."),
    ({"period": "custom", "ends_on": ""}, "ends_on", "A custom period needs its last day."),
    ({"period": "custom", "ends_on": "2025-12-01"}, "ends_on", "The period ends before it starts."),
])
def test_a_refused_target_is_a_form_error_and_nothing_is_written(pm, sales, changes, field, message):
    r = pm.post("/admin/incentives/target/add/", target_form(distributor=sales[2].pk, **changes))
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert any(message in e for e in errors.get(field, [])), errors
    assert Target.objects.count() == 0 and Target.history.count() == 0


def test_editing_a_target(pm, sales):
    from incentives.services import target_create

    t = target_create(tenant=sales[0].tenant, name="Q1", scope="team", distributor=sales[1], measure="order_count",
                      period="quarter", starts_on=date(2026, 1, 1), goal=D("10"))
    page = pm.get(f"/admin/incentives/target/{t.pk}/change/").content.decode()
    assert 'value="2026-01-01"' in page and 'value="2026-03-31"' in page and 'value="10"' in page
    # team of C1: C1, C2, C3 -> orders of Q1 2026: O1, O2, O3, O4, O5 = 5 of 10
    assert "5 of 10 (50.00%)" in page
    r = pm.post(f"/admin/incentives/target/{t.pk}/change/", target_form(
        name="Q1", scope="team", distributor=sales[1].pk, measure="order_count", period="quarter", goal="4"))
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.goal == D("4") and Target.history.count() == 2
    assert 'data-status="met"' in pm.get(f"/admin/incentives/target/{t.pk}/change/").content.decode()


# --- grades ------------------------------------------------------------------------------------

def grade_form(**kw):
    data = {"code": "gold", "name": "Gold", "rank": "2", "min_direct_sales": "", "min_direct_downlines": "",
            "min_team_sales": "", "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0"}
    data.update(kw)
    return data


def test_grade_upgrade_conditions_in_the_console(pm, in_tenant):
    r = pm.post("/admin/distributors/grade/add/", grade_form(min_direct_sales="1000.005"))
    assert r.status_code == 200 and "At most 2 decimal places in CNY." in str(r.context["adminform"].form.errors)
    r = pm.post("/admin/distributors/grade/add/", grade_form(min_team_sales="-1"))
    assert r.status_code == 200 and "An amount cannot be negative." in str(r.context["adminform"].form.errors)
    assert Grade.objects.count() == 0
    r = pm.post("/admin/distributors/grade/add/", grade_form(min_direct_sales="1000", min_direct_downlines="2"))
    assert r.status_code == 302
    g = Grade.objects.get()
    assert (g.min_direct_sales, g.min_direct_downlines, g.min_team_sales) == (D("1000"), 2, None)
    listed = pm.get("/admin/distributors/grade/").content.decode()
    assert "direct sales ≥ 1000.00 · active direct downlines ≥ 2" in listed and 'id="evaluate-upgrades-link"' in listed


def test_evaluate_upgrades_now_and_the_grade_history(pm, in_tenant):
    from ledger.services import settle_due

    c0, c1, c2 = chain(in_tenant, 3)
    paid_order(in_tenant, "O1", referrer_external_id="C1", lines=[line(unit_price="1500.00")])
    settle_due(tenant=in_tenant, now=datetime(2026, 6, 1, tzinfo=dt_timezone.utc))
    silver = Grade.objects.create(tenant=in_tenant, code="silver", name="Silver", rank=1, min_direct_sales=D("1000.00"))
    gold = Grade.objects.create(tenant=in_tenant, code="gold", name="Gold", rank=2, min_direct_sales=D("1000.00"),
                                min_direct_downlines=2)
    assert "Evaluate upgrades now" in pm.get("/admin/distributors/grade/evaluate-upgrades/").content.decode()
    r = pm.post("/admin/distributors/grade/evaluate-upgrades/", follow=True)
    assert messages_of(r) == ["Upgrades evaluated in acme: 1 distributor(s) moved up a grade."]
    assert Distributor.objects.get(pk=c1.pk).grade == silver      # 1500.00 settled direct sales, 1 downline: not gold
    r = pm.post("/admin/distributors/grade/", {"action": "evaluate_upgrades", "_selected_action": [gold.pk]}, follow=True)
    assert messages_of(r) == ["Upgrades evaluated in acme: 0 distributor(s) moved up a grade."]
    # staff set a grade by hand on the distributor page: kept in the history with who did it
    data = {"external_id": "C1", "name": c1.name, "phone": "", "status": "active", "grade": gold.pk, "username": c1.username,
            "joined_at_0": c1.joined_at.date().isoformat(), "joined_at_1": c1.joined_at.time().isoformat(),
            "-1-TOTAL_FORMS": "0", "-1-INITIAL_FORMS": "0"}   # the read-only grade history inline
    r = pm.post(f"/admin/distributors/distributor/{c1.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    history = list(GradeChange.objects.filter(distributor=c1).order_by("id").values_list(
        "from_grade__code", "to_grade__code", "kind", "actor"))
    assert history == [(None, "silver", "upgrade", ""), ("silver", "gold", "manual", "pm")]
    page = pm.get(f"/admin/distributors/distributor/{c1.pk}/change/").content.decode()
    assert "Grade history" in page and "set by staff" in page and "automatic upgrade" in page
    assert "Silver → Gold" in page and "- → Silver" in page
    manual = GradeChange.objects.get(kind="manual").created_at.astimezone(SH).strftime("%Y-%m-%d %H:%M")
    assert re.search(rf'<td class="field-when">\s*<p>{manual}</p>', page)     # the tenant's local time


# --- tenancy -----------------------------------------------------------------------------------

def test_another_tenants_contest_scheme_and_target_are_404(pm, make_tenant):
    from incentives.services import contest_create, target_create, tier_scheme_create

    other = make_tenant(slug="other")
    with tenant_context(other):
        c = contest_create(tenant=other, name="Theirs", starts_at=JAN_START, ends_at=JAN_END, measure="direct_sales",
                           prizes=["5.00"])
        s = tier_scheme_create(tenant=other, name="Theirs", measure="direct_sales", tiers=[{"threshold": "1", "amount": "1"}])
        t = target_create(tenant=other, name="Theirs", scope="tenant", measure="net_sales", period="month",
                          starts_on=date(2026, 1, 1), goal=D("5"))
    for url in [f"/admin/incentives/contest/{c.pk}/change/", f"/admin/incentives/contest/{c.pk}/finalize/",
                f"/admin/incentives/tierbonusscheme/{s.pk}/change/", f"/admin/incentives/tierbonusscheme/{s.pk}/evaluate/",
                f"/admin/incentives/target/{t.pk}/change/"]:
        assert pm.get(url).status_code == 404, url
        assert pm.post(url, {"month": "2026-01", "name": "x"}).status_code == 404, url
    pm.post("/admin/incentives/contest/", {"action": "finalize_selected", "_selected_action": [c.pk]})
    c.refresh_from_db()
    s.refresh_from_db()
    assert (c.finalized_at, c.name, s.name) == (None, "Theirs", "Theirs")
    assert TierEvaluation.unscoped.count() == 0


def test_the_labels_speak_chinese_first():
    from incentives import console

    with translation.override("zh-hans"):
        assert [str(console.TARGET_STATUS_LABELS[s]) for s in ("met", "ahead", "on_track", "behind")] == [
            "已达成", "超前", "正常", "落后"]
        assert str(console.STATUS_LABELS["finalized"]) == "已结算"
        assert str(console.SHORT_MEASURE_LABELS["direct_sales"]) == "直销额"


def test_refusals_with_a_value_read_in_chinese_too(db):
    """A refusal that carries a value (places, a month) is translated through its template: the zh-hans
    console showed these in English. The English ones stay as the service wrote them."""
    from rest_framework.exceptions import ValidationError

    from incentives import console

    exc = ValidationError({"prizes.0": ["A prize has at most 2 decimal places."],
                           "period": ["2026-12 has not ended yet; a month is evaluated once it is over."],
                           "min_score": ["Give a number >= 0 with at most 0 decimal places."],
                           "goal": ["A goal is above 0 with at most 2 decimal places."],
                           "tiers.0.amount": ["An amount is >= 0 with at most 0 decimal places."],
                           "name": ["A contest needs a name."], "x": ["Something else."]})
    with translation.override("zh-hans"):
        assert console.service_errors(exc) == [
            ("prizes.0", "奖金最多 2 位小数。"), ("period", "2026-12 尚未结束；月份结束后才能评估。"),
            ("min_score", "请填写 >= 0 的数，最多 0 位小数。"), ("goal", "目标值须大于 0，最多 2 位小数。"),
            ("tiers.0.amount", "金额须 >= 0，最多 0 位小数。"), ("name", "竞赛需要名称。"), ("x", "Something else.")]
    with translation.override("en"):
        assert console.service_errors(exc)[0] == ("prizes.0", "A prize has at most 2 decimal places.")
    with translation.override("zh-hans"):   # the form's own wording around it
        from incentives.admin import ContestForm

        assert ContestForm().describe("prizes", "0", console.service_errors(exc)[0][1]) == "第 1 名奖金：奖金最多 2 位小数。"


@pytest.mark.parametrize("app", ["incentives", "distributors"])
def test_the_catalogues_are_complete_and_compiled(app):
    """Every string of the app's zh_Hans catalogue is translated, and the compiled .mo says the same
    (run `manage.py compilemessages` after editing the .po)."""
    import ast
    import gettext
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.BASE_DIR) / app / "locale" / "zh_Hans" / "LC_MESSAGES"
    pairs = []
    for block in (folder / "django.po").read_text().split("\n\n"):
        parts, key = {}, None
        for row in block.splitlines():
            if row.startswith(("msgctxt ", "msgid ", "msgstr ")):
                key, _, row = row.partition(" ")
            if key and row.startswith('"'):
                parts[key] = parts.get(key, "") + ast.literal_eval(row)
        if parts.get("msgid"):
            pairs.append((parts.get("msgctxt"), parts["msgid"], parts.get("msgstr", "")))
    assert len(pairs) > 15 and [en for _, en, zh in pairs if not zh] == []
    with open(folder / "django.mo", "rb") as f:
        mo = gettext.GNUTranslations(f)
    assert [mo.pgettext(ctx, en) if ctx else mo.gettext(en) for ctx, en, _ in pairs] == [zh for _, _, zh in pairs]


def test_the_lists_of_schemes_and_awards(pm, sales):
    from incentives.services import tier_bonus_evaluate, tier_scheme_create

    s = tier_scheme_create(tenant=sales[0].tenant, name="Monthly", measure="direct_sales",
                           tiers=[{"threshold": "300.00", "amount": "20.00"}])
    for month in (1, 2):
        tier_bonus_evaluate(scheme=s, period=date(2026, month, 1), actor="pm")
    assert "2, the last 2026-02" in pm.get("/admin/incentives/tierbonusscheme/").content.decode()
    r = pm.get(f"/admin/incentives/tieraward/?scheme__id__exact={s.pk}&period=2026-01-01")
    assert sorted(a.distributor.external_id for a in r.context["cl"].result_list) == ["C1", "C2", "C3"]
    r = pm.get(f"/admin/incentives/tieraward/?scheme__id__exact={s.pk}&period=2026-02-01")
    assert [(a.distributor.external_id, a.amount) for a in r.context["cl"].result_list] == [("C1", D("20.00"))]
    assert pm.get("/admin/incentives/tieraward/?period=not-a-day").context["cl"].result_count == 0


def test_a_superuser_creates_incentives_for_the_tenant_chosen(client, make_tenant):
    from django.contrib.auth.models import User

    acme, other = make_tenant(slug="acme"), make_tenant(slug="other")
    with tenant_context(other):
        foreign = chain(other, 1, prefix="F")[0]
    client.force_login(User.objects.create_superuser("root", password="pw"))
    assert client.post("/admin/incentives/contest/add/", contest_form(tenant=acme.pk)).status_code == 302
    assert client.post("/admin/incentives/tierbonusscheme/add/",
                       scheme_form([("100", "5", "")], tenant=other.pk)).status_code == 302
    r = client.post("/admin/incentives/target/add/", target_form(tenant=acme.pk, distributor=foreign.pk))
    assert r.status_code == 200 and "Choose a distributor of the target&#x27;s tenant." in r.content.decode()
    assert client.post("/admin/incentives/target/add/", target_form(tenant=other.pk, distributor=foreign.pk)).status_code == 302
    assert [(c.tenant_id, c.prizes) for c in Contest.unscoped.all()] == [(acme.pk, ["500.00", "300.00"])]
    assert [(s.tenant_id, s.tiers) for s in TierBonusScheme.unscoped.all()] == [(other.pk, [{"threshold": "100.00", "amount": "5.00"}])]
    assert [(t.tenant_id, t.distributor_id) for t in Target.unscoped.all()] == [(other.pk, foreign.pk)]


def test_reverting_a_contest_to_an_earlier_version_goes_through_the_service(pm, in_tenant):
    pm.post("/admin/incentives/contest/add/", contest_form())
    c = Contest.objects.get()
    pm.post(f"/admin/incentives/contest/{c.pk}/change/", contest_form(name="Renamed", prize_list="900"))
    first = Contest.history.filter(id=c.pk).earliest("history_id")
    page = pm.get(f"/admin/incentives/contest/{c.pk}/history/{first.history_id}/").content.decode()
    assert 'value="January sprint"' in page
    r = pm.post(f"/admin/incentives/contest/{c.pk}/history/{first.history_id}/", contest_form(prize_list="-1"))
    assert r.status_code == 200 and "Prize 1: A prize cannot be negative." in r.content.decode()
    r = pm.post(f"/admin/incentives/contest/{c.pk}/history/{first.history_id}/", contest_form())
    assert r.status_code == 302
    c.refresh_from_db()
    assert (c.name, c.prizes) == ("January sprint", ["500.00", "300.00"]) and Contest.history.count() == 3


def test_finance_reads_the_incentives_and_can_run_none_of_them(client, sales):
    """The finance role views contests, schemes and targets (to explain the bonus entries) but
    neither finalizes, evaluates a month nor evaluates grade upgrades: 403, nothing written."""
    from incentives.services import contest_create, target_create, tier_scheme_create
    from tenants.services import staff_create

    tenant = sales[0].tenant
    c = contest_create(tenant=tenant, name="Jan", starts_at=JAN_START, ends_at=JAN_END, measure="direct_sales",
                       prizes=["5.00"])
    s = tier_scheme_create(tenant=tenant, name="Monthly", measure="direct_sales", tiers=[{"threshold": "1", "amount": "1"}])
    t = target_create(tenant=tenant, name="Jan", scope="tenant", measure="net_sales", period="month",
                      starts_on=date(2026, 1, 1), goal=D("5000"))
    client.force_login(staff_create(tenant=tenant, username="fin", role="finance", password="fin-pass-9876"))
    page = client.get(f"/admin/incentives/contest/{c.pk}/change/").content.decode()
    assert 'id="leaderboard"' in page and 'id="finalize-link"' not in page and 'name="name"' not in page
    assert "finalize_selected" not in client.get("/admin/incentives/contest/").content.decode()
    page = client.get(f"/admin/incentives/tierbonusscheme/{s.pk}/change/").content.decode()
    assert "No month has been evaluated yet." in page and 'id="evaluate-link"' not in page
    assert 'data-status="behind"' in client.get(f"/admin/incentives/target/{t.pk}/change/").content.decode()
    for url, body in [(f"/admin/incentives/contest/{c.pk}/finalize/", {}),
                      (f"/admin/incentives/tierbonusscheme/{s.pk}/evaluate/", {"month": "2026-01"}),
                      ("/admin/distributors/grade/evaluate-upgrades/", {})]:
        assert client.post(url, body).status_code == 403, url
    r = client.post("/admin/incentives/contest/", {"action": "finalize_selected", "_selected_action": [c.pk]})
    c.refresh_from_db()
    assert (c.finalized_at, TierEvaluation.objects.count(), LedgerEntry.objects.filter(kind="bonus").count()) == (None, 0, 0)
    assert r.status_code == 200
