"""The services' refusals as a distributor reads them on a page (CONVENTIONS, interfaces for people).

The services raise fenxiao.exceptions (a DRF ValidationError on an attribute, a 409, a 404) with
a message, translated by the service itself in most cases; the API shows it as `detail`. The few
a service writes without gettext are named here for the catalogue (gettext_noop) and `translated`
looks each one up, or its template when it carries a value (a currency's places): the same
pattern as the console's (incentives.console). A message the catalogue does not know is shown as
the service wrote it.
"""
from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

#: Messages the portal's services raise verbatim, without gettext (relations.services).
SERVICE_MESSAGES = [
    gettext_noop("The ticket is closed."),
]


def _places(found) -> str:
    from fenxiao.money import places_message

    return places_message(found["currency"], int(found.groupdict().get("places") or 0))


#: Messages with a value: (the English message's pattern, its catalogue template with the
#: pattern's named groups, or a function of the match writing it in the active language).
SERVICE_PATTERNS = [
    (re.compile(r"(?P<currency>[A-Z]{3}) amounts have at most (?P<places>\d+) decimal places?\."), _places),
    (re.compile(r"(?P<currency>[A-Z]{3}) amounts have no decimal places\."), _places),
]


def translated(message: str) -> str:
    """A service's message in the active language: the catalogue's translation of the message
    itself, or of its template (SERVICE_PATTERNS); else the message as it is (messages the services
    translate themselves arrive translated already)."""
    message = str(message)
    for pattern, template in SERVICE_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return template(found) if callable(template) else gettext(template) % found.groupdict()
    return gettext(message)


def refusal(exc) -> list[tuple[str | None, str]]:
    """[(attr or None, message for people)] of a service's refusal (a DRF APIException: 400 with
    {attr: [messages]} or [messages], 404/409 with one message). An attr "lines.0.price" is kept
    whole; the caller maps it to a field."""
    detail = exc.detail
    out: list[tuple[str | None, str]] = []
    if isinstance(detail, dict):
        for attr, messages in detail.items():
            for m in messages if isinstance(messages, list) else [messages]:
                out.append((None if attr == "non_field_errors" else attr, translated(m)))
    elif isinstance(detail, list):
        out += [(None, translated(m)) for m in detail]
    else:
        out.append((None, translated(detail)))
    return out
