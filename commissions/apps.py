from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    name = "commissions"
    verbose_name = _("Commissions")

    def ready(self):
        from fenxiao import oncommit

        from . import tasks

        # The work services start on commit without importing the tasks (fenxiao.oncommit): the
        # order intake's accrual (orders.services) and a new backtest's run (commissions.backtest).
        # Each looks the task module's function up when it runs, so a test that replaces
        # tasks.accrual_enqueue (a lost message) replaces it here too.
        oncommit.register("commissions.accrue", lambda **kw: tasks.accrual_enqueue(**kw))
        oncommit.register("commissions.backtest", lambda **kw: tasks.backtest_enqueue(**kw))
