from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fenxiao.api.fields import ExternalIdField, AwareDateTimeField, StrictSerializer

from ..models import Customer, Distributor, GradeChange


class DistributorCreateSerializer(StrictSerializer):
    external_id = ExternalIdField()
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    invite_code = serializers.CharField(max_length=16, required=False, allow_null=True, default=None)
    parent_external_id = ExternalIdField(required=False, allow_null=True, default=None)
    grade = serializers.CharField(max_length=64, required=False, allow_null=True, default=None)
    password = serializers.CharField(max_length=128, min_length=8, required=False, allow_null=True, default=None,
                                     write_only=True, help_text="portal password (stored hashed)")
    joined_at = AwareDateTimeField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if attrs.get("invite_code") and attrs.get("parent_external_id"):
            raise serializers.ValidationError(
                {"invite_code": [serializers.ErrorDetail(gettext("Give invite_code or parent_external_id, not both."), code="ambiguous_upline")]}
            )
        return attrs


class DistributorUpdateSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=Distributor.Status.choices, required=False)
    parent_external_id = ExternalIdField(required=False, allow_null=True, help_text="a move; null makes it a root")
    grade = serializers.CharField(max_length=64, required=False, allow_null=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class DistributorSerializer(serializers.ModelSerializer):
    grade = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parent_external_id = serializers.CharField(source="parent.external_id", read_only=True, default=None)

    class Meta:
        model = Distributor
        fields = ["external_id", "name", "phone", "status", "grade", "invite_code", "parent_external_id", "depth", "joined_at"]
        read_only_fields = fields


class CustomerCreateSerializer(StrictSerializer):
    external_id = ExternalIdField()
    invite_code = serializers.CharField(max_length=16, required=False, allow_null=True, default=None)
    referrer_external_id = ExternalIdField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if bool(attrs.get("invite_code")) == bool(attrs.get("referrer_external_id")):
            raise serializers.ValidationError(
                [serializers.ErrorDetail(gettext("Give exactly one of invite_code or referrer_external_id."), code="referrer_required")]
            )
        return attrs


class CustomerSerializer(serializers.ModelSerializer):
    referrer_external_id = serializers.CharField(source="referrer.external_id", read_only=True, default=None)

    class Meta:
        model = Customer
        fields = ["external_id", "referrer_external_id", "bound_at", "created_at"]
        read_only_fields = fields


class UplineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Distributor
        fields = ["external_id", "name"]


#: One step of a grade history (domain rules section 8): when, from which grade to which (codes;
#: null for none), the kind (upgrade: automatic; manual: staff; registration) and why. Built with
#: type() because "from" is a Python keyword.
GradeChangeSerializer = type("GradeChangeSerializer", (serializers.Serializer,), {
    "__doc__": "One step of a distributor's grade history.",
    "when": serializers.DateTimeField(source="created_at"),
    "from": serializers.CharField(source="from_grade.code", read_only=True, allow_null=True,
                                  help_text="the grade's code before (null: none)"),
    "to": serializers.CharField(source="to_grade.code", read_only=True, allow_null=True,
                                help_text="the grade's code after (null: none)"),
    "kind": serializers.ChoiceField(choices=GradeChange.Kind.choices),
    "reason": serializers.CharField(),
})


class MeSerializer(serializers.ModelSerializer):
    grade = serializers.SlugRelatedField(slug_field="code", read_only=True)
    invite_url = serializers.SerializerMethodField()
    upline = UplineSerializer(source="parent", read_only=True, allow_null=True)
    grade_history = serializers.SerializerMethodField(help_text="my grade changes, newest first (domain rules section 8)")

    class Meta:
        model = Distributor
        fields = ["external_id", "name", "phone", "status", "grade", "invite_code", "invite_url", "upline", "depth", "joined_at",
                  "grade_history"]
        read_only_fields = fields

    @extend_schema_field(GradeChangeSerializer(many=True))
    def get_grade_history(self, obj) -> list[dict]:
        from ..selectors import grade_history

        return GradeChangeSerializer(grade_history(distributor_id=obj.pk), many=True).data

    def get_invite_url(self, obj) -> str:
        """The tenant's invite_url_template with my code, or the portal's registration page on this
        server when the tenant has none (relations.selectors.invite_url: every tenant has a link)."""
        from relations.selectors import invite_url

        return invite_url(obj)


class DownlineSerializer(serializers.ModelSerializer):
    grade = serializers.SlugRelatedField(slug_field="code", read_only=True)
    personal_sales = serializers.SerializerMethodField()

    class Meta:
        model = Distributor
        fields = ["external_id", "name", "status", "grade", "depth", "joined_at", "personal_sales"]
        read_only_fields = fields

    def get_personal_sales(self, obj) -> str:
        return str(self.context["personal_sales"].get(obj.pk, "0.00"))


_DOWNLINE_FORMAT: list | None = None


def downline_bodies(rows, personal_sales: dict) -> list[dict]:
    """What DownlineSerializer(page, many=True) gives, from rows of
    distributors.selectors.DownlinePage.COLUMNS (id, external_id, name, status, grade code, depth,
    joined_at): each value through the serializer's own field (built once per process). A portal
    page of 50 serialized this way costs a tenth of the ModelSerializer's per-instance machinery;
    tests/distributors/test_tree.py proves the bodies equal."""
    global _DOWNLINE_FORMAT
    if _DOWNLINE_FORMAT is None:
        fields = DownlineSerializer().fields
        _DOWNLINE_FORMAT = [fields[name].to_representation for name in ("external_id", "name", "status", "depth",
                                                                       "joined_at")]
    ext, name, status, depth, joined = _DOWNLINE_FORMAT
    return [{
        "external_id": ext(r[1]), "name": name(r[2]), "status": status(r[3]), "grade": r[4],
        "depth": depth(r[5]), "joined_at": joined(r[6]), "personal_sales": str(personal_sales.get(r[0], "0.00")),
    } for r in rows]
