from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext, gettext_lazy as _
from import_export.admin import ImportExportMixin

from commissions.console import level_label
from commissions.forms import RateRowForm
from commissions.models import GradeLevelOverride
from fenxiao.currencies import fits, minor_units, money_str
from tenants.admin_scoping import (
    ReadOnlyTenantScopedAdmin, ScopedImportExportMixin, TenantScopedAdmin, TenantScopedHistoryAdmin, TenantScopedInline,
    apply_per_object, staff_tenant_id,
)
from tenants.context import tenant_context
from tenants.models import Tenant

from . import selectors
from .models import Customer, Distributor, DistributorMove, Grade, GradeChange
from .resources import DistributorResource


class GradeOverrideInline(TenantScopedInline, admin.TabularInline):
    """A grade's per-level overrides: the level by its meaning, a percent rate as a percentage."""

    model = GradeLevelOverride
    form = RateRowForm
    fields = ["level", "kind", "value"]
    extra = 0
    verbose_name = _("override of a level's default rate")
    verbose_name_plural = _("overrides of the default rates (for this grade's distributors)")


CONDITIONS = ("min_direct_sales", "min_direct_downlines", "min_team_sales")


class GradeForm(forms.ModelForm):
    """Upgrade conditions (domain rules section 8): amounts >= 0 in whole minor units of the
    tenant's currency, a count >= 0; all blank: the grade is given by hand only."""

    class Meta:
        model = Grade
        fields = "__all__"
        labels = {"min_direct_sales": _("minimum direct sales"), "min_direct_downlines": _("minimum active direct downlines"),
                  "min_team_sales": _("minimum team sales")}
        help_texts = {
            "min_direct_sales": _("lifetime direct sales of orders whose commissions have settled, in the tenant's currency"),
            "min_direct_downlines": _("active distributors whose upline is the distributor"),
            "min_team_sales": _("lifetime sales of settled orders where the distributor is at any of the 3 levels"),
        }

    def clean(self):
        data = super().clean()
        from tenants.context import peek_current_tenant_id

        in_context = peek_current_tenant_id()   # the staff's tenant (the admin's middleware sets it)
        tenant_id = self.instance.tenant_id or (data.get("tenant").pk if data.get("tenant") else None) \
            or (in_context if in_context and in_context > 0 else None)
        tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id else None
        for name in ("min_direct_sales", "min_team_sales"):
            value = data.get(name)
            if value is None:
                continue
            if value < 0:
                self.add_error(name, gettext("An amount cannot be negative."))
            elif tenant is not None and not fits(value, minor_units(tenant.currency)):
                self.add_error(name, gettext("At most %(places)d decimal places in %(currency)s.") % {
                    "places": minor_units(tenant.currency), "currency": tenant.currency})
        return data


@admin.register(Grade)
class GradeAdmin(TenantScopedHistoryAdmin):
    """Grades (等级) with their per-level overrides and upgrade conditions; "Evaluate upgrades now"
    moves every distributor of the tenant to the highest grade whose conditions hold (never down)."""

    form = GradeForm
    list_display = ["code", "name", "rank", "upgrade_conditions"]
    inlines = [GradeOverrideInline]
    actions = ["evaluate_upgrades"]
    change_list_template = "admin/distributors/grade/change_list.html"

    def get_fieldsets(self, request, obj=None):
        head = (["tenant"] if request.user.is_superuser else []) + ["code", "name", "rank"]
        return [(None, {"fields": head}),
                (_("Upgrade conditions"), {"fields": list(CONDITIONS), "description": gettext(
                    "A distributor moves up to the highest-ranked grade whose conditions all hold, after each "
                    "settlement run and when staff evaluate upgrades; never down automatically. Leave them all blank "
                    "for a grade given by hand only.")})]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tenant")

    @admin.display(description=_("upgrade conditions"))
    def upgrade_conditions(self, obj):
        currency = obj.tenant.currency
        parts = []
        if obj.min_direct_sales is not None:
            parts.append(gettext("direct sales ≥ %(amount)s") % {"amount": money_str(obj.min_direct_sales, currency)})
        if obj.min_direct_downlines is not None:
            parts.append(gettext("active direct downlines ≥ %(n)d") % {"n": obj.min_direct_downlines})
        if obj.min_team_sales is not None:
            parts.append(gettext("team sales ≥ %(amount)s") % {"amount": money_str(obj.min_team_sales, currency)})
        return " · ".join(parts) or gettext("none (given by hand)")

    def has_evaluate_permission(self, request) -> bool:
        """Evaluating upgrades changes distributors' grades: change on grades and on distributors."""
        return self.has_change_permission(request) and request.user.has_perm("distributors.change_distributor")

    def _evaluate(self, request, tenant_ids) -> None:
        from incentives.services import grades_evaluate_all

        for tenant_id in sorted(set(tenant_ids)):
            with tenant_context(tenant_id):
                upgraded = grades_evaluate_all()
                slug = Tenant.objects.get(pk=tenant_id).slug
            self.message_user(request, gettext("Upgrades evaluated in %(tenant)s: %(n)d distributor(s) moved up a grade.")
                              % {"tenant": slug, "n": upgraded}, messages.SUCCESS)

    @admin.action(description=_("Evaluate upgrades now (every distributor of the selected grades' tenants)"),
                  permissions=["evaluate"])
    def evaluate_upgrades(self, request, queryset):
        if not self.has_evaluate_permission(request):
            raise PermissionDenied
        self._evaluate(request, queryset.values_list("tenant_id", flat=True))

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}),
                                                 "can_evaluate": self.has_evaluate_permission(request)})

    def get_urls(self):
        return [path("evaluate-upgrades/", self.admin_site.admin_view(self.evaluate_view),
                     name="distributors_grade_evaluate"), *super().get_urls()]

    def evaluate_view(self, request):
        """GET: what evaluating does; POST: grades_evaluate_all in the staff's tenant (a superuser
        uses the action on the list, which names the tenants through the grades selected)."""
        if not self.has_evaluate_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:distributors_grade_changelist")
        tenant_id = staff_tenant_id(request)
        if request.method == "POST" and tenant_id is not None:
            self._evaluate(request, [tenant_id])
            return HttpResponseRedirect(changelist)
        if tenant_id is None:
            intro, submit = gettext("Superusers evaluate upgrades from the list: select grades of the tenants to "
                                    "evaluate and run the action “Evaluate upgrades now”."), ""
        else:
            intro, submit = gettext(
                "Every distributor moves up to the highest-ranked grade whose upgrade conditions all hold (lifetime "
                "sales of settled orders, active direct downlines); nobody moves down. Each move is kept in the "
                "distributor's grade history and applies to orders recorded from now on."), gettext("Evaluate upgrades now")
        context = {**self.admin_site.each_context(request), "title": gettext("Evaluate grade upgrades"), "intro": intro,
                   "form": None, "body": "", "submit": submit, "back": changelist, "back_label": gettext("Back"),
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/fenxiao_action_form.html", context)


class GradeChangeInline(TenantScopedInline, admin.TabularInline):
    """A distributor's grade history (domain rules section 8): when, from, to, how and why."""

    model = GradeChange
    fk_name = "distributor"
    extra = 0
    can_delete = False
    fields = ["when", "from_grade", "to_grade", "kind", "reason", "actor"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    verbose_name = _("grade change")
    verbose_name_plural = _("grade history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_grade", "to_grade", "tenant")

    @admin.display(description=_("when (local time)"))
    def when(self, obj):
        from zoneinfo import ZoneInfo

        return obj.created_at.astimezone(ZoneInfo(obj.tenant.timezone)).strftime("%Y-%m-%d %H:%M")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


#: The admin's report of a status step ("Frozen distributor(s): 2.").
STEP_DONE = {"approve": _("Approved"), "reject": _("Rejected"), "freeze": _("Frozen"), "unfreeze": _("Unfrozen"),
             "disable": _("Disabled")}
#: The buttons of the distributor's page, and what each step does (domain rules section 2).
STEP_LABELS = {"approve": _("Approve"), "reject": _("Reject"), "freeze": _("Freeze"), "unfreeze": _("Unfreeze"),
               "disable": _("Disable")}
STEP_EFFECTS = {
    "approve": _("The application is approved: the distributor becomes active, earns commission on orders recorded "
                 "from now on and can withdraw."),
    "reject": _("The application is rejected: the distributor is disabled and earns nothing."),
    "freeze": _("The distributor is frozen: orders recorded while it is frozen pay it nothing (the tenant's "
                "inactive-upline policy decides whether the next upline is paid instead) and it cannot withdraw. "
                "Its money stays."),
    "unfreeze": _("The distributor becomes active again: it earns on orders recorded from now on and can withdraw."),
    "disable": _("The distributor is disabled for good: it earns nothing on orders recorded from now on and cannot "
                 "withdraw or log in. Its money and history stay."),
}
#: A distributor's balances as the page names them (ledger.models.BUCKETS; total_earned is shown apart).
BALANCE_LABELS = {"frozen": _("frozen (waiting to settle)"), "available": _("available"),
                  "held": _("held (withdrawals in progress)"), "withdrawn": _("withdrawn"), "fees": _("withdrawal fees")}
#: Rows of each level of the team shown on the distributor's page (the rest: the team page).
TEAM_PREVIEW_ROWS = 10
TEAM_PAGE_ROWS = 50
#: The longest reason kept (the history's change reason holds 100 characters with the action).
REASON_MAX = 90


class StatusActionForm(ActionForm):
    """The changelist's action bar with the reason the status actions need."""

    reason = forms.CharField(label=_("Reason (kept in the history)"), required=False, max_length=REASON_MAX)


class StatusStepForm(forms.Form):
    action = forms.ChoiceField(choices=list(STEP_LABELS.items()), widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX, widget=forms.TextInput(attrs={"size": 60}),
                             help_text=_("Why: kept in the distributor's history with your name."))


def steps_from(status: str) -> list[str]:
    """The status actions the state machine allows from `status` (distributors.services.STATUS_STEPS)."""
    from .services import STATUS_STEPS

    return [action for action, (allowed, _to) in STATUS_STEPS.items() if status in allowed]


@admin.register(Distributor)
class DistributorAdmin(ScopedImportExportMixin, ImportExportMixin, TenantScopedHistoryAdmin):
    """A distributor's page: money (balances and earnings by level), the team's three levels as
    linked lists, the grade history, and the status buttons (approve, freeze, ... each with a
    reason, through the state machine); the status itself is read-only in the form."""

    list_display = ["external_id", "name", "status", "grade", "parent", "depth", "invite_code", "joined_at"]
    resource_classes = [DistributorResource]
    inlines = [GradeChangeInline]
    change_form_template = "admin/distributors/distributor/change_form.html"
    action_form = StatusActionForm

    def has_import_permission(self, request):
        # an import needs one tenant: tenant staff import into theirs
        return not request.user.is_superuser and request.user.has_perm("distributors.add_distributor")

    def get_export_queryset(self, request):
        return self.get_queryset(request).select_related("parent", "grade")
    list_filter = ["status", "grade", "depth"]
    search_fields = ["external_id", "name", "phone", "invite_code"]
    list_select_related = ["grade", "parent"]
    readonly_fields = ["parent", "ancestor_2", "ancestor_3", "depth", "ancestor_path", "upline_chain",
                       "downline_counts", "invite_code", "password", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # an existing distributor's status changes only through the actions (approve, freeze, ...),
        # which follow the state machine
        fixed = ["status"] if obj is not None else []
        return [*super().get_readonly_fields(request, obj), *fixed]
    fields = ["tenant", "external_id", "name", "phone", "status", "grade", "invite_code", "username", "joined_at",
              "upline_chain", "downline_counts", "parent", "ancestor_2", "ancestor_3", "depth", "ancestor_path", "created_at"]

    @admin.display(description=_("upline chain (level 1 first)"))
    def upline_chain(self, obj):
        if obj.pk is None:
            return "-"
        ups = Distributor.unscoped.filter(pk__in=obj.ancestor_ids).order_by("-depth")
        return format_html_join(" ← ", '<a href="{}">{}</a> ({})', (
            (reverse("admin:distributors_distributor_change", args=[d.pk]), d.external_id, d.get_status_display())
            for d in ups)) or gettext("(none: at the top of the tree)")

    @admin.display(description=_("downlines per level"))
    def downline_counts(self, obj):
        if obj.pk is None:
            return "-"
        with tenant_context(obj.tenant_id):
            counts = selectors.team_counts(distributor=obj)
        return ", ".join(f"L{k}: {v}" for k, v in counts.items())

    actions = ["approve", "reject", "freeze", "unfreeze", "disable"]

    def _step(self, request, queryset, action):
        from .services import distributor_status_step

        reason = (request.POST.get("reason") or "").strip()
        if not reason:
            self.message_user(request, gettext("Nothing changed: give the reason in the box next to the action (it is "
                                               "kept in each distributor's history)."), messages.ERROR)
            return
        apply_per_object(self, request, queryset, lambda d: distributor_status_step(
            distributor=d, action=action, reason=reason, actor=request.user.get_username()),
            gettext("%(done)s distributor(s)") % {"done": STEP_DONE[action]}, describe=lambda d: d.external_id)

    @admin.action(description=_("Approve selected applications"), permissions=["change"])
    def approve(self, request, queryset):
        self._step(request, queryset, "approve")

    @admin.action(description=_("Reject selected applications"), permissions=["change"])
    def reject(self, request, queryset):
        self._step(request, queryset, "reject")

    @admin.action(description=_("Freeze selected"), permissions=["change"])
    def freeze(self, request, queryset):
        self._step(request, queryset, "freeze")

    @admin.action(description=_("Unfreeze selected"), permissions=["change"])
    def unfreeze(self, request, queryset):
        self._step(request, queryset, "unfreeze")

    @admin.action(description=_("Disable selected"), permissions=["change"])
    def disable(self, request, queryset):
        self._step(request, queryset, "disable")

    # the distributor's page: money, team, status buttons

    def get_urls(self):
        return [
            path("<path:object_id>/status/", self.admin_site.admin_view(self.status_view),
                 name="distributors_distributor_status"),
            path("<path:object_id>/team/", self.admin_site.admin_view(self.team_view), name="distributors_distributor_team"),
            *super().get_urls(),
        ]

    def overview(self, request, obj) -> dict:
        """What the page shows above the form: balances, net commission by level, the first rows
        of each level of the team, and the status steps open to this user."""
        from ledger.selectors import earnings_of

        tenant = obj.tenant
        with tenant_context(obj.tenant_id):
            balances, by_level = earnings_of(distributor_id=obj.pk)
            counts = selectors.team_counts(distributor=obj)
            team = [{"level": level, "meaning": level_label(level), "count": counts[str(level)],
                     "rows": self._team_rows(obj, level, 0, TEAM_PREVIEW_ROWS) if counts[str(level)] else []}
                    for level in (1, 2, 3)]

        def money(value):
            return money_str(value, tenant.currency)

        can_step = self.has_change_permission(request, obj)
        return {
            "currency": tenant.currency,
            "balances": [{"name": label, "key": key, "amount": money(balances[key])} for key, label in BALANCE_LABELS.items()],
            "earned": [{"meaning": level_label(int(k)), "amount": money(v)} for k, v in sorted(by_level.items())],
            "earned_total": money(balances["total_earned"]),
            "team": team, "team_preview_rows": TEAM_PREVIEW_ROWS,
            "steps": [{"action": a, "label": STEP_LABELS[a]} for a in steps_from(obj.status)] if can_step else [],
        }

    def _team_rows(self, obj, level: int, start: int, stop: int) -> list[dict]:
        """Rows [start, stop) of one level of the team (selectors.DownlinePage), each linked to its page."""
        page = selectors.DownlinePage(distributor=obj, level=level, count=getattr(obj, f"downline_count_{level}"))
        return [self._team_row(r) for r in page[start:stop]]

    @staticmethod
    def _team_row(row) -> dict:
        pk, external_id, name, status, grade, depth, joined_at = row
        return {"url": reverse("admin:distributors_distributor_change", args=[pk]), "external_id": external_id,
                "name": name, "status": Distributor.Status(status).label if status in Distributor.Status.values else status,
                "grade": grade or "-", "joined_at": joined_at}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra = {"overview": self.overview(request, obj)} if obj is not None else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def status_view(self, request, object_id):
        """A status step from the distributor's page (approve, reject, freeze, unfreeze, disable):
        what it does, the reason (required), then distributors.services.distributor_status_step
        (the state machine; a refusal is a message). GET without an action: the steps open now."""
        from rest_framework.exceptions import APIException

        from .services import STATUS_STEPS, distributor_status_step

        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(gettext("No such distributor."))
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        page = reverse("admin:distributors_distributor_change", args=[obj.pk])
        action = request.POST.get("action") if request.method == "POST" else request.GET.get("action")
        who = f"{obj.external_id} {obj.name}"
        if action not in STATUS_STEPS:
            links = format_html_join(" · ", '<a href="?action={}" class="button">{}</a>',
                                     ((a, STEP_LABELS[a]) for a in steps_from(obj.status)))
            context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": None, "submit": "",
                       "title": gettext("Change the status of %(who)s") % {"who": who},
                       "intro": gettext("%(who)s is %(status)s. The steps open from here:") % {
                           "who": who, "status": obj.get_status_display()},
                       "body": links or gettext("none."), "back": page, "back_label": gettext("Back to the distributor")}
            return TemplateResponse(request, "admin/fenxiao_action_form.html", context)
        form = StatusStepForm(request.POST if request.method == "POST" else None, initial={"action": action})
        if request.method == "POST" and form.is_valid():
            try:
                with tenant_context(obj.tenant_id):
                    fresh = distributor_status_step(distributor=obj, action=action, reason=form.cleaned_data["reason"].strip(),
                                                    actor=request.user.get_username())
            except APIException as exc:
                self.message_user(request, gettext("Nothing changed: %(reason)s") % {"reason": exc.detail}, messages.ERROR)
                return HttpResponseRedirect(page)
            self.message_user(request, gettext("%(who)s is now %(status)s.") % {"who": who, "status": fresh.get_status_display()},
                              messages.SUCCESS)
            return HttpResponseRedirect(page)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": gettext("%(step)s %(who)s") % {"step": STEP_LABELS[action], "who": who},
                   "intro": STEP_EFFECTS[action], "body": "", "submit": STEP_LABELS[action], "back": page,
                   "back_label": gettext("Back to the distributor")}
        return TemplateResponse(request, "admin/fenxiao_action_form.html", context)

    def team_view(self, request, object_id):
        """One level of the distributor's team (?level=1..3), 50 a page (?p=), each linked to its page."""
        from django.core.paginator import Paginator

        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(gettext("No such distributor."))
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        try:
            level = int(request.GET.get("level", 1))
        except ValueError:
            level = 1
        level = level if level in (1, 2, 3) else 1
        with tenant_context(obj.tenant_id):
            counts = selectors.team_counts(distributor=obj)
            paginator = Paginator(selectors.DownlinePage(distributor=obj, level=level, count=counts[str(level)]),
                                  TEAM_PAGE_ROWS)
            page = paginator.get_page(request.GET.get("p"))
            rows = [self._team_row(r) for r in page.object_list]
        who = f"{obj.external_id} {obj.name}"
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": obj,
                   "title": gettext("Team of %(who)s") % {"who": who}, "level": level, "rows": rows, "page": page,
                   "levels": [{"level": n, "meaning": level_label(n), "count": counts[str(n)]} for n in (1, 2, 3)],
                   "meaning": level_label(level), "back": reverse("admin:distributors_distributor_change", args=[obj.pk])}
        return TemplateResponse(request, "admin/distributors/distributor/team.html", context)

    def get_inlines(self, request, obj):
        """The grade history is shown on an existing distributor's page (a new one has none)."""
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        """A grade set by hand goes through distributor_update: kept in the grade history (who,
        when, from, to) and, when it is a move up, the `distributor.upgraded` event."""
        if not change or "grade" not in form.changed_data:
            return super().save_model(request, obj, form, change)
        from .services import distributor_update

        grade = obj.grade
        obj.grade_id = Distributor.unscoped.filter(pk=obj.pk).values_list("grade_id", flat=True).get()
        super().save_model(request, obj, form, change)
        with tenant_context(obj.tenant_id):
            distributor_update(distributor=obj, grade=grade, reason="set in the console",
                               actor=request.user.get_username())

    def delete_model(self, request, obj):
        """Refused with a message for a distributor with downlines, customers or money (disable it)."""
        from tenants.context import tenant_context

        from .services import distributor_delete

        with tenant_context(obj.tenant_id):
            distributor_delete(distributor=obj)

    def delete_view(self, request, object_id, extra_context=None):
        from fenxiao.exceptions import InvalidState

        try:
            return super().delete_view(request, object_id, extra_context)
        except InvalidState as exc:
            from django.http import HttpResponseRedirect

            self.message_user(request, gettext("Not deleted: %(reason)s") % {"reason": exc.detail}, messages.ERROR)
            return HttpResponseRedirect(request.path.rsplit("/delete/", 1)[0] + "/change/")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through the refusal rules above
        return actions


@admin.register(Customer)
class CustomerAdmin(TenantScopedAdmin):
    list_display = ["external_id", "referrer", "bound_at"]
    search_fields = ["external_id"]
    list_select_related = ["referrer"]
    raw_id_fields = ["referrer"]


@admin.register(DistributorMove)
class DistributorMoveAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["distributor", "old_parent", "new_parent", "reason", "actor", "created_at"]
