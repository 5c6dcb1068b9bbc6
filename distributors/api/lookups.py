"""Lookups of the current tenant's grades and distributors by the codes a request body names, for
any staff view that takes such lists (contests, announcements, materials, ...). An unknown code,
another tenant's included, is a 400 `unknown_grade` / `unknown_distributor` at `<attr>.<i>`
(spec/api.md, the error shape); nothing is written."""
from __future__ import annotations

from django.utils.translation import gettext

from fenxiao.exceptions import invalid

from ..models import Distributor, Grade


def _in_order(model, key: str, values: list[str], attr: str, refusal, code: str) -> list:
    """The tenant's `model` rows whose `key` is in `values`, in the given order, duplicates once
    (one query); the first value the tenant has not raises invalid(`attr.<i>`, refusal(value), code)."""
    found = {getattr(row, key): row for row in model.objects.filter(**{f"{key}__in": values})}
    for i, value in enumerate(values):
        if value not in found:
            raise invalid(f"{attr}.{i}", refusal(value), code)
    return [found[v] for v in dict.fromkeys(values)]


def grades_of(codes: list[str], attr: str = "grades") -> list[Grade]:
    """The tenant's grades with these codes (list of str), in the given order, duplicates once.

    Raises ValidationError (400 `unknown_grade` at `attr.<i>`) for the first code the tenant has not."""
    return _in_order(Grade, "code", codes, attr,
                     lambda code: gettext("No grade with the code %(code)r.") % {"code": code}, "unknown_grade")


def distributors_of(external_ids: list[str], attr: str = "distributors") -> list[Distributor]:
    """The tenant's distributors with these external ids (list of str), in the given order,
    duplicates once.

    Raises ValidationError (400 `unknown_distributor` at `attr.<i>`) for the first id the tenant has not."""
    return _in_order(Distributor, "external_id", external_ids, attr,
                     lambda ext: gettext("No distributor with the external_id %(id)r.") % {"id": ext},
                     "unknown_distributor")
