"""Spreadsheet-safe exports (domain rules section 9: exports neutralise cells starting with `=`,
`+`, `-`, `@`, tab or carriage return). A spreadsheet opening a CSV runs such a cell as a formula
(`=HYPERLINK(...)`, `@SUM(...)`, `-cmd|...`): a distributor's name or a withdrawal account chosen by
a user must never become one in a finance team's payout file (OWASP "CSV injection").

A neutralised cell gets a leading apostrophe, which spreadsheets show as text and do not evaluate.
Plain numbers (`-25.00`, a negative balance) are left as they are: they are data, not formulas.
django-import-export's own escaping only drops a leading "="; every export goes through here.
"""
from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def safe_cell(value):
    """`value`, with a leading apostrophe when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row) -> list:
    """A CSV row with every cell through `safe_cell`."""
    return [safe_cell(v) for v in row]


def safe_dataset(dataset):
    """A tablib Dataset with every cell through `safe_cell` (headers included), in place; returns it."""
    if dataset.headers:
        dataset.headers = safe_row(dataset.headers)
    rows = [tuple(safe_row(r)) for r in dataset]
    headers = dataset.headers
    dataset.wipe()
    dataset.headers = headers
    for r in rows:
        dataset.append(r)
    return dataset


class SafeExportResource:
    """Mixin for django-import-export resources: exports are neutralised (`safe_dataset`)."""

    def export(self, *args, **kwargs):
        return safe_dataset(super().export(*args, **kwargs))
