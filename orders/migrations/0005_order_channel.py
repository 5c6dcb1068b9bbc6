import fenxiao.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0004_refund_by_lines_amounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="channel",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=32,
                help_text="the sales channel the partner names (mini_program, h5, app, store, ...); empty: none",
                validators=[fenxiao.validators.validate_channel],
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(condition=models.Q(("channel", ""), _negated=True), fields=["tenant", "channel", "paid_at"],
                               name="order_tenant_channel"),
        ),
    ]
