"""Staff endpoints for commission plans, grades and the preview (the PM console's powers over DRF)."""
from decimal import Decimal

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from distributors.models import Grade
from fenxiao.api.base import StaffAPIView, StaffGenericView, body_or_empty
from fenxiao.api.fields import (
    AwareDateTimeField, ExternalIdField, ModelSerializer, MoneyField, PlainIntegerField, StrictSerializer,
)
from fenxiao.exceptions import NotFound, invalid

from .. import plans as plan_services
from ..models import CommissionPlan, RuleKind
from ..services import commission_preview, grade_override_set


class RuleRowSerializer(StrictSerializer):
    scope = serializers.ChoiceField(choices=["default", "category", "sku"], default="default")
    scope_value = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    level = serializers.IntegerField(min_value=1, max_value=3)
    kind = serializers.ChoiceField(choices=RuleKind.choices, default="percent")
    value = serializers.DecimalField(max_digits=9, decimal_places=4, min_value=Decimal(0))


def rule_value(rule) -> str:
    """A rule's or override's value as written: a percent rate as a 4-place fraction ("0.1000"), a
    fixed amount per unit with the tenant currency's places ("10.00" CNY, "10" JPY)."""
    if rule.kind == RuleKind.FIXED:
        from fenxiao.currencies import money_str
        from tenants.context import current_tenant

        return money_str(rule.value, current_tenant().currency)
    return str(rule.value)


class PlanWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    rules = RuleRowSerializer(many=True, required=False, max_length=2000)
    based_on = serializers.IntegerField(required=False, help_text="copy the rules of this version (id)")


class PlanSerializer(serializers.ModelSerializer):
    rules = serializers.SerializerMethodField()
    based_on_version = serializers.IntegerField(source="based_on.version", read_only=True, default=None)

    class Meta:
        model = CommissionPlan
        fields = ["id", "version", "name", "status", "effective_from", "published_at", "based_on_version", "created_at", "rules"]
        read_only_fields = fields

    def get_rules(self, obj) -> list[dict]:
        return [{"scope": r.scope, "scope_value": r.scope_value, "level": r.level, "kind": r.kind, "value": rule_value(r)}
                for r in obj.rules.all()]


def rows(data) -> list[plan_services.RuleRow]:
    return [plan_services.RuleRow(r["scope"], r["scope_value"], r["level"], r["kind"], r["value"]) for r in data]


def get_plan(pk) -> CommissionPlan:
    found = CommissionPlan.objects.prefetch_related("rules").select_related("based_on").filter(pk=pk).first()
    if found is None:
        raise NotFound(gettext("No plan with this id."))
    return found


class PlanListView(StaffGenericView):
    staff_perms = {"GET": ["commissions.view_commissionplan"], "POST": ["commissions.add_commissionplan"]}
    serializer_class = PlanSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CommissionPlan.unscoped.none()
        return CommissionPlan.objects.prefetch_related("rules").select_related("based_on").order_by("-version")

    @extend_schema(responses=PlanSerializer(many=True))
    def get(self, request):
        """Every plan version of the tenant, newest first (old versions stay readable)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PlanSerializer(page, many=True).data)

    @extend_schema(request=PlanWriteSerializer, responses={201: PlanSerializer})
    def post(self, request):
        """Create a draft version, from `rules` or copied from `based_on`. Guardrails as 400."""
        s = PlanWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        based_on = get_plan(d["based_on"]) if "based_on" in d else None
        plan = plan_services.plan_draft_create(tenant=request.tenant, name=d.get("name", ""),
                                               rows=rows(d["rules"]) if "rules" in d else None, based_on=based_on)
        return Response(PlanSerializer(get_plan(plan.pk)).data, status=201)


class PlanDetailView(StaffAPIView):
    staff_perms = {"GET": ["commissions.view_commissionplan"], "PATCH": ["commissions.change_commissionplan"]}
    @extend_schema(responses=PlanSerializer)
    def get(self, request, pk):
        """One plan version with its rules (a draft, published or superseded one); 404 when the
        tenant has no plan with this id."""
        return Response(PlanSerializer(get_plan(pk)).data)

    @extend_schema(request=PlanWriteSerializer, responses=PlanSerializer)
    def patch(self, request, pk):
        """Rename a draft and/or replace its rules; a published version answers 409."""
        plan = get_plan(pk)
        s = PlanWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        plan_services.plan_draft_update(plan=plan, name=d.get("name"), rows=rows(d["rules"]) if "rules" in d else None)
        return Response(PlanSerializer(get_plan(pk)).data)


class PublishSerializer(StrictSerializer):
    effective_from = AwareDateTimeField(required=False, allow_null=True, default=None)


class PlanPublishView(StaffAPIView):
    staff_perms = {"POST": ["commissions.change_commissionplan"]}
    @extend_schema(request=PublishSerializer, responses=PlanSerializer)
    def post(self, request, pk):
        """Publish a draft from effective_from (default now; never in the past)."""
        plan = get_plan(pk)
        s = PublishSerializer(data=body_or_empty(request))
        s.is_valid(raise_exception=True)
        plan_services.plan_draft_publish(plan=plan, effective_from=s.validated_data["effective_from"])
        return Response(PlanSerializer(get_plan(pk)).data)


class OverrideSerializer(StrictSerializer):
    level = serializers.IntegerField(min_value=1, max_value=3)
    kind = serializers.ChoiceField(choices=RuleKind.choices, default="percent")
    value = serializers.DecimalField(max_digits=9, decimal_places=4, min_value=Decimal(0))


class GradeConditionsMixin(serializers.Serializer):
    """A grade's upgrade conditions (domain rules section 8): all that are set must hold; null
    drops one; a grade with none is given by hand only. Money in the tenant currency, >= 0, in
    its minor units (`max_decimal_places` otherwise: "1000.5" for JPY)."""

    min_direct_sales = MoneyField(required=False, allow_null=True,
                                  help_text="lifetime direct sales of settled orders (tenant currency)")
    min_direct_downlines = PlainIntegerField(min_value=0, max_value=10_000_000, required=False, allow_null=True,
                                             help_text="active level-1 downlines")
    min_team_sales = MoneyField(required=False, allow_null=True,
                                help_text="lifetime team sales of settled orders (tenant currency)")

    def _in_minor_units(self, value):
        from fenxiao.currencies import fits, minor_units
        from tenants.context import current_tenant

        places = minor_units(current_tenant().currency)
        if value is not None and not fits(value, places):
            raise serializers.ValidationError(
                gettext("Give at most %(places)s decimal places (the currency's minor unit).") % {"places": places},
                code="max_decimal_places")
        return value

    validate_min_direct_sales = validate_min_team_sales = _in_minor_units


CONDITIONS = ("min_direct_sales", "min_direct_downlines", "min_team_sales")


class GradeWriteSerializer(GradeConditionsMixin, StrictSerializer):
    code = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)
    rank = serializers.IntegerField(min_value=0, default=0)
    overrides = OverrideSerializer(many=True, required=False, max_length=3)


class GradePatchSerializer(GradeConditionsMixin, StrictSerializer):
    """PATCH body: every field optional, each checked as in POST. Not DRF's `partial=True`, which
    also made `level` and `value` of every override row optional (a row without `value` then
    failed with a 500 instead of a 400)."""

    code = serializers.SlugField(max_length=64, required=False)
    name = serializers.CharField(max_length=200, required=False)
    rank = serializers.IntegerField(min_value=0, required=False)
    overrides = OverrideSerializer(many=True, required=False, max_length=3)


class GradeSerializer(ModelSerializer):
    overrides = serializers.SerializerMethodField()

    class Meta:
        model = Grade
        fields = ["id", "code", "name", "rank", "overrides", *CONDITIONS]
        read_only_fields = fields

    def get_overrides(self, obj) -> list[dict]:
        return [{"level": o.level, "kind": o.kind, "value": rule_value(o)} for o in obj.overrides.all()]


class GradeListView(StaffGenericView):
    staff_perms = {"GET": ["distributors.view_grade"], "POST": ["distributors.add_grade"]}
    serializer_class = GradeSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Grade.unscoped.none()
        return Grade.objects.prefetch_related("overrides")

    @extend_schema(responses=GradeSerializer(many=True))
    def get(self, request):
        """The tenant's grades by rank, paginated, each with its per-level overrides
        (`{"level", "kind", "value"}`, rates as 4-place fractions) and its upgrade conditions
        (min_direct_sales and min_team_sales in the tenant currency, min_direct_downlines; null:
        not a condition)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(GradeSerializer(page, many=True).data)

    @extend_schema(request=GradeWriteSerializer, responses={201: GradeSerializer})
    def post(self, request):
        """Create a grade with per-level overrides (checked against max_total_rate) and optional
        upgrade conditions (min_direct_sales, min_direct_downlines, min_team_sales: >= 0, money in
        the currency's minor units; domain rules section 8)."""
        from django.db import transaction

        s = GradeWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        if Grade.objects.filter(code=d["code"]).exists():
            raise invalid("code", gettext("A grade with this code exists."), "unique")
        with transaction.atomic():
            grade = Grade.objects.create(tenant=request.tenant, code=d["code"], name=d["name"], rank=d["rank"],
                                         **{k: d[k] for k in CONDITIONS if k in d})
            for o in d.get("overrides", []):
                grade_override_set(grade=grade, **o)
        return Response(GradeSerializer(Grade.objects.prefetch_related("overrides").get(pk=grade.pk)).data, status=201)


class GradeDetailView(StaffAPIView):
    staff_perms = {"GET": ["distributors.view_grade"], "PATCH": ["distributors.change_grade"]}

    @extend_schema(responses=GradeSerializer)
    def get(self, request, pk):
        """One grade with its overrides and upgrade conditions; 404 for another tenant's or a
        missing grade."""
        grade = Grade.objects.prefetch_related("overrides").filter(pk=pk).first()
        if grade is None:
            raise NotFound(gettext("No grade with this id."))
        return Response(GradeSerializer(grade).data)

    @extend_schema(request=GradePatchSerializer, responses=GradeSerializer)
    def patch(self, request, pk):
        """Change a grade's code, name, rank or upgrade conditions (null drops one) and set
        per-level overrides (`{"level", "kind"?, "value"}`; to drop one, set its value to 0).
        Validated as POST validates: 400 in the error shape for a bad field or override row, a
        code another grade has (`unique`), or overrides above max_total_rate; nothing is written
        then. 404 for another tenant's or a missing grade."""
        from django.db import transaction

        grade = Grade.objects.filter(pk=pk).first()
        if grade is None:
            raise NotFound(gettext("No grade with this id."))
        s = GradePatchSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        if "code" in d and d["code"] != grade.code and Grade.objects.filter(code=d["code"]).exists():
            raise invalid("code", gettext("A grade with this code exists."), "unique")
        with transaction.atomic():
            for key in ("code", "name", "rank", *CONDITIONS):
                if key in d:
                    setattr(grade, key, d[key])
            grade.save()
            for o in d.get("overrides", []):
                grade_override_set(grade=grade, **o)
        return Response(GradeSerializer(Grade.objects.prefetch_related("overrides").get(pk=grade.pk)).data)


class PreviewSerializer(StrictSerializer):
    order = serializers.JSONField(help_text="an order body as for POST /api/v1/orders/ (external_id optional)")
    distributor_external_id = ExternalIdField(required=False, help_text="the referrer, when the order names none")
    plan_id = serializers.IntegerField(required=False, help_text="a plan version (a draft too); default: the one in force")


class PreviewView(StaffAPIView):
    staff_perms = {"POST": ["commissions.view_commissionplan"]}
    @extend_schema(request=PreviewSerializer, responses=inline_serializer("PreviewResult", {
        "plan_version": serializers.IntegerField(allow_null=True), "currency": serializers.CharField(),
        "commission_base": serializers.DecimalField(max_digits=20, decimal_places=4, help_text="with the currency's places"),
        "levels": serializers.ListField(child=serializers.DictField()),
    }))
    def post(self, request):
        """What an order would pay at each level (beneficiary, rule, rate, amount), nothing written."""
        from orders.api.serializers import OrderCreateSerializer
        from orders.validation import order_input

        s = PreviewSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        body = dict(s.validated_data["order"]) if isinstance(s.validated_data["order"], dict) else None
        if body is None:
            raise invalid("order", gettext("order must be an object."), "invalid")
        body.setdefault("external_id", "preview")
        if s.validated_data.get("distributor_external_id") and not body.get("referrer_external_id"):
            body["referrer_external_id"] = s.validated_data["distributor_external_id"]
        o = OrderCreateSerializer(data=body)
        if not o.is_valid():
            raise serializers.ValidationError({"order": o.errors})
        plan = get_plan(s.validated_data["plan_id"]) if "plan_id" in s.validated_data else None
        return Response(commission_preview(tenant=request.tenant, data=order_input(dict(o.validated_data)), plan=plan))




class BacktestCreateSerializer(StrictSerializer):
    plan_id = serializers.IntegerField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()


class BacktestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    plan_version = serializers.IntegerField(source="plan.version")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    status = serializers.CharField()
    total_orders = serializers.IntegerField()
    processed_orders = serializers.IntegerField()
    progress = serializers.FloatField()
    results = serializers.SerializerMethodField()
    error = serializers.CharField()
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_results(self, obj) -> dict:
        return {k: v for k, v in obj.results.items() if k != "by_distributor"}


def get_backtest(pk):
    from ..models import Backtest

    found = Backtest.objects.select_related("plan").filter(pk=pk).first()
    if found is None:
        raise NotFound(gettext("No backtest with this id."))
    return found


class BacktestListView(StaffGenericView):
    staff_perms = {"GET": ["commissions.view_backtest"], "POST": ["commissions.add_backtest"]}
    serializer_class = BacktestSerializer

    def get_queryset(self):
        from ..models import Backtest

        if getattr(self, "swagger_fake_view", False):
            return Backtest.unscoped.none()
        return Backtest.objects.select_related("plan")

    @extend_schema(responses=BacktestSerializer(many=True))
    def get(self, request):
        """The tenant's backtests, newest first, paginated: plan version, date range, status,
        progress (processed / total orders) and, once done, the results per level."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(BacktestSerializer(page, many=True).data)

    @extend_schema(request=BacktestCreateSerializer, responses={201: BacktestSerializer})
    def post(self, request):
        """Replay a plan version (a draft too) on the orders paid in [date_from, date_to] (local
        days): a Celery task re-prices them, nothing is written to the ledger. Poll GET .../{id}/."""
        from ..backtest import backtest_create

        s = BacktestCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        bt = backtest_create(tenant=request.tenant, plan=get_plan(d["plan_id"]), date_from=d["date_from"],
                             date_to=d["date_to"], actor=request.user.get_username())
        return Response(BacktestSerializer(get_backtest(bt.pk)).data, status=201)


class BacktestDetailView(StaffAPIView):
    staff_perms = {"GET": ["commissions.view_backtest"]}
    @extend_schema(responses=BacktestSerializer)
    def get(self, request, pk):
        """Progress while it runs; results when done: totals, per level, per category, top 20."""
        return Response(BacktestSerializer(get_backtest(pk)).data)


class BacktestCsvView(StaffAPIView):
    staff_perms = {"GET": ["commissions.view_backtest"]}
    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request, pk):
        """Per-distributor actual / backtest / delta as CSV."""
        from django.http import HttpResponse

        from ..backtest import backtest_csv

        response = HttpResponse(backtest_csv(get_backtest(pk)), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="backtest-{pk}.csv"'
        return response
