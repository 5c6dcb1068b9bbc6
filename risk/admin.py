"""Console for risk holds (domain rules section 11): the held distributors with the rule that
tripped and its figures, and a release page asking for the reason (audited)."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy as _
from rest_framework.exceptions import APIException

from tenants.admin_scoping import TenantScopedHistoryAdmin

from . import services
from .models import RiskHold


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class OpenFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("open")), ("released", _("released"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


@admin.register(RiskHold)
class RiskHoldAdmin(TenantScopedHistoryAdmin):
    list_display = ["distributor", "reason", "what_tripped", "created_at", "state", "released_by", "release_reason"]
    list_filter = [OpenFilter, "reason"]
    search_fields = ["distributor__external_id", "distributor__name"]
    list_select_related = ["distributor"]
    readonly_fields = ["distributor", "reason", "what_tripped", "created_at", "released_at", "released_by",
                       "release_reason", "release_link"]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("what tripped the rule"))
    def what_tripped(self, obj) -> str:
        f = obj.figures or {}
        if obj.reason == RiskHold.Reason.VELOCITY:
            return gettext("%(n)s orders in the hour to %(to)s (limit %(limit)s)") % {
                "n": f.get("orders_in_hour"), "to": f.get("to", "")[:16].replace("T", " "), "limit": f.get("limit")}
        return gettext("refunded %(refunded)s of %(sales)s over %(orders)s orders = %(rate)s (limit %(limit)s)") % {
            "refunded": f.get("refunded"), "sales": f.get("sales"), "orders": f.get("orders"),
            "rate": f.get("rate"), "limit": f.get("limit")}

    @admin.display(description=_("state"))
    def state(self, obj) -> str:
        return gettext("open") if obj.released_at is None else gettext("released %(at)s") % {"at": f"{obj.released_at:%Y-%m-%d}"}

    @admin.display(description=_("release"))
    def release_link(self, obj):
        if obj is None or obj.released_at is not None:
            return "-"
        return format_html('<a class="button" id="release-hold" href="{}">{}</a>',
                           reverse("admin:risk_riskhold_release", args=[obj.pk]), gettext("Release this hold"))

    def get_urls(self):
        return [path("<int:pk>/release/", self.admin_site.admin_view(self.release_view), name="risk_riskhold_release"),
                *super().get_urls()]

    def release_view(self, request, pk):
        """GET: the hold and a reason form; POST: risk_hold_release (change permission)."""
        hold = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, hold):
            raise PermissionDenied
        change = reverse("admin:risk_riskhold_change", args=[hold.pk])
        form = ReleaseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.risk_hold_release(hold=hold, reason=form.cleaned_data["reason"], actor=request.user.get_username())
            except APIException as exc:
                self.message_user(request, str(exc.detail), messages.ERROR)
            else:
                self.message_user(request, gettext("Hold released: %(who)s's commissions settle when due.")
                                  % {"who": hold.distributor}, messages.SUCCESS)
            return HttpResponseRedirect(change)
        context = {**self.admin_site.each_context(request), "title": gettext("Release a risk hold"),
                   "intro": gettext("%(who)s: %(what)s. Its commissions accrued since %(at)s are held. Releasing lets "
                                    "them settle when due; give the reason (kept with the hold and its history).")
                   % {"who": hold.distributor, "what": self.what_tripped(hold), "at": f"{hold.created_at:%Y-%m-%d %H:%M}"},
                   "form": form, "body": "", "submit": gettext("Release"), "back": change,
                   "back_label": gettext("Back"), "opts": self.model._meta}
        return TemplateResponse(request, "admin/fenxiao_action_form.html", context)
