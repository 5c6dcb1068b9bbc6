"""Every existing tenant gets its incentive jobs (`incentives:<slug>`, every 15 minutes:
incentives.tasks.incentives_tenant), as settlement_schedule_ensure creates for new tenants."""
import json

from django.db import migrations


def add(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    tenants = list(Tenant.objects.all())
    if not tenants:
        return
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    for tenant in tenants:
        PeriodicTask.objects.update_or_create(
            name=f"incentives:{tenant.slug}",
            defaults={"task": "incentives.tasks.incentives_tenant", "interval": every,
                      "kwargs": json.dumps({"tenant_id": tenant.pk}), "enabled": tenant.is_active},
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="incentives.tasks.incentives_tenant").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incentives", "0001_initial"),
        ("tenants", "0002_history"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(add, remove)]
