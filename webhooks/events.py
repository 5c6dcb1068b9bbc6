"""The events a partner can subscribe to (domain rules section 10; spec/api.md "Webhooks").

Every one is written to the outbox (ledger.models.OutboxEvent) in the same transaction as the change
it reports; tests/webhooks/test_events.py checks that this list is exactly the set of types the code
writes, so a new event type cannot be written without being subscribable.
"""
from django.utils.translation import gettext_lazy as _

#: type -> what it tells (shown in the console; the API takes and answers the types)
EVENT_TYPES: dict[str, object] = {
    "order.commissions_created": _("a paid order's commissions were accrued (frozen)"),
    "commission.settled": _("a commission settled: frozen -> available"),
    "commission.reversed": _("a refund reversed commissions (or clawed them back)"),
    "withdrawal.updated": _("a withdrawal was requested, approved, rejected or paid"),
    "contest.finalized": _("a sales contest was finalized and its prizes credited"),
    "bonus.credited": _("a contest prize or tier bonus was credited"),
    "distributor.upgraded": _("a distributor's grade changed"),
}
