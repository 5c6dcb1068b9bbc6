from django.core.management.base import BaseCommand, CommandError

from incentives.selectors import figures_drift
from tenants.context import tenant_context
from tenants.models import Tenant


class Command(BaseCommand):
    help = ("Recompute every incentive figure (credits, day figures, tenant days, lifetime settled sales) from "
            "the orders and commission records; exit non-zero and list what disagrees (domain rules section 8).")

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: all)")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.filter(slug=tenant) if tenant else Tenant.objects.all()
        if tenant and not tenants:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        problems = 0
        for t in tenants:
            with tenant_context(t):
                drift = figures_drift()
            for d in drift:
                self.stderr.write(f"[{t.slug}] {d}")
            problems += len(drift)
            self.stdout.write(f"{t.slug}: {'OK' if not drift else f'{len(drift)} disagreement(s)'}")
        if problems:
            raise CommandError(f"measure drift: {problems} disagreement(s)")
