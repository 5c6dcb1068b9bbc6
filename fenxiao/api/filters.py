"""Filters shared by the API's lists: times in RFC 3339 with an offset, and `updated_after` for
incremental sync.

Incremental sync (the partner lists /distributors/, /orders/, /commissions/): walk the list once
(every page, following `next`), noting the time you started; later, walk it again with
`?updated_after=<that time minus a margin>` to get only the rows created or changed since (a row's
`updated_at` is set by every service that changes what the list shows of it). A margin of a few
minutes covers writes whose transaction began before your walk and committed after it; rows seen
twice are harmless when you upsert by id.
"""
from __future__ import annotations

import re

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime

from .fields import RFC3339

#: "+08:00" in a query string that was not percent-encoded arrives as " 08:00" ("+" means a space
#: in application/x-www-form-urlencoded): read it as the offset it was meant to be.
_UNENCODED_PLUS = re.compile(r"^(.*[0-9]) ([0-9]{2}:[0-9]{2})$")


class RFC3339FormField(forms.Field):
    """An RFC 3339 date-time with an offset ("2026-11-30T10:00:00+08:00", "...Z"); a naive time, a
    date alone, a basic-format or impossible time is refused with code `invalid`."""

    default_error_messages = {
        "invalid": "Give an RFC 3339 time with an offset, e.g. 2026-11-30T10:00:00+08:00 or 2026-11-30T02:00:00Z "
                   "(percent-encode + as %%2B in a query string).",
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip()
        value = _UNENCODED_PLUS.sub(r"\1+\2", value)
        if not RFC3339.fullmatch(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            parsed = parse_datetime(value)
        except ValueError:  # well formed but impossible: Feb 30, hour 25
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class RFC3339Filter(django_filters.Filter):
    """A filter on a time given in RFC 3339 with an offset (400 `invalid` otherwise)."""

    field_class = RFC3339FormField


def UpdatedAfterFilter() -> RFC3339Filter:  # noqa: N802 (filter factory)
    """`?updated_after=<RFC 3339>`: rows whose `updated_at` is after that time (exclusive)."""
    return RFC3339Filter(field_name="updated_at", lookup_expr="gt",
                         help_text="only rows created or changed after this time (RFC 3339 with an offset), "
                                   "for incremental sync")
