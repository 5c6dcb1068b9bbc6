from rest_framework import serializers

from fenxiao.api.fields import AmountField, ModelSerializer

from ..models import CommissionRecord


class CommissionRecordSerializer(ModelSerializer):
    order_external_id = serializers.CharField(source="order.external_id", read_only=True)
    beneficiary_external_id = serializers.CharField(source="beneficiary.external_id", read_only=True)
    net_amount = AmountField(read_only=True)
    plan_version = serializers.IntegerField(source="plan.version", read_only=True, default=None)
    grade = serializers.CharField(source="grade.code", read_only=True, default=None)

    class Meta:
        model = CommissionRecord
        fields = [
            "id", "order_external_id", "beneficiary_external_id", "level", "currency", "base", "rate", "amount",
            "reversed_amount", "net_amount", "status", "settles_at", "plan_version", "grade", "lines", "created_at",
        ]
        read_only_fields = fields
