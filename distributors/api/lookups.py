"""Lookups of the current tenant's grades and distributors by the codes a request body names, for
any staff view that takes such lists (contests, announcements, materials, ...). An unknown code,
another tenant's included, is a 400 `unknown_grade` / `unknown_distributor` at `<attr>.<i>`
(spec/api.md, the error shape); nothing is written."""
from __future__ import annotations

from django.utils.translation import gettext

from fenxiao.exceptions import invalid

from ..models import Distributor, Grade


def grades_of(codes: list[str], attr: str = "grades") -> list[Grade]:
    """The tenant's grades with these codes (list of str), in the given order, duplicates once.

    Raises ValidationError (400 `unknown_grade` at `attr.<i>`) for the first code the tenant has not."""
    found = {g.code: g for g in Grade.objects.filter(code__in=codes)}
    for i, code in enumerate(codes):
        if code not in found:
            raise invalid(f"{attr}.{i}", gettext("No grade with the code %(code)r.") % {"code": code}, "unknown_grade")
    return [found[c] for c in dict.fromkeys(codes)]


def distributors_of(external_ids: list[str], attr: str = "distributors") -> list[Distributor]:
    """The tenant's distributors with these external ids (list of str), in the given order,
    duplicates once.

    Raises ValidationError (400 `unknown_distributor` at `attr.<i>`) for the first id the tenant has not."""
    found = {d.external_id: d for d in Distributor.objects.filter(external_id__in=external_ids)}
    for i, ext in enumerate(external_ids):
        if ext not in found:
            raise invalid(f"{attr}.{i}", gettext("No distributor with the external_id %(id)r.") % {"id": ext}, "unknown_distributor")
    return [found[e] for e in dict.fromkeys(external_ids)]
