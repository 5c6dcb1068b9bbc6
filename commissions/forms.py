"""Console forms of commission plans as people fill them in (CONVENTIONS, interfaces for people).

A rule row's level is chosen by its meaning ("level 1 (the referrer)"); a percent rate is typed
as a percentage ("10" or "10%", stored as 0.1000), a fixed amount per unit in the tenant's
currency. The rows' guardrails stay in commissions.plans (rules_check), checked by the formset.
"""
from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext, gettext_lazy as _

from fenxiao.currencies import money_str
from fenxiao.percent import NotAPercentage, parse_percent, percent_str
from tenants.models import Tenant

from . import console
from .arithmetic import FIXED, PERCENT

LEVEL_CHOICES = [("", "---------"), *console.LEVEL_MEANINGS.items()]
KIND_CHOICES = list(console.KIND_LABELS.items())
SCOPE_CHOICES = list(console.SCOPE_LABELS.items())


def form_tenant(tenant_id: int | None) -> Tenant | None:
    """The tenant a console form works for: the row's, else the staff's (the tenant in context);
    None for a superuser's new row (the tenant is chosen on the form)."""
    from tenants.context import peek_current_tenant_id

    tenant_id = tenant_id or peek_current_tenant_id()
    return Tenant.objects.filter(pk=tenant_id).first() if tenant_id and tenant_id > 0 else None


def parse_amount(text) -> Decimal:
    """A fixed amount per unit as typed ("2.5", "２.５０") -> Decimal; ValueError with a message
    for people when it is no number or negative (its places are checked by the guardrails)."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    try:
        amount = Decimal(raw)
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise ValueError(gettext("Give an amount per unit, e.g. 2.50."))
    return amount


class RateRowForm(forms.ModelForm):
    """One level's value (a plan's rule row, a grade's override): the level by its meaning, the
    kind, and the value as a percentage (percent) or an amount per unit (fixed)."""

    level = forms.TypedChoiceField(label=_("level (who is paid)"), choices=LEVEL_CHOICES, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label=_("kind"), choices=KIND_CHOICES, initial=PERCENT)
    value = forms.CharField(
        label=_("rate or amount"), max_length=32, widget=forms.TextInput(attrs={"size": 8}),
        help_text=_("percent: a percentage of the line net, e.g. 10 or 10% (stored as 0.1000); "
                    "fixed: an amount per unit in the tenant's currency"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        inst = self.instance
        if inst.pk is not None and inst.value is not None:
            self.initial["value"] = self.shown_value(inst.kind, inst.value)

    def tenant(self) -> Tenant | None:
        if not hasattr(self, "_tenant"):
            self._tenant = form_tenant(self.instance.tenant_id)
        return self._tenant

    def shown_value(self, kind: str, value: Decimal) -> str:
        """The stored value as the input shows it: "10%" for 0.1000, "2.50" CNY for a fixed 2.5."""
        if kind == FIXED:
            tenant = self.tenant()
            try:
                return money_str(value, tenant.currency) if tenant else format(value.normalize(), "f")
            except ValueError:   # finer than the currency's unit (stored before a currency change)
                return format(value.normalize(), "f")
        return percent_str(value)

    def clean(self):
        data = super().clean()
        raw, kind = data.get("value"), data.get("kind")
        if raw is None or kind is None:
            return data
        try:
            data["value"] = parse_percent(raw) if kind == PERCENT else parse_amount(raw)
        except (NotAPercentage, ValueError) as exc:
            self.add_error("value", str(exc))
        return data


class RuleRowForm(RateRowForm):
    """A plan's rule row: which products (all, a category or a SKU) and one level's value."""

    scope = forms.ChoiceField(label=_("applies to"), choices=SCOPE_CHOICES, initial="default")

    class Meta:
        fields = ["scope", "scope_value", "level", "kind", "value"]
        labels = {"scope_value": _("category or SKU")}
        widgets = {"scope_value": forms.TextInput(attrs={"size": 14})}
        help_texts = {"scope_value": _("the category's or the SKU's name; empty for all products")}
