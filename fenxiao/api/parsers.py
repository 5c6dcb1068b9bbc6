"""JSON parsing where every JSON number becomes an exact Decimal (never a float), NaN refused, and
the body is read as UTF-8 only (RFC 8259 section 8.1: JSON exchanged between systems is UTF-8).

- `Content-Type: application/json` with no charset, or `charset=utf-8` / `utf8` (any case): read
  as UTF-8.
- Any other declared charset (`charset=latin-1`, `gbk`, an unknown name): 415 in the error shape,
  code `unsupported_media_type`, nothing read or written. The body is never re-decoded as the
  declared charset nor guessed: a UTF-8 body sent as latin-1 used to be stored as mojibake.
- A body that is not valid UTF-8: 400, code `parse_error`.
"""
import codecs
import json
from decimal import Decimal

from django.utils.http import parse_header_parameters
from django.utils.translation import gettext
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser

UTF8_NAMES = frozenset({"utf-8", "utf8"})


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number")


def declared_charset(media_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type value, or None when it has none."""
    if not media_type:
        return None
    return parse_header_parameters(media_type)[1].get("charset")


class DecimalJSONParser(JSONParser):
    """DRF's JSON parser with exact decimals and UTF-8 only (see the module docstring)."""

    def parse(self, stream, media_type=None, parser_context=None):
        charset = declared_charset(media_type)
        if charset is not None and charset.strip().lower() not in UTF8_NAMES:
            raise UnsupportedMediaType(
                media_type, detail=gettext("JSON is read as UTF-8 only; charset %(charset)r is not accepted. "
                                           "Send the body in UTF-8 with no charset or charset=utf-8.") % {"charset": charset})
        try:
            decoded = codecs.getreader("utf-8")(stream)
            return json.load(decoded, parse_float=Decimal, parse_constant=_refuse_constant)
        except UnicodeDecodeError as exc:
            raise ParseError(gettext("JSON parse error - the body is not valid UTF-8 (%(reason)s at byte %(byte)s).") % {
                "reason": exc.reason, "byte": exc.start}) from None
        except ValueError as exc:
            raise ParseError(gettext("JSON parse error - %(error)s") % {"error": exc}) from None
        except RecursionError:
            raise ParseError(gettext("JSON parse error - nested too deeply")) from None
