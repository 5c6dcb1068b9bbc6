"""Public ids are unique per tenant (the lookups' index, tenant first), once every row has its own."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incentives', '0005_public_ids'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='contest',
            constraint=models.UniqueConstraint(fields=('tenant', 'public_id'), name='contest_tenant_public_id'),
        ),
        migrations.AddConstraint(
            model_name='tierbonusscheme',
            constraint=models.UniqueConstraint(fields=('tenant', 'public_id'), name='tierscheme_tenant_public_id'),
        ),
        migrations.AddConstraint(
            model_name='target',
            constraint=models.UniqueConstraint(fields=('tenant', 'public_id'), name='target_tenant_public_id'),
        ),
    ]
