"""Make the bundled Superstore sample (fenxiao/sample_data/superstore/) from the full data.

    python bench/make_superstore_sample.py [--src ../shared/data/superstore]
                                           [--dst fenxiao/sample_data/superstore] [--every 32]

Deterministic and consistent: every distributor is kept (the whole tree); the buyers are every
`--every`-th Customer ID of orders.csv in sorted order (starting with the first); the sample keeps
all their orders (every row), the customers.csv rows of the buyers that are not distributors, and
the returns.csv rows of the kept orders. Rows are copied byte for byte, so the files keep the
originals' encoding, quoting and CRLF line ends. Writes a README.md with the counts.
Standard library only (no Django needed).
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SRC = REPO.parent / "shared" / "data" / "superstore"
DEFAULT_DST = REPO / "fenxiao" / "sample_data" / "superstore"


def read_lines(path: Path) -> tuple[bytes, list[tuple[bytes, list[str]]]]:
    """(header line, [(raw line, parsed fields)]) of a CSV whose records are one physical line each."""
    lines = path.read_bytes().splitlines(keepends=True)
    parsed = [next(csv.reader([line.decode("latin-1")])) for line in lines]  # latin-1: byte-preserving
    whole = list(csv.reader(path.read_bytes().decode("latin-1").splitlines()))
    if whole != parsed:
        raise SystemExit(f"{path}: a record spans several lines; this script copies whole lines")
    return lines[0], list(zip(lines[1:], parsed[1:], strict=True))


def make_sample(src: Path, dst: Path, every: int) -> dict[str, int]:
    """Write the four CSV files and README.md into `dst`; returns the counts."""
    d_head, distributors = read_lines(src / "distributors.csv")
    c_head, customers = read_lines(src / "customers.csv")
    o_head, orders = read_lines(src / "orders.csv")
    r_head, returns = read_lines(src / "returns.csv")
    col = {name: i for i, name in enumerate(next(csv.reader([o_head.decode("latin-1")])))}
    buyers = sorted({fields[col["Customer ID"]] for _, fields in orders})[::every]
    chosen = set(buyers)
    kept_orders = [(raw, f) for raw, f in orders if f[col["Customer ID"]] in chosen]
    order_ids = {f[col["Order ID"]] for _, f in kept_orders}
    kept_customers = [(raw, f) for raw, f in customers if f[0] in chosen]
    kept_returns = [(raw, f) for raw, f in returns if f[0] in order_ids]
    dst.mkdir(parents=True, exist_ok=True)
    for name, head, rows in (
        ("distributors.csv", d_head, distributors), ("customers.csv", c_head, kept_customers),
        ("orders.csv", o_head, kept_orders), ("returns.csv", r_head, kept_returns),
    ):
        (dst / name).write_bytes(head + b"".join(raw for raw, _ in rows))
    distributor_ids = {f[0] for _, f in distributors}
    counts = {
        "distributors": len(distributors),
        "customers": len(kept_customers),
        "buyers": len(buyers),
        "distributor_buyers": len(chosen & distributor_ids),
        "orders": len(order_ids),
        "rows": len(kept_orders),
        "returned_orders": len({f[0] for _, f in kept_returns}),
        "return_rows": len(kept_returns),
    }
    (dst / "README.md").write_text(README.format(every=every, **counts), encoding="utf-8")
    return counts


README = """\
# Global Superstore sample (bundled)

A small, consistent subset of the full data in `../shared/data/superstore`, bundled so that a clone
without `../shared` can run the demo (`python manage.py load_demo`) and the tests. The orders and
returns are rows of the public "Global Superstore" retail sample data set (Asia-Pacific, USD,
2015-2018); the distributors and customers are a generated referral network laid over its buyers.

- `distributors.csv`: all {distributors} distributors (the whole referral tree).
- `orders.csv`: every row ({rows} rows, {orders} orders) of {buyers} buyers, one in every {every} Customer IDs
  of the full orders.csv in sorted order ({distributor_buyers} of these buyers are distributors).
- `customers.csv`: the {customers} of those buyers that are not distributors, with their referrer.
- `returns.csv`: the {return_rows} rows of the full returns.csv that refer to kept orders ({returned_orders} orders;
  the file lists an order once per returned row).

How a row becomes an order (the full data's README has the details; `orders/superstore.py` implements
it): one order per `Order ID`, buyer = `Customer ID`; one line per row with `unit_price` =
`Sales / (Quantity x (1 - Discount))` and line discount = `Quantity x unit_price x Discount` rounded
half-up to 0.01; paid at `Order Date` 10:00 and completed at `Ship Date` 18:00 Asia/Shanghai; returned
orders are refunded in full two days after completion. The tenant: USD, 3 levels, rounding down,
self-purchase commission off, plan 10% / 5% / 2% with category `Technology` at 6% / 3% / 1%.

Rows are byte-for-byte copies of the originals (same encoding, quoting and CRLF line ends).
Produced deterministically by `python bench/make_superstore_sample.py` (options `--src`, `--dst`,
`--every`); run it again to regenerate. Import it with
`python manage.py import_superstore fenxiao/sample_data/superstore`.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--dst", type=Path, default=DEFAULT_DST)
    parser.add_argument("--every", type=int, default=32, help="keep every Nth buyer (default 32)")
    args = parser.parse_args()
    counts = make_sample(args.src, args.dst, args.every)
    print(f"wrote {args.dst}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
