"""The console's incentives pages (issue 11, scope 8; domain rules section 8): sales contests with
their leaderboard and a "Finalize now" action, tier bonus schemes with their awards per month and
an "Evaluate a month" form, sales targets with a progress bar, and read-only lists of contest
results and tier awards.

Every page is scoped to the staff's tenant (tenants.admin_scoping) and audited (contests, schemes
and targets keep django-simple-history records: who, when, before and after). Creating and
editing go through the services (contest_create/contest_update, tier_scheme_create/update,
target_create/update): a form's clean() calls the service inside the admin view's transaction, so
the service's refusals (400/409) are form errors and nothing is written; the admin then only logs
the change. Times are the tenant's local times (the pages run in its time zone), money has its
currency's places.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget, AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy as _
from rest_framework.exceptions import APIException

from distributors.models import Grade
from fenxiao.currencies import exact_sum, money_str
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin, TenantScopedHistoryAdmin, staff_tenant_id
from tenants.context import current_tenant, tenant_context
from tenants.models import Tenant

from . import console, rules
from .models import Contest, ContestResult, Measure, Target, TierAward, TierBonusScheme


# --- shared pieces -----------------------------------------------------------------------------

class TenantTimeAdminMixin:
    """The pages run in the tenant's time zone: date and time inputs are read, and times shown, as
    its local times (the staff's tenant; for a superuser, the tenant of the object on its page)."""

    def _zone_of(self, request, object_id=None) -> str | None:
        tenant_id = staff_tenant_id(request)
        if tenant_id is None and object_id is not None:
            obj = self.get_object(request, unquote(object_id))
            tenant_id = obj.tenant_id if obj is not None else None
        if tenant_id is None:
            return None
        return Tenant.objects.filter(pk=tenant_id).values_list("timezone", flat=True).first()

    def _in_zone(self, request, object_id, view):
        zone = self._zone_of(request, object_id)
        if zone is None:
            return view()
        with timezone.override(ZoneInfo(zone)):
            response = view()
            if hasattr(response, "render") and not response.is_rendered:
                response.render()   # a TemplateResponse renders later, outside the override: now
            return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._in_zone(request, object_id,
                             lambda: super(TenantTimeAdminMixin, self).changeform_view(request, object_id, form_url,
                                                                                       extra_context))

    def changelist_view(self, request, extra_context=None):
        return self._in_zone(request, None,
                             lambda: super(TenantTimeAdminMixin, self).changelist_view(request, extra_context))


class ServiceForm(forms.ModelForm):
    """A console form whose clean() writes through a service (`write`), inside the admin view's
    transaction: the service's refusal becomes form errors (on the field the service names) and
    nothing is written. `saved` is the object the service wrote; `save()` returns it."""

    #: the staff's tenant (set by ServiceAdminMixin.get_form): None for superusers, 0 for staff of
    #: no tenant (who then see no choices and write nothing)
    staff_tenant_id: int | None = 0
    #: service attribute (its first segment) -> form field
    attr_fields: dict[str, str] = {}
    saved = None

    def form_tenant(self):
        if self.instance.pk is not None:
            return self.instance.tenant
        if self.staff_tenant_id is not None:
            return Tenant.objects.filter(pk=self.staff_tenant_id).first()
        return self.cleaned_data.get("tenant")

    def choices_of(self, model):
        """The rows of `model` this form may offer: the object's or the staff's tenant's (all of them
        for a superuser creating one; the tenant is checked on saving)."""
        tenant_id = self.instance.tenant_id if self.instance.pk is not None else self.staff_tenant_id
        return model.unscoped.all() if tenant_id is None else model.unscoped.filter(tenant_id=tenant_id)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        tenant = self.form_tenant()
        if tenant is None:
            self.add_error(None, gettext("Choose the tenant."))
            return data
        try:
            with tenant_context(tenant), transaction.atomic():
                self.saved = self.write(tenant, data)
        except APIException as exc:
            for attr, message in console.service_errors(exc):
                self.add_service_error(attr, message)
        return data

    def write(self, tenant, data):
        """The service call of a concrete form (each subclass overrides it: contest, scheme,
        target, ...): `data` is the cleaned data, run in the tenant's context and a transaction;
        returns what was saved. This base class has no service of its own."""
        raise NotImplementedError(f"{type(self).__name__} must define write()")

    def add_service_error(self, attr: str | None, message: str) -> None:
        head, _dot, rest = (attr or "").partition(".")
        field = self.attr_fields.get(head, head)
        if field in self.fields:
            self.add_error(field, self.describe(head, rest, message))
        else:
            self.add_error(None, message)

    def describe(self, head: str, rest: str, message: str) -> str:
        return message

    def _post_clean(self):
        """No model validation or instance update: the service validated and wrote (clean())."""

    def save(self, commit=True):
        return self.saved

    def save_m2m(self):
        """The service set the relations (django-simple-history's Revert calls this)."""


class ServiceAdminMixin:
    """For a ModelAdmin whose form is a ServiceForm: the form knows the staff's tenant, and saving
    is the service's work (done in the form's clean), so the admin saves nothing more."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.staff_tenant_id = None if request.user.is_superuser else (staff_tenant_id(request) or 0)
        return form

    def save_form(self, request, form, change):
        return form.saved

    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


def _local_days(tenant, first: date, last: date):
    """[first 00:00, the day after last 00:00) in the tenant's time zone; 400 `out_of_range` (on
    starts_at / ends_at, as the service names them) for a day outside rules.FIRST_DAY .. LAST_DAY."""
    from fenxiao.exceptions import invalid

    for attr, day in (("starts_at", first), ("ends_at", last)):
        if not rules.day_in_range(day):
            raise invalid(attr, gettext(rules.DAY_RANGE_MESSAGE), "out_of_range")
    return rules.local_window(tenant.timezone, first, last + timedelta(days=1))


def _plain(value: Decimal | None) -> str | None:
    """A stored decimal as a person typed it: 500.0000 -> "500", 12.5000 -> "12.5"."""
    return None if value is None else format(value.normalize(), "f")


def _tenant_row(obj) -> Tenant:
    with tenant_context(obj.tenant_id):
        return current_tenant()


def _translated_choices(values, labels) -> list[tuple[str, str]]:
    return [(v, labels.get(v, v)) for v in values]


def _action_page(request, admin_obj, *, title: str, intro, form=None, body="", submit: str = "", back: str):
    """The page of an object action (admin/fenxiao_action_form.html): what it does, its form, what it
    acts on, the button (none when it cannot run) and the way back."""
    context = {**admin_obj.admin_site.each_context(request), "title": title, "intro": intro, "form": form, "body": body,
               "submit": submit, "back": back, "back_label": gettext("Back"), "opts": admin_obj.model._meta}
    return TemplateResponse(request, "admin/fenxiao_action_form.html", context)


def choice_filter(field: str, title, labels: dict) -> type[admin.SimpleListFilter]:
    """A list filter on a choice column with the translated labels of its values."""

    class ChoiceFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return list(labels.items())

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() in labels else queryset

    ChoiceFilter.title = title
    return ChoiceFilter


def _measures(values) -> dict:
    return {v: console.SHORT_MEASURE_LABELS[v] for v in values}


# --- contests ----------------------------------------------------------------------------------

PRIZE_SPLIT = re.compile(r"[\s,，、;；]+")


class ContestForm(ServiceForm):
    first_day = forms.DateField(label=_("First day"), widget=AdminDateWidget,
                                help_text=_("a local date of the tenant's time zone: the contest starts at its 00:00"))
    last_day = forms.DateField(label=_("Last day"), widget=AdminDateWidget,
                               help_text=_("inclusive: the contest ends at 24:00 of this local date"))
    measure = forms.ChoiceField(label=_("Measure"), choices=())
    grades = forms.ModelMultipleChoiceField(
        label=_("Eligible grades"), queryset=Grade.unscoped.none(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("none ticked: every distributor takes part"))
    min_score = forms.DecimalField(label=_("Minimum score"), required=False, min_value=0,
                                   help_text=_("optional: a distributor ranks only with at least this score"))
    prize_list = forms.CharField(label=_("Prizes"), required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
                                 help_text=_("an amount per rank, 1st first, separated by commas or new lines "
                                             "(e.g. 500, 300, 100), in the tenant's currency; each at most the one "
                                             "before it"))
    finalize_at = forms.SplitDateTimeField(label=_("Finalize at"), required=False, widget=AdminSplitDateTime,
                                           help_text=_("local time; blank: the end of the window plus the tenant's "
                                                       "settle_after_days, so refunds of the window's orders count"))

    attr_fields = {"starts_at": "first_day", "ends_at": "last_day", "prizes": "prize_list"}

    class Meta:
        model = Contest
        fields = ["name"]
        labels = {"name": _("Name")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .services import CONTEST_MEASURES

        self.fields["measure"].choices = _translated_choices(CONTEST_MEASURES, console.MEASURE_LABELS)
        self.fields["grades"].queryset = self.choices_of(Grade).order_by("rank", "id")
        c = self.instance
        if c.pk is not None:
            tz = ZoneInfo(c.tenant.timezone)
            self.initial.update({
                "grades": [g.pk for g in c.grades.all()], "first_day": c.starts_at.astimezone(tz).date(),
                "last_day": (c.ends_at.astimezone(tz) - timedelta(days=1)).date(), "measure": c.measure,
                "min_score": _plain(c.min_score), "prize_list": ", ".join(c.prizes), "finalize_at": c.finalize_at})

    def clean_prize_list(self):
        out = []
        for token in PRIZE_SPLIT.split(self.cleaned_data.get("prize_list") or ""):
            if not token:
                continue
            try:
                Decimal(token)
            except InvalidOperation:
                raise forms.ValidationError(gettext("“%(token)s” is not an amount.") % {"token": token}) from None
            out.append(token)
        return out

    def clean(self):
        data = self.cleaned_data
        tenant = self.form_tenant() if not self.errors else None
        if tenant is not None and data.get("grades"):
            foreign = [g for g in data["grades"] if g.tenant_id != tenant.pk]
            if foreign:
                self.add_error("grades", gettext("Choose grades of the contest's tenant."))
        return super().clean()

    def write(self, tenant, data):
        from .services import contest_create, contest_update

        starts_at, ends_at = _local_days(tenant, data["first_day"], data["last_day"])
        values = {"name": data["name"], "starts_at": starts_at, "ends_at": ends_at, "measure": data["measure"],
                  "min_score": data.get("min_score"), "grades": list(data.get("grades") or []),
                  "prizes": data.get("prize_list") or []}
        if self.instance.pk is None:
            return contest_create(tenant=tenant, finalize_at=data.get("finalize_at"), **values)
        if data.get("finalize_at") is None or "finalize_at" in self.changed_data:
            values["finalize_at"] = data.get("finalize_at")   # blank: the default again
        return contest_update(contest=self.instance, **values)

    def describe(self, head, rest, message):
        if head == "prizes" and rest.isdigit():
            return gettext("Prize %(rank)d: %(message)s") % {"rank": int(rest) + 1, "message": message}
        return message


class ContestStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return list(console.STATUS_LABELS.items())

    def queryset(self, request, queryset):
        now = timezone.now()
        open_ = Q(finalized_at__isnull=True)
        where = {
            Contest.Status.SCHEDULED: open_ & Q(starts_at__gt=now),
            Contest.Status.RUNNING: open_ & Q(starts_at__lte=now, ends_at__gt=now),
            Contest.Status.ENDED: open_ & Q(ends_at__lte=now),
            Contest.Status.FINALIZED: Q(finalized_at__isnull=False),
        }.get(self.value())
        return queryset.filter(where) if where is not None else queryset


@admin.register(Contest)
class ContestAdmin(TenantTimeAdminMixin, ServiceAdminMixin, TenantScopedHistoryAdmin):
    """Sales contests (销售竞赛): the list with each contest's status; the page with its leaderboard
    (live while it runs, frozen once finalized) and "Finalize now". A finalized contest is read-only."""

    form = ContestForm
    list_display = ["name", "status", "window", "measure_short", "prizes_display", "finalize_at_local"]
    list_filter = [ContestStatusFilter, choice_filter("measure", _("measure"), _measures(
        ("direct_sales", "team_sales", "order_count", "new_direct_recruits")))]
    search_fields = ["name"]
    actions = ["finalize_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tenant")

    def _editable(self, request, obj) -> bool:
        return obj is None or self.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.finalized_at is None)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.finalized_at is None)

    def get_fieldsets(self, request, obj=None):
        tenant = ["tenant"] if request.user.is_superuser else []
        if self._editable(request, obj):
            main = [*(tenant if obj is None else []), "name", ("first_day", "last_day"), "measure", "min_score", "grades",
                    "prize_list", "finalize_at"]
        else:
            main = ["name", "window", "measure_display", "min_score_display", "grades_display", "prizes_display",
                    "finalize_at_local"]
        sets = [(None, {"fields": main})]
        if obj is not None:
            sets += [(_("Status"), {"fields": [*tenant, "status", "finalized_at_local", "finalized_by_whom"]}),
                     (_("Leaderboard"), {"fields": ["leaderboard"]})]
        return sets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*(["tenant"] if request.user.is_superuser else []), "status", "finalized_at_local", "finalized_by_whom",
                "leaderboard", "window", "measure_display", "min_score_display", "grades_display", "prizes_display",
                "finalize_at_local"]

    # -- columns and read-only fields -----------------------------------------------------------

    @admin.display(description=_("status"))
    def status(self, obj):
        return console.STATUS_LABELS[obj.status_at(timezone.now())]

    @admin.display(description=_("window (local days)"), ordering="starts_at")
    def window(self, obj):
        return console.window_str(obj.starts_at, obj.ends_at, obj.tenant.timezone)

    @admin.display(description=_("measure"), ordering="measure")
    def measure_display(self, obj):
        return console.measure_label(obj.measure)

    @admin.display(description=_("measure"), ordering="measure")
    def measure_short(self, obj):
        return console.measure_label(obj.measure, short=True)

    @admin.display(description=_("minimum score"))
    def min_score_display(self, obj):
        return console.value_str(obj.measure, obj.min_score, obj.tenant.currency) if obj.min_score is not None else "-"

    @admin.display(description=_("eligible grades"))
    def grades_display(self, obj):
        return ", ".join(g.name for g in obj.grades.all()) or gettext("everyone")

    @admin.display(description=_("prizes"))
    def prizes_display(self, obj):
        return " · ".join(gettext("#%(rank)d %(prize)s") % {"rank": i, "prize": p}
                          for i, p in enumerate(obj.prizes, start=1)) or "-"

    @admin.display(description=_("finalize at (local)"), ordering="finalize_at")
    def finalize_at_local(self, obj):
        return console.local_str(obj.finalize_at, obj.tenant.timezone)

    @admin.display(description=_("finalized at (local)"))
    def finalized_at_local(self, obj):
        return console.local_str(obj.finalized_at, obj.tenant.timezone)

    @admin.display(description=_("finalized by"))
    def finalized_by_whom(self, obj):
        return obj.finalized_by or "-"

    @admin.display(description=_("leaderboard"))
    def leaderboard(self, obj):
        with tenant_context(obj.tenant_id):
            return console.leaderboard_html(obj, current_tenant())

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_finalize"] = (obj is not None and obj.finalized_at is None and timezone.now() >= obj.ends_at
                                   and super().has_change_permission(request, None))
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- finalize -------------------------------------------------------------------------------

    def get_urls(self):
        return [path("<path:object_id>/finalize/", self.admin_site.admin_view(self.finalize_view),
                     name="incentives_contest_finalize"), *super().get_urls()]

    def _finalize(self, request, contest) -> None:
        """contest_finalize, and the outcome as a message: the prizes credited, or that it was
        already finalized (nothing more credited), or the refusal (not ended yet)."""
        from .services import contest_finalize

        with tenant_context(contest.tenant_id):
            tenant = current_tenant()
            try:
                done, finalized = contest_finalize(contest=contest, actor=request.user.get_username())
            except APIException as exc:
                self.message_user(request, gettext("“%(name)s” was not finalized: %(why)s") % {
                    "name": contest.name, "why": "; ".join(m for _attr, m in console.service_errors(exc))}, messages.ERROR)
                return
            paid = ContestResult.objects.filter(contest=done, prize__gt=0).aggregate(n=Count("id"), total=Sum("prize"))
            winners = paid["n"]
            total = money_str(exact_sum(paid["total"], tenant.currency), tenant.currency)
        if finalized:
            self.message_user(request, gettext("“%(name)s” finalized: %(n)d prize(s) credited, %(total)s %(currency)s in "
                                               "all.") % {"name": done.name, "n": winners, "total": total,
                                                          "currency": tenant.currency}, messages.SUCCESS)
        else:
            self.message_user(request, gettext("“%(name)s” was already finalized on %(when)s by %(who)s: nothing more "
                                               "was credited.") % {
                "name": done.name, "when": console.local_str(done.finalized_at, tenant.timezone),
                "who": done.finalized_by or "-"}, messages.WARNING)

    def finalize_view(self, request, object_id):
        """GET: what finalizing will do (the ranking and prizes as of now); POST: finalize."""
        contest = self.get_object(request, unquote(object_id))
        if contest is None:
            raise Http404("No contest with this id.")
        if not super().has_change_permission(request, None):
            raise PermissionDenied
        change_url = reverse("admin:incentives_contest_change", args=[contest.pk])
        if request.method == "POST":
            self._finalize(request, contest)
            return HttpResponseRedirect(change_url)
        tenant = _tenant_row(contest)
        now = timezone.now()
        if contest.finalized_at is not None:
            intro = gettext("This contest was finalized on %(when)s by %(who)s; its prizes were credited then. "
                            "Finalizing again credits nothing.") % {
                "when": console.local_str(contest.finalized_at, tenant.timezone), "who": contest.finalized_by or "-"}
            submit = ""
        elif now < contest.ends_at:
            last_day = contest.ends_at.astimezone(ZoneInfo(tenant.timezone)) - timedelta(days=1)
            intro = gettext("This contest runs until the end of %(last)s (local time); it can be finalized once it has "
                            "ended.") % {"last": f"{last_day:%Y-%m-%d}"}
            submit = ""
        else:
            intro = gettext("Finalizing freezes the ranking below and credits each prize to its winner's ledger as a "
                            "bonus entry, available at once. It is done once: refunds after it change no prize.")
            submit = gettext("Yes, finalize now")
        body = self.leaderboard(contest)
        return _action_page(request, self, title=gettext("Finalize “%(name)s”") % {"name": contest.name}, intro=intro,
                            body=body, submit=submit, back=change_url)

    @admin.action(description=_("Finalize the selected contests now"), permissions=["change"])
    def finalize_selected(self, request, queryset):
        if not super().has_change_permission(request, None):
            raise PermissionDenied
        for contest in queryset.order_by("pk"):
            self._finalize(request, contest)


# --- tier bonus schemes ------------------------------------------------------------------------

class TiersWidget(forms.Widget):
    """A scheme's tiers as rows of inputs (threshold, amount, rate), two blank rows to add more."""

    EXTRA = 2
    ROW = re.compile(r"^(?P<i>\d+)-(?P<col>threshold|amount|rate)$")

    def render(self, name, value, attrs=None, renderer=None):
        rows = [dict(r) for r in (value or []) if isinstance(r, dict)]
        rows += [{} for _row in range(max(self.EXTRA, 3 - len(rows)))]
        head = format_html("<tr><th>{}</th><th>{}</th><th>{}</th></tr>", gettext("threshold (reached: at least)"),
                           gettext("fixed amount"), gettext("or rate (0.0300 = 3%)"))

        def cell(i, col, row):
            return format_html('<td><input type="text" name="{}-{}-{}" id="id_{}-{}-{}" value="{}" size="12"></td>',
                               name, i, col, name, i, col, row.get(col) or "")

        body = format_html_join("", "<tr>{}{}{}</tr>", (
            (cell(i, "threshold", r), cell(i, "amount", r), cell(i, "rate", r)) for i, r in enumerate(rows)))
        return format_html('<table class="tiers-editor" id="id_{}"><thead>{}</thead><tbody>{}</tbody></table>',
                           name, head, body)

    def value_from_datadict(self, data, files, name):
        rows: dict[int, dict] = {}
        prefix = f"{name}-"
        for key in data:
            if not key.startswith(prefix):
                continue
            m = self.ROW.match(key[len(prefix):])
            if m:
                rows.setdefault(int(m["i"]), {})[m["col"]] = (data.get(key) or "").strip()
        return [rows[i] for i in sorted(rows)]

    def value_omitted_from_data(self, data, files, name):
        return False


class TiersField(forms.Field):
    """Rows of {"threshold", "amount"} or {"threshold", "rate"}: blank rows are dropped, numbers
    checked; the rules (increasing thresholds, amount or rate, ...) are the service's."""

    widget = TiersWidget

    def to_python(self, value):
        out = []
        for i, row in enumerate(value or [], start=1):
            row = {k: v for k, v in row.items() if v}
            if not row:
                continue
            for col, text in row.items():
                try:
                    Decimal(text)
                except InvalidOperation:
                    raise forms.ValidationError(
                        gettext("Tier %(n)d: “%(text)s” is not a number.") % {"n": i, "text": text}) from None
            out.append(row)
        return out

    def validate(self, value):
        if not value:
            raise forms.ValidationError(gettext("Give at least one tier."))


class TierSchemeForm(ServiceForm):
    measure = forms.ChoiceField(label=_("Measure"), choices=())
    tiers = TiersField(label=_("Tiers"), help_text=_(
        "per local month: the highest tier whose threshold the measure reaches pays its fixed amount or its rate of "
        "the measure; thresholds increase from row to row; amounts in the tenant's currency"))

    class Meta:
        model = TierBonusScheme
        fields = ["name", "is_active"]
        labels = {"name": _("Name"), "is_active": _("Active (evaluated each month by the schedule)")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .services import SCHEME_MEASURES

        self.fields["measure"].choices = _translated_choices(SCHEME_MEASURES, console.MEASURE_LABELS)
        if self.instance.pk is not None:
            self.initial.update({"measure": self.instance.measure, "tiers": self.instance.tiers})

    def write(self, tenant, data):
        from .services import tier_scheme_create, tier_scheme_update

        values = {"name": data["name"], "measure": data["measure"], "tiers": data["tiers"],
                  "is_active": bool(data.get("is_active"))}
        if self.instance.pk is None:
            return tier_scheme_create(tenant=tenant, **values)
        return tier_scheme_update(scheme=self.instance, **values)

    def describe(self, head, rest, message):
        if head == "tiers" and rest:
            n = rest.partition(".")[0]
            return gettext("Tier %(n)d: %(message)s") % {"n": int(n) + 1, "message": message}
        return message


class EvaluateMonthForm(forms.Form):
    month = forms.CharField(label=_("Month"), max_length=7, help_text=_("a local month that has ended, as YYYY-MM"),
                            widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}))


@admin.register(TierBonusScheme)
class TierBonusSchemeAdmin(TenantTimeAdminMixin, ServiceAdminMixin, TenantScopedHistoryAdmin):
    """Tier bonus schemes (阶梯奖励): tiers edited as rows, the awards of each evaluated month as
    tables, and "Evaluate a month" for a closed month (once per month, however often it runs)."""

    form = TierSchemeForm
    list_display = ["name", "measure_short", "tiers_display", "is_active", "months_evaluated"]
    list_filter = ["is_active", choice_filter("measure", _("measure"), _measures(("direct_sales", "team_sales")))]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tenant").annotate(
            months=Count("evaluations"), last_month=Max("evaluations__period")).order_by("-pk")

    def get_fieldsets(self, request, obj=None):
        tenant = ["tenant"] if request.user.is_superuser else []
        editable = obj is None or self.has_change_permission(request, obj)
        main = [*(tenant if obj is None else []), "name", "measure", "tiers", "is_active"] if editable else \
            ["name", "measure_display", "tiers_display", "is_active"]
        sets = [(None, {"fields": main})]
        if obj is not None:
            sets.append((_("Awards per month"), {"fields": [*(tenant if editable else []), "awards"]}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*(["tenant"] if request.user.is_superuser else []), "awards", "measure_display", "tiers_display"]

    @admin.display(description=_("measure"), ordering="measure")
    def measure_display(self, obj):
        return console.measure_label(obj.measure)

    @admin.display(description=_("measure"), ordering="measure")
    def measure_short(self, obj):
        return console.measure_label(obj.measure, short=True)

    @admin.display(description=_("tiers"))
    def tiers_display(self, obj):
        return console.tiers_summary(obj.tiers, obj.tenant.currency)

    @admin.display(description=_("months evaluated"), ordering="last_month")
    def months_evaluated(self, obj):
        if not obj.months:
            return "-"
        return gettext("%(n)d, the last %(month)s") % {"n": obj.months, "month": f"{obj.last_month:%Y-%m}"}

    @admin.display(description=_("awards"))
    def awards(self, obj):
        with tenant_context(obj.tenant_id):
            return console.awards_html(obj, current_tenant())

    def get_urls(self):
        return [path("<path:object_id>/evaluate/", self.admin_site.admin_view(self.evaluate_view),
                     name="incentives_tierbonusscheme_evaluate"), *super().get_urls()]

    def evaluate_view(self, request, object_id):
        """GET: the form (a month, YYYY-MM); POST: tier_bonus_evaluate for that month, then back to
        the scheme with the outcome. A month not ended yet, or not a month, is a form error."""
        from .services import month_of, tier_bonus_evaluate

        scheme = self.get_object(request, unquote(object_id))
        if scheme is None:
            raise Http404("No tier bonus scheme with this id.")
        if not self.has_change_permission(request, scheme):
            raise PermissionDenied
        tenant = _tenant_row(scheme)
        change_url = reverse("admin:incentives_tierbonusscheme_change", args=[scheme.pk])
        local_today = timezone.now().astimezone(ZoneInfo(tenant.timezone)).date()
        last_month = (local_today.replace(day=1) - timedelta(days=1)).replace(day=1)
        form = EvaluateMonthForm(request.POST or None, initial={"month": f"{last_month:%Y-%m}"})
        if request.method == "POST" and form.is_valid():
            with tenant_context(tenant):
                try:
                    period = month_of(form.cleaned_data["month"])
                    evaluation, awards, done = tier_bonus_evaluate(scheme=scheme, period=period,
                                                                   actor=request.user.get_username())
                except APIException as exc:
                    for _attr, message in console.service_errors(exc):
                        form.add_error("month", message)
                else:
                    total = money_str(sum((a.amount for a in awards), Decimal(0)), tenant.currency)
                    if done:
                        self.message_user(request, gettext("%(month)s evaluated: %(n)d award(s), %(total)s %(currency)s "
                                                           "credited.") % {"month": f"{period:%Y-%m}", "n": len(awards),
                                                                           "total": total, "currency": tenant.currency},
                                          messages.SUCCESS)
                    else:
                        self.message_user(request, gettext(
                            "%(month)s was already evaluated on %(when)s by %(who)s (%(n)d award(s), %(total)s "
                            "%(currency)s): nothing more was credited.") % {
                            "month": f"{period:%Y-%m}", "when": console.local_str(evaluation.evaluated_at, tenant.timezone),
                            "who": evaluation.evaluated_by or "-", "n": len(awards), "total": total,
                            "currency": tenant.currency}, messages.WARNING)
                    return HttpResponseRedirect(change_url)
        intro = gettext("Each distributor whose %(measure)s in the month reaches a tier gets the highest tier reached, "
                        "once, as a bonus entry in its ledger. A month is evaluated once it has ended; evaluating it "
                        "again credits nothing more. Tiers: %(tiers)s.") % {
            "measure": console.measure_label(scheme.measure), "tiers": console.tiers_summary(scheme.tiers, tenant.currency)}
        return _action_page(request, self, title=gettext("Evaluate a month of “%(name)s”") % {"name": scheme.name},
                            intro=intro, form=form, submit=gettext("Evaluate"), back=change_url)


# --- targets -----------------------------------------------------------------------------------

class TargetForm(ServiceForm):
    starts_on = forms.DateField(label=_("First day"), widget=AdminDateWidget,
                                help_text=_("a local date: the first day of the month, quarter or year, or of a custom "
                                            "period"))
    ends_on = forms.DateField(label=_("Last day"), widget=AdminDateWidget, required=False,
                              help_text=_("custom periods only: the last day, inclusive"))

    class Meta:
        model = Target
        fields = ["name", "scope", "measure", "period", "goal"]   # and "distributor", built per request (scoped)
        labels = {"name": _("Name"), "scope": _("Scope"), "distributor": _("Distributor"), "measure": _("Measure"),
                  "period": _("Period"), "goal": _("Goal")}
        help_texts = {"distributor": _("for a distributor or team target"),
                      "goal": _("money in the tenant's currency; counts as whole numbers")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = {"scope": console.SCOPE_LABELS, "measure": console.MEASURE_LABELS, "period": console.PERIOD_LABELS}
        for name, labels in choices.items():
            if name in self.fields:
                self.fields[name].choices = [("", "---------"), *_translated_choices(labels.keys(), labels)]
        t = self.instance
        if t.pk is not None:
            tz = ZoneInfo(t.tenant.timezone)
            self.initial.update({"starts_on": t.starts_at.astimezone(tz).date(),
                                 "ends_on": (t.ends_at.astimezone(tz) - timedelta(days=1)).date(), "goal": _plain(t.goal)})

    def write(self, tenant, data):
        from .services import target_create, target_update

        values = {"name": data["name"], "scope": data["scope"], "measure": data["measure"], "period": data["period"],
                  "starts_on": data["starts_on"], "ends_on": data.get("ends_on"), "goal": data["goal"],
                  "distributor": data.get("distributor")}
        if values["distributor"] is not None and values["distributor"].tenant_id != tenant.pk:
            from fenxiao.exceptions import invalid

            raise invalid("distributor", gettext("Choose a distributor of the target's tenant."))
        if self.instance.pk is None:
            return target_create(tenant=tenant, **values)
        return target_update(target=self.instance, **values)


@admin.register(Target)
class TargetAdmin(TenantTimeAdminMixin, ServiceAdminMixin, TenantScopedHistoryAdmin):
    """Sales targets and KPIs (销售目标): each with its progress bar (value / goal, the expected
    pace marker, the status: ahead, on track, behind or met)."""

    form = TargetForm
    list_display = ["name", "progress", "who", "measure_short", "goal_display", "window"]
    list_filter = [choice_filter("scope", _("scope"), console.SCOPE_LABELS),
                   choice_filter("measure", _("measure"), console.SHORT_MEASURE_LABELS),
                   choice_filter("period", _("period"), console.PERIOD_LABELS)]
    search_fields = ["name", "distributor__external_id", "distributor__name"]
    autocomplete_fields = ["distributor"]
    list_per_page = 50   # each row's progress is read from the measures (a query or two)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tenant", "distributor")

    def get_fieldsets(self, request, obj=None):
        tenant = ["tenant"] if request.user.is_superuser else []
        editable = obj is None or self.has_change_permission(request, obj)
        main = [*(tenant if obj is None else []), "name", "scope", "distributor", "measure", "period",
                ("starts_on", "ends_on"), "goal"] if editable else \
            ["name", "scope_display", "distributor", "measure_display", "period_display", "goal_display"]
        sets = [(None, {"fields": main})]
        if obj is not None:
            sets.append((_("Progress"), {"fields": [*tenant, "period_display", "progress_bar"] if editable
                                         else [*tenant, "progress_bar"]}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*(["tenant"] if request.user.is_superuser else []), "progress_bar", "period_display", "scope_display",
                "measure_display", "goal_display"]

    @admin.display(description=_("scope"), ordering="scope")
    def scope_display(self, obj):
        return console.SCOPE_LABELS.get(obj.scope, obj.scope)

    @admin.display(description=_("measure"), ordering="measure")
    def measure_display(self, obj):
        return console.measure_label(obj.measure)

    @admin.display(description=_("measure"), ordering="measure")
    def measure_short(self, obj):
        return console.measure_label(obj.measure, short=True)

    @admin.display(description=_("whose"), ordering="scope")
    def who(self, obj):
        if obj.scope == Target.Scope.TENANT:
            return gettext("the whole programme")
        if obj.scope == Target.Scope.TEAM:
            return gettext("team of %(who)s") % {"who": obj.distributor.external_id}
        return obj.distributor.external_id

    @admin.display(description=_("local days"), ordering="starts_at")
    def window(self, obj):
        return console.window_str(obj.starts_at, obj.ends_at, obj.tenant.timezone)

    @admin.display(description=_("period (local days)"), ordering="starts_at")
    def period_display(self, obj):
        return f"{console.PERIOD_LABELS.get(obj.period, obj.period)}: " \
               f"{console.window_str(obj.starts_at, obj.ends_at, obj.tenant.timezone)}"

    @admin.display(description=_("goal"), ordering="goal")
    def goal_display(self, obj):
        return console.value_str(obj.measure, obj.goal, obj.tenant.currency)

    @admin.display(description=_("progress"))
    def progress(self, obj):
        with tenant_context(obj.tenant_id):
            return console.progress_html(obj, current_tenant(), compact=True)

    @admin.display(description=_("progress"))
    def progress_bar(self, obj):
        with tenant_context(obj.tenant_id):
            return console.progress_html(obj, current_tenant())


# --- results and awards (read-only) ------------------------------------------------------------

@admin.register(ContestResult)
class ContestResultAdmin(ReadOnlyTenantScopedAdmin):
    """The frozen rankings of finalized contests and the prize paid to each winner."""

    list_display = ["contest", "rank", "distributor", "score_display", "prize", "entry"]
    list_filter = [("contest", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["contest__name", "distributor__external_id", "distributor__name"]
    list_select_related = ["contest", "distributor", "tenant", "entry"]

    @admin.display(description=_("score"), ordering="score")
    def score_display(self, obj):
        measure = obj.contest.measure
        value = obj.score if measure not in console.MONEY_MEASURES else obj.score.quantize(Decimal(1).scaleb(-_places(obj)))
        return console.value_str(measure, value, obj.tenant.currency)


class MonthFilter(admin.SimpleListFilter):
    """The months awarded (the newest 24), as YYYY-MM."""

    title = _("month")
    parameter_name = "period"

    def lookups(self, request, model_admin):
        months = model_admin.get_queryset(request).order_by("-period").values_list("period", flat=True).distinct()[:24]
        return [(f"{m:%Y-%m-%d}", f"{m:%Y-%m}") for m in months]

    def queryset(self, request, queryset):
        try:
            return queryset.filter(period=date.fromisoformat(self.value())) if self.value() else queryset
        except ValueError:
            return queryset.none()


@admin.register(TierAward)
class TierAwardAdmin(ReadOnlyTenantScopedAdmin):
    """Every tier bonus credited: one per scheme, distributor and month."""

    list_display = ["scheme", "month", "distributor", "measure_value_display", "threshold_display", "rate_display",
                    "amount", "entry"]
    list_filter = [("scheme", admin.RelatedOnlyFieldListFilter), MonthFilter]
    search_fields = ["scheme__name", "distributor__external_id", "distributor__name"]
    list_select_related = ["scheme", "distributor", "tenant", "entry"]

    @admin.display(description=_("month"), ordering="period")
    def month(self, obj):
        return f"{obj.period:%Y-%m}"

    @admin.display(description=_("measure value"), ordering="measure_value")
    def measure_value_display(self, obj):
        return console.value_str(Measure.DIRECT_SALES, obj.measure_value.quantize(Decimal(1).scaleb(-_places(obj))),
                                 obj.tenant.currency)

    @admin.display(description=_("tier reached"), ordering="threshold")
    def threshold_display(self, obj):
        return f"≥ {money_str(obj.threshold.quantize(Decimal(1).scaleb(-_places(obj))), obj.tenant.currency)}"

    @admin.display(description=_("rate"))
    def rate_display(self, obj):
        return console.rate_str(obj.rate) if obj.rate is not None else gettext("fixed amount")


def _places(obj) -> int:
    from fenxiao.currencies import minor_units

    return minor_units(obj.tenant.currency)
