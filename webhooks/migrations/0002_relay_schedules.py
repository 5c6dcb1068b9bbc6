"""Every existing tenant gets its webhook relay (`webhooks:<slug>`, every minute:
webhooks.tasks.relay_tenant), as settlement_schedule_ensure creates for new tenants."""
import json

from django.db import migrations


def add(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    tenants = list(Tenant.objects.all())
    if not tenants:
        return
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    for tenant in tenants:
        PeriodicTask.objects.update_or_create(
            name=f"webhooks:{tenant.slug}",
            defaults={"task": "webhooks.tasks.relay_tenant", "interval": every,
                      "kwargs": json.dumps({"tenant_id": tenant.pk}), "enabled": tenant.is_active},
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="webhooks.tasks.relay_tenant").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("tenants", "0002_history"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(add, remove)]
