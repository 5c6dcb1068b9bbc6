"""`manage.py relay_webhooks [--tenant SLUG] [--every SECONDS]`: run the webhook relay (what beat's
`webhooks:<slug>` task does every minute): new outbox events fanned out to the subscribed
endpoints, due deliveries and retries sent. Without a broker (the demo) the deliveries are made
right here; with one they go to the workers. --every repeats it until interrupted (the demo's
stand-in for beat); without --tenant each round takes the active tenants again, so a sandbox
created meanwhile (`create_sandbox`) is relayed from the next round on."""
import time

from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from webhooks.tasks import relay_tenant


class Command(BaseCommand):
    help = "Deliver webhooks: fan out new outbox events and send the due deliveries, per tenant."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: every active tenant)")
        parser.add_argument("--every", type=float, default=0,
                            help="repeat every this many seconds until interrupted (default: run once)")

    def handle(self, *args, tenant=None, every=0, **options):
        if tenant and not Tenant.objects.filter(slug=tenant).exists():
            raise CommandError(f"No tenant {tenant!r}.")
        if every < 0:
            raise CommandError("--every takes a number of seconds >= 0.")
        while True:
            tenants = Tenant.objects.filter(slug=tenant) if tenant else Tenant.objects.filter(is_active=True)
            for t in tenants.order_by("pk"):
                result = relay_tenant.apply(kwargs={"tenant_id": t.pk}).get()
                if result["events"] or result["deliveries"] or not every:
                    self.stdout.write(f"{t.slug}: {result['events']} event(s) fanned out, "
                                      f"{result['deliveries']} delivery attempt(s) sent")
            if not every:
                return
            time.sleep(every)
