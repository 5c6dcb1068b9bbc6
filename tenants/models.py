"""Tenants (brands running a distribution programme), their API keys and staff (domain rules section 1)."""
from decimal import Decimal
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager
from simple_history.models import HistoricalRecords

from fenxiao.currencies import fits, is_currency, minor_units
from fenxiao.history import history_user

from fenxiao.money import RATE_KW, MoneyField, places_message


def validate_currency(value: str) -> None:
    """ISO 4217 alphabetic code in capitals with minor units, e.g. "CNY" ("cny" is refused: it would
    not equal the tenant's currency and would be priced as a foreign one; XAU and XXX have no minor
    units). fenxiao.currencies is the single source."""
    if not is_currency(value):
        raise ValidationError(_("%(value)r is not an ISO 4217 currency code."), code="invalid_currency",
                              params={"value": value})


def validate_timezone(value: str) -> None:
    """IANA time zone name, e.g. "Asia/Shanghai"."""
    if value not in _TIMEZONES:
        raise ValidationError(_("%(value)r is not an IANA time zone."), code="invalid_timezone", params={"value": value})


_TIMEZONES = frozenset(available_timezones()) | {"UTC"}


class Tenant(models.Model):
    """A brand/merchant running its own programme. All settings of domain rules section 1, with defaults."""

    class Rounding(models.TextChoices):
        DOWN = "down", _("down (truncate)")
        HALF_UP = "half_up", _("half up")

    class InactiveUplinePolicy(models.TextChoices):
        SKIP = "skip", _("skip (nobody paid at that level)")
        COMPRESS = "compress", _("compress (next active upline moves up)")

    class BindMode(models.TextChoices):
        ON_REGISTER = "on_register", _("only at registration")
        WHEN_UNBOUND = "when_unbound", _("at registration or while unbound")
        ALWAYS = "always", _("a later invite code rebinds")

    class Enrollment(models.TextChoices):
        OPEN = "open", _("open (active at once)")
        APPLICATION = "application", _("application (pending until approved)")

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, default="CNY", validators=[validate_currency])
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone])
    levels = models.PositiveSmallIntegerField(
        _("levels"), default=3, validators=[MinValueValidator(1), MaxValueValidator(3)],
        help_text=_("Commission levels paid (1..3; never more)."),
    )
    rounding = models.CharField(_("rounding"), max_length=8, choices=Rounding.choices, default=Rounding.DOWN)
    self_purchase_commission = models.BooleanField(_("self-purchase commission"), default=False)
    inactive_upline_policy = models.CharField(
        _("inactive upline policy"), max_length=8, choices=InactiveUplinePolicy.choices, default=InactiveUplinePolicy.SKIP
    )
    bind_mode = models.CharField(_("bind mode"), max_length=16, choices=BindMode.choices, default=BindMode.WHEN_UNBOUND)
    enrollment = models.CharField(_("enrollment"), max_length=16, choices=Enrollment.choices, default=Enrollment.OPEN)
    settle_after_days = models.PositiveIntegerField(_("settle after days"), default=7, validators=[MaxValueValidator(3650)])
    auto_complete_days = models.PositiveIntegerField(_("auto complete days"), default=14, validators=[MaxValueValidator(3650)])
    withdraw_min_amount = MoneyField(_("withdraw min amount"), default=Decimal("10.00"),
                                     validators=[MinValueValidator(Decimal("0.00"))])
    withdraw_fee_rate = models.DecimalField(
        _("withdraw fee rate"), **RATE_KW, default=Decimal("0.0000"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    max_total_rate = models.DecimalField(
        _("max total rate"), **RATE_KW, default=Decimal("0.5000"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    invite_url_template = models.CharField(
        _("invite URL template"), max_length=300, blank=True, default="",
        help_text=_("e.g. https://shop.example.com/join?code={code}; empty gives no invite_url."),
    )
    api_rate_per_minute = models.PositiveIntegerField(
        _("API rate per minute"), null=True, blank=True, validators=[MinValueValidator(60), MaxValueValidator(1_000_000)],
        help_text=_("Requests per minute allowed to each partner API key (60..1,000,000); "
                    "blank: the platform default (PARTNER_API_RATE_PER_MINUTE, 6000)."),
    )
    risk_max_orders_per_hour = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        verbose_name=_("risk: most orders an hour"),
        help_text=_("Hold a distributor's new commissions when more orders than this are attributed to it within an "
                    "hour (empty: off; domain rules section 11)."))
    risk_max_refund_rate = models.DecimalField(
        **RATE_KW, null=True, blank=True, validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        verbose_name=_("risk: highest refund rate"),
        help_text=_("Hold a distributor's new commissions when the refunded share of its last 30 days' sales is above "
                    "this rate, with at least 10 orders (empty: off)."))
    show_rankings = models.BooleanField(
        _("show rankings to distributors"), default=False,
        help_text=_("Distributors see the rankings in the portal, other people's names masked (domain rules "
                    "section 8). Off: only staff see them."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user, excluded_fields=["created_at"])

    class Meta:
        ordering = ["slug"]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def clean(self):
        """withdraw_min_amount must be a whole number of the currency's minor units (domain rules,
        preamble): "10.50" is no JPY amount."""
        super().clean()
        if is_currency(self.currency) and self.withdraw_min_amount is not None:
            places = minor_units(self.currency)
            if not fits(self.withdraw_min_amount, places):
                raise ValidationError({"withdraw_min_amount": ValidationError(
                    places_message(self.currency, places), code="max_decimal_places")})

    def save(self, *args, **kwargs):
        self.full_clean()
        super().save(*args, **kwargs)


class TenantApiKeyManager(APIKeyManager):
    def get_usable_keys(self):
        """Usable keys with their tenant in the same query (every partner request reads both)."""
        return super().get_usable_keys().select_related("tenant")


class TenantApiKey(AbstractAPIKey):
    """A partner system's key (`Authorization: Api-Key <key>`): one tenant, shown once, stored hashed."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("tenant"))
    objects = TenantApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        indexes = [models.Index(fields=["tenant", "prefix"], name="apikey_tenant_prefix")]


# rest_framework_api_key names these fields by their attribute (no verbose_name, no catalogue): the
# console shows them in the person's language with fenxiao's labels
for _field, _label in (("prefix", _("prefix")), ("created", _("created")), ("name", _("name")), ("revoked", _("revoked"))):
    TenantApiKey._meta.get_field(_field).verbose_name = _label
del _field, _label


class StaffMembership(models.Model):
    """Makes a Django user staff of exactly one tenant (the admin and staff API are scoped to it)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_membership",
                                verbose_name=_("user"))
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="staff", verbose_name=_("tenant"))

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        indexes = [models.Index(fields=["tenant", "user"], name="staff_tenant_user")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant.slug}"


slug_validator = RegexValidator(r"^[-a-zA-Z0-9_]+$")
