"""Plans and backtests get an opaque public id (plan_..., bt_...; fenxiao.publicid): the API's `id`,
in URLs and bodies, instead of the integer key shared by every tenant."""
import fenxiao.publicid
from django.db import migrations, models

from fenxiao.publicid import backfill, backfill_history


def give_each_row_its_own(apps, schema_editor):
    """AddField gave every existing row the same new id: draw one per row (and copy it to the
    row's audit history)."""
    backfill(apps.get_model('commissions', 'Backtest'))
    backfill(apps.get_model('commissions', 'CommissionPlan'))
    backfill_history(apps.get_model('commissions', 'CommissionPlan'), apps.get_model('commissions', 'HistoricalCommissionPlan'))


class Migration(migrations.Migration):

    dependencies = [
        ('commissions', '0007_money_minor_units'),
    ]

    operations = [
        migrations.AddField(
            model_name='backtest',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='bt'),
        ),
        migrations.AddField(
            model_name='commissionplan',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='plan'),
        ),
        migrations.AddField(
            model_name='historicalcommissionplan',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='plan'),
        ),
        migrations.RunPython(give_each_row_its_own, migrations.RunPython.noop),
    ]
