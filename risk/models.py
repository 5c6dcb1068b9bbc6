"""Risk holds (domain rules section 11): a distributor whose orders come too fast or are refunded
too often has its new commissions held (they accrue but do not settle) until staff release them."""
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fenxiao.history import history_user
from tenants.managers import TenantOwned, tenant_fk


class RiskHold(TenantOwned):
    """A hold on one distributor's new commissions: placed automatically by a rule (velocity or
    refund rate) with the figures that tripped it, released by staff with a reason (audited).
    A distributor has at most one open hold; the commission records accrued while it is open point
    at it (CommissionRecord.hold) and settle only once it is released."""

    class Reason(models.TextChoices):
        VELOCITY = "velocity", _("too many orders in an hour")
        REFUND_RATE = "refund_rate", _("refund rate over 30 days too high")

    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    figures = models.JSONField(_("figures"), help_text=_("what tripped the rule, e.g. orders in the hour and the limit"))
    created_at = models.DateTimeField(_("held at"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.CharField(_("released by"), max_length=150, blank=True, default="")
    release_reason = models.CharField(_("release reason"), max_length=500, blank=True, default="")
    history = HistoricalRecords(get_user=history_user)

    class Meta(TenantOwned.Meta):
        verbose_name = _("risk hold")
        verbose_name_plural = _("risk holds")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "distributor"], condition=models.Q(released_at__isnull=True),
                                               name="riskhold_one_open")]
        indexes = [models.Index(fields=["tenant", "released_at", "created_at"], name="riskhold_tenant_open")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None
