import json
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import path
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as DRFValidationError

from tenants.admin_scoping import (
    ReadOnlyTenantScopedAdmin, TenantScopedAdmin, TenantScopedHistoryAdmin, TenantScopedInline, staff_tenant_id,
)
from tenants.context import tenant_context
from tenants.models import Tenant

from . import plans as plan_services
from .models import Backtest, CommissionPlan, CommissionRecord, CommissionReversal, CommissionRule


def _message(exc: APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in detail.items())
    if isinstance(detail, list):
        return " ".join(map(str, detail))
    return str(detail)


class RuleFormSet(BaseInlineFormSet):
    """Guardrails at save (levels, places, negatives, the max_total_rate cap) as form errors."""

    def clean(self):
        super().clean()
        rows = []
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            d = form.cleaned_data
            rows.append(plan_services.RuleRow(d["scope"], d.get("scope_value") or "", d["level"], d["kind"], d["value"]))
        from tenants.context import peek_current_tenant_id

        tenant_id = self.instance.tenant_id or peek_current_tenant_id()
        tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id and tenant_id > 0 else None
        if tenant is None:
            return
        try:
            plan_services.rules_check(tenant=tenant, rows=rows)
        except DRFValidationError as exc:
            raise ValidationError(_message(exc)) from None


class RuleInline(TenantScopedInline, admin.TabularInline):
    model = CommissionRule
    formset = RuleFormSet
    extra = 3
    fields = ["scope", "scope_value", "level", "kind", "value"]

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.status == CommissionPlan.Status.DRAFT

    has_add_permission = has_delete_permission = has_change_permission


@admin.register(CommissionPlan)
class CommissionPlanAdmin(TenantScopedHistoryAdmin):
    list_display = ["version", "name", "status", "effective_from", "based_on", "created_at"]
    list_filter = ["status"]
    inlines = [RuleInline]
    actions = ["publish_now", "copy_to_draft"]
    readonly_fields = ["version", "status", "effective_from", "published_at", "based_on"]
    change_list_template = "admin/commissions/commissionplan/change_list.html"

    def save_model(self, request, obj, form, change):
        if not change:
            tenant_id = obj.tenant_id or staff_tenant_id(request)
            obj.tenant_id = tenant_id
            obj.version = plan_services._next_version(Tenant.objects.get(pk=tenant_id))
            obj.status = CommissionPlan.Status.DRAFT
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.status == CommissionPlan.Status.DRAFT)

    @admin.action(description="Publish the selected drafts now", permissions=["change"])
    def publish_now(self, request, queryset):
        for plan in queryset.order_by("version"):
            try:
                with tenant_context(plan.tenant_id):
                    plan_services.plan_draft_publish(plan=plan)
                self.message_user(request, f"v{plan.version} published.", messages.SUCCESS)
            except APIException as exc:
                self.message_user(request, f"v{plan.version}: {_message(exc)}", messages.ERROR)

    @admin.action(description="Copy to a new draft (to edit a published plan)", permissions=["add"])
    def copy_to_draft(self, request, queryset):
        for plan in queryset:
            with tenant_context(plan.tenant_id):
                draft = plan_services.plan_draft_create(tenant=plan.tenant, name=f"{plan.name} (edit)".strip(), based_on=plan)
            self.message_user(request, f"Draft v{draft.version} created from v{plan.version}.", messages.SUCCESS)

    def get_urls(self):
        return [path("preview/", self.admin_site.admin_view(self.preview_view), name="commissions_preview")] + super().get_urls()

    def preview_view(self, request):
        """'What would this order pay': an order body, a distributor and a plan -> each level."""
        from orders.api.serializers import OrderCreateSerializer
        from orders.api.views import order_input

        from .services import commission_preview

        tenant_id = staff_tenant_id(request) or (request.POST.get("tenant") or request.GET.get("tenant"))
        result, error = None, None
        form = PreviewForm(request.POST or None, tenant_id=tenant_id)
        if request.method == "POST" and form.is_valid() and tenant_id:
            body = form.cleaned_data["order"]
            body.setdefault("external_id", "preview")
            if form.cleaned_data["distributor"] and not body.get("referrer_external_id"):
                body["referrer_external_id"] = form.cleaned_data["distributor"]
            ser = OrderCreateSerializer(data=body)
            with tenant_context(int(tenant_id)):
                if not ser.is_valid():
                    error = json.dumps(ser.errors, default=str)
                else:
                    try:
                        tenant = Tenant.objects.get(pk=tenant_id)
                        result = commission_preview(tenant=tenant, data=order_input(dict(ser.validated_data)),
                                                    plan=form.cleaned_data["plan"])
                    except APIException as exc:
                        error = _message(exc)
        context = {**self.admin_site.each_context(request), "title": "Commission preview", "form": form,
                   "result": result, "error": error, "opts": self.model._meta}
        return TemplateResponse(request, "admin/commissions/preview.html", context)


class PreviewForm(forms.Form):
    distributor = forms.CharField(required=False, help_text="referrer external id (when the order names none)")
    plan = forms.ModelChoiceField(queryset=CommissionPlan.unscoped.none(), required=False,
                                  help_text="a draft too; empty: the plan in force")
    order = forms.CharField(widget=forms.Textarea(attrs={"rows": 12, "cols": 90}), initial=json.dumps({
        "currency": "CNY", "placed_at": "2026-01-15T10:00:00+08:00",
        "lines": [{"line_id": "1", "sku": "SKU-1", "category": "", "quantity": 1, "unit_price": "100.00"}]}, indent=2))

    def __init__(self, *args, tenant_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = CommissionPlan.unscoped.filter(tenant_id=tenant_id) if tenant_id else CommissionPlan.unscoped.none()

    def clean_order(self):
        try:
            value = json.loads(self.cleaned_data["order"], parse_float=Decimal)
        except ValueError as exc:
            raise ValidationError(f"Not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ValidationError("The order must be a JSON object.")
        return value


class ReversalInline(TenantScopedInline, admin.TabularInline):
    model = CommissionReversal
    extra = 0
    can_delete = False
    readonly_fields = ["refund", "amount", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CommissionRecord)
class CommissionRecordAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["order", "beneficiary", "level", "rate", "amount", "reversed_amount", "status", "settles_at", "created_at"]
    list_filter = ["level", "status"]
    search_fields = ["order__external_id", "beneficiary__external_id"]
    list_select_related = ["order", "beneficiary"]
    inlines = [ReversalInline]


@admin.register(Backtest)
class BacktestAdmin(TenantScopedAdmin):
    list_display = ["public_id", "plan", "date_from", "date_to", "status", "processed_orders", "total_orders", "created_at"]
    readonly_fields = ["status", "total_orders", "processed_orders", "results_table", "error", "created_by", "finished_at"]
    fields = ["tenant", "plan", "date_from", "date_to", *readonly_fields]

    @admin.display(description="results")
    def results_table(self, obj):
        from django.utils.html import format_html

        r = obj.results or {}
        if not r:
            return "-"
        return format_html("<pre>{}</pre>", json.dumps({k: v for k, v in r.items() if k != "by_distributor"}, indent=2))

    def save_model(self, request, obj, form, change):
        from .backtest import backtest_create

        if change:
            return
        tenant_id = obj.tenant_id or staff_tenant_id(request)
        with tenant_context(tenant_id):
            try:
                bt = backtest_create(tenant=Tenant.objects.get(pk=tenant_id), plan=obj.plan, date_from=obj.date_from,
                                     date_to=obj.date_to, actor=request.user.get_username())
            except APIException as exc:
                self.message_user(request, _message(exc), messages.ERROR)
                return
        obj.pk = bt.pk

    def has_change_permission(self, request, obj=None):
        return obj is None
