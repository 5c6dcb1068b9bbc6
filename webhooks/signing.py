"""Standard Webhooks signing (https://www.standardwebhooks.com; the `standardwebhooks` library).

A secret is `whsec_` + base64 of 32 random bytes. Each attempt carries

    webhook-id         the delivery's public id (msg_...): the same on every retry and replay
    webhook-timestamp  the attempt's time, whole seconds since the epoch
    webhook-signature  "v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>'>"; during the overlap
                       after a rotation, the signatures with the new and the old secret, separated
                       by a space (a receiver accepts the message when one of them verifies)

and the body is the JSON of {"type", "timestamp", "data"} in UTF-8 (the same bytes on every
attempt). A receiver verifies with `standardwebhooks.Webhook(secret).verify(body, headers)`.
"""
from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timezone

from standardwebhooks import Webhook

from .models import SECRET_PREFIX


def new_secret() -> str:
    """A fresh signing secret: "whsec_" + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def body_of(*, type: str, created_at: datetime, payload: dict) -> bytes:
    """The JSON body of an event (compact, UTF-8): {"type", "timestamp" (when the event happened,
    RFC 3339 in UTC), "data" (the event's payload)}."""
    return json.dumps({"type": type, "timestamp": created_at.isoformat(), "data": payload},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode("utf-8")


def headers_for(*, msg_id: str, at: datetime, body: bytes, secrets_: list[str]) -> dict[str, str]:
    """The headers of one attempt at `at`, signed with each of `secrets_` (the current one first)."""
    at = at.astimezone(timezone.utc)   # the library reads the time as UTC
    text = body.decode("utf-8")
    signatures = " ".join(Webhook(s).sign(msg_id, at, text) for s in secrets_)
    return {
        "content-type": "application/json",
        "user-agent": "fenxiao-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }
