"""`python manage.py load_demo [--full] [--data DIR] [--base-url URL] [--quiet]`

Sets up a demo you can click and curl, idempotently (run it as often as you like):

- imports the bundled Superstore sample (fenxiao/sample_data/superstore; `--full`: the whole
  ../shared/data/superstore; `--data DIR`: any directory with the four files) into the tenant
  `demo` ("Demo Store") with `import_superstore`;
- gives every demo distributor without a portal password the password `demo-pass-123`
  (`distributor_set_password`; passwords already set are left alone);
- creates, when missing, the Django superuser `admin` / `admin` and the tenant staff user
  `demo-pm` / `demo-pm` (staff of `demo` only, with every model permission of the apps tenants,
  distributors, orders and commissions);
- creates a fresh partner API key named "demo" on every run (keys are shown only once),
and prints the key, a distributor login, the admin logins and curl examples.
"""
from __future__ import annotations

import shlex
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from commissions.models import CommissionRecord
from commissions.selectors import earnings_by_level
from distributors.models import Distributor
from distributors.services import distributor_set_password_where_unset
from orders.models import Order
from tenants.context import tenant_context
from tenants.models import StaffMembership, Tenant
from tenants.services import api_key_create

SLUG = "demo"
NAME = "Demo Store"
DISTRIBUTOR_PASSWORD = "demo-pass-123"
ADMIN = ("admin", "admin")
STAFF = ("demo-pm", "demo-pm")
STAFF_APPS = ("tenants", "distributors", "orders", "commissions", "ledger")
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
            passwords_set = self._passwords(tenant)
            login = self._login_distributor()
            example_order = self._example_order()
            earnings = earnings_by_level(beneficiary_id=login.pk) if login else None
        admin_created = self._superuser()
        staff_created = self._staff(tenant)
        _, key = api_key_create(tenant=tenant, name="demo")
        self._print(tenant=tenant, key=key, login=login, earnings=earnings, example_order=example_order,
                    passwords_set=passwords_set, admin_created=admin_created, staff_created=staff_created,
                    base_url=base_url.rstrip("/"))

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

    def _print(self, *, tenant, key, login, earnings, example_order, passwords_set, admin_created,
               staff_created, base_url) -> None:
        w = self.stdout.write
        w("")
        w(f"Demo tenant: {tenant.slug} ({tenant.name}), {tenant.currency}, timezone {tenant.timezone}")
        w(f"Partner API key (new, shown only now): {key}")
        if login is not None:
            by_level = ", ".join(f"L{lvl} {amount}" for lvl, amount in earnings.items())
            w(f"Distributor portal login: tenant {tenant.slug}, username {login.username}, password {DISTRIBUTOR_PASSWORD}"
              f"  (net earnings {by_level})")
        w(f"  {passwords_set} distributor passwords set this run"
          f" (every demo distributor without a password gets {DISTRIBUTOR_PASSWORD}).")
        w(f"Django admin {base_url}/admin/:")
        w(f"  superuser {ADMIN[0]} / {ADMIN[1]}" + ("" if admin_created else " (existing user: password unchanged)"))
        w(f"  tenant staff {STAFF[0]} / {STAFF[1]} (staff of {tenant.slug} only)"
          + ("" if staff_created else " (existing user: password unchanged)"))
        w("Try it (with the server running: `make demo` starts it, else "
          "`SECRET_KEY=$(cat .local-secret-key) .venv/bin/python manage.py runserver`):")
        if example_order:
            header = shlex.quote(f"Authorization: Api-Key {key}")
            w(f"  curl -s -H {header} {base_url}/api/v1/orders/{example_order}/commissions/")
        if login is not None:
            body = f'{{"tenant": "{tenant.slug}", "username": "{login.username}", "password": "{DISTRIBUTOR_PASSWORD}"}}'
            w(f"  TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' -d {shlex.quote(body)}"
              f" {base_url}/api/v1/auth/token/"
              " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access\"])')")
            w(f'  curl -s -H "Authorization: Bearer $TOKEN" {base_url}/api/v1/me/earnings/')
