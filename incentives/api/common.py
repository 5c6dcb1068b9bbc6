"""What the staff and portal views of the incentives share: lookups that answer 404 for another
tenant's ids, query parameters checked into 400s, and the rows of a leaderboard."""
from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext
from rest_framework import serializers

from distributors.selectors import names_of
from fenxiao.api.fields import PlainIntegerField
from fenxiao.exceptions import NotFound

from ..models import Contest, Target, TierBonusScheme
from ..rules import Ranked
from .serializers import measure_format, money


def get_contest(public_id: str) -> Contest:
    """The tenant's contest (public id contest_...) with its eligible grades, or 404 (also for
    another tenant's id)."""
    found = Contest.objects.prefetch_related("grades").filter(public_id=public_id).first()
    if found is None:
        raise NotFound(gettext("No contest with this id."))
    return found


def get_scheme(public_id: str) -> TierBonusScheme:
    """The tenant's tier bonus scheme (tier_...), or 404."""
    found = TierBonusScheme.objects.filter(public_id=public_id).first()
    if found is None:
        raise NotFound(gettext("No tier bonus scheme with this id."))
    return found


def get_target(public_id: str) -> Target:
    """The tenant's target (target_...), or 404."""
    found = Target.objects.select_related("distributor").filter(public_id=public_id).first()
    if found is None:
        raise NotFound(gettext("No target with this id."))
    return found


def query_params(serializer_class, request) -> dict:
    """The query string checked by `serializer_class` (400 in the error shape, attr = parameter)."""
    s = serializer_class(data=request.query_params)
    s.is_valid(raise_exception=True)
    return s.validated_data


def PageLimit(*, default: int, most: int) -> serializers.IntegerField:  # noqa: N802 (field factory)
    return PlainIntegerField(min_value=1, max_value=most, required=False, default=default,
                             help_text=f"rows to answer (1..{most}, default {default})")


def people(ids) -> dict[int, tuple[str, str]]:
    """{distributor id: (external_id, name)} of `ids`: one query (distributors.selectors.names_of)."""
    return names_of(ids)


def prize_str(prize: Decimal | None) -> str | None:
    return None if prize is None else money(prize)


def ranked_rows(measure: str, ranked: list[tuple[Ranked, Decimal | None]], who: dict | None = None) -> list[dict]:
    """Rows {rank, distributor_id, external_id, name, score, reached_at, prize} of ranked
    distributors (prize None when the list has no prizes): one query for the names unless `who`
    ({id: (external_id, name)}) already holds them all."""
    if who is None or any(r.distributor_id not in who for r, _ in ranked):
        who = people(r.distributor_id for r, _ in ranked)
    score = measure_format(measure)
    return [{"rank": r.rank, "distributor_id": r.distributor_id, "distributor_external_id": who[r.distributor_id][0],
             "name": who[r.distributor_id][1], "score": score(r.score), "reached_at": r.reached_at,
             "prize": prize_str(prize)} for r, prize in ranked]
