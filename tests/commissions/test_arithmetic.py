"""The pure arithmetic (domain rules sections 4-6): worked values to the cent, and properties."""
import math
from decimal import Decimal as D
from decimal import localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commissions import arithmetic as ar

P = ar.PERCENT


def rules(default=None, categories=None, skus=None):
    conv = lambda m: {lvl: ar.RuleValue(k, D(v)) for lvl, (k, v) in m.items()}  # noqa: E731
    return ar.PlanRules(
        default=conv(default or {}),
        categories={c: conv(m) for c, m in (categories or {}).items()},
        skus={s: conv(m) for s, m in (skus or {}).items()},
    )


class TestRounding:
    @pytest.mark.parametrize("value,mode,expected", [
        (D("1.0005"), "down", "1.00"), (D("1.0099"), "down", "1.00"), (D("1.005"), "half_up", "1.01"),
        (D("1.0049"), "half_up", "1.00"), (D("0.004"), "half_up", "0.00"), (D("-1.005"), "half_up", "-1.01"),
        (D("-1.009"), "down", "-1.00"), (Fraction(2, 3), "down", "0.66"), (Fraction(2, 3), "half_up", "0.67"),
    ])
    def test_worked_values(self, value, mode, expected):
        assert ar.quantize_money(value, mode) == D(expected)
        assert str(ar.quantize_money(value, mode)) == expected

    def test_unknown_mode_and_floats_refused(self):
        with pytest.raises(ar.ArithmeticError_):
            ar.quantize_money(D("1"), "bankers")
        with pytest.raises(TypeError):
            ar.quantize_money(1.5, "down")


class TestAllocation:
    def test_largest_remainder_worked_example(self):
        # 10.00 over 3 equal lines: 3.33 each + the leftover cent to the first (ties: earlier first)
        assert ar.allocate_minor(D("10.00"), [D("1"), D("1"), D("1")]) == [D("3.34"), D("3.33"), D("3.33")]

    def test_proportional(self):
        # 5.00 over 30.00 / 70.00 -> 1.50 / 3.50 exactly
        assert ar.allocate_minor(D("5.00"), [D("30.00"), D("70.00")]) == [D("1.50"), D("3.50")]
        # 1.00 over 1 / 2 / 3 (exact 0.1666.., 0.3333.., 0.5) -> 0.17 / 0.33 / 0.50
        assert ar.allocate_minor(D("1.00"), [D("1"), D("2"), D("3")]) == [D("0.17"), D("0.33"), D("0.50")]

    def test_zero_weights(self):
        assert ar.allocate_minor(D("0.00"), [D("0"), D("0")]) == [D("0.00"), D("0.00")]
        with pytest.raises(ar.ArithmeticError_):
            ar.allocate_minor(D("1.00"), [D("0")])

    @given(total=st.integers(0, 10**8), weights=st.lists(st.integers(0, 10**7), min_size=1, max_size=30))
    def test_shares_sum_exactly_and_stay_within_a_cent(self, total, weights):
        if sum(weights) == 0:
            weights[0] = 1
        total_d = D(total) / 100
        shares = ar.allocate_minor(total_d, [D(w) for w in weights])
        assert sum(shares) == total_d
        W = sum(weights)
        for s, w in zip(shares, weights):
            exact = Fraction(total, 100) * Fraction(w, W)
            assert abs(Fraction(s) - exact) < Fraction(1, 100)
            assert s >= 0


class TestBase:
    def test_discount_non_cash_shipping_tax(self):
        lines = [
            ar.Line("1", 2, D("50.00"), D("10.00")),           # amount 90.00
            ar.Line("2", 1, D("30.00")),                       # amount 30.00
            ar.Line("3", 1, D("20.00"), commissionable=False), # not in the base, gets no share
        ]
        base = ar.order_base(lines, discount=D("12.00"), non_cash_amount=D("10.80"))
        # discount 12.00 over 90:30 -> 9.00 / 3.00; non-cash 10.80 over 81:27 -> 8.10 / 2.70
        assert base.discount_shares == {"1": D("9.00"), "2": D("3.00")}
        assert base.non_cash_shares == {"1": D("8.10"), "2": D("2.70")}
        assert base.line_nets == {"1": D("72.90"), "2": D("24.30")}
        assert base.base_order_currency == D("97.20")
        assert base.commission_base == D("97.20")
        assert base.goods_total == D("128.00")  # 90 + 30 + 20 - 12 (non-cash is a payment, not a discount)

    def test_exchange_rate(self):
        base = ar.order_base([ar.Line("1", 3, D("33.33"))], exchange_rate=D("7.12345678"))
        assert base.base_order_currency == D("99.99")
        assert base.commission_base == D("712.27")  # 99.99 x 7.12345678 = 712.2744634... half-up

    def test_discount_larger_than_commissionable_goods_is_capped(self):
        lines = [ar.Line("1", 1, D("10.00")), ar.Line("2", 1, D("90.00"), commissionable=False)]
        base = ar.order_base(lines, discount=D("50.00"))
        assert base.line_nets == {"1": D("0.00")}
        assert base.goods_total == D("50.00")

    @pytest.mark.parametrize("lines,discount,non_cash", [
        ([], D("0"), D("0")),
        ([ar.Line("1", 0, D("1.00"))], D("0"), D("0")),
        ([ar.Line("1", 1, D("-1.00"))], D("0"), D("0")),
        ([ar.Line("1", 1, D("1.00"), D("2.00"))], D("0"), D("0")),
        ([ar.Line("1", 1, D("1.00"))], D("0.60"), D("0.50")),
        ([ar.Line("1", 1, D("1.00"))], D("-0.01"), D("0")),
    ])
    def test_invalid(self, lines, discount, non_cash):
        with pytest.raises(ar.ArithmeticError_):
            ar.order_base(lines, discount=discount, non_cash_amount=non_cash)


class TestRules:
    def test_most_specific_wins_and_scoped_rules_never_fall_back(self):
        r = rules(default={1: (P, "0.10"), 2: (P, "0.05"), 3: (P, "0.02")},
                  categories={"Tech": {1: (P, "0.06"), 2: (P, "0.03")}},
                  skus={"S1": {1: ("fixed", "2.50")}})
        tech = ar.Line("a", 1, D("10"), category="Tech")
        s1 = ar.Line("b", 1, D("10"), sku="S1", category="Tech")
        other = ar.Line("c", 1, D("10"), category="Home")
        assert ar.resolve_rule(tech, 1, r).value == D("0.06")
        assert ar.resolve_rule(tech, 3, r) is None          # category rule without level 3 pays 0
        assert ar.resolve_rule(s1, 1, r).kind == "fixed"
        assert ar.resolve_rule(s1, 2, r) is None            # sku rule without level 2 pays 0
        assert ar.resolve_rule(other, 3, r).value == D("0.02")
        gold = ar.RuleValue(P, D("0.15"), "grade:gold")
        assert ar.resolve_rule(other, 1, r, gold).value == D("0.15")   # grade overrides the default
        assert ar.resolve_rule(tech, 1, r, gold).value == D("0.06")    # a category rule still wins

    def test_record_amount_per_level_worked(self):
        r = rules(default={1: (P, "0.1000"), 2: (P, "0.0500"), 3: (P, "0.0200")},
                  categories={"Technology": {1: (P, "0.0600"), 2: (P, "0.0300"), 3: (P, "0.0100")}},
                  skus={"GIFT": {1: ("fixed", "1.25"), 2: ("fixed", "0.50")}})
        lines = [ar.Line("1", 3, D("6.67")), ar.Line("2", 1, D("199.99"), category="Technology"),
                 ar.Line("3", 2, D("5.00"), sku="GIFT")]
        base = ar.order_base(lines)
        amounts = [ar.record_amount(ar.level_line_values(lines, base, lvl, r), "down") for lvl in (1, 2, 3)]
        # L1: 20.01 x 0.10 + 199.99 x 0.06 + 2 x 1.25 = 2.001 + 11.9994 + 2.50 = 16.5004 -> 16.50
        # L2: 20.01 x 0.05 + 199.99 x 0.03 + 2 x 0.50 = 1.0005 + 5.9997 + 1.00 = 8.0002 -> 8.00
        # L3: 20.01 x 0.02 + 199.99 x 0.01 + 0 (sku rule has no level 3) = 0.4002 + 1.9999 = 2.4001 -> 2.40
        assert amounts == [D("16.50"), D("8.00"), D("2.40")]

    def test_rounded_once_per_record_not_per_line(self):
        lines = [ar.Line(str(i), 1, D("0.19")) for i in range(10)]  # 10 lines x 0.019 = 0.19 exactly
        base = ar.order_base(lines)
        values = ar.level_line_values(lines, base, 1, rules(default={1: (P, "0.1000")}))
        assert ar.record_amount(values, "down") == D("0.19")        # per-line rounding would give 0.10


class TestRefundProration:
    def test_domain_example_three_units_one_at_a_time(self):
        """Domain rules 6: 5% on 3 x 6.67 (1.00 under down), refunded one unit at a time: 0.34, 0.33, 0.33."""
        lines = [ar.Line("1", 3, D("6.67"))]
        base = ar.order_base(lines)
        values = ar.level_line_values(lines, base, 1, rules(default={1: (P, "0.0500")}))
        amounts = [ar.record_amount(values, "down", ar.refund_factors_by_lines({"1": 3}, {"1": k})) for k in range(4)]
        assert amounts == [D("1.00"), D("0.66"), D("0.33"), D("0.00")]
        assert [amounts[i] - amounts[i + 1] for i in range(3)] == [D("0.34"), D("0.33"), D("0.33")]

    def test_by_amount(self):
        lines = [ar.Line("1", 1, D("100.00")), ar.Line("2", 1, D("50.00"))]
        base = ar.order_base(lines, discount=D("30.00"))       # goods 120.00, nets 80.00 / 40.00
        values = ar.level_line_values(lines, base, 1, rules(default={1: (P, "0.1000")}))
        f = ar.refund_factor_by_amount(base.goods_total, D("45.00"))   # keeps 75/120 = 0.625
        assert f == Fraction(5, 8)
        assert ar.record_amount(values, "down", {"1": f, "2": f}) == D("7.50")  # 12.00 x 0.625
        with pytest.raises(ar.ArithmeticError_):
            ar.refund_factor_by_amount(base.goods_total, D("120.01"))

    @settings(max_examples=200)
    @given(
        qtys=st.lists(st.integers(1, 9), min_size=1, max_size=5),
        prices=st.lists(st.integers(0, 100_000), min_size=5, max_size=5),
        rate=st.integers(0, 5000), rounding=st.sampled_from(ar.ROUNDING_MODES), data=st.data(),
    )
    def test_any_refund_sequence_nets_to_zero_and_never_goes_up(self, qtys, prices, rate, rounding, data):
        lines = [ar.Line(str(i), q, D(prices[i]) / 100) for i, q in enumerate(qtys)]
        base = ar.order_base(lines)
        values = ar.level_line_values(lines, base, 1, rules(default={1: (P, str(D(rate) / 10000))}))
        refunded = {str(i): 0 for i in range(len(qtys))}
        quantities = {str(i): q for i, q in enumerate(qtys)}
        prev = ar.record_amount(values, rounding)
        original, reversed_total = prev, D("0.00")
        units = [str(i) for i, q in enumerate(qtys) for _ in range(q)]
        order = data.draw(st.permutations(units))
        for line_id in order:
            refunded[line_id] += 1
            now = ar.record_amount(values, rounding, ar.refund_factors_by_lines(quantities, refunded))
            assert now <= prev
            reversed_total += prev - now
            prev = now
        assert prev == D("0.00")
        assert reversed_total == original


@settings(max_examples=200)
@given(
    prices=st.lists(st.tuples(st.integers(1, 20), st.integers(0, 1_000_000), st.integers(0, 100)), min_size=1, max_size=6),
    discount_pct=st.integers(0, 100), non_cash_pct=st.integers(0, 100),
    rates=st.tuples(st.integers(0, 2000), st.integers(0, 2000), st.integers(0, 1000)),
    rounding=st.sampled_from(ar.ROUNDING_MODES),
)
def test_commissions_never_exceed_the_pool(prices, discount_pct, non_cash_pct, rates, rounding):
    """Sum over levels <= base x sum of rates (+ at most 0.01 per level of rounding up under half_up)."""
    lines = [ar.Line(str(i), q, D(p) / 100, (D(q) * D(p) / 100 * D(dp) / 100).quantize(D("0.01"), "ROUND_DOWN"))
             for i, (q, p, dp) in enumerate(prices)]
    goods = sum(l.amount for l in lines)
    discount = (goods * discount_pct / 100).quantize(D("0.01"), "ROUND_DOWN")
    non_cash = ((goods - discount) * non_cash_pct / 100).quantize(D("0.01"), "ROUND_DOWN")
    base = ar.order_base(lines, discount=discount, non_cash_amount=non_cash)
    assert sum(base.line_nets.values()) == goods - discount - non_cash
    r = rules(default={i + 1: (P, str(D(x) / 10000)) for i, x in enumerate(rates)})
    total = sum(ar.record_amount(ar.level_line_values(lines, base, lvl, r), rounding) for lvl in (1, 2, 3))
    pool = base.base_order_currency * sum(D(x) / 10000 for x in rates)
    slack = D("0.03") if rounding == "half_up" else D("0")
    assert total <= pool + slack
    if rounding == "down":
        assert total <= pool


class TestFastPathsEqualTheFractionDefinitions:
    """quantize_money of a Decimal, allocate_minor in integers and record_amount's Decimal sum are
    shortcuts (the accrual's hot path): each must equal the plain Fraction definition exactly,
    string form included."""

    @staticmethod
    def quantize_ref(value, mode, places=2):
        frac = Fraction(value)
        sign = -1 if frac < 0 else 1
        scaled = abs(frac) * 10 ** places
        c = math.floor(scaled) if mode == "down" else math.floor(scaled + Fraction(1, 2))
        with localcontext() as ctx:
            ctx.prec = 60  # 10^24 with 4 places has more digits than the default 28
            return (D(sign * c) / 10 ** places).quantize(D(1).scaleb(-places))

    @staticmethod
    def allocate_ref(total, weights, places=2):
        total_c = int(total * 10 ** places)
        unit = D(1).scaleb(-places)
        if total_c == 0:
            return [unit * 0] * len(weights)
        wsum = sum(Fraction(w) for w in weights)
        exact = [Fraction(total_c) * Fraction(w) / wsum for w in weights]
        floors = [math.floor(x) for x in exact]
        for i in sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))[:total_c - sum(floors)]:
            floors[i] += 1
        return [(D(c) / 10 ** places).quantize(unit) for c in floors]

    @given(digits=st.integers(-10**24, 10**24), places=st.integers(0, 16), mode=st.sampled_from(ar.ROUNDING_MODES),
           currency_places=st.integers(0, 4))
    def test_quantize_decimal(self, digits, places, mode, currency_places):
        value = D(digits).scaleb(-places)
        got = ar.quantize_money(value, mode, currency_places)
        assert got == self.quantize_ref(value, mode, currency_places)
        assert str(got) == str(self.quantize_ref(value, mode, currency_places))  # never "-0.00"
        assert ar.quantize_money(Fraction(value), mode, currency_places) == got

    def test_quantize_worked_edges(self):
        assert str(ar.quantize_money(D("-0.004"), "half_up")) == "0.00"
        assert str(ar.quantize_money(D("-0.009"), "down")) == "0.00"
        assert str(ar.quantize_money(D("2.675"), "half_up")) == "2.68"
        assert str(ar.quantize_money(D("1E+3"), "down")) == "1000.00"

    @given(total=st.integers(0, 10**9), weights=st.lists(
        st.tuples(st.integers(0, 10**9), st.integers(0, 4)), min_size=1, max_size=12), places=st.integers(0, 4))
    def test_allocate(self, total, weights, places):
        ws = [D(v).scaleb(-p) for v, p in weights]
        if sum(ws) == 0:
            ws[0] = D("0.01")
        total_d = D(total).scaleb(-places)
        got = ar.allocate_minor(total_d, ws, places)
        ref = self.allocate_ref(total_d, ws, places)
        assert got == ref and [str(x) for x in got] == [str(x) for x in ref]
        assert sum(got) == total_d

    @given(values=st.lists(st.tuples(st.integers(0, 10**20), st.integers(0, 14)), max_size=8),
           mode=st.sampled_from(ar.ROUNDING_MODES))
    def test_record_amount_without_refunds(self, values, mode):
        lvs = [ar.LineValue(str(i), P, D("0.1"), "default", 1, D("1"), D(v).scaleb(-p)) for i, (v, p) in enumerate(values)]
        ref = self.quantize_ref(sum((Fraction(v.value) for v in lvs), Fraction(0)), mode)
        assert ar.record_amount(lvs, mode) == ref
        assert ar.record_amount(lvs, mode, {str(i): Fraction(1) for i in range(len(lvs))}) == ref


class TestMinorUnits:
    """Currencies with 0, 3 and 4 places (domain rules, preamble): JPY, KWD, CLF."""

    @pytest.mark.parametrize("value,places,mode,expected", [
        (D("123.4"), 0, "down", "123"), (D("123.5"), 0, "half_up", "124"), (D("-0.4"), 0, "down", "0"),
        (D("1.2345"), 3, "half_up", "1.235"), (D("1.2345"), 3, "down", "1.234"), (D("0.61725"), 3, "half_up", "0.617"),
        (Fraction(1, 3), 4, "half_up", "0.3333"), (Fraction(2, 3), 0, "half_up", "1"),
    ])
    def test_quantize_worked(self, value, places, mode, expected):
        assert str(ar.quantize_money(value, mode, places)) == expected

    def test_places_outside_iso_4217_refused(self):
        with pytest.raises(ar.ArithmeticError_):
            ar.quantize_money(D("1"), "down", 5)

    def test_allocation_in_yen_and_fils(self):
        assert ar.allocate_minor(D("10"), [D("1"), D("1"), D("1")], 0) == [D("4"), D("3"), D("3")]
        assert ar.allocate_minor(D("0.010"), [D("1"), D("1"), D("1")], 3) == [D("0.004"), D("0.003"), D("0.003")]
        with pytest.raises(ar.ArithmeticError_):
            ar.allocate_minor(D("10.5"), [D("1")], 0)  # half a yen is not an amount

    def test_a_foreign_order_into_yen(self):
        """19.99 USD at 151.37 into a JPY tenant: base 3026 (half-up), 302 / 151 / 60 at 10/5/2 (down)."""
        lines = [ar.Line("1", 1, D("19.99"))]
        base = ar.order_base(lines, exchange_rate=D("151.37"), places=2, base_places=0)
        assert str(base.commission_base) == "3026"
        r = rules(default={1: (P, "0.1000"), 2: (P, "0.0500"), 3: (P, "0.0200")})
        got = [ar.record_amount(ar.level_line_values(lines, base, lvl, r, exchange_rate=D("151.37")), "down", places=0)
               for lvl in (1, 2, 3)]
        assert [str(x) for x in got] == ["302", "151", "60"]

    def test_refunded_goods_by_units(self):
        # 3 units of 10.00: 3.33, then 6.67 (3.34 more), then 10.00 (3.33 more)
        goods = {"1": D("10.00")}
        assert [ar.refunded_goods(D("10.00"), goods, {"1": 3}, {"1": k}) for k in (1, 2, 3)] == [
            D("3.33"), D("6.67"), D("10.00")]
        # a coupon spread over two lines: goods 90.00 + 27.00 = 117.00; one of 2 units of the first: 45.00
        two = {"A": D("90.00"), "B": D("27.00")}
        assert ar.refunded_goods(D("117.00"), two, {"A": 2, "B": 1}, {"A": 1}) == D("45.00")
        assert ar.refunded_goods(D("117.00"), two, {"A": 2, "B": 1}, {"A": 2, "B": 1}) == D("117.00")
        assert ar.refunded_goods(D("0"), {"1": D("0")}, {"1": 1}, {"1": 1}, 0) == D("0")

    @settings(max_examples=150)
    @given(
        qtys=st.lists(st.integers(1, 6), min_size=1, max_size=4),
        prices=st.lists(st.integers(0, 10**7), min_size=4, max_size=4),
        rate=st.integers(0, 5000), rounding=st.sampled_from(ar.ROUNDING_MODES), places=st.integers(0, 4),
        data=st.data(),
    )
    def test_any_refund_sequence_nets_to_zero_in_any_currency(self, qtys, prices, rate, rounding, places, data):
        """For 0..4 places: every level reverses to exactly 0 when every unit is refunded, never
        goes up, and the refunds' goods add up to the goods total."""
        lines = [ar.Line(str(i), q, D(prices[i]).scaleb(-places)) for i, q in enumerate(qtys)]
        base = ar.order_base(lines, places=places)
        values = ar.level_line_values(lines, base, 1, rules(default={1: (P, str(D(rate) / 10000))}))
        quantities = {str(i): q for i, q in enumerate(qtys)}
        refunded = {k: 0 for k in quantities}
        goods = {l.line_id: l.amount for l in lines}
        prev = original = ar.record_amount(values, rounding, places=places)
        reversed_total, refunded_goods = 0, ar.quantize_money(D(0), "down", places)
        for line_id in data.draw(st.permutations([k for k, q in quantities.items() for _ in range(q)])):
            before = ar.refunded_goods(base.goods_total, goods, quantities, refunded, places)
            refunded[line_id] += 1
            after = ar.refunded_goods(base.goods_total, goods, quantities, refunded, places)
            assert after >= before and ar.to_minor(after - before, places) >= 0
            refunded_goods += after - before
            now = ar.record_amount(values, rounding, ar.refund_factors_by_lines(quantities, refunded), places)
            assert now <= prev and ar.to_minor(now, places) == now.scaleb(places)
            reversed_total += prev - now
            prev = now
        assert prev == 0 and reversed_total == original
        assert refunded_goods == base.goods_total
