"""The console's commission pages (domain rules sections 5 and 6), for people rather than engineers:
rates as percentages with the meaning of each level, rules named by scope and level, publishing
now or later from the plan's page, a preview as a form in the tenant's currency, and backtest
results as a table with a chart of the delta by level (Apache ECharts, vendored)."""
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext, gettext_lazy as _
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as DRFValidationError

from fenxiao.currencies import minor_units, money_str
from fenxiao.percent import percent_str
from tenants.admin_scoping import (
    ReadOnlyTenantScopedAdmin, TenantScopedAdmin, TenantScopedHistoryAdmin, TenantScopedInline, staff_tenant_id,
)
from tenants.context import tenant_context
from tenants.models import Tenant

from . import console
from . import plans as plan_services
from .forms import RuleRowForm
from .models import Backtest, CommissionPlan, CommissionRecord, CommissionReversal, CommissionRule


def _message(exc: APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in detail.items())
    if isinstance(detail, list):
        return " ".join(map(str, detail))
    return str(detail)


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- plans and their rules ---------------------------------------------------------------------

class RuleFormSet(BaseInlineFormSet):
    """Guardrails at save (levels, places, negatives, the max_total_rate cap) as form errors."""

    def clean(self):
        super().clean()
        rows = []
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            d = form.cleaned_data
            if any(d.get(k) is None for k in ("scope", "level", "kind", "value")):
                continue   # the row's own errors are shown on it
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


#: A rule row of a plan that can no longer change (published), as people read it.
RULE_DISPLAY = ["applies_to", "level_meaning", "rate"]


class RuleInline(TenantScopedInline, admin.TabularInline):
    """A plan's rule rows: editable on a draft (levels by meaning, percent rates as percentages),
    read as "applies to / level / rate" on a published version."""

    model = CommissionRule
    form = RuleRowForm
    formset = RuleFormSet
    extra = 3
    fields = ["scope", "scope_value", "level", "kind", "value"]
    verbose_name = _("rule")
    verbose_name_plural = _("rules (what each level is paid)")

    def _editable(self, request, obj) -> bool:
        return obj is None or obj.status == CommissionPlan.Status.DRAFT

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_delete_permission(request, obj)

    def get_fields(self, request, obj=None):
        return list(self.fields) if self.has_change_permission(request, obj) else list(RULE_DISPLAY)

    def get_readonly_fields(self, request, obj=None):
        return [] if self.has_change_permission(request, obj) else list(RULE_DISPLAY)

    def get_formset(self, request, obj=None, **kwargs):
        if not self.has_change_permission(request, obj):
            kwargs["form"] = forms.ModelForm   # shown, never posted
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description=_("applies to"))
    def applies_to(self, rule):
        return console.scope_label(rule.scope, rule.scope_value)

    @admin.display(description=_("level (who is paid)"))
    def level_meaning(self, rule):
        return console.level_label(rule.level)

    @admin.display(description=_("rate or amount"))
    def rate(self, rule):
        return console.value_str(rule.kind, rule.value, rule.tenant.currency)


class PublishForm(forms.Form):
    """When a draft takes effect: now, or at a later time (read in the console's time zone, the
    tenant's for its staff)."""

    when = forms.ChoiceField(label=_("takes effect"), widget=forms.RadioSelect, initial="now",
                             choices=[("now", _("now")), ("later", _("at a later time"))])
    effective_from = forms.SplitDateTimeField(label=_("from"), required=False, widget=AdminSplitDateTime)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].help_text = gettext("date and time in %(zone)s") % {
            "zone": timezone.get_current_timezone_name()}

    def clean(self):
        data = super().clean()
        if data.get("when") == "later" and not data.get("effective_from"):
            self.add_error("effective_from", gettext("Give the date and time the plan takes effect."))
        return data


@admin.register(CommissionPlan)
class CommissionPlanAdmin(TenantScopedHistoryAdmin):
    list_display = ["version", "name", "state", "rules_summary", "effective_from", "created_at"]
    list_display_links = ["version", "name"]
    list_filter = ["status"]
    inlines = [RuleInline]
    actions = ["publish_now", "copy_to_draft"]
    readonly_fields = ["version", "state", "status", "effective_from", "published_at", "based_on"]
    change_list_template = "admin/commissions/commissionplan/change_list.html"
    change_form_template = "admin/commissions/commissionplan/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tenant").prefetch_related("rules")

    def get_changelist_instance(self, request):
        """The page's plans, each told which plan of its tenant is in force now (one
        `plan_in_force` per tenant on the page)."""
        from .selectors import plan_in_force

        cl = super().get_changelist_instance(request)
        rows, now, in_force = list(cl.result_list), timezone.now(), {}
        for tenant_id in sorted({p.tenant_id for p in rows}):
            with tenant_context(tenant_id):
                found = plan_in_force(at=now)
            in_force[tenant_id] = found.pk if found else None
        for p in rows:
            p.in_force_id, p.seen_at = in_force[p.tenant_id], now
        cl.result_list = rows
        return cl

    @admin.display(description=_("state"))
    def state(self, obj):
        if obj.pk is None:
            return "-"
        if not hasattr(obj, "in_force_id"):
            from .selectors import plan_in_force

            obj.seen_at = timezone.now()
            with tenant_context(obj.tenant_id):
                found = plan_in_force(at=obj.seen_at)
            obj.in_force_id = found.pk if found else None
        return console.plan_state(obj, in_force_id=obj.in_force_id, now=obj.seen_at)

    @admin.display(description=_("rules"))
    def rules_summary(self, obj):
        lines = console.rules_summary(obj.rules.all(), obj.tenant.currency)
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines)) or gettext("no rules yet")

    def save_model(self, request, obj, form, change):
        if not change:
            tenant_id = obj.tenant_id or staff_tenant_id(request)
            obj.tenant_id = tenant_id
            obj.version = plan_services._next_version(Tenant.objects.get(pk=tenant_id))
            obj.status = CommissionPlan.Status.DRAFT
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.status == CommissionPlan.Status.DRAFT)

    def has_publish_permission(self, request, obj=None) -> bool:
        """Publishing needs the change permission on plans (and a draft, for one plan)."""
        return self.has_change_permission(request, obj)

    @admin.action(description=_("Publish the selected drafts now"), permissions=["change"])
    def publish_now(self, request, queryset):
        for plan in queryset.order_by("version"):
            try:
                with tenant_context(plan.tenant_id):
                    plan_services.plan_draft_publish(plan=plan)
                self.message_user(request, gettext("Plan v%(version)d published.") % {"version": plan.version}, messages.SUCCESS)
            except APIException as exc:
                self.message_user(request, f"v{plan.version}: {_message(exc)}", messages.ERROR)

    @admin.action(description=_("Copy to a new draft (to edit a published plan)"), permissions=["add"])
    def copy_to_draft(self, request, queryset):
        for plan in queryset:
            with tenant_context(plan.tenant_id):
                draft = plan_services.plan_draft_create(tenant=plan.tenant, name=f"{plan.name} (edit)".strip(), based_on=plan)
            self.message_user(request, gettext("Draft v%(draft)d created from v%(version)d.") % {
                "draft": draft.version, "version": plan.version}, messages.SUCCESS)

    def get_urls(self):
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="commissions_preview"),
            path("<path:object_id>/publish/", self.admin_site.admin_view(self.publish_view),
                 name="commissions_commissionplan_publish"),
            *super().get_urls(),
        ]

    # the plan's page: what it pays, as a table; publish now or later; preview and backtest links

    def plan_table(self, plan, tenant) -> dict:
        """The plan's rules as rows per scope (default first) and columns per level 1..levels."""
        levels = list(range(1, tenant.levels + 1))
        rows: dict[tuple[str, str], dict[int, str]] = {}
        for r in plan.rules.all():
            rows.setdefault((r.scope, r.scope_value), {})[r.level] = console.value_str(r.kind, r.value, tenant.currency)
        order = {"default": 0, "category": 1, "sku": 2}
        return {
            "levels": [console.level_label(n) for n in levels],
            "rows": [{"applies_to": console.scope_label(scope, value), "values": [cells.get(n, "-") for n in levels]}
                     for (scope, value), cells in sorted(rows.items(), key=lambda kv: (order.get(kv[0][0], 9), kv[0][1]))],
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        plan = self.get_object(request, unquote(object_id))
        extra = {}
        if plan is not None:
            extra = {"plan_table": self.plan_table(plan, plan.tenant), "plan_state": self.state(plan),
                     "publish_form": PublishForm() if self.has_publish_permission(request, plan) else None,
                     "can_backtest": request.user.has_perm("commissions.add_backtest")}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def publish_view(self, request, object_id):
        """POST: publish the draft now or from a later time (plans.plan_draft_publish: the
        guardrails, never in the past); the outcome is a message on the plan's page. GET: the page."""
        plan = self.get_object(request, unquote(object_id))
        if plan is None:
            raise Http404(gettext("No such plan."))
        page = reverse("admin:commissions_commissionplan_change", args=[plan.pk])
        if request.method != "POST":
            return HttpResponseRedirect(page)
        if not self.has_publish_permission(request, plan):
            raise PermissionDenied
        form = PublishForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    self.message_user(request, gettext("Plan v%(version)d was not published: %(reason)s") % {
                        "version": plan.version, "reason": error}, messages.ERROR)
            return HttpResponseRedirect(page)
        later = form.cleaned_data["effective_from"] if form.cleaned_data["when"] == "later" else None
        try:
            with tenant_context(plan.tenant_id):
                plan = plan_services.plan_draft_publish(plan=plan, effective_from=later)
        except APIException as exc:
            self.message_user(request, gettext("Plan v%(version)d was not published: %(reason)s") % {
                "version": plan.version, "reason": _message(exc)}, messages.ERROR)
            return HttpResponseRedirect(page)
        from django.utils import formats

        self.message_user(request, gettext("Plan v%(version)d published: orders recorded from %(when)s on use it.") % {
            "version": plan.version, "when": formats.localize(timezone.localtime(plan.effective_from))}, messages.SUCCESS)
        return HttpResponseRedirect(page)

    # the preview: an order as a form, each level's result as a table

    def preview_view(self, request):
        """'What would this order pay': a distributor, a plan and the order's lines (in the
        tenant's currency, preselected) -> what each level would be paid. Nothing is written; the
        order is checked exactly as the partner API checks one (orders' serializer and services)."""
        tenant = self._preview_tenant(request)
        if tenant is None:
            tenants = Tenant.objects.order_by("slug") if request.user.is_superuser else Tenant.objects.none()
            context = {**self.admin_site.each_context(request), "title": gettext("Commission preview"),
                       "tenants": tenants, "opts": self.model._meta}
            return TemplateResponse(request, "admin/commissions/preview.html", context)
        data = request.POST if request.method == "POST" else None
        initial_plan = _int_or_none(request.GET.get("plan"))
        form = PreviewForm(data, tenant=tenant, initial={"plan": initial_plan} if initial_plan else None)
        places = minor_units(tenant.currency)
        lines = PreviewLineFormSet(data, prefix="lines", form_kwargs={"places": places}, initial=[
            {"sku": "SKU-1", "quantity": "1", "unit_price": money_str(Decimal(100), tenant.currency), "commissionable": True}])
        result = None
        if data is not None and form.is_valid() & lines.is_valid():
            result = preview_run(tenant=tenant, form=form, lines=lines)
        errors = [*form.non_field_errors(), *(f"{form.fields[name].label}: {e}" for name, errs in form.errors.items()
                                              if name != "__all__" for e in errs)]
        for i, line_form in enumerate(lines.forms):
            errors += [f"{gettext('line %(n)d') % {'n': i + 1}}: {e}" for errs in line_form.errors.values() for e in errs]
        context = {**self.admin_site.each_context(request), "title": gettext("Commission preview"), "form": form,
                   "lines": lines, "result": result, "errors": errors, "tenant": tenant, "opts": self.model._meta,
                   "places_hint": money_str(Decimal(0), tenant.currency)}
        return TemplateResponse(request, "admin/commissions/preview.html", context)

    def _preview_tenant(self, request) -> Tenant | None:
        tenant_id = staff_tenant_id(request)
        if tenant_id is None and request.user.is_superuser:
            tenant_id = _int_or_none(request.POST.get("tenant") or request.GET.get("tenant"))
        return Tenant.objects.filter(pk=tenant_id).first() if tenant_id else None


#: The currencies the preview offers besides the tenant's (any ISO 4217 code is accepted by the API).
PREVIEW_CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP", "KRW", "SGD", "TWD", "AUD", "CAD")


class PreviewForm(forms.Form):
    distributor = forms.CharField(label=_("referred by"), required=False, max_length=64,
                                  help_text=_("the distributor's external id (whose link or invite code the buyer used)"))
    buyer = forms.CharField(label=_("buyer"), required=False, max_length=64,
                            help_text=_("optional: a customer's or distributor's external id (a bound customer's "
                                        "referrer is used when nobody is named above)"))
    plan = forms.ModelChoiceField(label=_("plan"), queryset=CommissionPlan.unscoped.none(), required=False,
                                  empty_label=_("the plan in force now"),
                                  help_text=_("a draft too: see what it would pay before publishing it"))
    currency = forms.ChoiceField(label=_("order currency"))
    exchange_rate = forms.CharField(label=_("exchange rate"), required=False, max_length=32,
                                    help_text=_("only for another currency: tenant-currency units per unit of it"))
    discount = forms.CharField(label=_("order discount (coupon)"), required=False, max_length=32)
    non_cash_amount = forms.CharField(label=_("paid with points or vouchers"), required=False, max_length=32)
    tenant = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant_row = tenant
        plans = CommissionPlan.unscoped.filter(tenant=tenant).order_by("-version")
        self.fields["plan"].queryset = plans
        self.fields["plan"].label_from_instance = lambda p: f"v{p.version} {p.name} — {p.get_status_display()}".replace("  ", " ")
        codes = [tenant.currency, *(c for c in PREVIEW_CURRENCIES if c != tenant.currency)]
        self.fields["currency"].choices = [(c, c) for c in codes]
        self.fields["currency"].initial = tenant.currency
        self.fields["tenant"].initial = tenant.pk
        zero = money_str(Decimal(0), tenant.currency)
        for name in ("discount", "non_cash_amount"):
            self.fields[name].widget.attrs.update({"placeholder": zero, "size": 10})
        self.fields["exchange_rate"].widget.attrs.update({"placeholder": "1", "size": 10})


class PreviewLineForm(forms.Form):
    """One order line as the partner API takes it; every check is the API's (orders' serializer)."""

    sku = forms.CharField(label=_("SKU"), required=False, max_length=64)
    category = forms.CharField(label=_("category"), required=False, max_length=64)
    quantity = forms.CharField(label=_("quantity"), required=False, max_length=12, widget=forms.TextInput(attrs={"size": 5}))
    unit_price = forms.CharField(label=_("unit price"), required=False, max_length=32)
    discount = forms.CharField(label=_("line discount"), required=False, max_length=32)
    commissionable = forms.BooleanField(label=_("commissionable"), required=False, initial=True)

    def __init__(self, *args, places: int = 2, **kwargs):
        super().__init__(*args, **kwargs)
        zero = "0" if places == 0 else "0." + "0" * places
        for name in ("unit_price", "discount"):
            self.fields[name].widget.attrs.update({"placeholder": zero, "size": 10, "inputmode": "decimal"})


PreviewLineFormSet = forms.formset_factory(PreviewLineForm, extra=2)

#: Order fields of the API and the preview form's field that gives each (errors go back to it).
PREVIEW_FIELDS = {"referrer_external_id": "distributor", "buyer_external_id": "buyer", "currency": "currency",
                  "exchange_rate": "exchange_rate", "discount": "discount", "non_cash_amount": "non_cash_amount"}


def _attach_errors(errors, form, lines, line_forms: list[int]) -> None:
    """The API's refusal ({field: [messages]}, lines as a list per line) on the fields typed."""
    if not isinstance(errors, dict):
        form.add_error(None, [str(e) for e in (errors if isinstance(errors, list) else [errors])])
        return
    for key, value in errors.items():
        messages_ = value if isinstance(value, list) else [value]
        if key == "lines" and isinstance(value, dict):   # DRF: {index: {field: [messages]}}
            per_line = sorted((int(j), e) for j, e in value.items())
        elif key == "lines" and messages_ and all(isinstance(e, dict) for e in messages_):
            per_line = list(enumerate(messages_))       # or a list with {} for the valid lines
        else:
            per_line = None
        if per_line is not None:
            for j, line_errors in per_line:
                target = lines.forms[line_forms[j]] if j < len(line_forms) else None
                for name, errs in (line_errors or {}).items():
                    texts = [str(e) for e in (errs if isinstance(errs, list) else [errs])]
                    if target is not None and name in target.fields:
                        target.add_error(name, texts)
                    else:
                        form.add_error(None, [f"{gettext('line %(n)d') % {'n': j + 1}}: {t}" for t in texts])
        elif key.startswith("lines.") and len(key.split(".")) == 3 and key.split(".")[1].isdigit():
            j, name = int(key.split(".")[1]), key.split(".")[2]      # a service's attr: "lines.0.unit_price"
            target = lines.forms[line_forms[j]] if j < len(line_forms) else None
            if target is not None and name in target.fields:
                target.add_error(name, [str(e) for e in messages_])
            else:
                form.add_error(None, [f"{gettext('line %(n)d') % {'n': j + 1}}: {e}" for e in messages_])
        elif key in PREVIEW_FIELDS:
            form.add_error(PREVIEW_FIELDS[key], [str(e) for e in messages_])
        else:
            form.add_error(None, [str(e) for e in messages_])


def preview_run(*, tenant: Tenant, form: PreviewForm, lines) -> dict | None:
    """Build the order from the form, check it as the partner API does, and preview it
    (commissions.services.commission_preview). Refusals become errors of the fields typed
    (None is returned); else each level as a person reads it."""
    from distributors.models import Distributor
    from orders.api.serializers import OrderCreateSerializer
    from orders.validation import order_input

    from .services import commission_preview

    d = form.cleaned_data
    body = {"external_id": "preview", "currency": d["currency"], "placed_at": timezone.now().isoformat(),
            "referrer_external_id": d["distributor"].strip() or None, "buyer_external_id": d["buyer"].strip(), "lines": []}
    for name in ("exchange_rate", "discount", "non_cash_amount"):
        if d[name].strip():
            body[name] = d[name].strip()
    used = []
    for i, line_form in enumerate(lines.forms):
        ld = line_form.cleaned_data   # {} for a row left empty
        if not any((ld.get(k) or "").strip() for k in ("sku", "category", "quantity", "unit_price", "discount")):
            continue
        body["lines"].append({"line_id": str(len(body["lines"]) + 1), "sku": ld["sku"].strip(), "category": ld["category"].strip(),
                              "quantity": ld["quantity"].strip(), "unit_price": ld["unit_price"].strip(),
                              "discount": ld["discount"].strip() or "0", "commissionable": bool(ld["commissionable"])})
        used.append(i)
    if not body["lines"]:
        form.add_error(None, gettext("Give at least one line: a product and its price."))
        return None
    ser = OrderCreateSerializer(data=body)
    if not ser.is_valid():
        _attach_errors(ser.errors, form, lines, used)
        return None
    try:
        with tenant_context(tenant):
            result = commission_preview(tenant=tenant, data=order_input(dict(ser.validated_data)), plan=d["plan"])
            who = {x.external_id: x for x in Distributor.objects.filter(
                external_id__in=[lvl["beneficiary_external_id"] for lvl in result["levels"]])}
    except APIException as exc:
        _attach_errors(exc.detail, form, lines, used)
        return None
    total = sum((Decimal(lvl["amount"]) for lvl in result["levels"]), Decimal(0))
    return {
        "plan_version": result["plan_version"], "currency": result["currency"], "base": result["commission_base"],
        "total": money_str(total.quantize(Decimal(1).scaleb(-minor_units(tenant.currency))), tenant.currency),
        "levels": [{
            "level": lvl["level"], "meaning": console.level_label(lvl["level"]),
            "who": lvl["beneficiary_external_id"], "name": who[lvl["beneficiary_external_id"]].name,
            "url": reverse("admin:distributors_distributor_change", args=[who[lvl["beneficiary_external_id"]].pk]),
            "grade": lvl["grade"] or "-", "amount": lvl["amount"],
            "rate": (percent_str(Decimal(lvl["rate"])) if lvl["rate"] is not None
                     else gettext("mixed (see the lines)") if lvl["lines"] else "-"),
            "lines": [{"line": x["line_id"], "source": console.source_label(x["source"], lvl["grade"]),
                       "value": console.value_str(x["kind"], Decimal(x["rate"]), tenant.currency)} for x in lvl["lines"]],
        } for lvl in result["levels"]],
    }


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


# --- backtests ---------------------------------------------------------------------------------

@admin.register(Backtest)
class BacktestAdmin(TenantScopedAdmin):
    """A plan (a draft, usually) replayed on the orders of a date range: per level what was paid,
    what the plan would have paid and the delta, as a table and a bar chart of the delta."""

    list_display = ["id", "plan", "date_from", "date_to", "status", "delta_total", "processed_orders", "total_orders",
                    "created_at"]
    list_select_related = ["plan"]
    readonly_fields = ["status", "progress_shown", "total_orders", "processed_orders", "error", "created_by", "finished_at"]
    fields = ["tenant", "plan", "date_from", "date_to", *readonly_fields]
    change_form_template = "admin/commissions/backtest/change_form.html"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "plan" and field is not None:
            field.label_from_instance = lambda p: f"v{p.version} {p.name} — {p.get_status_display()}".replace("  ", " ")
        return field

    @admin.display(description=_("progress"))
    def progress_shown(self, obj):
        if obj.pk is None:
            return "-"
        return gettext("%(done)d of %(total)d orders (%(percent)s)") % {
            "done": obj.processed_orders, "total": obj.total_orders, "percent": percent_str(Decimal(str(obj.progress)))}

    @admin.display(description=_("delta"))
    def delta_total(self, obj):
        r = obj.results or {}
        return f"{r['delta']} {r['currency']}" if "delta" in r else "-"

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

    def get_urls(self):
        return [path("<path:object_id>/csv/", self.admin_site.admin_view(self.csv_view), name="commissions_backtest_csv"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        bt = self.get_object(request, unquote(object_id))
        extra = {"backtest": backtest_tables(bt)} if bt is not None else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def csv_view(self, request, object_id):
        """The backtest per distributor (actual, backtest, delta) as CSV (commissions.backtest.backtest_csv)."""
        from .backtest import backtest_csv

        bt = self.get_object(request, unquote(object_id))
        if bt is None:
            raise Http404(gettext("No such backtest."))
        if bt.status != Backtest.Status.DONE:
            self.message_user(request, gettext("The backtest has not finished yet."), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:commissions_backtest_change", args=[bt.pk]))
        with tenant_context(bt.tenant_id):
            body = backtest_csv(bt)
        response = HttpResponse(body, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="backtest-{bt.pk}.csv"'
        return response


def _signed(amount: str) -> str:
    """ "+2.00" for a gain, "-1.00" and "0.00" as they are (a percentage too: "+20%")."""
    number = Decimal(amount.rstrip("%"))
    return amount if amount.startswith("-") or number == 0 else f"+{amount}"


def backtest_tables(bt: Backtest) -> dict | None:
    """A finished backtest's results for people: per level (with its meaning) what was paid, what
    the plan would have paid and the delta (also as a percentage of what was paid), the totals,
    per category and the distributors most affected; `chart` feeds the bar chart of the delta by
    level. None while it runs."""
    r = bt.results or {}
    if bt.status != Backtest.Status.DONE or "by_level" not in r:
        return None

    def change(actual: str, delta: str) -> str:
        a = Decimal(actual)
        return _signed(percent_str((Decimal(delta) / a).quantize(Decimal("0.0001")))) if a else "-"

    levels = []
    for key in sorted(r["by_level"], key=int):
        v = r["by_level"][key]
        levels.append({"level": int(key), "meaning": console.level_label(int(key)), "actual": v["actual"],
                       "backtest": v["backtest"], "delta": _signed(v["delta"]), "change": change(v["actual"], v["delta"]),
                       "sign": (Decimal(v["delta"]) > 0) - (Decimal(v["delta"]) < 0)})
    return {
        "currency": r["currency"], "plan_version": r.get("plan_version", bt.plan.version), "orders": r.get("orders", 0),
        "levels": levels,
        "total": {"actual": r["actual"], "backtest": r["backtest"], "delta": _signed(r["delta"]),
                  "change": change(r["actual"], r["delta"])},
        "categories": [{"name": name or gettext("(no category)"), "actual": v["actual"], "backtest": v["backtest"],
                        "delta": _signed(v["delta"])} for name, v in r.get("by_category", {}).items()],
        "top": [dict(t, delta=_signed(t["delta"])) for t in r.get("top_distributors", [])],
        "chart": {"labels": [row["meaning"] for row in levels], "deltas": [r["by_level"][str(row["level"])]["delta"]
                                                                             for row in levels],
                  "currency": r["currency"], "title": gettext("Delta by level (%(currency)s)") % {"currency": r["currency"]},
                  "name": gettext("delta")},
    }
