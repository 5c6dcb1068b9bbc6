"""Validators shared by models, forms and the API (no DRF here: models use them too)."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def external_id_ok(value: str) -> bool:
    """Is `value` (already stripped of edge spaces) acceptable as a partner's id?

    Refused: "/" (ids appear in URLs) and every character of the Unicode categories Other (C*:
    controls such as NUL, TAB and the C1 control U+0085, format characters such as zero-width
    spaces, bidirectional marks and the BOM, surrogates, private use, unassigned code points) and
    Separator (Z*: U+2028/U+2029, no-break and ideographic spaces, and the ASCII space too: no id
    in use needs one, and "A B" / "A  B" / "A\u00a0B" would look alike). `str.isprintable()` is
    exactly "no C* or Z* character except the ASCII space" (Python's own Unicode database), hence
    the explicit space test. One definition for every intake path: ExternalIdField, the batch
    fast path (orders.api.fastpath) and the CSV imports."""
    return value.isprintable() and " " not in value and "/" not in value


EXTERNAL_ID_MESSAGE = _("An external id may not contain '/', spaces, or Unicode control, format or separator characters.")


def validate_external_id(value) -> None:
    """Django/DRF validator for `external_id_ok` (code `invalid_external_id`)."""
    if isinstance(value, str) and not external_id_ok(value):
        raise ValidationError(EXTERNAL_ID_MESSAGE, code="invalid_external_id")


#: A sales channel code (domain rules section 9: `mini_program`, `h5`, `app`, `store`, ...): 1 to 32
#: lower-case ASCII letters, digits, "_" and "-", starting with a letter or digit.
CHANNEL_MAX_LENGTH = 32
_CHANNEL = None


def channel_ok(value) -> bool:
    """Is `value` a well-formed channel code (see CHANNEL_MAX_LENGTH)? One definition for the order
    intake (single, batch and its fast path, the CSV import) and the reports' `channel=` filter."""
    global _CHANNEL
    if _CHANNEL is None:
        import re

        _CHANNEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,%d}" % (CHANNEL_MAX_LENGTH - 1))
    return isinstance(value, str) and _CHANNEL.fullmatch(value) is not None


def channel_message():
    from django.utils.translation import gettext

    return gettext("A channel is a code of 1 to 32 lower-case letters, digits, '_' or '-', starting with a "
                   "letter or digit (e.g. mini_program, h5, app, store).")


def validate_channel(value) -> None:
    """Django/DRF validator for `channel_ok` (code `invalid_channel`); the empty string (no channel) passes."""
    if value and not channel_ok(value):
        raise ValidationError(channel_message(), code="invalid_channel")
