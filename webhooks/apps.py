from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from ledger import postings

        from fenxiao import oncommit

        from .tasks import relay_kick, relay_request

        oncommit.register("webhooks.relay", lambda **kw: relay_request(**kw))
        if relay_kick not in postings.OUTBOX_LISTENERS:
            postings.OUTBOX_LISTENERS.append(relay_kick)
