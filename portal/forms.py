"""The portal's forms: they read what a person typed (a number typed with full-width digits, an
amount with a currency sign) and hand it to the services, which hold every rule (the minimum
withdrawal, the feedback's 5,000 characters, a price >= 0, the password validators, ...). A
service's refusal comes back as form errors (`refuse`), on the field it names, and nothing is
written. The only checks made here are about typing: a number that is no number, two passwords
that differ."""
from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from .messages import refusal


def typed_number(text) -> str:
    """What a person typed as a number, made plain: NFKC (full-width digits and signs become
    ASCII), spaces, thousands separators and currency signs dropped ("¥1,000.50" -> "1000.50")."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    for junk in (" ", ",", "¥", "￥", "$", "元"):
        raw = raw.replace(junk, "")
    return raw


def decimal_or_error(text, message) -> Decimal:
    """`text` (see `typed_number`) as a finite Decimal, else ValidationError(`message`)."""
    try:
        value = Decimal(typed_number(text))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        raise forms.ValidationError(message, code="invalid")
    return value


def refuse(form: forms.Form, exc, fields: dict[str, str] | None = None) -> int:
    """Put a service's refusal (a DRF APIException) on `form`: each message on the field its attr
    names (the attr's first or last segment, "lines.0.price" -> price, or through `fields`:
    {service attr: form field}), else on the whole form. Returns the status the page answers with
    (the exception's: 400, 404, 409)."""
    fields = fields or {}
    for attr, message in refusal(exc):
        parts = (attr or "").split(".")
        name = next((fields.get(p, p) for p in (parts[0], parts[-1]) if fields.get(p, p) in form.fields), None)
        form.add_error(name, message)
    return getattr(exc, "status_code", 400)


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none",
                                                             "autofocus": True}))
    password = forms.CharField(label=_("Password"), max_length=128, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class WithdrawalForm(forms.Form):
    amount = forms.CharField(label=_("Amount to withdraw"), max_length=32,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    method = forms.ChoiceField(label=_("Paid to"), choices=())
    account = forms.CharField(label=_("Account"), max_length=200, required=False,
                              help_text=_("Your Alipay account, WeChat ID or bank card number."))
    account_name = forms.CharField(label=_("Account holder's name"), max_length=200, required=False)
    #: one token per form shown: the withdrawal's idempotency key (a double tap requests once)
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = methods

    def clean_amount(self) -> Decimal:
        return decimal_or_error(self.cleaned_data["amount"], _("Give the amount as a number, e.g. 100.00."))


class FeedbackForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), required=False, widget=forms.TextInput(attrs={"required": True}))
    body = forms.CharField(label=_("Message"), required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 6, "required": True}))


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 4, "required": True}))


class PreviewForm(forms.Form):
    price = forms.CharField(label=_("Unit price"), max_length=32,
                            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    quantity = forms.CharField(label=_("Quantity"), max_length=9, initial="1",
                               widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    category = forms.CharField(label=_("Category"), max_length=64, required=False,
                               help_text=_("As the shop names it, e.g. Office Supplies (rules by category apply)."))
    sku = forms.CharField(label=_("SKU"), max_length=64, required=False)

    def clean_price(self) -> Decimal:
        return decimal_or_error(self.cleaned_data["price"], _("Give the price as a number, e.g. 199.00."))

    def clean_quantity(self) -> int:
        raw = typed_number(self.cleaned_data["quantity"])
        if not raw.isascii() or not raw.isdigit():
            raise forms.ValidationError(_("Give the quantity as a whole number, e.g. 1."), code="invalid")
        return int(raw)


class _NewPasswordMixin:
    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password2") is not None \
                and data["new_password"] != data["new_password2"]:
            self.add_error("new_password2", _("The two passwords differ."))
        return data


class PasswordForm(_NewPasswordMixin, forms.Form):
    old_password = forms.CharField(label=_("Current password"), max_length=128, strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label=_("New password"), max_length=128, strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                   help_text=_("At least 10 characters, not only digits, not a common password."))
    new_password2 = forms.CharField(label=_("New password again"), max_length=128, strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class ResetForm(_NewPasswordMixin, forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=200, required=False)
    new_password = PasswordForm.base_fields["new_password"]
    new_password2 = PasswordForm.base_fields["new_password2"]


class JoinForm(forms.Form):
    invite_code = forms.CharField(label=_("Invite code"), max_length=16, required=False,
                                  widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}))
    name = forms.CharField(label=_("Your name"), max_length=200, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "name", "required": True}))
    phone = forms.CharField(label=_("Mobile number"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    username = forms.CharField(label=_("Username"), max_length=150, required=False,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none",
                                                             "required": True}),
                               help_text=_("You log in with it: up to 64 characters, no spaces or \"/\"."))
    password = forms.CharField(label=_("Password"), max_length=128, strip=False, required=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "required": True}),
                               help_text=PasswordForm.base_fields["new_password"].help_text)
    password2 = forms.CharField(label=_("Password again"), max_length=128, strip=False, required=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "required": True}))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data
