"""Answers of hot reads rendered from plain dicts by a serializer's own fields, without the
serializer's per-answer machinery.

`serializer_class(data).data` builds a serializer, deep-copies its declared fields (again for each
nested serializer), and reads every value through the field's source with its error handling;
on a leaderboard page of 50 rows that was a visible share of the request's CPU
(docs/performance.md). `renderer(serializer_class)` does that work once per process and answers a
function of one dict giving the same keys, in the same order, each value through the same field's
`to_representation` (nested serializers, lists of them and ListFields included), None as None: the
same JSON. The serializer class stays the answer's definition (the OpenAPI schema reads it) and
tests prove the two equal.
"""
from __future__ import annotations

from typing import Callable

from rest_framework import serializers

_RENDERERS: dict[type, Callable[[dict], dict]] = {}


def renderer(serializer_class: type[serializers.Serializer]) -> Callable[[dict], dict]:
    """A function of a dict giving what `serializer_class(that dict).data` gives, as a plain dict.
    The dict holds every readable field under its name (None for a null; other keys are ignored);
    a missing one raises KeyError. Built once per process; only for serializers whose fields read
    their own name (no `source`, no SerializerMethodField): others raise TypeError when built."""
    found = _RENDERERS.get(serializer_class)
    if found is None:
        found = _RENDERERS[serializer_class] = _build(serializer_class())
    return found


def _build(serializer: serializers.Serializer) -> Callable[[dict], dict]:
    steps: list[tuple[str, Callable]] = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        if field.source != name or isinstance(field, serializers.SerializerMethodField):
            raise TypeError(f"{type(serializer).__name__}.{name} does not read its own name: use the serializer")
        if isinstance(field, serializers.ListSerializer):
            steps.append((name, _many(_build(field.child))))
        elif isinstance(field, serializers.Serializer):
            steps.append((name, _build(field)))
        else:
            steps.append((name, _plain(field)))

    def render(data: dict) -> dict:
        out = {}
        for name, to_representation in steps:
            value = data[name]
            out[name] = None if value is None else to_representation(value)
        return out

    return render


def _plain(field: serializers.Field) -> Callable:
    """The field's to_representation, or where DRF's own is known to be `str(value)` (CharField),
    `int(value)` (IntegerField) or the value itself for a bool (BooleanField), that directly
    (the same result without DRF's per-call context managers and lookups)."""
    method = type(field).to_representation
    if method is serializers.CharField.to_representation:
        return str
    if method is serializers.IntegerField.to_representation:
        return int
    if method is serializers.BooleanField.to_representation:
        general = field.to_representation
        return lambda value: value if value is True or value is False else general(value)
    return field.to_representation


def _many(render: Callable[[dict], dict]) -> Callable[[list], list]:
    return lambda items: [render(item) for item in items]
