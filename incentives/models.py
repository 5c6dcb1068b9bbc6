"""Incentives (domain rules section 8): the figures every measure reads, sales contests, tier
bonuses and sales targets.

Figures. An order credits each beneficiary its snapshot records (levels 1..3) with its commission
base kept after refunds: `SalesCredit`, one row per (order, level), written with the accrual and
kept net of refunds by them. `DailyFigure` sums the credits per distributor and tenant-local day
of payment, `TenantDay` per tenant and day (every paid order, with or without a beneficiary):
written in the same transactions, so a measure over a window reads one row per distributor and day
instead of the orders. `check_measures` recomputes them from the orders and records. Their money
is whole minor units of the tenant currency as integers (`Minor`): sums and comparisons are exact
in every database (SQLite sums decimals in floating point).
"""
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fenxiao.history import history_user
from fenxiao.money import RATE_KW, TENANT, MoneyField
from fenxiao.publicid import PublicIdField
from tenants.managers import TenantOwned, tenant_fk

ZERO = Decimal("0")


def Minor(**kwargs) -> models.BigIntegerField:  # noqa: N802 (field factory)
    """An amount in whole minor units of the tenant currency (12345 = 123.45 CNY = 12345 JPY)."""
    kwargs.setdefault("default", 0)
    return models.BigIntegerField(**kwargs)


class Measure(models.TextChoices):
    """The measures of domain rules section 8."""

    DIRECT_SALES = "direct_sales", _("direct sales (orders I am level 1 of)")
    TEAM_SALES = "team_sales", _("team sales (orders I am at any level of)")
    ORDER_COUNT = "order_count", _("orders (counted in direct sales)")
    NEW_DIRECT_RECRUITS = "new_direct_recruits", _("new direct recruits (active)")
    COMMISSION = "commission", _("commission (net of reversals)")
    ACTIVE_DISTRIBUTORS = "active_distributors", _("active distributors (with a counted direct order)")
    NET_SALES = "net_sales", _("the tenant's net sales")


#: Measures of one distributor (contests, rankings, distributor and team targets).
DISTRIBUTOR_MEASURES = (Measure.DIRECT_SALES, Measure.TEAM_SALES, Measure.ORDER_COUNT, Measure.NEW_DIRECT_RECRUITS,
                        Measure.COMMISSION)
#: Measures that are money (in the tenant currency); the others are counts.
MONEY_MEASURES = (Measure.DIRECT_SALES, Measure.TEAM_SALES, Measure.COMMISSION, Measure.NET_SALES)


class SalesCredit(TenantOwned):
    """What one order counts for one recorded beneficiary (level 1..3 of its snapshot chain)."""

    order = tenant_fk("orders.Order", on_delete=models.CASCADE, related_name="+", verbose_name=_("order"))
    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    level = models.PositiveSmallIntegerField(_("level"))
    day = models.DateField(_("day"), help_text=_("the tenant-local day the order was paid"))
    paid_at = models.DateTimeField(_("paid at"))
    value = Minor(verbose_name=_("value"), help_text=_("the order's commission base kept after refunds"))
    commission = Minor(verbose_name=_("commission"), help_text=_("this level's commission net of reversals"))
    settled = models.BooleanField(_("settled"), default=False, help_text=_("the order's commissions have settled"))

    class Meta(TenantOwned.Meta):
        verbose_name = _("sales credit")
        verbose_name_plural = _("sales credits")
        constraints = [models.UniqueConstraint(fields=["tenant", "order", "level"], name="credit_tenant_order_level")]
        indexes = [models.Index(fields=["tenant", "distributor", "day"], name="credit_tenant_distributor_day"),
                   models.Index(fields=["tenant", "day"], name="credit_tenant_day")]


class DailyFigure(TenantOwned):
    """A distributor's figures of one tenant-local day (the day its orders were paid)."""

    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    day = models.DateField(_("day"))
    direct_sales = Minor(verbose_name=_("direct sales"))
    direct_orders = models.IntegerField(_("direct orders"), default=0, help_text=_("orders counted in direct sales (net above 0)"))
    direct_last_at = models.DateTimeField(_("direct last at"), null=True, blank=True, help_text=_("paid_at of the last counted direct order"))
    team_sales = Minor(verbose_name=_("team sales"))
    team_orders = models.IntegerField(_("team orders"), default=0)
    team_last_at = models.DateTimeField(_("team last at"), null=True, blank=True)
    commission = Minor(verbose_name=_("commission"))
    commission_last_at = models.DateTimeField(_("commission last at"), null=True, blank=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        constraints = [models.UniqueConstraint(fields=["tenant", "distributor", "day"], name="dailyfigure_tenant_distributor_day")]
        indexes = [models.Index(fields=["tenant", "day", "distributor"], name="dailyfigure_tenant_day")]


class TenantDay(TenantOwned):
    """The tenant's figures of one local day: every paid order, with or without a beneficiary."""

    day = models.DateField(_("day"))
    net_sales = Minor(verbose_name=_("net sales"))
    orders = models.IntegerField(_("orders"), default=0, help_text=_("paid orders with a net value above 0"))

    class Meta(TenantOwned.Meta):
        verbose_name = _("tenant day")
        verbose_name_plural = _("tenant days")
        constraints = [models.UniqueConstraint(fields=["tenant", "day"], name="tenantday_tenant_day")]


class Standing(TenantOwned):
    """A distributor's lifetime figures for grade upgrades (domain rules section 8, grades): the
    direct and team sales of orders whose commissions have settled, net of refunds."""

    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    settled_direct_sales = Minor(verbose_name=_("settled direct sales"))
    settled_team_sales = Minor(verbose_name=_("settled team sales"))

    class Meta(TenantOwned.Meta):
        verbose_name = _("standing")
        verbose_name_plural = _("standings")
        constraints = [models.UniqueConstraint(fields=["tenant", "distributor"], name="standing_tenant_distributor")]


class Contest(TenantOwned):
    """A sales contest (销售竞赛): a window, a measure, eligibility and prizes per rank."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Running")
        ENDED = "ended", _("ended (awaiting finalization)")
        FINALIZED = "finalized", _("Finalized")

    def status_at(self, now) -> str:
        """scheduled before starts_at, running until ends_at, then ended until finalized."""
        if self.finalized_at is not None:
            return self.Status.FINALIZED
        if now < self.starts_at:
            return self.Status.SCHEDULED
        return self.Status.RUNNING if now < self.ends_at else self.Status.ENDED

    public_id = PublicIdField(prefix="contest")
    name = models.CharField(_("name"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    measure = models.CharField(_("measure"), max_length=24, choices=[(m.value, m.label) for m in DISTRIBUTOR_MEASURES if m != Measure.COMMISSION])
    min_score = models.DecimalField(_("min score"), max_digits=20, decimal_places=4, null=True, blank=True)
    grades = models.ManyToManyField("distributors.Grade", blank=True, related_name="+",
                                    help_text=_("eligible grades; none: everyone"), verbose_name=_("grades"))
    prizes = models.JSONField(_("prizes"), default=list, help_text=_('prize per rank, e.g. ["500.00", "300.00"] (tenant currency)'))
    finalize_at = models.DateTimeField(_("finalize at"), help_text=_("default: ends_at + settle_after_days"))
    finalized_at = models.DateTimeField(_("finalized at"), null=True, blank=True)
    finalized_by = models.CharField(_("finalized by"), max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user, m2m_fields=[grades], excluded_fields=["created_at"])

    class Meta(TenantOwned.Meta):
        verbose_name = _("contest")
        verbose_name_plural = _("contests")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["tenant", "finalized_at", "finalize_at"], name="contest_tenant_due")]
        constraints = [models.UniqueConstraint(fields=["tenant", "public_id"], name="contest_tenant_public_id")]

    def __str__(self) -> str:
        return self.name


class KeptScore(TenantOwned):
    """One distributor's score on a board kept with the day figures by incentives.figures (a
    running contest's: ContestScore; a month ranking's: RankingScore; read and written by
    incentives.measures.Board): its board is an index scan in the tie rule's order, whatever the
    tenant's size. `score` is whole minor units of the tenant currency for money, a count for
    orders; `reached_at` the time of its last counted event."""

    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    score = models.BigIntegerField(_("score"), default=0)
    reached_at = models.DateTimeField(_("reached at"), null=True, blank=True)
    # The rank snapshot (measures.ranks_refresh, every minute): the key and rank each row had when
    # it was last taken, so a distributor's live rank is one index probe into the snapshot plus a
    # correction over the rows changed since (`dirty`), not a count of everyone ahead.
    # snap_neg = -score and snap_reached = reached_at or RANK_NEVER: the tie rule's order is the
    # ascending order of (snap_neg, snap_reached, distributor).
    snap_neg = models.BigIntegerField(null=True, blank=True)
    snap_reached = models.DateTimeField(null=True, blank=True)
    snap_rank = models.PositiveIntegerField(null=True, blank=True, help_text=_("rank at the snapshot (score above 0)"))
    dirty = models.BooleanField(default=True, db_default=True, help_text=_("score or reached_at changed since the snapshot"))

    class Meta(TenantOwned.Meta):
        abstract = True


class ContestScore(KeptScore):
    """A running contest's score of one distributor (contests measured by direct_sales,
    team_sales or order_count). Rebuilt from the day figures when the contest is created or its
    window or measure changes; dropped once finalized."""

    contest = tenant_fk(Contest, on_delete=models.CASCADE, related_name="+", verbose_name=_("contest"))

    class Meta(KeptScore.Meta):
        verbose_name = _("contest score")
        verbose_name_plural = _("contest scores")
        constraints = [models.UniqueConstraint(fields=["tenant", "contest", "distributor"], name="contestscore_once")]
        indexes = [models.Index(fields=["tenant", "contest", "-score", "reached_at", "distributor"],
                                name="contestscore_board"),
                   models.Index(fields=["tenant", "contest", "snap_neg", "snap_reached", "distributor"],
                                name="contestscore_snap", condition=models.Q(snap_rank__isnull=False)),
                   models.Index(fields=["tenant", "contest"], name="contestscore_dirty", condition=models.Q(dirty=True))]


class RankingBoard(TenantOwned):
    """A local month's ranking of one day-figure measure (direct_sales, team_sales, order_count,
    commission) whose scores are kept with the day figures (`RankingScore`), as a running
    contest's are: made the first time the month's ranking is asked for (incentives.measures.
    ranking_board), so `/me/rankings/` is an index scan and one probe whatever the tenant's size."""

    measure = models.CharField(_("measure"), max_length=24, choices=Measure.choices)
    month = models.DateField(_("month"), help_text=_("the month's first local day"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("ranking board")
        verbose_name_plural = _("ranking boards")
        constraints = [models.UniqueConstraint(fields=["tenant", "month", "measure"], name="rankingboard_once")]


class RankingScore(KeptScore):
    """One distributor's score on a month ranking's board."""

    board = tenant_fk(RankingBoard, on_delete=models.CASCADE, related_name="+", verbose_name=_("ranking board"))

    class Meta(KeptScore.Meta):
        verbose_name = _("ranking score")
        verbose_name_plural = _("ranking scores")
        constraints = [models.UniqueConstraint(fields=["tenant", "board", "distributor"], name="rankingscore_once")]
        indexes = [models.Index(fields=["tenant", "board", "-score", "reached_at", "distributor"],
                                name="rankingscore_board"),
                   models.Index(fields=["tenant", "board", "snap_neg", "snap_reached", "distributor"],
                                name="rankingscore_snap", condition=models.Q(snap_rank__isnull=False)),
                   models.Index(fields=["tenant", "board"], name="rankingscore_dirty", condition=models.Q(dirty=True))]


class ContestResult(TenantOwned):
    """A finalized contest's ranking, frozen, and the prize paid to each winner (once)."""

    contest = tenant_fk(Contest, on_delete=models.PROTECT, related_name="results", verbose_name=_("contest"))
    rank = models.PositiveIntegerField(_("rank"))
    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    score = models.DecimalField(_("score"), max_digits=20, decimal_places=4)
    reached_at = models.DateTimeField(_("reached at"), null=True, blank=True)
    prize = MoneyField(_("prize"), default=ZERO, currency=TENANT)
    entry = tenant_fk("ledger.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("entry"))

    class Meta(TenantOwned.Meta):
        verbose_name = _("contest result")
        verbose_name_plural = _("contest results")
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "contest", "rank"], name="contestresult_tenant_contest_rank"),
            models.UniqueConstraint(fields=["tenant", "contest", "distributor"], name="contestresult_tenant_contest_distributor"),
        ]


class TierBonusScheme(TenantOwned):
    """A tier bonus scheme (阶梯奖励): a measure per local month and tiers."""

    public_id = PublicIdField(prefix="tier")
    name = models.CharField(_("name"), max_length=200)
    measure = models.CharField(_("measure"), max_length=24, choices=[(m.value, m.label) for m in (Measure.DIRECT_SALES, Measure.TEAM_SALES)])
    tiers = models.JSONField(_("tiers"), help_text=_('[{"threshold": "1000.00", "amount": "50.00"} or {"threshold", "rate": "0.0200"}]'))
    is_active = models.BooleanField(_("is active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user, excluded_fields=["created_at"])

    class Meta(TenantOwned.Meta):
        verbose_name = _("tier bonus scheme")
        verbose_name_plural = _("tier bonus schemes")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "public_id"], name="tierscheme_tenant_public_id")]

    def __str__(self) -> str:
        return self.name


class TierAward(TenantOwned):
    """A scheme's award to one distributor for one month: at most one (the unique constraint)."""

    scheme = tenant_fk(TierBonusScheme, on_delete=models.PROTECT, related_name="awards", verbose_name=_("scheme"))
    distributor = tenant_fk("distributors.Distributor", on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    period = models.DateField(_("period"), help_text=_("the first day of the local month"))
    measure_value = models.DecimalField(_("measure value"), max_digits=20, decimal_places=4)
    threshold = models.DecimalField(_("threshold"), max_digits=20, decimal_places=4)
    rate = models.DecimalField(_("rate"), **RATE_KW, null=True, blank=True)
    amount = MoneyField(_("amount"), currency=TENANT)
    entry = tenant_fk("ledger.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("entry"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("tier award")
        verbose_name_plural = _("tier awards")
        ordering = ["-period", "-amount", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "scheme", "distributor", "period"],
                                               name="tieraward_once_per_month")]
        indexes = [models.Index(fields=["tenant", "scheme", "period"], name="tieraward_tenant_scheme_period")]


class TierEvaluation(TenantOwned):
    """That a scheme's month was evaluated (when, by whom, how many awards): once per month."""

    scheme = tenant_fk(TierBonusScheme, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("scheme"))
    period = models.DateField(_("period"))
    awards = models.PositiveIntegerField(_("awards"), default=0)
    evaluated_at = models.DateTimeField(_("evaluated at"), auto_now_add=True)
    evaluated_by = models.CharField(_("evaluated by"), max_length=150, blank=True, default="")

    class Meta(TenantOwned.Meta):
        verbose_name = _("tier evaluation")
        verbose_name_plural = _("tier evaluations")
        constraints = [models.UniqueConstraint(fields=["tenant", "scheme", "period"], name="tierevaluation_once")]


class Target(TenantOwned):
    """A sales target / KPI (销售目标): a scope, a measure, a period and a goal."""

    class Scope(models.TextChoices):
        TENANT = "tenant", _("the whole programme")
        DISTRIBUTOR = "distributor", _("one distributor")
        TEAM = "team", _("a distributor's team")

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")
        CUSTOM = "custom", _("Custom")

    public_id = PublicIdField(prefix="target")
    name = models.CharField(_("name"), max_length=200)
    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices)
    distributor = tenant_fk("distributors.Distributor", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor"))
    measure = models.CharField(_("measure"), max_length=24, choices=Measure.choices)
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    goal = models.DecimalField(_("goal"), max_digits=20, decimal_places=4)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user, excluded_fields=["created_at"])

    class Meta(TenantOwned.Meta):
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["tenant", "distributor"], name="target_tenant_distributor")]
        constraints = [models.UniqueConstraint(fields=["tenant", "public_id"], name="target_tenant_public_id")]

    def __str__(self) -> str:
        return self.name
