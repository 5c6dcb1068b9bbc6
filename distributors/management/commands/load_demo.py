"""`python manage.py load_demo [--full] [--data DIR] [--base-url URL] [--quiet]`

Sets up a demo you can click and curl, idempotently (run it as often as you like):

- imports the bundled Superstore sample (fenxiao/sample_data/superstore; `--full`: the whole
  ../shared/data/superstore; `--data DIR`: any directory with the four files) into the tenant
  `demo` ("Demo Store") with `import_superstore`;
- gives every demo distributor without a portal password the password `demo-pass-123`
  (`distributor_set_password`; passwords already set are left alone);
- creates, when missing, the Django superuser `admin` / `admin` and the tenant staff user
  `demo-pm` / `demo-pm` (staff of `demo` only, with every model permission of the apps in
  STAFF_APPS: both roles' work in one login, product manager's and finance's, for trying the
  demo; real staff get one role each with `create_staff --role pm|finance`);
- creates a fresh partner API key named "demo" on every run (keys are shown only once);
- sets up the incentives (domain rules section 8) through their services, when missing: grades
  with upgrade conditions (then `grades_evaluate_all`); a contest over June 2018 (local), finalized
  with its prizes; a four-week sprint contest running now, with a few fresh paid orders of the
  last days (LIVE-<local day>-<n>, the same ones on every run of the same day) for its live
  leaderboard; a monthly tier bonus scheme evaluated for every month of 2018; targets for the
  whole programme (2018, the sprint), one distributor and a team,
and prints the key, a distributor login with the portal's address (/portal/demo/) and its invite
link, the admin logins, where the incentives are and curl examples.
"""
from __future__ import annotations

import shlex
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from commissions.models import CommissionRecord
from commissions.selectors import earnings_by_level
from distributors.models import Distributor
from distributors.services import distributor_set_password_where_unset
from orders.models import Order
from relations.selectors import invite_url
from tenants.context import tenant_context
from tenants.models import StaffMembership, Tenant
from tenants.services import api_key_create

SLUG = "demo"
NAME = "Demo Store"
DISTRIBUTOR_PASSWORD = "demo-pass-123"
ADMIN = ("admin", "admin")
STAFF = ("demo-pm", "demo-pm")
STAFF_APPS = ("tenants", "distributors", "orders", "commissions", "ledger", "incentives", "relations", "webhooks", "risk")
SAMPLE_DIR = Path(settings.BASE_DIR) / "fenxiao" / "sample_data" / "superstore"
FULL_DIR = Path(settings.BASE_DIR).parent / "shared" / "data" / "superstore"
ZERO = Decimal("0.00")


class Command(BaseCommand):
    help = "Load the demo tenant 'demo' (Superstore sample), demo logins and a fresh API key; idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help=f"import the full data at {FULL_DIR}")
        parser.add_argument("--data", type=Path, default=None, help="import this directory instead")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="server URL used in the curl examples")
        parser.add_argument("--quiet", action="store_true", help="no progress bars")

    def handle(self, *args, full: bool, data: Path | None, base_url: str, quiet: bool, **options):
        directory = data or (FULL_DIR if full else SAMPLE_DIR)
        if not (directory / "orders.csv").is_file():
            raise CommandError(f"No Superstore data at {directory}.")
        self.quiet = quiet
        call_command("import_superstore", str(directory), tenant=SLUG, tenant_name=NAME, quiet=quiet,
                     stdout=self.stdout, stderr=self.stderr)
        tenant = Tenant.objects.get(slug=SLUG)
        with tenant_context(tenant):
            incentives = DemoIncentives(tenant).load()
            passwords_set = self._passwords(tenant)
            login = self._login_distributor()
            example_order = self._example_order()
            earnings = earnings_by_level(beneficiary_id=login.pk) if login else None
            invite = invite_url(login) if login else None
        admin_created = self._superuser()
        staff_created = self._staff(tenant)
        _, key = api_key_create(tenant=tenant, name="demo")
        self._print(tenant=tenant, key=key, login=login, earnings=earnings, invite=invite, example_order=example_order,
                    passwords_set=passwords_set, admin_created=admin_created, staff_created=staff_created,
                    base_url=base_url.rstrip("/"))
        incentives.print(self.stdout.write, base_url=base_url.rstrip("/"))
        call_command("load_demo_support", tenant=SLUG, stdout=self.stdout)   # materials, announcements (relations)

    # -- distributors' passwords ----------------------------------------------------------------

    def _passwords(self, tenant: Tenant) -> int:
        """Give the demo password to every distributor that has none (one hash, one update)."""
        with tenant_context(tenant):
            return distributor_set_password_where_unset(password=DISTRIBUTOR_PASSWORD)

    def _login_distributor(self) -> Distributor | None:
        """The distributor with downlines that earned the most (net), earnings at most levels first."""
        net: dict[int, Decimal] = defaultdict(lambda: ZERO)
        levels: dict[int, set] = defaultdict(set)
        for beneficiary_id, level, amount, reversed_amount in CommissionRecord.objects.values_list(
            "beneficiary_id", "level", "amount", "reversed_amount"
        ):
            net[beneficiary_id] += amount - reversed_amount
            levels[beneficiary_id].add(level)
        uplines = set(Distributor.objects.filter(parent__isnull=False).values_list("parent_id", flat=True))
        candidates = [pk for pk in net if pk in uplines and net[pk] > 0]
        if not candidates:
            return None
        best = max(candidates, key=lambda pk: (len(levels[pk]), net[pk], -pk))
        return Distributor.objects.get(pk=best)

    def _example_order(self) -> str | None:
        """The most recent order that pays three levels and was not refunded."""
        record = (
            CommissionRecord.objects.filter(level=3, order__status=Order.Status.COMPLETED)
            .order_by("-order__placed_at", "-order_id").select_related("order").first()
        )
        if record is None:
            record = CommissionRecord.objects.select_related("order").order_by("-order__placed_at").first()
        return record.order.external_id if record else None

    # -- staff users ----------------------------------------------------------------------------

    @transaction.atomic
    def _superuser(self) -> bool:
        User = get_user_model()
        if User.objects.filter(username=ADMIN[0]).exists():
            return False
        User.objects.create_superuser(username=ADMIN[0], email="admin@example.com", password=ADMIN[1])
        return True

    @transaction.atomic
    def _staff(self, tenant: Tenant) -> bool:
        """Create demo-pm when missing; make sure it is staff of `demo` with the apps' permissions."""
        User = get_user_model()
        user = User.objects.filter(username=STAFF[0]).first()
        created = user is None
        if created:
            user = User.objects.create_user(username=STAFF[0], password=STAFF[1], is_staff=True)
        membership = StaffMembership.objects.filter(user=user).first()
        if membership is None:
            StaffMembership.objects.create(user=user, tenant=tenant)
        elif membership.tenant_id != tenant.pk:
            self.stderr.write(f"{STAFF[0]} is staff of another tenant ({membership.tenant.slug}); left unchanged.")
            return created
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=STAFF_APPS))
        return created

    # -- output ---------------------------------------------------------------------------------

    def _print(self, *, tenant, key, login, earnings, invite, example_order, passwords_set, admin_created,
               staff_created, base_url) -> None:
        w = self.stdout.write
        w("")
        both(w, gettext_noop("Demo tenant: %(slug)s (%(name)s), %(currency)s, timezone %(timezone)s"),
             slug=tenant.slug, name=tenant.name, currency=tenant.currency, timezone=tenant.timezone)
        both(w, gettext_noop("Partner API key (new, shown only now): %(key)s"), key=key)
        if login is not None:
            by_level = ", ".join(f"L{lvl} {amount}" for lvl, amount in earnings.items())
            both(w, gettext_noop("Distributor portal login: tenant %(tenant)s, username %(username)s, password "
                                 "%(password)s  (net earnings %(earnings)s)"),
                 tenant=tenant.slug, username=login.username, password=DISTRIBUTOR_PASSWORD, earnings=by_level)
            both(w, gettext_noop("Distributor portal (分销中心, pages for a phone: open it on a phone or a narrow window): "
                                 "%(url)s  log in as %(username)s / %(password)s"), indent="  ",
                 url=f"{base_url}/portal/{tenant.slug}/", username=login.username, password=DISTRIBUTOR_PASSWORD)
            both(w, gettext_noop("%(username)s's invite link (a newcomer who registers through it joins %(username)s's "
                                 "team): %(url)s"), indent="  ", username=login.username, url=invite)
        both(w, gettext_noop("%(n)s distributor passwords set this run (every demo distributor without a password "
                             "gets %(password)s)."), indent="  ", n=passwords_set, password=DISTRIBUTOR_PASSWORD)
        both(w, gettext_noop("Django admin %(url)s:"), url=f"{base_url}/admin/")
        if admin_created:
            both(w, gettext_noop("superuser %(username)s / %(password)s"), indent="  ", username=ADMIN[0], password=ADMIN[1])
        else:
            both(w, gettext_noop("superuser %(username)s / %(password)s (existing user: password unchanged)"), indent="  ",
                 username=ADMIN[0], password=ADMIN[1])
        if staff_created:
            both(w, gettext_noop("tenant staff %(username)s / %(password)s (staff of %(tenant)s only)"), indent="  ",
                 username=STAFF[0], password=STAFF[1], tenant=tenant.slug)
        else:
            both(w, gettext_noop("tenant staff %(username)s / %(password)s (staff of %(tenant)s only) (existing user: "
                                 "password unchanged)"), indent="  ", username=STAFF[0], password=STAFF[1], tenant=tenant.slug)
        both(w, gettext_noop("Language: the console speaks Simplified Chinese first, and English. Switch with "
                             "“简体中文 / English” at the top right of every page (beside the site name on the login "
                             "page; it posts to %(url)s and is kept in a cookie); until you choose, your browser's "
                             "language (Accept-Language) decides."), url=f"{base_url}/i18n/setlang/")
        both(w, gettext_noop("API error details follow the request's Accept-Language (zh-hans or en); a client that "
                             "names no language gets English. In Chinese:"), indent="  ")
        w(f"  curl -s -H 'Accept-Language: zh-hans' -H {shlex.quote(f'Authorization: Api-Key {key}')} "
          f"{base_url}/api/v1/orders/NO-SUCH-ORDER/")
        both(w, gettext_noop("Try it (with the server running: `make demo` starts it, else "
                             "`SECRET_KEY=$(cat .local-secret-key) .venv/bin/python manage.py runserver`):"))
        if example_order:
            header = shlex.quote(f"Authorization: Api-Key {key}")
            w(f"  curl -s -H {header} {base_url}/api/v1/orders/{example_order}/commissions/")
        if login is not None:
            body = f'{{"tenant": "{tenant.slug}", "username": "{login.username}", "password": "{DISTRIBUTOR_PASSWORD}"}}'
            w(f"  TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' -d {shlex.quote(body)}"
              f" {base_url}/api/v1/auth/token/"
              " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access\"])')")
            w(f'  curl -s -H "Authorization: Bearer $TOKEN" {base_url}/api/v1/me/earnings/')


def both(w, message: str, *, indent: str = "", **values) -> None:
    """Write `message` (an English msgid, %(name)s placeholders filled from `values`) in Chinese,
    then in English on the next line (once when they are the same): the demo speaks both, zh-hans
    first. A lazy value (a label) is translated with the line."""
    lines = []
    for code in ("zh-hans", "en"):
        with translation.override(code):
            text = gettext(message) % values if values else gettext(message)
        if text not in lines:
            lines.append(text)
    for text in lines:
        w(f"{indent}{text}")


class DemoIncentives:
    """The demo's incentives (domain rules section 8), made through the services when missing, so a
    second run changes nothing (the same day: the same fresh orders and sprint; a later day adds
    that day's sprint and orders)."""

    #: Grades and their upgrade conditions (USD): (code, name, rank, min direct, min downlines, min team)
    GRADES = [("silver", "Silver", 1, Decimal("1000.00"), None, None),
              ("gold", "Gold", 2, Decimal("4000.00"), 2, None),
              ("platinum", "Platinum", 3, None, None, Decimal("10000.00"))]
    FINISHED = "June 2018 sales contest"
    FINISHED_PRIZES = ["300.00", "200.00", "100.00"]
    SPRINT_PRIZES = ["200.00", "100.00", "50.00"]
    SCHEME = "Monthly direct sales bonus"
    TIERS = [{"threshold": "500.00", "amount": "15.00"}, {"threshold": "1500.00", "amount": "40.00"},
             {"threshold": "3000.00", "rate": "0.0200"}]
    SCHEME_YEAR = 2018
    #: Fresh paid orders of the sprint: (days before today, local hour, referrer, amount). JL-15175 and
    #: DIST-0008 both reach 600.00; JL-15175 got there first (its last order is a day older), so it
    #: ranks first by the tie rule.
    LIVE_ORDERS = [(1, 15, "DIST-0008", "420.00"), (2, 11, "JL-15175", "350.00"), (3, 16, "DIST-0001", "500.00"),
                   (4, 10, "DIST-0008", "180.00"), (5, 19, "JL-15175", "250.00"), (6, 14, "TB-21175", "120.00")]
    SPRINT_DAYS_BEFORE, SPRINT_DAYS = 13, 28

    def __init__(self, tenant):
        self.tenant = tenant
        self.now = timezone.now()
        self.today = self.now.astimezone(ZoneInfo(tenant.timezone)).date()
        self.sprint_first = self.today - timedelta(days=self.SPRINT_DAYS_BEFORE)
        self.sprint_last = self.sprint_first + timedelta(days=self.SPRINT_DAYS - 1)

    def load(self) -> "DemoIncentives":
        from incentives.services import grades_evaluate_all

        self.grades = self._grades()
        self.upgraded = grades_evaluate_all()
        self.finished = self._finished_contest()
        self.live_orders = self._live_orders()
        self.sprint = self._sprint()
        self.scheme, self.awards = self._scheme()
        self.targets = self._targets()
        return self

    def _grades(self):
        from distributors.models import Grade

        out = []
        for code, name, rank, direct, downlines, team in self.GRADES:
            grade, _ = Grade.objects.get_or_create(tenant=self.tenant, code=code, defaults={
                "name": name, "rank": rank, "min_direct_sales": direct, "min_direct_downlines": downlines,
                "min_team_sales": team})
            out.append(grade)
        return out

    def _finished_contest(self):
        from incentives.models import Contest
        from incentives.rules import month_window
        from incentives.services import contest_create, contest_finalize

        contest = Contest.objects.filter(name=self.FINISHED).first()
        if contest is None:
            starts_at, ends_at = month_window(self.tenant.timezone, 2018, 6)
            contest = contest_create(tenant=self.tenant, name=self.FINISHED, starts_at=starts_at, ends_at=ends_at,
                                     measure="direct_sales", prizes=self.FINISHED_PRIZES)
        contest, _ = contest_finalize(contest=contest, actor="load_demo")
        return contest

    def _live_orders(self) -> list:
        from orders.services import LineInput, OrderInput, order_record

        tz = ZoneInfo(self.tenant.timezone)
        out = []
        for n, (days, hour, referrer, amount) in enumerate(self.LIVE_ORDERS, start=1):
            day = self.today - timedelta(days=days)
            at = datetime.combine(day, time(hour, 0), tz)
            data = OrderInput(external_id=f"LIVE-{day:%Y%m%d}-{n}", currency=self.tenant.currency, placed_at=at,
                              paid_at=at, status=Order.Status.PAID, referrer_external_id=referrer,
                              lines=[LineInput(line_id="1", sku="DEMO-LIVE", category="Office Supplies", quantity=1,
                                               unit_price=Decimal(amount))])
            with transaction.atomic():
                order, _ = order_record(tenant=self.tenant, data=data)
            out.append(order)
        return out

    def _sprint(self):
        from incentives.models import Contest
        from incentives.rules import local_window
        from incentives.services import contest_create

        name = f"Four-week sprint {self.sprint_first:%Y-%m-%d} – {self.sprint_last:%Y-%m-%d}"
        contest = Contest.objects.filter(name=name).first()
        if contest is None:
            starts_at, ends_at = local_window(self.tenant.timezone, self.sprint_first, self.sprint_last + timedelta(days=1))
            contest = contest_create(tenant=self.tenant, name=name, starts_at=starts_at, ends_at=ends_at,
                                     measure="direct_sales", prizes=self.SPRINT_PRIZES)
        return contest

    def _scheme(self):
        from incentives.models import TierAward, TierBonusScheme
        from incentives.services import tier_bonus_evaluate, tier_scheme_create

        scheme = TierBonusScheme.objects.filter(name=self.SCHEME).first()
        if scheme is None:
            scheme = tier_scheme_create(tenant=self.tenant, name=self.SCHEME, measure="direct_sales", tiers=self.TIERS)
        for month in range(1, 13):
            tier_bonus_evaluate(scheme=scheme, period=date(self.SCHEME_YEAR, month, 1), actor="load_demo")
        return scheme, TierAward.objects.filter(scheme=scheme).count()

    def _targets(self) -> list:
        from distributors.models import Distributor
        from incentives.models import Target
        from incentives.services import target_create

        sprint = f"{self.sprint_first:%Y-%m-%d} – {self.sprint_last:%Y-%m-%d}"
        custom = {"period": "custom", "starts_on": self.sprint_first, "ends_on": self.sprint_last}
        wanted = [
            {"name": "2018 net sales", "scope": "tenant", "measure": "net_sales", "period": "year",
             "starts_on": date(2018, 1, 1), "goal": Decimal("25000.00")},
            {"name": f"Sprint net sales {sprint}", "scope": "tenant", "measure": "net_sales", "goal": Decimal("3000.00"),
             **custom},
            {"name": f"DIST-0001 direct sales {sprint}", "scope": "distributor", "measure": "direct_sales",
             "distributor": Distributor.objects.get(external_id="DIST-0001"), "goal": Decimal("1000.00"), **custom},
            {"name": f"DIST-0004 team orders {sprint}", "scope": "team", "measure": "order_count",
             "distributor": Distributor.objects.get(external_id="DIST-0004"), "goal": Decimal("6"), **custom},
        ]
        out = []
        for values in wanted:
            target = Target.objects.filter(name=values["name"]).first()
            out.append(target or target_create(tenant=self.tenant, **values))
        return out

    def print(self, w, *, base_url: str) -> None:
        from incentives.console import TARGET_STATUS_LABELS, value_str
        from incentives.services import contest_leaderboard, target_progress

        admin = f"{base_url}/admin/incentives"
        both(w, gettext_noop("Incentives (domain rules section 8), in the console as %(username)s:"), username=STAFF[0])
        both(w, gettext_noop("grades with upgrade conditions: %(url)s (%(n)s distributor(s) moved up this run; "
                             "\"Evaluate upgrades now\" runs it again)"), indent="  ",
             url=f"{base_url}/admin/distributors/grade/", n=self.upgraded)
        with tenant_context(self.tenant):
            finished = contest_leaderboard(contest=self.finished, limit=3)
            live = contest_leaderboard(contest=self.sprint, limit=3)
            people = dict(Distributor.objects.filter(pk__in=[r.distributor_id for r, _ in finished + live])
                          .values_list("pk", "external_id"))
            progress = [(t, target_progress(t)) for t in self.targets]

        def podium(rows):
            return ", ".join(f"#{r.rank} {people[r.distributor_id]} {r.score}" for r, _ in rows) or "-"

        both(w, gettext_noop("finished contest \"%(name)s\" (finalized, prizes paid): %(url)s  [%(podium)s]"), indent="  ",
             name=self.finished.name, url=f"{admin}/contest/{self.finished.pk}/change/", podium=podium(finished))
        both(w, gettext_noop("running contest \"%(name)s\" (live leaderboard): %(url)s  [%(podium)s]"), indent="  ",
             name=self.sprint.name, url=f"{admin}/contest/{self.sprint.pk}/change/", podium=podium(live))
        both(w, gettext_noop("tier bonus scheme \"%(name)s\" (%(year)s evaluated month by month, %(n)s awards): %(url)s"),
             indent="  ", name=self.scheme.name, year=self.SCHEME_YEAR, n=self.awards,
             url=f"{admin}/tierbonusscheme/{self.scheme.pk}/change/")
        both(w, gettext_noop("targets with progress bars: %(url)s"), indent="  ", url=f"{admin}/target/")
        for target, p in progress:
            value, goal = (value_str(target.measure, v, self.tenant.currency) for v in (p.value, p.goal))
            both(w, gettext_noop("%(name)s: %(value)s of %(goal)s (%(progress)s%%, expected pace %(expected)s%%, %(status)s)"),
                 indent="    ", name=target.name, value=value, goal=goal, progress=f"{p.progress * 100:.2f}",
                 expected=f"{p.expected * 100:.2f}", status=TARGET_STATUS_LABELS.get(p.status, p.status))
        both(w, gettext_noop("in the portal (with $TOKEN from the distributor login above; DIST-0001 is 3rd in the "
                             "sprint):"), indent="  ")
        w(f'    curl -s -H "Authorization: Bearer $TOKEN" {base_url}/api/v1/me/contests/')
        w(f'    curl -s -H "Authorization: Bearer $TOKEN" {base_url}/api/v1/me/targets/')
