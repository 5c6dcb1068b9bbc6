from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services import tenant_create


class Command(BaseCommand):
    help = ("Create a tenant (a brand running a programme) with its settings (domain rules section 1) and a "
            "draft commission plan, L1 10% / L2 5% / L3 2% (up to --levels): review and publish it in the "
            "admin or through the staff API.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument("--currency", default="CNY")
        parser.add_argument("--timezone", default="Asia/Shanghai")
        parser.add_argument("--levels", type=int, default=3)
        parser.add_argument("--rounding", default="down", choices=["down", "half_up"])
        parser.add_argument("--no-plan", action="store_true", help="no starter draft plan")

    def handle(self, *args, slug, name, currency, timezone, levels, rounding, no_plan, **options):
        try:
            tenant = tenant_create(slug=slug, name=name, currency=currency, timezone=timezone, levels=levels,
                                   rounding=rounding, starter_plan=not no_plan)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        self.stdout.write(f"created tenant {tenant.slug} ({tenant.currency}, {tenant.timezone}, {tenant.levels} levels)")
        if not no_plan:
            from commissions.plans import STARTER_PLAN_NAME

            self.stdout.write(f"draft plan v1 {STARTER_PLAN_NAME!r} (not in force: publish it in the admin or the staff API)")
