"""Query parameters and answer shapes of the reports API (domain rules section 9). The answers are
built by reports.selectors (plain dicts); these serializers check the query strings and document
the answers in the OpenAPI schema. Money: decimal strings with the tenant currency's places;
counts: integers; days: ISO dates in the tenant's time zone, ranges [from, to) with `to` excluded."""
from __future__ import annotations

from rest_framework import serializers

from ..selectors import INTERVALS


def _money(help_text: str = "") -> serializers.CharField:
    return serializers.CharField(help_text=help_text or "tenant currency, with its places")


#: ?from=&to=&interval=&channel= (type(): "from" is a Python keyword).
SummaryQuery = type("SummaryQuery", (serializers.Serializer,), {
    "from": serializers.DateField(help_text="the first local day (tenant time zone), e.g. 2026-03-01"),
    "to": serializers.DateField(help_text="the day after the last: the range is [from, to), to=2026-04-01 ends with March"),
    "interval": serializers.ChoiceField(choices=INTERVALS, required=False, default="day",
                                        help_text="day, week (from Monday) or month buckets; default day"),
    "channel": serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False,
                                     help_text="only the orders of this channel (a code the tenant's orders carry)"),
})

ChannelsQuery = type("ChannelsQuery", (serializers.Serializer,), {
    "from": serializers.DateField(help_text="the first local day (tenant time zone)"),
    "to": serializers.DateField(help_text="the day after the last (excluded)"),
})


class MonthlyQuery(serializers.Serializer):
    year = serializers.IntegerField(required=False, allow_null=True, default=None,
                                    help_text="the year (default: the current one in the tenant's time zone)")


class LevelFiguresSerializer(serializers.Serializer):
    accrued = _money("commission accrued (ledger accrual entries)")
    reversed = _money("commission reversed: reversal (before settlement) and clawback (after) entries")
    net = _money("accrued - reversed")


FIGURES = {
    "orders": serializers.IntegerField(help_text="paid orders with a net sales value above 0"),
    "sales": _money("commission base of the orders paid (goods after discounts)"),
    "refunded_sales": _money("of which refunded so far"),
    "net_sales": _money("sales - refunded_sales"),
    "gmv": _money("sales + shipping + tax"),
    "refunded_gmv": _money("of which refunded so far"),
    "net_gmv": _money("gmv - refunded_gmv"),
    "commission_by_level": serializers.DictField(child=LevelFiguresSerializer(), help_text='levels "1", "2", "3"'),
    "commission": LevelFiguresSerializer(help_text="every level together"),
    "commission_settled": _money("frozen -> available (settlement entries)"),
    "bonuses": _money("contest prizes and tier bonuses credited; null under a channel filter"),
    "new_distributors": serializers.IntegerField(allow_null=True, help_text="joined (pending applicants not counted); "
                                                                            "null under a channel filter"),
    "active_distributors": serializers.IntegerField(help_text="with a counted direct order; in `total`, each once"),
    "withdrawals_paid": _money("withdrawals paid out (transfers and fees); null under a channel filter"),
    "withdrawal_fees": _money("of which fees; null under a channel filter"),
}

BucketSerializer = type("ReportBucket", (serializers.Serializer,), {
    "__doc__": "The figures of one bucket (or of the whole range): [start, end) in local days.",
    "start": serializers.DateField(), "end": serializers.DateField(help_text="excluded"), **FIGURES,
})

SummarySerializer = type("ReportSummary", (serializers.Serializer,), {
    "__doc__": "The tenant summary (domain rules section 9).",
    "currency": serializers.CharField(), "timezone": serializers.CharField(),
    "from": serializers.DateField(), "to": serializers.DateField(help_text="excluded"),
    "interval": serializers.ChoiceField(choices=INTERVALS), "channel": serializers.CharField(allow_null=True),
    "buckets": BucketSerializer(many=True), "total": BucketSerializer(),
})

_CHANNEL_FIGURES = {k: FIGURES[k] for k in ("orders", "sales", "refunded_sales", "net_sales", "gmv", "refunded_gmv",
                                             "net_gmv", "commission")}
ChannelRowSerializer = type("ReportChannel", (serializers.Serializer,), {
    "__doc__": "One channel's sales and the commission on its orders.",
    "channel": serializers.CharField(allow_null=True, help_text="null: orders without a channel"), **_CHANNEL_FIGURES,
    "share": serializers.CharField(allow_null=True, help_text="of the net sales of every channel, 4 places"),
})
ChannelTotalSerializer = type("ReportChannelTotal", (serializers.Serializer,), {
    **_CHANNEL_FIGURES, "share": serializers.CharField(allow_null=True)})
ChannelsSerializer = type("ReportChannels", (serializers.Serializer,), {
    "__doc__": "Sales per channel (domain rules section 9).",
    "currency": serializers.CharField(), "timezone": serializers.CharField(),
    "from": serializers.DateField(), "to": serializers.DateField(help_text="excluded"),
    "results": ChannelRowSerializer(many=True), "total": ChannelTotalSerializer(),
})

_BALANCES = {b: _money() for b in ("frozen", "available", "held", "withdrawn", "fees", "total_earned")}
BalancesSerializer = type("StatementBalances", (serializers.Serializer,), {
    "__doc__": "Balances: frozen, available, held (in withdrawal), withdrawn, fees, total_earned.", **_BALANCES})


class StatementMovementsSerializer(serializers.Serializer):
    commission_accrued = _money()
    commission_reversed = _money("before settlement, from frozen")
    commission_clawed_back = _money("after settlement, from available")
    commission_settled = _money()
    bonuses = _money()
    withdrawals_requested = _money()
    withdrawals_returned = _money("rejected withdrawals, back to available")
    withdrawals_paid = _money("transferred, net of fees")
    withdrawal_fees = _money()
    adjustments = BalancesSerializer(help_text="manual corrections, per balance")


class StatementEntrySerializer(serializers.Serializer):
    at = serializers.CharField(help_text="RFC 3339 in the tenant's time zone")
    kind = serializers.CharField()
    amount = _money()
    level = serializers.IntegerField(allow_null=True)
    order_external_id = serializers.CharField(allow_null=True)
    refund_external_id = serializers.CharField(allow_null=True)
    withdrawal_id = serializers.IntegerField(allow_null=True)
    memo = serializers.CharField()


StatementSerializer = type("Statement", (serializers.Serializer,), {
    "__doc__": "A distributor's monthly statement (对账单): opening + movements = closing = the ledger.",
    "distributor_external_id": serializers.CharField(), "name": serializers.CharField(),
    "month": serializers.CharField(help_text="YYYY-MM"), "currency": serializers.CharField(),
    "timezone": serializers.CharField(), "from": serializers.CharField(), "to": serializers.CharField(),
    "closed": serializers.BooleanField(help_text="the month is over (else the statement runs to now)"),
    "opening": BalancesSerializer(), "movements": StatementMovementsSerializer(),
    "commission_by_level": serializers.DictField(child=LevelFiguresSerializer()),
    "closing": BalancesSerializer(), "entries": StatementEntrySerializer(many=True),
})

_MONTH_FIGURES = {
    "direct_sales": _money("orders I am level 1 of, paid that month, net of refunds"),
    "team_sales": _money("orders I am at any level of"),
    "orders": serializers.IntegerField(help_text="my counted direct orders"),
    "commission": _money("commission of the month's orders, net of reversals"),
    "commission_accrued": _money("journalled that month"), "commission_reversed": _money(),
    "commission_settled": _money(), "bonuses": _money(), "earned": _money("accrued - reversed + bonuses"),
    "withdrawals_paid": _money("transfers and fees"), "withdrawal_fees": _money(),
}
MonthRowSerializer = type("MyMonth", (serializers.Serializer,), {
    "month": serializers.CharField(help_text="YYYY-MM"), **_MONTH_FIGURES})
MonthTotalSerializer = type("MyMonthsTotal", (serializers.Serializer,), dict(_MONTH_FIGURES))


class MyMonthsSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    currency = serializers.CharField()
    timezone = serializers.CharField()
    months = MonthRowSerializer(many=True)
    total = MonthTotalSerializer()
