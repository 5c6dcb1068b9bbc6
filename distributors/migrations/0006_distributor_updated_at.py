"""Distributors carry `updated_at` (set by the services that change what the partner's list shows) for
`?updated_after=` on GET /api/v1/distributors/; existing rows get the time of the migration."""

import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('distributors', '0005_external_id_validator'),
    ]

    operations = [
        migrations.AddField(
            model_name='distributor',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, db_default=django.db.models.functions.datetime.Now()),
        ),
        migrations.AddIndex(
            model_name='distributor',
            index=models.Index(fields=['tenant', 'updated_at'], name='distributor_tenant_updated'),
        ),
    ]
