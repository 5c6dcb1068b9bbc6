from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ledger.services import settle_due
from tenants.context import tenant_context
from tenants.models import Tenant


class Command(BaseCommand):
    help = ("Settle (frozen -> available) every commission due by --now (default: now), per tenant "
            "(domain rules section 7). A --now later than the real time settles money before it is due; "
            "it is refused unless --early says that is meant (a demo, a test). Sandboxes move their own "
            "clock instead (POST /api/v1/sandbox/clock/).")

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: all)")
        parser.add_argument("--now", help="RFC 3339 time with offset to settle as of")
        parser.add_argument("--early", action="store_true",
                            help="allow a --now in the future: settle commissions before they are due")

    def handle(self, *args, tenant=None, now=None, early=False, **options):
        at = None
        if now:
            at = parse_datetime(now)
            if at is None or at.tzinfo is None:
                raise CommandError("--now needs an RFC 3339 time with an offset")
            if at > timezone.now() and not early:
                raise CommandError(f"--now {at.isoformat()} is in the future: commissions would settle before they "
                                   "are due, and the money becomes withdrawable. Add --early if that is meant "
                                   "(a demo or a test); nothing was settled.")
        tenants = Tenant.objects.filter(slug=tenant) if tenant else Tenant.objects.filter(is_active=True)
        for t in tenants:
            with tenant_context(t):
                n = settle_due(tenant=t, now=at)
            self.stdout.write(f"{t.slug}: settled {n} commission record(s)")
