from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext, gettext_lazy as _
from rest_framework.exceptions import APIException

from fenxiao.currencies import money_str
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin, TenantScopedHistoryAdmin, apply_per_object
from tenants.context import tenant_context

from . import services
from .exports import payout_csv
from .models import Balance, LedgerEntry, OutboxEvent, Withdrawal


@admin.register(Balance)
class BalanceAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["distributor", "currency", "frozen", "available", "held", "withdrawn", "fees", "total_earned", "updated_at"]
    search_fields = ["distributor__external_id", "distributor__name"]
    list_select_related = ["distributor"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["id", "distributor", "kind", "amount", "d_frozen", "d_available", "d_held", "d_withdrawn", "record",
                    "refund", "withdrawal", "created_at"]
    list_filter = ["kind"]
    search_fields = ["distributor__external_id"]
    list_select_related = ["distributor", "record", "refund", "withdrawal"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["id", "type", "created_at", "dispatched_at"]
    list_filter = ["type"]


def _decide(modeladmin, request, queryset, service, label, **kwargs):
    apply_per_object(modeladmin, request, queryset,
                     lambda w: service(withdrawal=w, actor=request.user.get_username(), **kwargs),
                     str(label), describe=lambda w: f"#{w.pk}")


#: The decisions on a withdrawal's page, from the statuses they apply to (ledger.services).
DECISIONS = {"approve": ("requested",), "reject": ("requested", "approved"), "pay": ("approved",)}
DECISION_LABELS = {"approve": _("Approve"), "reject": _("Reject (the money returns to available)"),
                   "pay": _("Mark as paid")}
DONE_LABELS = {"approve": _("Withdrawal #%(id)d approved."), "reject": _("Withdrawal #%(id)d rejected: the money is "
                                                                           "available to the distributor again."),
               "pay": _("Withdrawal #%(id)d paid (payout reference %(ref)s).")}


class DecisionForm(forms.Form):
    """A decision on one withdrawal: approve (a note), reject (the reason, required), pay (the
    payout reference of the transfer, required; a note)."""

    decision = forms.ChoiceField(choices=list(DECISION_LABELS.items()), widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
                             help_text=_("Required to reject (the distributor sees it); otherwise a note for the history."))
    payout_reference = forms.CharField(label=_("Payout reference"), required=False, max_length=200,
                                       widget=forms.TextInput(attrs={"size": 40}),
                                       help_text=_("To mark as paid: the bank's or the payment platform's reference of the transfer."))

    def clean(self):
        data = super().clean()
        decision = data.get("decision")
        if decision == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", gettext("Give the reason for rejecting: the distributor sees it."))
        if decision == "pay" and not (data.get("payout_reference") or "").strip():
            self.add_error("payout_reference", gettext("Give the payout reference of the transfer."))
        return data


@admin.register(Withdrawal)
class WithdrawalAdmin(TenantScopedHistoryAdmin):
    """Withdrawals (提现): finance decides on each one's own page (approve, reject with a reason,
    mark paid with the payout reference) or on several from the list; every decision goes
    through ledger.services, which keep the ledger in step. Paying keeps the approval's time."""

    list_display = ["id", "distributor", "amount", "fee", "transfer_amount", "method", "account", "status",
                    "requested_at", "decided_by", "decided_at", "paid_at"]
    list_filter = ["status", "method"]
    search_fields = ["distributor__external_id", "account"]
    list_select_related = ["distributor"]
    actions = ["approve", "reject", "mark_paid", "export_payouts"]
    fields = ["distributor", "status", "amount", "fee", "transfer_amount", "currency", "method", "account", "account_name",
              "requested_at", "decided_by", "decided_at", "reason", "paid_at", "payout_reference"]
    change_form_template = "admin/ledger/withdrawal/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # decisions go through the actions, which keep the ledger in step

    def has_decide_permission(self, request):
        return request.user.has_perm("ledger.change_withdrawal")

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Approve selected requested withdrawals"), permissions=["decide"])
    def approve(self, request, queryset):
        _decide(self, request, queryset, services.withdrawal_approve, gettext("Approved withdrawal(s)"))

    @admin.action(description=_("Reject selected withdrawals (money returns to available)"), permissions=["decide"])
    def reject(self, request, queryset):
        _decide(self, request, queryset, services.withdrawal_reject, gettext("Rejected withdrawal(s)"),
                reason="rejected in admin")

    @admin.action(description=_("Mark selected approved withdrawals as paid"), permissions=["decide"])
    def mark_paid(self, request, queryset):
        _decide(self, request, queryset, services.withdrawal_pay, gettext("Paid withdrawal(s)"))

    @admin.action(description=_("Export payout CSV of the selected approved withdrawals"))
    def export_payouts(self, request, queryset):
        rows = queryset.filter(status=Withdrawal.Status.APPROVED).select_related("distributor").order_by("pk")
        response = HttpResponse(payout_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="payouts.csv"'
        return response

    # the withdrawal's own page: the decisions open from its status

    def get_urls(self):
        return [path("<path:object_id>/decide/", self.admin_site.admin_view(self.decide_view), name="ledger_withdrawal_decide"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from .selectors import earnings_of

        w = self.get_object(request, unquote(object_id))
        extra = {}
        if w is not None:
            with tenant_context(w.tenant_id):
                balances, _levels = earnings_of(distributor_id=w.distributor_id)
            extra = {
                "decisions": [{"decision": d, "label": DECISION_LABELS[d]} for d, froms in DECISIONS.items()
                              if w.status in froms] if self.has_decide_permission(request) else [],
                "decision_form": DecisionForm(), "currency": w.currency,
                "balance": {"available": money_str(balances["available"], w.currency),
                            "held": money_str(balances["held"], w.currency)},
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def decide_view(self, request, object_id):
        """POST a decision (approve / reject / pay) from the withdrawal's page: ledger.services
        withdrawal_approve / _reject / _pay with the reason and the payout reference; the outcome
        (or the refusal: another decision came first) is a message on the page. GET: the page."""
        w = self.get_object(request, unquote(object_id))
        if w is None:
            raise Http404(gettext("No such withdrawal."))
        page = reverse("admin:ledger_withdrawal_change", args=[w.pk])
        if request.method != "POST":
            return HttpResponseRedirect(page)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        form = DecisionForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    self.message_user(request, gettext("Nothing decided: %(reason)s") % {"reason": error}, messages.ERROR)
            return HttpResponseRedirect(page)
        d, actor = form.cleaned_data, request.user.get_username()
        reason, reference = d["reason"].strip(), d["payout_reference"].strip()
        try:
            with tenant_context(w.tenant_id):
                if d["decision"] == "approve":
                    services.withdrawal_approve(withdrawal=w, actor=actor, note=reason)
                elif d["decision"] == "reject":
                    services.withdrawal_reject(withdrawal=w, actor=actor, reason=reason)
                else:
                    services.withdrawal_pay(withdrawal=w, actor=actor, payout_reference=reference, note=reason)
        except APIException as exc:
            self.message_user(request, gettext("Nothing decided: %(reason)s") % {"reason": exc.detail}, messages.ERROR)
            return HttpResponseRedirect(page)
        self.message_user(request, DONE_LABELS[d["decision"]] % {"id": w.pk, "ref": reference}, messages.SUCCESS)
        return HttpResponseRedirect(page)
