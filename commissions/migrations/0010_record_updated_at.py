"""Commission records carry `updated_at` (set by the services that settle, reverse or reschedule
them) for `?updated_after=` on GET /api/v1/commissions/; existing rows get the time of the migration."""
import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('commissions', '0009_public_ids_unique'),
    ]

    operations = [
        migrations.AddField(
            model_name='commissionrecord',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, db_default=django.db.models.functions.datetime.Now()),
        ),
        migrations.AddIndex(
            model_name='commissionrecord',
            index=models.Index(fields=['tenant', 'updated_at'], name='record_tenant_updated'),
        ),
    ]
