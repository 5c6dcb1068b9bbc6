"""Global Superstore CSV files -> plain dataclasses (no ORM, no Django; exact Decimal/Fraction only).

The four files (`distributors.csv`, `customers.csv`, `orders.csv`, `returns.csv`) and the mapping of
a Superstore row onto an order are described in the data's README (shared/data/superstore/README.md,
and fenxiao/sample_data/superstore/README.md for the bundled subset):

- one order per `Order ID`, `buyer_external_id` = `Customer ID`, no explicit referrer;
- one line per row: `line_id` = `Row ID`, `sku` = `Product ID`, `category` = `Category`,
  `quantity` = `Quantity`, `unit_price` = `Sales / (Quantity x (1 - Discount))` (an exact cent),
  line `discount` = `Quantity x unit_price x Discount` rounded half-up to 0.01;
- `placed_at` = `paid_at` = `Order Date` 10:00 and `completed_at` = `Ship Date` 18:00 in the tenant
  timezone; dates are month/day/year; a few published rows have no Ship Date (never completed);
- orders listed in `returns.csv` (once per returned row) are refunded in full two days after completion.

`management/commands/import_superstore.py` turns these dataclasses into service calls.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
FILES = ("distributors.csv", "customers.csv", "orders.csv", "returns.csv")
PLACED_TIME = time(10, 0)      # Order Date 10:00 local
COMPLETED_TIME = time(18, 0)   # Ship Date 18:00 local
REFUND_AFTER_DAYS = 2          # returns are refunded two days after completion


class SuperstoreError(ValueError):
    """A row the mapping cannot represent (bad number or date, unknown parent, inconsistent order)."""


@dataclass(frozen=True)
class DistributorRow:
    """A row of distributors.csv; `parent_external_id` is None for a root."""

    external_id: str
    name: str
    parent_external_id: str | None
    joined_on: date


@dataclass(frozen=True)
class CustomerRow:
    """A row of customers.csv: a buyer who is not a distributor, bound to `referrer_external_id`."""

    external_id: str
    referrer_external_id: str


@dataclass(frozen=True)
class LineRow:
    """One order line (USD, 0.01). `sales` and `discount_rate` are the raw Superstore figures."""

    row_id: str
    sku: str
    category: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    sales: Decimal
    discount_rate: Decimal

    @property
    def amount(self) -> Decimal:
        """quantity x unit_price - discount (exact, 2 places)."""
        return self.quantity * self.unit_price - self.discount


@dataclass(frozen=True)
class OrderRow:
    """One Superstore order: its lines in file order; `ship_date` None when the file has none."""

    order_id: str
    customer_id: str
    order_date: date
    ship_date: date | None
    lines: tuple[LineRow, ...]

    @property
    def goods_total(self) -> Decimal:
        """Sum of the line amounts (the order has no order-level discount): what a full refund returns."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    def placed_at(self, tz: str | ZoneInfo) -> datetime:
        """`Order Date` 10:00 in `tz` (the tenant timezone): placed_at = paid_at."""
        return local_datetime(self.order_date, PLACED_TIME, tz)

    def completed_at(self, tz: str | ZoneInfo) -> datetime | None:
        """`Ship Date` 18:00 in `tz`, or None for an order the file never shipped."""
        return local_datetime(self.ship_date, COMPLETED_TIME, tz) if self.ship_date else None


def local_datetime(day: date, at: time, tz: str | ZoneInfo) -> datetime:
    """An aware datetime: `day` at `at` in timezone `tz` (an IANA name or ZoneInfo)."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return datetime.combine(day, at, tzinfo=zone)


def parse_us_date(value: str) -> date:
    """'8/27/2017' (month/day/year) -> date(2017, 8, 27). Raises SuperstoreError."""
    try:
        month, day, year = (int(part) for part in value.strip().split("/"))
        return date(year, month, day)
    except ValueError as exc:
        raise SuperstoreError(f"bad month/day/year date {value!r}") from exc


def unit_price(sales: Decimal, quantity: int, discount_rate: Decimal) -> Decimal:
    """Sales / (quantity x (1 - discount_rate)), which must be an exact cent (SuperstoreError otherwise)."""
    if quantity <= 0 or not Decimal(0) <= discount_rate < Decimal(1):
        raise SuperstoreError(f"quantity {quantity} / discount {discount_rate} cannot give a unit price")
    exact = Fraction(sales) / (quantity * (1 - Fraction(discount_rate)))
    cents = exact * 100
    if cents.denominator != 1:
        raise SuperstoreError(f"unit price {sales} / ({quantity} x (1 - {discount_rate})) is not an exact cent")
    return (Decimal(cents.numerator) / 100).quantize(CENT)


def line_discount(quantity: int, price: Decimal, discount_rate: Decimal) -> Decimal:
    """quantity x unit_price x discount_rate, rounded half-up to 0.01."""
    return (quantity * price * discount_rate).quantize(CENT, rounding=ROUND_HALF_UP)


def read_text(path: Path) -> str:
    """A data file's text. The published files are Latin-1 (in fact pure ASCII); the generated
    distributors.csv holds one UTF-8 name, so strict UTF-8 is tried first, then Latin-1 (which
    never fails). Either way the same bytes always give the same text."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_text(path), newline="")))


def read_distributors(directory: Path) -> list[DistributorRow]:
    """distributors.csv, ordered so every parent comes before its children (file order otherwise).

    `joined_on` is an ISO date. Raises SuperstoreError on a duplicate id, an unknown parent or a cycle.
    """
    rows = [
        DistributorRow(
            external_id=r["external_id"].strip(),
            name=r["name"].strip(),
            parent_external_id=r["parent_external_id"].strip() or None,
            joined_on=date.fromisoformat(r["joined_on"].strip()),
        )
        for r in _rows(Path(directory) / "distributors.csv")
    ]
    by_id = {d.external_id: d for d in rows}
    if len(by_id) != len(rows):
        raise SuperstoreError("distributors.csv lists a distributor twice")
    placed: set[str] = set()
    ordered: list[DistributorRow] = []
    pending = rows
    while pending:
        left = []
        for d in pending:
            if d.parent_external_id is None or d.parent_external_id in placed:
                ordered.append(d)
                placed.add(d.external_id)
            elif d.parent_external_id not in by_id:
                raise SuperstoreError(f"{d.external_id}: unknown parent {d.parent_external_id}")
            else:
                left.append(d)
        if len(left) == len(pending):
            raise SuperstoreError(f"distributors.csv has a cycle through {left[0].external_id}")
        pending = left
    return ordered


def read_customers(directory: Path) -> list[CustomerRow]:
    """customers.csv in file order."""
    return [
        CustomerRow(external_id=r["external_id"].strip(), referrer_external_id=r["referrer_external_id"].strip())
        for r in _rows(Path(directory) / "customers.csv")
    ]


def read_orders(directory: Path, limit: int | None = None) -> list[OrderRow]:
    """orders.csv grouped by Order ID, in chronological order (Order Date, then Order ID).

    `limit` keeps the first `limit` orders of that order. Lines keep file order. Raises
    SuperstoreError when the rows of one order disagree on customer or dates, or a number is bad.
    """
    grouped: dict[str, list[dict[str, str]]] = {}
    for r in _rows(Path(directory) / "orders.csv"):
        grouped.setdefault(r["Order ID"].strip(), []).append(r)
    orders = []
    for order_id, rows in grouped.items():
        heads = {(r["Customer ID"].strip(), r["Order Date"].strip(), r["Ship Date"].strip()) for r in rows}
        if len(heads) != 1:
            raise SuperstoreError(f"order {order_id}: rows disagree on customer or dates")
        customer_id, order_date, ship_date = heads.pop()
        lines = []
        for r in rows:
            try:
                sales, quantity, rate = Decimal(r["Sales"]), int(r["Quantity"]), Decimal(r["Discount"])
            except (ArithmeticError, ValueError) as exc:
                raise SuperstoreError(f"row {r['Row ID']}: bad Sales/Quantity/Discount") from exc
            price = unit_price(sales, quantity, rate)
            lines.append(LineRow(
                row_id=r["Row ID"].strip(), sku=r["Product ID"].strip(), category=r["Category"].strip(),
                quantity=quantity, unit_price=price, discount=line_discount(quantity, price, rate),
                sales=sales, discount_rate=rate,
            ))
        orders.append(OrderRow(
            order_id=order_id, customer_id=customer_id, order_date=parse_us_date(order_date),
            ship_date=parse_us_date(ship_date) if ship_date else None, lines=tuple(lines),
        ))
    orders.sort(key=lambda o: (o.order_date, o.order_id))
    return orders[:limit] if limit is not None else orders


def read_returns(directory: Path) -> list[str]:
    """Order IDs of returns.csv, each once (the file lists an order once per returned row), file order."""
    seen: dict[str, None] = {}
    for r in _rows(Path(directory) / "returns.csv"):
        if r.get("Returned", "Yes").strip().lower() in ("yes", "true", "1"):
            seen.setdefault(r["Order ID"].strip(), None)
    return list(seen)
