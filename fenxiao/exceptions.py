"""Errors raised by services; each renders in the contract's error shape (drf-standardized-errors).

Services raise these instead of returning error values, so the API, admin and commands share one
meaning: `invalid(...)` is a 400 validation error on one attribute, `Conflict` a 409, `NotFound` a
404 (also for another tenant's object), `InvalidState` a 409 on a state-machine step.
"""
from django.utils.translation import gettext, gettext_lazy as _, gettext_noop
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class InvalidState(Conflict):
    default_detail = _("This action is not allowed in the resource's current state.")
    default_code = "invalid_state"


class NotFound(exceptions.NotFound):
    pass


def invalid(attr: str | None, detail: str, code: str = "invalid") -> exceptions.ValidationError:
    """A 400 validation error about `attr` (None: the whole body), with a machine-readable `code`."""
    if attr is None:
        return exceptions.ValidationError([ErrorDetail(detail, code=code)])
    return exceptions.ValidationError({attr: [ErrorDetail(detail, code=code)]})


def translated(text) -> str:
    """`text` in the active language: a commissions.arithmetic.Text (the messages of the pure
    modules, which cannot import Django) from its template and values; anything else as it is."""
    template = getattr(text, "template", None)
    if template is None:
        return str(text)
    return gettext(template) % text.params if text.params else gettext(template)


#: The states of distributors and withdrawals after their indefinite article, for messages about a
#: state ("A paid withdrawal cannot be approved."), each translated whole ("已支付的").
STATE_PHRASES = {
    "pending": gettext_noop("a pending"), "active": gettext_noop("an active"), "frozen": gettext_noop("a frozen"),
    "disabled": gettext_noop("a disabled"), "requested": gettext_noop("a requested"),
    "approved": gettext_noop("an approved"), "paid": gettext_noop("a paid"), "rejected": gettext_noop("a rejected"),
}


def with_article(word: str) -> str:
    """`word` after its indefinite article, in the active language, for messages about a state:
    "an approved", "a paid", "an active", "a frozen" (zh-hans: "已批准的", ...; STATE_PHRASES). A
    word not in the table gets its English article (every status word here starts with the letter
    it sounds like)."""
    if word in STATE_PHRASES:
        return gettext(STATE_PHRASES[word])
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
