"""Pagination of the API's lists.

PageNumberPagination: `count`, `next`, `previous`, `results`; ?page=N&page_size=M (max 200). For
small lists people page through (plans, grades, contests, ...).

CursorPagination: `next`, `previous`, `results` (no `count`); ?page_size=M (max 200) and the
`cursor` of a `next` / `previous` link. For the lists partners sync from (distributors, orders,
commission records) and the ledgers. The order is the rows' integer primary key (`id`, or `-id`
for newest first), which never changes and is unique, so a walk from the first page to the last
answers every row that existed when it started exactly once, whatever is inserted or updated
meanwhile: an update never moves a row, a new row takes a key beyond every existing one (with
`-id`, before the first page: it is not in the walk; with `id`, after the last one). An offset
page ("?page=3" of a newest-first list) shifted by every row inserted before it, so a walk
answered some rows twice and, when rows went away, skipped others.

A cursor is opaque: its position (an internal id) is encrypted and authenticated with a key
derived from SECRET_KEY and bound to the list's path, so it reveals no id (and so no other
tenant's volume) and a cursor that was changed, cut, made up or taken from another list answers
400 `invalid_cursor` (attr `cursor`) in the contract's error shape, never 404 or 500.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import cached_property
from urllib import parse

from django.core.paginator import Paginator
from django.utils.crypto import salted_hmac
from rest_framework import pagination
from rest_framework.pagination import Cursor
from rest_framework.utils.urls import replace_query_param

from fenxiao.exceptions import invalid

MAX_PAGE_SIZE = 200


class PageNumberPagination(pagination.PageNumberPagination):
    """`count`, `next`, `previous`, `results`; ?page=N&page_size=M (max 200)."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_known_count(self, queryset, count: int, request, view=None):
        """paginate_queryset for a list whose size is already known (no COUNT query)."""

        class Counted(Paginator):
            @cached_property
            def count(self):
                return count

        self.django_paginator_class = Counted
        return self.paginate_queryset(queryset, request, view)


_NONCE = 8
_TAG = 12


def _keys() -> tuple[bytes, bytes]:
    """(encryption key, authentication key), derived from SECRET_KEY (rotating it ends cursors)."""
    return (salted_hmac("fenxiao.cursor.enc", "key", algorithm="sha256").digest(),
            salted_hmac("fenxiao.cursor.mac", "key", algorithm="sha256").digest())


def _keystream(key: bytes, nonce: bytes, n: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < n:
        out += hmac.new(key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
        counter += 1
    return out[:n]


def seal(plain: bytes, context: str) -> str:
    """`plain` encrypted (HMAC-SHA256 counter-mode keystream, random nonce) and authenticated
    (HMAC-SHA256 over the context, nonce and ciphertext, encrypt-then-MAC), as URL-safe base64."""
    enc, mac = _keys()
    nonce = os.urandom(_NONCE)
    body = bytes(a ^ b for a, b in zip(plain, _keystream(enc, nonce, len(plain))))
    tag = hmac.new(mac, context.encode() + b"\0" + nonce + body, hashlib.sha256).digest()[:_TAG]
    return base64.urlsafe_b64encode(nonce + body + tag).decode("ascii").rstrip("=")


def unseal(token: str, context: str) -> bytes:
    """The bytes `seal(plain, context)` sealed; ValueError for anything else."""
    enc, mac = _keys()
    if not token or len(token) > 400 or not token.isascii():
        raise ValueError("malformed")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    if len(raw) < _NONCE + _TAG:
        raise ValueError("short")
    nonce, body, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    expected = hmac.new(mac, context.encode() + b"\0" + nonce + body, hashlib.sha256).digest()[:_TAG]
    if not hmac.compare_digest(tag, expected):
        raise ValueError("forged")
    return bytes(a ^ b for a, b in zip(body, _keystream(enc, nonce, len(body))))


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination on the primary key (see the module docstring): `next`, `previous`,
    `results`; ?page_size=M (1..200, default 50) and ?cursor=<from a link>. The order is the
    view's `cursor_ordering` ("id" or "-id", default "-id": newest first)."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    invalid_cursor_message = "This cursor is not valid here: follow the next or previous link of this list."

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", self.ordering)
        assert ordering in ("id", "-id"), "cursor pagination here orders by the immutable primary key only"
        return (ordering,)

    def _context(self) -> str:
        return self.request.path

    def encode_cursor(self, cursor: Cursor) -> str:
        tokens = {}
        if cursor.offset:
            tokens["o"] = str(cursor.offset)
        if cursor.reverse:
            tokens["r"] = "1"
        if cursor.position is not None:
            tokens["p"] = cursor.position
        sealed = seal(parse.urlencode(tokens).encode("ascii"), self._context())
        return replace_query_param(self.base_url, self.cursor_query_param, sealed)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            tokens = parse.parse_qs(unseal(encoded, request.path).decode("ascii"), keep_blank_values=True,
                                    strict_parsing=False)
            offset = int(tokens.get("o", ["0"])[0])
            if not 0 <= offset <= self.offset_cutoff:
                raise ValueError("offset")
            reverse = bool(int(tokens.get("r", ["0"])[0]))
            position = tokens.get("p", [None])[0]
            if position is not None and not position.isdigit():
                raise ValueError("position")
        except (TypeError, ValueError, UnicodeDecodeError):
            raise invalid("cursor", self.invalid_cursor_message, "invalid_cursor") from None
        return Cursor(offset=offset, reverse=reverse, position=position)
