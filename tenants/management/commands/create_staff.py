"""`manage.py create_staff <tenant-slug> <username> --role pm|finance [--password PW | --password-stdin]
[--email EMAIL] [--update]`: a tenant's product manager or finance user (tenants.roles)."""
import getpass
import sys

from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import APIException

from tenants.models import Tenant
from tenants.roles import ROLES
from tenants.services import staff_create


def _message(exc: APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in detail.items())
    if isinstance(detail, list):
        return " ".join(map(str, detail))
    return str(detail)


class Command(BaseCommand):
    help = ("Create a tenant staff user (admin and staff API, scoped to the tenant) with a role: "
            "pm (plans, grades, distributors, settings, backtests) or finance (withdrawals, ledger). "
            "The password comes from --password, --password-stdin or a prompt.")

    def add_arguments(self, parser):
        parser.add_argument("tenant_slug")
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLES), help="pm or finance (tenants/roles.py)")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--password", help="the password (visible in the process list; prefer --password-stdin)")
        source.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        parser.add_argument("--email", default="")
        parser.add_argument("--update", action="store_true",
                            help="the user exists: set its role (and the password or email when given)")

    def handle(self, *args, tenant_slug, username, role, password, password_stdin, email, update, **options):
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {tenant_slug!r}.")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif password is None and not update:
            password = self._prompt()
        try:
            user = staff_create(tenant=tenant, username=username, role=role, password=password or None,
                                email=email, update=update)
        except APIException as exc:
            raise CommandError(_message(exc)) from None
        self.stdout.write(f"{'updated' if update else 'created'} {ROLES[role].code} {user.get_username()} "
                          f"(staff of {tenant.slug}): log in at /admin/ or POST /api/v1/auth/staff-token/")

    def _prompt(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError("No password: pass --password, --password-stdin, or run in a terminal to be asked.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ.")
        return first
