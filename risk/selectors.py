"""Reads of risk holds for other apps (settlement, accrual, reports) and the API."""
from __future__ import annotations

from .models import RiskHold


def open_holds(distributor_ids) -> dict[int, int]:
    """{distributor id: id of its open hold} among `distributor_ids` (tenant in context): one
    query (the accrual's, per chunk)."""
    ids = sorted(set(distributor_ids))
    if not ids:
        return {}
    return dict(RiskHold.objects.filter(released_at__isnull=True, distributor_id__in=ids)
                .values_list("distributor_id", "id"))


def holds(*, status: str = "open"):
    """The tenant's holds, newest first, with their distributors: `open`, `released` or `all`."""
    qs = RiskHold.objects.select_related("distributor").order_by("-created_at", "-id")
    if status == "open":
        qs = qs.filter(released_at__isnull=True)
    elif status == "released":
        qs = qs.filter(released_at__isnull=False)
    return qs
