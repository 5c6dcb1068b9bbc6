from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from ledger.services import settle_due
from tenants.context import tenant_context
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Settle (frozen -> available) every commission due by --now (default: now), per tenant."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: all)")
        parser.add_argument("--now", help="RFC 3339 time with offset to settle as of")

    def handle(self, *args, tenant=None, now=None, **options):
        at = None
        if now:
            at = parse_datetime(now)
            if at is None or at.tzinfo is None:
                raise CommandError("--now needs an RFC 3339 time with an offset")
        tenants = Tenant.objects.filter(slug=tenant) if tenant else Tenant.objects.filter(is_active=True)
        for t in tenants:
            with tenant_context(t):
                n = settle_due(tenant=t, now=at)
            self.stdout.write(f"{t.slug}: settled {n} commission record(s)")
