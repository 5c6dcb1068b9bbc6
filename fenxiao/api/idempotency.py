"""`Idempotency-Key` on POSTs (api.md "Conventions: Idempotency"), one piece for every endpoint.

A POST without a natural key (a withdrawal request, a staff decision, a plan, a contest, ...) may
carry `Idempotency-Key: <1 to 255 printable ASCII characters>`. Decorate its view method with
`@idempotent`:

- the first request with a key runs as usual; if it answers 2xx, its status and JSON body are
  stored with the key (tenants.models.IdempotencyRecord, per tenant and caller: the partner, a
  staff user, a distributor) in the same transaction as its effect;
- the same key again with the same request (method, path and JSON body, compared as parsed JSON,
  so spacing and key order do not matter) answers the stored status and body, byte for byte, with
  the header `Idempotent-Replayed: true`, and does nothing else;
- the same key with another method, path or body: 409 `idempotency_key_reused`, nothing done;
- two requests with one key at the same time: the second waits for the first (the key's unique
  row) and then answers as a replay: one effect;
- a 4xx or 5xx answer is not stored: the key stays free, so a corrected request may reuse it;
- a key over 255 characters, empty, or with characters other than printable ASCII: 400
  (`validation_error`, attr `Idempotency-Key`).

Without the header nothing changes and nothing is queried. With it the request costs two more
queries (claim the key, store the answer); a replay costs two (the claim finds it, read it).
Answers are kept for 30 days (tenants.services.idempotency_purge, run by the settlement job).
Resources with a natural key (orders, refunds, distributors, customers by `external_id`) are
idempotent on it instead and do not use this.
"""
from __future__ import annotations

import functools
import hashlib
import json

from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer

from fenxiao.exceptions import Conflict, invalid

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

#: The header as an OpenAPI parameter, for `extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])`.
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    description="1 to 255 printable ASCII characters. The same key with the same request answers the first "
                "answer again (header Idempotent-Replayed: true) without doing anything twice; with another "
                "request, 409 idempotency_key_reused. Kept 30 days.")


class KeyReused(Conflict):
    default_detail = "This Idempotency-Key was used with another request (method, path or body)."
    default_code = "idempotency_key_reused"


def key_of(request) -> str | None:
    """The request's Idempotency-Key, None without one; 400 when it is not 1 to 255 printable
    ASCII characters."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise invalid(HEADER, f"The {HEADER} header is at most {MAX_KEY_LENGTH} characters.", "max_length")
    if not key.strip():
        raise invalid(HEADER, f"The {HEADER} header is empty; leave it out or give a key.", "blank")
    if not all(" " <= c <= "~" for c in key):
        raise invalid(HEADER, f"The {HEADER} header takes printable ASCII characters only.", "invalid")
    return key


def scope_of(user) -> str:
    """Whose keys these are: the tenant's partner systems share one space (a retry may come with
    another of the tenant's API keys), each staff user and each distributor has its own."""
    from distributors.models import Distributor
    from tenants.authentication import PartnerPrincipal

    if isinstance(user, PartnerPrincipal):
        return "partner"
    if isinstance(user, Distributor):
        return f"distributor:{user.pk}"
    return f"staff:{user.pk}"


def request_hash(request) -> str:
    """sha256 of the method, the path and the body as canonical JSON (sorted keys; a missing body
    counts as {})."""
    from fenxiao.api.base import body_or_empty

    body = json.dumps(body_or_empty(request), sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


class _Answered(Exception):
    """Leaves the transaction without writing anything, carrying the answer to give."""

    def __init__(self, response):
        self.response = response


def _replay(record, digest: str) -> HttpResponse:
    if record.request_hash != digest:
        raise KeyReused()
    if not record.status_code:  # cannot be seen committed; kept as a guard
        raise Conflict(gettext("A request with this Idempotency-Key is in progress."), code="idempotency_key_in_use")
    response = HttpResponse(record.response_body, status=record.status_code, content_type="application/json")
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(method):
    """Decorator for a view's `post(self, request, ...)`: honours Idempotency-Key as the module
    docstring says. The view runs inside one transaction with the key's row."""

    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        from tenants.services import idempotency_claim, idempotency_complete

        key = key_of(request)
        if key is None:
            return method(self, request, *args, **kwargs)
        scope, digest = scope_of(request.user), request_hash(request)
        try:
            with transaction.atomic():
                seen = idempotency_claim(tenant=request.tenant, scope=scope, key=key, request_hash=digest)
                if seen is not None:
                    raise _Answered(_replay(seen, digest))
                response = method(self, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    raise _Answered(response)  # not kept: the key stays free
                body = JSONRenderer().render(response.data).decode()
                idempotency_complete(tenant=request.tenant, scope=scope, key=key, status_code=response.status_code,
                                     response_body=body)
        except _Answered as answered:
            return answered.response
        return response

    wrapper.idempotent = True
    return extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])(wrapper)
