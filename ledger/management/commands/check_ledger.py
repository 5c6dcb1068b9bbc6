from django.core.management.base import BaseCommand, CommandError

from ledger.selectors import ledger_drift
from tenants.context import tenant_context
from tenants.models import Tenant


class Command(BaseCommand):
    help = ("Recompute every balance from the ledger and every commission record's net from its entries; "
            "exit non-zero and list the drift if anything disagrees (domain rules section 7).")

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: all)")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.filter(slug=tenant) if tenant else Tenant.objects.all()
        if tenant and not tenants:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        problems = 0
        for t in tenants:
            with tenant_context(t):
                drift = ledger_drift()
            for d in drift:
                self.stderr.write(f"[{t.slug}] {d}")
            problems += len(drift)
            self.stdout.write(f"{t.slug}: {'OK' if not drift else f'{len(drift)} disagreement(s)'}")
        if problems:
            raise CommandError(f"ledger drift: {problems} disagreement(s)")
