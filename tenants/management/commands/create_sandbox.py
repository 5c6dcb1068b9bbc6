"""manage.py create_sandbox <slug> [--key NAME]: the sandbox twin of a live tenant (created once)."""
from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.services import api_key_create, sandbox_create


class Command(BaseCommand):
    help = ("Create the sandbox twin of a live tenant (slug <slug>-sandbox, same settings, the plan in force copied; "
            "its API keys are test keys, test_...), or report the existing one. --key NAME also issues a test key "
            "and prints it (shown only once).")

    def add_arguments(self, parser):
        parser.add_argument("tenant_slug")
        parser.add_argument("--key", metavar="NAME", default="", help="also create a test API key with this name")

    def handle(self, *args, tenant_slug, key, **options):
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {tenant_slug!r}.")
        if tenant.is_sandbox:
            raise CommandError(f"{tenant_slug!r} is a sandbox; give its live tenant's slug.")
        sandbox, created = sandbox_create(tenant=tenant)
        self.stdout.write(f"{'created' if created else 'exists'}: {sandbox.slug}")
        if key:
            _, plaintext = api_key_create(tenant=sandbox, name=key)
            self.stdout.write(plaintext)
