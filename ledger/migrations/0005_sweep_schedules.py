"""Every existing tenant gets its per-minute sweep (`sweep:<slug>`, commissions.tasks.sweep_tenant),
as settlement_schedule_ensure now creates for new tenants (issue 10 item 8: a broker outage must
not leave orders `due` or backtests `queued` for 15 minutes)."""
import json

from django.db import migrations


def add_sweeps(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    tenants = list(Tenant.objects.all())
    if not tenants:
        return
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    for tenant in tenants:
        PeriodicTask.objects.update_or_create(
            name=f"sweep:{tenant.slug}",
            defaults={"task": "commissions.tasks.sweep_tenant", "interval": every,
                      "kwargs": json.dumps({"tenant_id": tenant.pk}), "enabled": tenant.is_active},
        )


def remove_sweeps(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="commissions.tasks.sweep_tenant").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_money_minor_units"),
        ("tenants", "0002_history"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_sweeps, remove_sweeps)]
