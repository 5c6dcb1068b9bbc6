"""The Idempotency-Key kept on a withdrawal takes 255 characters, the API's limit
(fenxiao.api.idempotency)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0007_public_ids_unique'),
    ]

    operations = [
        migrations.AlterField(
            model_name='withdrawal',
            name='idempotency_key',
            field=models.CharField(blank=True, default='', max_length=255),
        ),
    ]
