from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.services import api_key_create


class Command(BaseCommand):
    help = "Create a partner API key for a tenant and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("tenant_slug")
        parser.add_argument("name")

    def handle(self, *args, tenant_slug, name, **options):
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {tenant_slug!r}.")
        _, key = api_key_create(tenant=tenant, name=name)
        self.stdout.write(key)
