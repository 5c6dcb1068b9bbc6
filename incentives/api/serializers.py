"""Serializers of the incentives API (domain rules section 8): contests, tier bonus schemes and their
awards, targets, rankings.

Conventions of every answer here:
- money (prizes, sales scores, thresholds, awards, goals of money measures) is a decimal string
  with exactly the tenant currency's places ("500.00" CNY, "500" JPY); counts (order_count,
  new_direct_recruits, active_distributors) are whole numbers as strings ("3");
- times are RFC 3339 in the tenant's time zone ("2026-03-01T00:00:00+08:00"): a window's ends are
  local midnights and read as such;
- rates and fractions (a tier's rate, a target's progress and expected pace) have 4 places.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from fenxiao.api.fields import AwareDateTimeField, ExternalIdField, ModelSerializer, PlainDecimalField, StrictSerializer
from fenxiao.currencies import MAX_PLACES, minor_units, money_str
from tenants.context import current_tenant

from .. import measures
from ..models import Contest, Measure, Target, TierAward, TierBonusScheme
from ..services import CONTEST_MEASURES, SCHEME_MEASURES

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def tenant_zone() -> ZoneInfo:
    return ZoneInfo(current_tenant().timezone)


def money(value: Decimal) -> str:
    """An amount of the tenant currency with exactly its places."""
    return money_str(value, current_tenant().currency)


def measure_str(measure: str, value: Decimal | None) -> str | None:
    """A measure's value as the API writes it: money with the tenant currency's places (a stored
    4-place value is first brought to them), counts as whole numbers."""
    if value is None:
        return None
    if measure in measures.MONEY:
        return money(value.quantize(Decimal(1).scaleb(-minor_units(current_tenant().currency))))
    return str(int(value))


def measure_format(measure: str):
    """`measure_str` of one measure for many values (a leaderboard's scores): the tenant
    currency read once. The same strings."""
    if measure in measures.MONEY:
        unit = Decimal(1).scaleb(-minor_units(current_tenant().currency))

        def money_of(value):  # money_str of the value brought to the currency's places: never "-0.00"
            if value is None:
                return None
            out = value.quantize(unit)
            return format(out.copy_abs() if out.is_zero() else out, "f")

        return money_of
    return lambda value: None if value is None else str(int(value))


class LocalDateTimeField(AwareDateTimeField):
    """An instant in the tenant's time zone. Read: RFC 3339 with an offset, or a plain date
    "2026-03-01" meaning 00:00 of that day in the tenant's time zone. Written: RFC 3339 in the
    tenant's time zone ("2026-03-01T00:00:00+08:00")."""

    default_error_messages = {"invalid": _("Give a date (YYYY-MM-DD: local midnight) or a time with an offset (RFC 3339).")}

    def default_timezone(self):
        return tenant_zone()

    def to_internal_value(self, value):
        if isinstance(value, str) and _DATE.fullmatch(value.strip()):
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                self.fail("invalid")
            return datetime.combine(day, time.min, tenant_zone())
        return super().to_internal_value(value)


def Amount(**kwargs) -> PlainDecimalField:  # noqa: N802 (field factory)
    """An amount or measure value as a decimal string (at most 4 places: the finest currency; the
    services refuse what is finer than the tenant currency's minor unit)."""
    return PlainDecimalField(max_digits=14 + MAX_PLACES, decimal_places=MAX_PLACES, **kwargs)


# --- contests ----------------------------------------------------------------------------------

MEASURE_HELP = ("direct_sales (orders I am level 1 of), team_sales (any level), order_count, "
                "new_direct_recruits (active, joined in the window)")
WINDOW_HELP = ("a local midnight of the tenant: a date (2026-03-01 = 00:00 that day, tenant time) or RFC 3339 "
               "with an offset; the window is [starts_at, ends_at), whole local days")


class ContestWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    starts_at = LocalDateTimeField(help_text=WINDOW_HELP)
    ends_at = LocalDateTimeField(help_text="the end of the window (exclusive), " + WINDOW_HELP)
    measure = serializers.ChoiceField(choices=CONTEST_MEASURES, help_text=MEASURE_HELP)
    min_score = Amount(required=False, allow_null=True, default=None,
                       help_text="the least score that ranks (money or a count); null: any score above 0")
    grades = serializers.ListField(child=serializers.SlugField(max_length=64), required=False, default=list,
                                   max_length=100, help_text="codes of the eligible grades; empty: everyone")
    prizes = serializers.ListField(child=Amount(), required=False, default=list, max_length=1000,
                                   help_text='the prize of each rank, 1st first, e.g. ["500.00", "300.00"] (tenant '
                                             "currency, never more than the rank above)")
    finalize_at = LocalDateTimeField(required=False, allow_null=True, default=None,
                                     help_text="when it is finalized automatically; default ends_at + settle_after_days")


class ContestPatchSerializer(StrictSerializer):
    """PATCH body: each field optional, checked as on creation."""

    name = serializers.CharField(max_length=200, required=False)
    starts_at = LocalDateTimeField(required=False, help_text=WINDOW_HELP)
    ends_at = LocalDateTimeField(required=False, help_text=WINDOW_HELP)
    measure = serializers.ChoiceField(choices=CONTEST_MEASURES, required=False, help_text=MEASURE_HELP)
    min_score = Amount(required=False, allow_null=True)
    grades = serializers.ListField(child=serializers.SlugField(max_length=64), required=False, max_length=100)
    prizes = serializers.ListField(child=Amount(), required=False, max_length=1000)
    finalize_at = LocalDateTimeField(required=False, allow_null=True)


class ContestSerializer(serializers.ModelSerializer):
    starts_at = LocalDateTimeField(read_only=True)
    ends_at = LocalDateTimeField(read_only=True)
    finalize_at = LocalDateTimeField(read_only=True)
    finalized_at = LocalDateTimeField(read_only=True, allow_null=True)
    created_at = LocalDateTimeField(read_only=True)
    grades = serializers.SlugRelatedField(many=True, slug_field="code", read_only=True)
    prizes = serializers.ListField(child=serializers.CharField(), read_only=True,
                                   help_text="the prize of each rank, 1st first (tenant currency)")
    min_score = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()

    id = serializers.CharField(source="public_id", read_only=True, help_text="opaque id: contest_ and 16 base32 characters")

    class Meta:
        model = Contest
        fields = ["id", "name", "measure", "starts_at", "ends_at", "min_score", "grades", "prizes", "currency",
                  "finalize_at", "status", "finalized_at", "finalized_by", "created_at"]
        read_only_fields = fields

    def get_min_score(self, obj) -> str | None:
        return measure_str(obj.measure, obj.min_score)

    def get_status(self, obj) -> str:
        """scheduled, running, ended (awaiting finalization) or finalized."""
        from django.utils import timezone

        return obj.status_at(self.context.get("now") or timezone.now())

    def get_currency(self, obj) -> str:
        return current_tenant().currency


class StaffLeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    distributor_external_id = serializers.CharField()
    name = serializers.CharField()
    score = serializers.CharField(help_text="money with the currency's places, or a count")
    reached_at = LocalDateTimeField(allow_null=True, help_text="when the score was reached (the tie rule)")
    prize = serializers.CharField(allow_null=True, help_text="this rank's prize; null past the last prize")


class StaffLeaderboardSerializer(serializers.Serializer):
    contest_id = serializers.CharField(help_text="the contest's id (contest_...)")
    measure = serializers.CharField()
    status = serializers.CharField()
    final = serializers.BooleanField(help_text="true: the frozen ranking of a finalized contest; false: live")
    currency = serializers.CharField()
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    results = StaffLeaderboardRowSerializer(many=True)


class PortalLeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField(help_text="masked (张*, 王*明, A***e) except mine")
    score = serializers.CharField()
    prize = serializers.CharField(allow_null=True)
    me = serializers.BooleanField(help_text="true on my own row")


class MyStandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="null: not ranked (no score, under the minimum, "
                                                                "not of an eligible grade)")
    score = serializers.CharField()
    prize = serializers.CharField(allow_null=True)


class PortalLeaderboardSerializer(serializers.Serializer):
    contest_id = serializers.CharField(help_text="the contest's id (contest_...)")
    measure = serializers.CharField()
    status = serializers.CharField()
    final = serializers.BooleanField()
    currency = serializers.CharField()
    results = PortalLeaderboardRowSerializer(many=True)
    mine = MyStandingSerializer()


class MyContestSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="opaque id: contest_ and 16 base32 characters")
    name = serializers.CharField()
    measure = serializers.CharField()
    starts_at = LocalDateTimeField()
    ends_at = LocalDateTimeField()
    status = serializers.CharField()
    prizes = serializers.ListField(child=serializers.CharField())
    currency = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    score = serializers.CharField()
    prize = serializers.CharField(allow_null=True)


# --- tier bonuses ------------------------------------------------------------------------------

class TierSerializer(StrictSerializer):
    threshold = Amount(help_text="reached at this value or above (inclusive), tenant currency")
    amount = Amount(required=False, allow_null=True, help_text="a fixed bonus (tenant currency)")
    rate = PlainDecimalField(max_digits=9, decimal_places=4, required=False, allow_null=True,
                             help_text="or a rate of the measure, 0 < rate <= 1, 4 places")


class TierSchemeWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    measure = serializers.ChoiceField(choices=SCHEME_MEASURES, help_text="direct_sales or team_sales, per local month")
    tiers = TierSerializer(many=True, max_length=100, help_text="thresholds strictly increasing; the highest reached pays")
    is_active = serializers.BooleanField(required=False, default=True)


class TierSchemePatchSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    measure = serializers.ChoiceField(choices=SCHEME_MEASURES, required=False)
    tiers = TierSerializer(many=True, max_length=100, required=False)
    is_active = serializers.BooleanField(required=False)


class TierSchemeSerializer(serializers.ModelSerializer):
    tiers = serializers.ListField(child=serializers.DictField(child=serializers.CharField()), read_only=True,
                                  help_text='[{"threshold", "amount"} or {"threshold", "rate"}]: amounts with the '
                                            "currency's places, rates with 4")
    created_at = LocalDateTimeField(read_only=True)
    currency = serializers.SerializerMethodField()

    id = serializers.CharField(source="public_id", read_only=True, help_text="opaque id: tier_ and 16 base32 characters")

    class Meta:
        model = TierBonusScheme
        fields = ["id", "name", "measure", "tiers", "is_active", "currency", "created_at"]
        read_only_fields = fields

    def get_currency(self, obj) -> str:
        return current_tenant().currency


class EvaluateSerializer(StrictSerializer):
    period = serializers.CharField(max_length=7, help_text="a closed local month, YYYY-MM")


class EvaluationSerializer(serializers.Serializer):
    scheme_id = serializers.CharField(help_text="the scheme's id (tier_...)")
    period = serializers.CharField(help_text="YYYY-MM")
    evaluated_at = LocalDateTimeField()
    evaluated_by = serializers.CharField(help_text="the staff user, or schedule")
    awards = serializers.IntegerField(help_text="how many distributors were awarded")
    total = serializers.CharField(help_text="the awards' sum (tenant currency)")
    currency = serializers.CharField()


class TierAwardSerializer(ModelSerializer):
    distributor_external_id = serializers.CharField(source="distributor.external_id", read_only=True)
    name = serializers.CharField(source="distributor.name", read_only=True)
    period = serializers.DateField(format="%Y-%m", read_only=True, help_text="YYYY-MM")
    measure_value = serializers.SerializerMethodField(help_text="the month's measure (tenant currency)")
    threshold = serializers.SerializerMethodField(help_text="the threshold of the tier reached")
    rate = serializers.DecimalField(max_digits=9, decimal_places=4, read_only=True, allow_null=True)
    created_at = LocalDateTimeField(read_only=True)

    class Meta:
        model = TierAward
        fields = ["distributor_external_id", "name", "period", "measure_value", "threshold", "rate", "amount", "created_at"]
        read_only_fields = fields

    def get_measure_value(self, obj) -> str:
        return measure_str(Measure.DIRECT_SALES, obj.measure_value)  # both scheme measures are money

    def get_threshold(self, obj) -> str:
        return measure_str(Measure.DIRECT_SALES, obj.threshold)


# --- targets -----------------------------------------------------------------------------------

class TargetWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    scope = serializers.ChoiceField(choices=Target.Scope.choices)
    distributor_external_id = ExternalIdField(required=False, allow_null=True, default=None,
                                              help_text="the distributor (scope distributor) or the team's head (team); "
                                                        "null for a tenant target")
    measure = serializers.ChoiceField(choices=Measure.choices)
    period = serializers.ChoiceField(choices=Target.Period.choices)
    starts_on = serializers.DateField(help_text="the first local day (a month's, quarter's or year's first day)")
    ends_on = serializers.DateField(required=False, allow_null=True, default=None,
                                    help_text="the last local day (inclusive) of a custom period")
    goal = Amount(help_text="money in the tenant currency, or a whole count")


class TargetPatchSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    scope = serializers.ChoiceField(choices=Target.Scope.choices, required=False)
    distributor_external_id = ExternalIdField(required=False, allow_null=True)
    measure = serializers.ChoiceField(choices=Measure.choices, required=False)
    period = serializers.ChoiceField(choices=Target.Period.choices, required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False, allow_null=True)
    goal = Amount(required=False)


class TargetSerializer(serializers.ModelSerializer):
    """A target with its progress at the time of the answer (context `progress`: {pk: Progress})."""

    distributor_external_id = serializers.CharField(source="distributor.external_id", read_only=True, default=None)
    starts_at = LocalDateTimeField(read_only=True)
    ends_at = LocalDateTimeField(read_only=True, help_text="the end of the period (exclusive)")
    starts_on = serializers.SerializerMethodField()
    ends_on = serializers.SerializerMethodField(help_text="the last local day (inclusive)")
    goal = serializers.SerializerMethodField()
    value = serializers.SerializerMethodField(help_text="the measure so far")
    progress = serializers.SerializerMethodField(help_text="value / goal, 4 places")
    expected = serializers.SerializerMethodField(help_text="the elapsed fraction of the period, 4 places")
    status = serializers.SerializerMethodField(help_text="met, ahead, on_track or behind")
    currency = serializers.SerializerMethodField()
    created_at = LocalDateTimeField(read_only=True)

    id = serializers.CharField(source="public_id", read_only=True, help_text="opaque id: target_ and 16 base32 characters")

    class Meta:
        model = Target
        fields = ["id", "name", "scope", "distributor_external_id", "measure", "period", "starts_on", "ends_on",
                  "starts_at", "ends_at", "goal", "value", "progress", "expected", "status", "currency", "created_at"]
        read_only_fields = fields

    def _progress(self, obj):
        return self.context["progress"][obj.pk]

    def get_starts_on(self, obj) -> date:
        return obj.starts_at.astimezone(tenant_zone()).date().isoformat()

    def get_ends_on(self, obj) -> date:
        from datetime import timedelta

        return (obj.ends_at.astimezone(tenant_zone()).date() - timedelta(days=1)).isoformat()

    def get_goal(self, obj) -> str:
        return measure_str(obj.measure, obj.goal)

    def get_value(self, obj) -> str:
        return measure_str(obj.measure, self._progress(obj).value)

    def get_progress(self, obj) -> str:
        return str(self._progress(obj).progress)

    def get_expected(self, obj) -> str:
        return str(self._progress(obj).expected)

    def get_status(self, obj) -> str:
        return self._progress(obj).status

    def get_currency(self, obj) -> str:
        return current_tenant().currency


# --- rankings ----------------------------------------------------------------------------------

class StaffRankingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    distributor_external_id = serializers.CharField()
    name = serializers.CharField()
    score = serializers.CharField()
    reached_at = LocalDateTimeField(allow_null=True)


#: The staff ranking's answer; built with type() because "from" is a Python keyword.
StaffRankingSerializer = type("StaffRankingSerializer", (serializers.Serializer,), {
    "__doc__": "A ranking over local days [from, to] (both inclusive).",
    "measure": serializers.CharField(),
    "from": serializers.DateField(help_text="the first local day"),
    "to": serializers.DateField(help_text="the last local day (inclusive)"),
    "currency": serializers.CharField(),
    "results": StaffRankingRowSerializer(many=True),
})


class PortalRankingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField(help_text="masked (张*, 王*明, A***e) except mine")
    score = serializers.CharField()
    me = serializers.BooleanField()


class MyRankSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="null: no score in the period")
    score = serializers.CharField()


class PortalRankingSerializer(serializers.Serializer):
    measure = serializers.CharField()
    period = serializers.CharField(help_text="YYYY-MM")
    currency = serializers.CharField()
    results = PortalRankingRowSerializer(many=True)
    mine = MyRankSerializer()
