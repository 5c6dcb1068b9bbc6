"""Tenant staff roles: the one place that says which Django model permissions each role holds.

`manage.py create_staff <tenant> <username> --role pm|finance` (tenants.services.staff_create)
makes a user staff of one tenant (StaffMembership) and puts it in the role's group, whose
permissions are set to exactly the list below each time the command runs. The staff API checks
these permissions view by view (`staff_perms`) and the admin checks the same ones.

- pm (product manager, 产品经理): commission plans and their rules (draft, edit, publish, preview:
  commissions.*_commissionplan), grades and their per-level overrides, distributors (approve,
  freeze, move, import), the tenant's settings, backtests; incentives (contests and their
  finalization, tier bonus schemes and their evaluation, targets; grade histories); distributor
  support (materials and courses, announcements, feedback tickets, password reset links); the webhook
  endpoints (create, change, rotate the secret, delete) and their delivery log (replay:
  webhooks.change_delivery); reads orders, commissions and withdrawals (no decisions on money) and
  the risk holds (the rules that place them are tenant settings).
- finance (财务): withdrawals (approve, reject, pay, export the payout file:
  ledger.change_withdrawal), the ledger and balances; reads distributors, orders, commissions,
  incentives (contests, tier bonuses and their awards, targets) and the tenant's settings; the risk
  holds (domain rules section 11), released with a reason (risk.change_riskhold: held commissions
  then settle, a decision on money). No plan, grade, distributor, incentive or settings changes.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

_READ_ORDERS_AND_COMMISSIONS = (
    "orders.view_order", "orders.view_orderline", "orders.view_refund", "orders.view_refundline",
    "commissions.view_commissionrecord", "commissions.view_commissionreversal",
)

#: Contests with their results, tier bonus schemes with their evaluations and awards, targets
#: (domain rules section 8): finance reads them to explain the `bonus` ledger entries.
_INCENTIVES_READ = (
    "incentives.view_contest", "incentives.view_contestresult", "incentives.view_tierbonusscheme",
    "incentives.view_tierevaluation", "incentives.view_tieraward", "incentives.view_target",
)


#: Distributor support (domain rules section 8, "Support for distributors"): materials with their
#: lessons, announcements, feedback tickets (reply, close, write first) and password reset links.
_SUPPORT = (
    "relations.view_material", "relations.add_material", "relations.change_material", "relations.delete_material",
    "relations.view_lesson", "relations.add_lesson", "relations.change_lesson", "relations.delete_lesson",
    "relations.view_announcement", "relations.add_announcement", "relations.change_announcement",
    "relations.delete_announcement",
    "relations.view_feedbackticket", "relations.add_feedbackticket", "relations.change_feedbackticket",
    "relations.view_feedbackmessage",
    "relations.view_passwordreset", "relations.add_passwordreset",
)


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    permissions: tuple[str, ...]  # "app_label.codename"

    @property
    def group_name(self) -> str:
        """The Django group holding the role's permissions."""
        return f"fenxiao {self.code}"


ROLES: dict[str, Role] = {
    "pm": Role("pm", _("product manager"), (
        "tenants.view_tenant", "tenants.change_tenant",
        "commissions.view_commissionplan", "commissions.add_commissionplan", "commissions.change_commissionplan",
        "commissions.view_commissionrule", "commissions.add_commissionrule", "commissions.change_commissionrule",
        "commissions.delete_commissionrule",
        "commissions.view_gradeleveloverride", "commissions.add_gradeleveloverride",
        "commissions.change_gradeleveloverride", "commissions.delete_gradeleveloverride",
        "commissions.view_backtest", "commissions.add_backtest",
        "distributors.view_grade", "distributors.add_grade", "distributors.change_grade",
        "distributors.view_distributor", "distributors.add_distributor", "distributors.change_distributor",
        "distributors.view_customer", "distributors.view_distributormove",
        "ledger.view_withdrawal", "ledger.view_balance",
        "distributors.view_gradechange",
        *_INCENTIVES_READ,
        "incentives.add_contest", "incentives.change_contest",
        "incentives.add_tierbonusscheme", "incentives.change_tierbonusscheme",
        "incentives.add_target", "incentives.change_target",
        *_SUPPORT,
        *_READ_ORDERS_AND_COMMISSIONS,
        "webhooks.view_webhookendpoint", "webhooks.add_webhookendpoint", "webhooks.change_webhookendpoint",
        "webhooks.delete_webhookendpoint", "webhooks.view_delivery", "webhooks.change_delivery",
        "webhooks.view_webhookattempt",
        "risk.view_riskhold",
    )),
    "finance": Role("finance", _("finance"), (
        "tenants.view_tenant",
        "ledger.view_withdrawal", "ledger.change_withdrawal", "ledger.view_ledgerentry", "ledger.view_balance",
        "distributors.view_distributor",
        *_INCENTIVES_READ,
        *_READ_ORDERS_AND_COMMISSIONS,
        "risk.view_riskhold", "risk.change_riskhold",
    )),
}
