"""Withdrawals get an opaque public id (wd_...; fenxiao.publicid): the API's `id`, in URLs and bodies,
instead of the integer key shared by every tenant."""
import fenxiao.publicid
from django.db import migrations, models

from fenxiao.publicid import backfill, backfill_history


def give_each_row_its_own(apps, schema_editor):
    """AddField gave every existing row the same new id: draw one per row (and copy it to the
    row's audit history)."""
    backfill(apps.get_model('ledger', 'Withdrawal'))
    backfill_history(apps.get_model('ledger', 'Withdrawal'), apps.get_model('ledger', 'HistoricalWithdrawal'))


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0005_sweep_schedules'),
    ]

    operations = [
        migrations.AddField(
            model_name='withdrawal',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='wd'),
        ),
        migrations.AddField(
            model_name='historicalwithdrawal',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='wd'),
        ),
        migrations.RunPython(give_each_row_its_own, migrations.RunPython.noop),
    ]
