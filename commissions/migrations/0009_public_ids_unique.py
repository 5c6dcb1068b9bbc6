"""Public ids are unique per tenant (the lookups' index, tenant first), once every row has its own."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('commissions', '0008_public_ids'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='backtest',
            constraint=models.UniqueConstraint(fields=('tenant', 'public_id'), name='backtest_tenant_public_id'),
        ),
        migrations.AddConstraint(
            model_name='commissionplan',
            constraint=models.UniqueConstraint(fields=('tenant', 'public_id'), name='plan_tenant_public_id'),
        ),
    ]
