"""Errors raised by services; each renders in the contract's error shape (drf-standardized-errors).

Services raise these instead of returning error values, so the API, admin and commands share one
meaning: `invalid(...)` is a 400 validation error on one attribute, `Conflict` a 409, `NotFound` a
404 (also for another tenant's object), `InvalidState` a 409 on a state-machine step.
"""
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class InvalidState(Conflict):
    default_detail = "This action is not allowed in the resource's current state."
    default_code = "invalid_state"


class NotFound(exceptions.NotFound):
    pass


def invalid(attr: str | None, detail: str, code: str = "invalid") -> exceptions.ValidationError:
    """A 400 validation error about `attr` (None: the whole body), with a machine-readable `code`."""
    if attr is None:
        return exceptions.ValidationError([ErrorDetail(detail, code=code)])
    return exceptions.ValidationError({attr: [ErrorDetail(detail, code=code)]})


def with_article(word: str) -> str:
    """`word` after its indefinite article, for messages about a state: "an approved", "a paid",
    "an active", "a frozen" (every status word here starts with the letter it sounds like)."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
