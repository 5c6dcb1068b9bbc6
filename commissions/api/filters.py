import django_filters

from fenxiao.api.filters import UpdatedAfterFilter

from ..models import CommissionRecord


class CommissionRecordFilter(django_filters.FilterSet):
    beneficiary = django_filters.CharFilter(field_name="beneficiary__external_id", help_text="beneficiary external_id")
    level = django_filters.ChoiceFilter(choices=[(1, "1"), (2, "2"), (3, "3")])
    status = django_filters.ChoiceFilter(choices=CommissionRecord.Status.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = UpdatedAfterFilter()

    class Meta:
        model = CommissionRecord
        fields = ["beneficiary", "level", "status", "created_after", "created_before", "updated_after"]
