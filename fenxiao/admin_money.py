"""Money in the console with its currency's places (CONVENTIONS: interfaces for people).

Django's admin writes a DecimalField with the column's places (4 here, the most any currency
has), and it never sees the row, so it cannot know the currency. `MoneyAdminMixin` shows every
money column (fenxiao.money.MoneyField) of a list or a read-only form field through a display
function that writes it with its currency's places ("123.40" CNY, "123" JPY, "1.250" KWD).
FenxiaoAdminSite.register mixes it into every ModelAdmin and inline of a model with money
columns, so no admin page can forget it.

The amount is written in the language's number format (`money_display`): "12,345.60" (zh-hans
and en group thousands with a comma; fenxiao/formats), "12,345" JPY, never rounded.
"""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import formats

from fenxiao.amounts import currency_of
from fenxiao.currencies import minor_units, money_str
from fenxiao.money import money_fields

PREFIX = "money__"


def money_display(value: Decimal | None, currency: str) -> str | None:
    """`value` (a whole number of `currency`'s minor units) for a person, in the active language's
    number format with exactly the currency's places: "12,345.60" CNY, "12,345" JPY, "-1.250" KWD
    (None stays None). Raises ValueError as money_str does for a value finer than the minor unit."""
    if value is None:
        return None
    exact = Decimal(money_str(value, currency))
    return formats.number_format(exact, decimal_pos=minor_units(currency), use_l10n=True, force_grouping=True)


def _display(name: str, field):
    def show(self, obj):
        value = getattr(obj, name)
        return None if value is None else money_display(value, currency_of(obj, field.currency))

    show.short_description = field.verbose_name
    show.admin_order_field = name
    show.__name__ = f"{PREFIX}{name}"
    return show


class MoneyAdminMixin:
    """For a ModelAdmin or inline: money columns in `list_display` and in the read-only fields are
    shown through `money__<name>` display functions; such columns are excluded from the form (they
    were read-only); editable money inputs show the amount without trailing zeros."""

    def _money(self) -> dict:
        return money_fields(self.model)

    def _swap(self, names, readonly: set[str] | None = None):
        money = self._money()
        wanted = money.keys() if readonly is None else money.keys() & readonly
        return [f"{PREFIX}{n}" if isinstance(n, str) and n in wanted else n for n in names]

    def _raw_readonly(self, request, obj=None) -> set[str]:
        """The columns shown read-only: the configured ones, or all of them for someone who may
        only view (Django then shows every field of the form, and of an inline, read-only)."""
        if not self.has_change_permission(request, obj):
            return set(self._money())
        return set(super().get_readonly_fields(request, obj))

    def get_list_display(self, request):
        return self._swap(super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        shown = self._swap(super().get_readonly_fields(request, obj))
        # every read-only money column's display function is "read-only" too, so forms and
        # formsets (which exclude read-only names) never see it as a field
        return [*shown, *(f"{PREFIX}{n}" for n in sorted(self._raw_readonly(request, obj) & self._money().keys())
                          if f"{PREFIX}{n}" not in shown)]

    def get_exclude(self, request, obj=None):
        excluded = super().get_exclude(request, obj)
        hidden = [n for n in self._raw_readonly(request, obj) if n in self._money()]
        if not hidden:
            return excluded
        return [*(excluded or []), *hidden]

    def get_fields(self, request, obj=None):
        return self._swap(super().get_fields(request, obj), self._raw_readonly(request, obj))

    def get_fieldsets(self, request, obj=None):
        readonly = self._raw_readonly(request, obj)
        return [(title, {**options, "fields": self._swap_nested(options.get("fields", ()), readonly)})
                for title, options in super().get_fieldsets(request, obj)]

    def _swap_nested(self, fields, readonly):
        out = []
        for item in fields:
            out.append(tuple(self._swap(item, readonly)) if isinstance(item, (list, tuple)) else self._swap([item], readonly)[0])
        return out

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in self._money() and isinstance(formfield, forms.DecimalField):
            formfield.widget = PlainAmountInput(attrs=formfield.widget.attrs)
        return formfield


class PlainAmountInput(forms.TextInput):
    """An amount input that shows "10" or "10.5" rather than the column's "10.0000"."""

    def format_value(self, value):
        from decimal import Decimal

        if isinstance(value, Decimal) and value.is_finite():
            text = format(value.normalize(), "f")
            return text
        return super().format_value(value)


def with_money(admin_class, model):
    """`admin_class` with MoneyAdminMixin mixed in (itself when `model` has no money columns or it
    already has the mixin); its inlines too."""
    inlines = getattr(admin_class, "inlines", None)
    attrs = {}
    if inlines:
        attrs["inlines"] = [with_money(inline, inline.model) for inline in inlines]
    if not money_fields(model) or issubclass(admin_class, MoneyAdminMixin):
        return type(admin_class.__name__, (admin_class,), attrs) if attrs else admin_class
    displays = {f"{PREFIX}{name}": _display(name, field) for name, field in money_fields(model).items()}
    return type(admin_class.__name__, (MoneyAdminMixin, admin_class), {**displays, **attrs,
                                                                         "__module__": admin_class.__module__})
