"""An index for `?updated_after=` on GET /api/v1/orders/ (orders kept `updated_at` already)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0004_refund_by_lines_amounts'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['tenant', 'updated_at'], name='order_tenant_updated'),
        ),
    ]
