"""Risk holds (domain rules section 11). The callers read the figures (orders.selectors) and pass
them in: this app reads no other app's tables but the distributors'.

- Velocity: more than `tenant.risk_max_orders_per_hour` orders attributed to one distributor
  (orders.attributed_to: the level-1 candidate) paid within one hour -> a hold.
- Refund rate: over the orders attributed to a distributor and paid in the last 30 days, at least
  10 orders and refunded goods / sales (commission base: kept net_base vs the base recorded) above
  `tenant.risk_max_refund_rate` -> a hold.
A hold holds the commissions that distributor earns from then on (as beneficiary at any level):
they accrue (frozen) but do not settle until staff release the hold with a reason (audited).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from fenxiao.currencies import money_str
from fenxiao.exceptions import invalid

from . import rules
from .models import RiskHold


def risk_hold_place(*, tenant, distributor_id: int, reason: str, figures: dict, at: datetime | None = None) -> RiskHold:
    """Hold `distributor_id`'s new commissions (reason: RiskHold.Reason, figures: what tripped the
    rule). Idempotent: the distributor's open hold is returned when there is one (a unique
    constraint on open holds settles concurrent placements)."""
    existing = RiskHold.objects.filter(distributor_id=distributor_id, released_at__isnull=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return RiskHold.objects.create(tenant=tenant, distributor_id=distributor_id, reason=reason, figures=figures,
                                           created_at=at or timezone.now())
    except IntegrityError:  # placed concurrently
        return RiskHold.objects.get(distributor_id=distributor_id, released_at__isnull=True)


def risk_assess_velocity(*, tenant, times: dict[int, list[datetime]], new: dict[int, list[datetime]]
                         ) -> dict[int, tuple[int, datetime]]:
    """Place velocity holds (domain 11). Args: per distributor, `times`: paid_at of its attributed
    paid orders from an hour before its earliest new order to an hour after its latest (new ones
    included); `new`: paid_at of the orders being accrued. Returns {distributor id: (hold id, the
    moment the rule tripped)} for those tripping it; {} when the rule is off."""
    limit = tenant.risk_max_orders_per_hour
    if not limit:
        return {}
    out = {}
    for distributor_id in sorted(new):
        hit = rules.velocity_exceeded(times.get(distributor_id, []), new[distributor_id], limit)
        if hit is not None:
            hold = risk_hold_place(tenant=tenant, distributor_id=distributor_id, reason=RiskHold.Reason.VELOCITY, figures={
                "orders_in_hour": hit.count, "limit": limit,
                "from": hit.start.isoformat(), "to": hit.end.isoformat()})
            out[distributor_id] = (hold.pk, hit.end)
    return out


def risk_assess_refunds(*, tenant, figures: dict[int, tuple[int, Decimal, Decimal]], since: datetime) -> dict[int, int]:
    """Place refund-rate holds (domain 11). Args: `figures` per distributor: (orders, sales,
    net sales) of its attributed paid orders paid since `since` (30 days before now), money in
    the tenant currency. Returns {distributor id: hold id} of those tripping the rule."""
    limit = tenant.risk_max_refund_rate
    if limit is None:
        return {}
    out = {}
    for distributor_id, (orders, gross, net) in sorted(figures.items()):
        rate = rules.refund_rate_exceeded(orders, gross, net, limit)
        if rate is not None:
            hold = risk_hold_place(tenant=tenant, distributor_id=distributor_id, reason=RiskHold.Reason.REFUND_RATE, figures={
                "orders": orders, "sales": money_str(gross, tenant.currency),
                "refunded": money_str(gross - net, tenant.currency), "rate": str(rate), "limit": str(limit),
                "since": since.isoformat()})
            out[distributor_id] = hold.pk
    return out


@transaction.atomic
def risk_hold_release(*, hold: RiskHold, reason: str, actor: str, at: datetime | None = None) -> RiskHold:
    """Release an open hold (staff, with a reason; kept in the hold and its audit history): the
    commissions it held settle at the next settlement run once due. 400 `required` without a
    reason; 409 when the hold was released already."""
    from fenxiao.exceptions import InvalidState

    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", gettext("Give the reason for releasing the hold."), "required")
    locked = RiskHold.objects.select_for_update().get(pk=hold.pk)
    if locked.released_at is not None:
        raise InvalidState(gettext("This hold was released already."))
    locked.released_at = at or timezone.now()
    locked.released_by = actor[:150]
    locked.release_reason = reason[:500]
    locked._change_reason = f"released: {reason}"[:100]
    locked.save(update_fields=["released_at", "released_by", "release_reason"])
    return locked
