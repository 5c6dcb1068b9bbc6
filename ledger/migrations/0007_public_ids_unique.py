"""Public ids are unique per tenant (the lookups' index, tenant first), once every row has its own."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0006_public_ids'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='withdrawal',
            constraint=models.UniqueConstraint(fields=('tenant', 'public_id'), name='withdrawal_tenant_public_id'),
        ),
    ]
