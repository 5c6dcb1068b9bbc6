"""Contests, tier bonus schemes and targets get an opaque public id (contest_..., tier_...,
target_...; fenxiao.publicid): the API's `id`, in URLs and bodies."""
import fenxiao.publicid
from django.db import migrations, models

from fenxiao.publicid import backfill, backfill_history


def give_each_row_its_own(apps, schema_editor):
    """AddField gave every existing row the same new id: draw one per row (and copy it to the
    row's audit history)."""
    backfill(apps.get_model('incentives', 'Contest'))
    backfill_history(apps.get_model('incentives', 'Contest'), apps.get_model('incentives', 'HistoricalContest'))
    backfill(apps.get_model('incentives', 'TierBonusScheme'))
    backfill_history(apps.get_model('incentives', 'TierBonusScheme'), apps.get_model('incentives', 'HistoricalTierBonusScheme'))
    backfill(apps.get_model('incentives', 'Target'))
    backfill_history(apps.get_model('incentives', 'Target'), apps.get_model('incentives', 'HistoricalTarget'))


class Migration(migrations.Migration):

    dependencies = [
        ('incentives', '0004_contest_rank_snapshot'),
    ]

    operations = [
        migrations.AddField(
            model_name='contest',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='contest'),
        ),
        migrations.AddField(
            model_name='historicalcontest',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='contest'),
        ),
        migrations.AddField(
            model_name='tierbonusscheme',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='tier'),
        ),
        migrations.AddField(
            model_name='historicaltierbonusscheme',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='tier'),
        ),
        migrations.AddField(
            model_name='target',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='target'),
        ),
        migrations.AddField(
            model_name='historicaltarget',
            name='public_id',
            field=fenxiao.publicid.PublicIdField(prefix='target'),
        ),
        migrations.RunPython(give_each_row_its_own, migrations.RunPython.noop),
    ]
