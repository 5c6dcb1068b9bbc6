from rest_framework import serializers

from fenxiao.api.fields import ModelSerializer, PlainDecimalField, StrictSerializer
from fenxiao.currencies import MAX_PLACES, money_str
from fenxiao.amounts import currency_of
from fenxiao.money import TENANT

from ..models import LedgerEntry, Withdrawal


class LedgerEntrySerializer(ModelSerializer):
    order_external_id = serializers.SerializerMethodField()
    level = serializers.IntegerField(source="record.level", read_only=True, default=None)
    refund_external_id = serializers.CharField(source="refund.external_id", read_only=True, default=None)
    withdrawal_id = serializers.CharField(source="withdrawal.public_id", read_only=True, allow_null=True, default=None,
                                          help_text="the withdrawal's id (wd_...), for withdrawal entries")
    deltas = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount", "deltas", "order_external_id", "level", "refund_external_id",
                  "withdrawal_id", "memo", "created_at"]
        read_only_fields = fields

    def get_order_external_id(self, obj) -> str | None:
        return obj.record.order.external_id if obj.record_id else None

    def get_deltas(self, obj) -> dict[str, str]:
        currency = currency_of(obj, TENANT)
        return {k: money_str(v, currency) for k, v in obj.deltas().items() if v}


class WithdrawalRequestSerializer(StrictSerializer):
    amount = PlainDecimalField(max_digits=14 + MAX_PLACES, decimal_places=MAX_PLACES,
                               help_text="tenant currency, whole minor units (0.01 CNY, 1 JPY)")
    method = serializers.ChoiceField(choices=Withdrawal.Method.choices)
    account = serializers.CharField(max_length=200)
    account_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class WithdrawalSerializer(ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True,
                               help_text="opaque id: wd_ and 16 base32 characters (fenxiao.publicid)")
    distributor_external_id = serializers.CharField(source="distributor.external_id", read_only=True)

    class Meta:
        model = Withdrawal
        fields = ["id", "distributor_external_id", "amount", "fee", "transfer_amount", "currency", "method", "account",
                  "account_name", "status", "reason", "payout_reference", "requested_at", "decided_at", "decided_by", "paid_at"]
        read_only_fields = fields


class WithdrawalRejectSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class WithdrawalPaySerializer(StrictSerializer):
    payout_reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class NoBodySerializer(StrictSerializer):
    pass
