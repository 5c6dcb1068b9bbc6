"""Pure commission arithmetic: no ORM, no I/O, exact Decimal/Fraction only (never floats).

Implements domain rules sections 4 (commission base) and 6 (commission arithmetic):

- `allocate_minor`          largest-remainder allocation of an order-level amount, exact in minor units.
- `order_base`              line nets and the commission base of an order.
- `resolve_rule`            which rule value pays a line at a level (sku > category > grade > default).
- `level_line_values`       each line's unrounded value for one level.
- `record_amount`           one record's amount: the rounded sum of its lines' remaining values.
- `refund_factors_*`        what fraction of each line remains after refunds (by lines / by amount).
- `refunded_goods`          the goods money refunded by lines so far (order currency).
- `quantize_money`          rounding to one minor unit by the tenant's mode (`down` or `half_up`).

Money is in units of a currency and every result is a whole number of that currency's minor
units: `places` is the currency's ISO 4217 exponent (2 for CNY/USD, 0 for JPY/KRW, 3 for
KWD/BHD; fenxiao.currencies.minor_units gives it). Order amounts use the order currency's places,
the commission base and every commission the tenant currency's. Rates are fractions
(0.1000 = 10%). The module is the single source of these rules: services load rows, call it and
store what it returns.

A foreign-currency order (domain rules section 4): each line net stays exact in the order
currency; its commission value is net x exchange_rate x rate, unrounded, and each record is
rounded once in the tenant currency by the tenant's mode (so a USD 19.99 order at 151.37 into a
JPY tenant pays 302 / 151 / 60 at 10/5/2 under `down`: 19.99 x 151.37 = 3025.8863 JPY).
The order's commission base shown and counted in sales figures is that converted amount rounded
half-up to the tenant currency's minor unit (3026 JPY); it never prices a record.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from typing import Iterable, Mapping, Sequence

ZERO = Decimal("0.00")
#: The places of CNY and USD (the default of every `places` argument).
DEFAULT_PLACES = 2
ROUNDING_MODES = ("down", "half_up")
#: Largest amount any line, order total or converted base may reach (units of currency). It keeps
#: every stored amount and sum far inside the money columns, and exact even where a database
#: sums in floating point (SQLite: 15 significant digits).
MAX_AMOUNT = Decimal("1000000000000")  # 10^12
PERCENT = "percent"
FIXED = "fixed"
#: Decimal context for exact sums and quantizing: every amount, rate and product this module sees
#: has far fewer than 60 significant digits, so nothing is ever rounded except by quantize_money.
EXACT = Context(prec=60)
_DECIMAL_MODES = {"down": ROUND_DOWN, "half_up": ROUND_HALF_UP}
_UNITS = {p: Decimal(1).scaleb(-p) for p in range(0, 5)}


def gettext_noop(message: str) -> str:
    """Marks `message` for the translation catalogues (makemessages finds calls by this name) and
    returns it unchanged: this module stays free of Django; orders.services translates the
    messages of an ArithmeticError_ that reaches a person."""
    return message


class Text(str):
    """English text for a person, filled from `template` (marked with gettext_noop) and `params`;
    it remembers both, so a caller with Django translates it (fenxiao.exceptions.translated)."""

    def __new__(cls, template: str, **params):
        text = super().__new__(cls, template % params if params else template)
        text.template, text.params = template, params
        return text


class ArithmeticError_(ValueError):
    """Input that no rule can price (negative amounts, discounts above the goods, bad rounding mode).
    `message` is the English text, with %(name)s placeholders filled from `params`; str() is the
    filled text, `.message` and `.params` let a caller translate it."""

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


def to_fraction(value: Decimal | Fraction | int) -> Fraction:
    """Exact conversion to Fraction (Decimal -> Fraction is exact; floats are refused)."""
    if isinstance(value, float):
        raise TypeError("floats are never money")
    return value if isinstance(value, Fraction) else Fraction(value)


def unit(places: int) -> Decimal:
    """One minor unit of a currency with `places` places: 0.01 for 2, 1 for 0, 0.001 for 3."""
    try:
        return _UNITS[places]
    except KeyError:
        raise ArithmeticError_(f"a currency has 0 to 4 places, not {places!r}") from None


def quantize_money(value: Decimal | Fraction | int, rounding: str, places: int = DEFAULT_PLACES) -> Decimal:
    """Round an exact amount to one minor unit (`places` places) by the tenant's mode.

    `down` truncates toward zero; `half_up` rounds halves away from zero (0.005 -> 0.01 at 2
    places, 0.5 -> 1 at 0). Returns a Decimal with exactly `places` places (never negative zero).
    Raises ArithmeticError_ for an unknown mode or places outside 0..4, TypeError for a float. A
    Decimal is quantized directly (exact under EXACT), a Fraction through integer minor units;
    both give the same result (a Hypothesis property checks it).
    """
    if rounding not in ROUNDING_MODES:
        raise ArithmeticError_(f"unknown rounding mode {rounding!r}")
    q = unit(places)
    if isinstance(value, Decimal):
        out = value.quantize(q, rounding=_DECIMAL_MODES[rounding], context=EXACT)
        return out.copy_abs() if out.is_zero() else out
    frac = to_fraction(value)
    sign = -1 if frac < 0 else 1
    scaled = abs(frac) * 10 ** places
    minor = math.floor(scaled) if rounding == "down" else math.floor(scaled + Fraction(1, 2))
    return Decimal(sign * minor).scaleb(-places, context=EXACT).quantize(q, context=EXACT)


def to_minor(value: Decimal, places: int = DEFAULT_PLACES) -> int:
    """Integer minor units of an amount that must be a whole number of them (raises otherwise):
    to_minor(Decimal("12.34"), 2) == 1234; to_minor(Decimal("1234.5"), 0) raises."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ArithmeticError_(f"{value} has more than {places} decimal places")
    return int(scaled)


def allocate_minor(total: Decimal, weights: Sequence[Decimal], places: int = DEFAULT_PLACES) -> list[Decimal]:
    """Split `total` (>= 0, a whole number of minor units) across `weights` (>= 0) in
    proportion, exact in minor units.

    Largest remainder method: each share is floor(total x w / W) minor units, then the units left
    over go one each to the largest fractional remainders (ties: earlier position first). The
    shares sum to `total` exactly and each differs from the exact proportion by less than one
    minor unit. Weights that are all zero receive nothing and `total` must then be 0. Domain
    rules section 4 ("cent-exact", in the order currency's minor units).
    """
    n = len(weights)
    total_c = to_minor(total, places)
    if total_c < 0 or any(w < 0 for w in weights):
        raise ArithmeticError_("allocation needs non-negative amounts")
    q = unit(places)
    if total_c == 0:
        return [q * 0 for _ in range(n)]
    # Exact in integers: weights scaled to whole numbers by a common power of ten; share i is
    # total_c x w_i / W = floor + remainder / W, so remainders compare as integers.
    ints = _scaled_integers(weights)
    weight_sum = sum(ints)
    if weight_sum == 0:
        raise ArithmeticError_("cannot allocate a non-zero amount over zero weights")
    floors, remainders = [], []
    for w in ints:
        share, r = divmod(total_c * w, weight_sum)
        floors.append(share)
        remainders.append(r)
    left = total_c - sum(floors)
    if left:
        for i in sorted(range(n), key=lambda i: (-remainders[i], i))[:left]:
            floors[i] += 1
    return [Decimal(c).scaleb(-places) for c in floors]


def _scaled_integers(weights: Sequence[Decimal | Fraction | int]) -> list[int]:
    """The weights times one common positive factor, as exact integers (proportions unchanged)."""
    if all(isinstance(w, Decimal) for w in weights):
        places = max((-w.as_tuple().exponent for w in weights), default=0)
        scale = Decimal(10) ** max(places, 0)
        return [int(EXACT.multiply(w, scale)) for w in weights]
    fracs = [to_fraction(w) for w in weights]
    common = math.lcm(*(f.denominator for f in fracs)) if fracs else 1
    return [int(f * common) for f in fracs]


@dataclass(frozen=True)
class Line:
    """One order line as posted (order currency). `discount` is the line's own discount."""

    line_id: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = ZERO
    commissionable: bool = True
    sku: str = ""
    category: str = ""

    @property
    def amount(self) -> Decimal:
        """quantity x unit_price - line discount (order currency, exact)."""
        return self.quantity * self.unit_price - self.discount


@dataclass(frozen=True)
class Base:
    """Result of `order_base` (order currency unless named otherwise)."""

    goods_total: Decimal            # sum of all line amounts - order discount (refund-by-amount yardstick)
    line_nets: dict[str, Decimal]   # commissionable lines only: amount - discount share - non-cash share
    discount_shares: dict[str, Decimal]
    non_cash_shares: dict[str, Decimal]
    base_order_currency: Decimal    # sum of line nets
    commission_base: Decimal        # base_order_currency x exchange_rate, half-up to a minor unit (tenant currency)


def validate_lines(lines: Sequence[Line], discount: Decimal, non_cash_amount: Decimal) -> None:
    """Raise ArithmeticError_ for what no order may contain (domain rules section 3)."""
    if not lines:
        raise ArithmeticError_(gettext_noop("an order needs at least one line"))
    for line in lines:
        if line.quantity <= 0:
            raise ArithmeticError_(gettext_noop("line %(line)s: quantity must be > 0"), line=line.line_id)
        if line.unit_price < 0 or line.discount < 0:
            raise ArithmeticError_(gettext_noop("line %(line)s: amounts must be >= 0"), line=line.line_id)
        if line.amount < 0:
            raise ArithmeticError_(gettext_noop("line %(line)s: discount exceeds quantity x unit_price"), line=line.line_id)
    if discount < 0 or non_cash_amount < 0:
        raise ArithmeticError_(gettext_noop("order amounts must be >= 0"))
    if discount + non_cash_amount > sum(line.amount for line in lines):
        raise ArithmeticError_(gettext_noop("discount + non_cash_amount exceed the order's goods"))
    if sum(line.quantity * line.unit_price for line in lines) > MAX_AMOUNT:
        raise ArithmeticError_(gettext_noop("the order's goods exceed %(max)s (the largest amount accepted)"), max=MAX_AMOUNT)


def order_base(
    lines: Sequence[Line],
    *,
    discount: Decimal = ZERO,
    non_cash_amount: Decimal = ZERO,
    exchange_rate: Decimal = Decimal(1),
    places: int = DEFAULT_PLACES,
    base_places: int | None = None,
) -> Base:
    """Commission base of an order (domain rules section 4).

    The order discount, then the non-cash amount, are allocated across the commissionable lines in
    proportion to their amounts (the non-cash amount in proportion to what the discount left), each
    exact in the order currency's minor units (`places`). Non-commissionable lines get no share
    and are not in the base. An order-level amount larger than what the commissionable lines can
    absorb is capped at it (their nets reach 0, never below). Shipping and tax are not arguments:
    they are never in the base. `commission_base` is in the tenant currency: base x exchange_rate,
    rounded half-up to the tenant currency's minor unit (`base_places`, default `places`).
    Raises ArithmeticError_ for invalid lines or amounts.
    """
    base_places = places if base_places is None else base_places
    validate_lines(lines, discount, non_cash_amount)
    if sum(line.amount for line in lines if line.commissionable) * exchange_rate > MAX_AMOUNT:
        raise ArithmeticError_(gettext_noop("the converted base exceeds %(max)s (the largest amount accepted)"), max=MAX_AMOUNT)
    com = [line for line in lines if line.commissionable]
    amounts = [line.amount for line in com]
    com_total = sum(amounts, ZERO)
    d_total = min(discount, com_total)
    d_shares = allocate_minor(d_total, amounts, places) if com else []
    after_d = [a - d for a, d in zip(amounts, d_shares)]
    n_total = min(non_cash_amount, com_total - d_total)
    n_shares = allocate_minor(n_total, after_d, places) if com else []
    nets = {line.line_id: a - n for line, a, n in zip(com, after_d, n_shares)}
    base_oc = sum(nets.values(), ZERO)
    return Base(
        goods_total=sum((line.amount for line in lines), ZERO) - discount,
        line_nets=nets,
        discount_shares={line.line_id: d for line, d in zip(com, d_shares)},
        non_cash_shares={line.line_id: n for line, n in zip(com, n_shares)},
        base_order_currency=base_oc,
        commission_base=quantize_money(base_oc * exchange_rate, "half_up", base_places),
    )


@dataclass(frozen=True)
class RuleValue:
    """A level's value: `percent` (fraction of the line net, 4 places) or `fixed` (per unit, tenant currency)."""

    kind: str
    value: Decimal
    source: str = "default"

    def __post_init__(self):
        if self.kind not in (PERCENT, FIXED):
            raise ArithmeticError_(f"unknown rule kind {self.kind!r}")
        if self.value < 0:
            raise ArithmeticError_("rule values must be >= 0")


@dataclass(frozen=True)
class PlanRules:
    """A plan's values: default per level, and scoped rule sets by category and by SKU.

    `categories` / `skus` map a scope value to {level: RuleValue}; a scope that is present but has
    no value for a level pays 0 at that level (it never falls back to a less specific rule).
    """

    default: Mapping[int, RuleValue] = field(default_factory=dict)
    categories: Mapping[str, Mapping[int, RuleValue]] = field(default_factory=dict)
    skus: Mapping[str, Mapping[int, RuleValue]] = field(default_factory=dict)


def resolve_rule(
    line: Line, level: int, rules: PlanRules, grade_override: RuleValue | None = None
) -> RuleValue | None:
    """The value that pays `line` at `level`: sku rule > category rule > grade override > default.

    Returns None when nothing pays (a scoped rule without this level, or no default for it).
    Domain rules section 5.
    """
    if line.sku and line.sku in rules.skus:
        return rules.skus[line.sku].get(level)
    if line.category and line.category in rules.categories:
        return rules.categories[line.category].get(level)
    if grade_override is not None:
        return grade_override
    return rules.default.get(level)


def _plain(value: Decimal) -> str:
    """Exact decimal string without trailing zeros or exponent (6.000000 -> "6", 2.40 -> "2.4")."""
    text = format(value.normalize(), "f")
    return text


@dataclass(frozen=True)
class LineValue:
    """One line's unrounded contribution to one record, in the tenant currency."""

    line_id: str
    kind: str
    rate: Decimal         # the percent rate or the fixed amount per unit
    source: str
    quantity: int
    net: Decimal          # line net in order currency (percent rules)
    value: Decimal        # exact, unrounded

    def as_dict(self, net_places: int | None = None) -> dict:
        """The stored form (a record's `lines`): `net` with the order currency's places when
        `net_places` is given (it is a whole number of its minor units), `value` exact."""
        net = self.net.quantize(unit(net_places)) if net_places is not None else self.net
        return {
            "line_id": self.line_id, "kind": self.kind, "rate": str(self.rate), "source": self.source,
            "quantity": self.quantity, "net": str(net), "value": _plain(self.value),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "LineValue":
        return cls(
            line_id=d["line_id"], kind=d["kind"], rate=Decimal(d["rate"]), source=d["source"],
            quantity=int(d["quantity"]), net=Decimal(d["net"]), value=Decimal(d["value"]),
        )


def level_line_values(
    lines: Sequence[Line],
    base: Base,
    level: int,
    rules: PlanRules,
    *,
    grade_override: RuleValue | None = None,
    exchange_rate: Decimal = Decimal(1),
) -> list[LineValue]:
    """Each commissionable line's unrounded value at `level` (tenant currency).

    percent: line net x exchange_rate x rate; fixed: amount x quantity (fixed amounts are in the
    tenant currency). Lines whose rule pays nothing are left out. Domain rules sections 5 and 6.
    """
    out: list[LineValue] = []
    for line in lines:
        if not line.commissionable:
            continue
        rule = resolve_rule(line, level, rules, grade_override)
        if rule is None or rule.value == 0:
            continue
        net = base.line_nets[line.line_id]
        if rule.kind == PERCENT:
            value = net * exchange_rate * rule.value
        else:
            value = rule.value * line.quantity
        if value == 0:
            continue
        out.append(LineValue(line.line_id, rule.kind, rule.value, rule.source, line.quantity, net, value))
    return out


def record_amount(
    values: Iterable[LineValue], rounding: str, factors: Mapping[str, Fraction] | None = None,
    places: int = DEFAULT_PLACES,
) -> Decimal:
    """A record's amount: `rounding` applied once to the sum of its lines' remaining values, to
    one minor unit of the tenant currency (`places`).

    `factors` gives the fraction of each line that remains after refunds (1 when absent).
    Domain rules section 6 ("rounded once per record").
    """
    if not factors:  # nothing refunded: an exact Decimal sum
        total = ZERO
        for v in values:
            total = EXACT.add(total, v.value)
        return quantize_money(total, rounding, places)
    total = sum(
        (to_fraction(v.value) * factors.get(v.line_id, Fraction(1)) for v in values), Fraction(0)
    )
    return quantize_money(total, rounding, places)


def uniform_rate(values: Sequence[LineValue]) -> Decimal | None:
    """The single percent rate used by every line of a record, or None when lines differ."""
    rates = {(v.kind, v.rate) for v in values}
    if len(rates) == 1:
        kind, rate = next(iter(rates))
        return rate if kind == PERCENT else None
    return None


def refund_factors_by_lines(quantities: Mapping[str, int], refunded: Mapping[str, int]) -> dict[str, Fraction]:
    """Remaining fraction per line after refunds by lines: remaining_quantity / quantity.

    Raises ArithmeticError_ when a line would be refunded beyond its quantity.
    """
    out = {}
    for line_id, qty in quantities.items():
        done = refunded.get(line_id, 0)
        if done < 0 or done > qty:
            raise ArithmeticError_(f"line {line_id}: refunded quantity {done} outside 0..{qty}")
        out[line_id] = Fraction(qty - done, qty)
    return out


def refund_factor_by_amount(goods_total: Decimal, refunded_amount: Decimal) -> Fraction:
    """Remaining fraction of every line after refunds by amount: (goods total - refunded) / goods total.

    Raises ArithmeticError_ when `refunded_amount` is negative or exceeds the goods total.
    """
    if refunded_amount < 0 or refunded_amount > goods_total:
        raise ArithmeticError_("refunded amount outside 0..goods total")
    if goods_total == 0:
        return Fraction(1)
    return (to_fraction(goods_total) - to_fraction(refunded_amount)) / to_fraction(goods_total)


def remaining_base(
    line_nets: Mapping[str, Decimal], factors: Mapping[str, Fraction], exchange_rate: Decimal = Decimal(1),
    places: int = DEFAULT_PLACES,
) -> Decimal:
    """The commission base still kept after refunds: sum(net x remaining fraction) x exchange_rate,
    rounded half-up to one minor unit of the tenant currency (`places`). Used for sales figures,
    never to price a record."""
    total = sum((to_fraction(n) * factors.get(k, Fraction(1)) for k, n in line_nets.items()), Fraction(0))
    return quantize_money(total * to_fraction(exchange_rate), "half_up", places)


def refunded_goods(
    goods_total: Decimal, line_goods: Mapping[str, Decimal], quantities: Mapping[str, int],
    refunded: Mapping[str, int], places: int = DEFAULT_PLACES,
) -> Decimal:
    """The goods money refunded by lines so far (order currency, `places` places).

    `line_goods` maps each line to its goods after discounts (quantity x unit_price - line
    discount - its share of the order discount); `refunded` to its units refunded so far. The
    amount is goods_total x sum(goods x refunded / quantity) / sum(goods), rounded half-up once:
    each refunded unit carries its line's goods per unit, and refunding every unit gives exactly
    goods_total. The money of one refund is this amount after it minus the amount before it, so
    refunds of single units add up to the whole (3 units of 10.00 refund 3.33, 3.34, 3.33).
    Domain rules section 6 (refunds by lines).
    """
    weight = sum((to_fraction(g) for g in line_goods.values()), Fraction(0))
    if weight == 0:
        return quantize_money(Decimal(0), "half_up", places)
    done = sum((to_fraction(g) * Fraction(refunded.get(k, 0), quantities[k]) for k, g in line_goods.items()), Fraction(0))
    return quantize_money(to_fraction(goods_total) * done / weight, "half_up", places)
