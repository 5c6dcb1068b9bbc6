"""SECRET_KEY policy: outside DEBUG the server refuses to start without a real key.

Django signs sessions, password-reset links and CSRF tokens with SECRET_KEY, and fenxiao signs
its JWTs (distributor and staff tokens) with it too: anyone who knows the key can mint a token
for any tenant. Earlier versions fell back to a key printed in this repository, so a server
started without SECRET_KEY accepted tokens anyone could sign. Now:

- outside DEBUG, a missing key, a key this project or its README ever published, or a key weaker
  than Django's own deployment bar (security.W009: 50 characters, 5 different ones, no
  "django-insecure-" prefix) raises ImproperlyConfigured at settings import;
- in DEBUG a missing key becomes a random key of this process (tokens die with the process).

Generate a key with `python -c "import secrets; print(secrets.token_urlsafe(50))"`; `make`
generates one per clone into `.local-secret-key` (git- and docker-ignored).
"""
from __future__ import annotations

import secrets

from django.core.exceptions import ImproperlyConfigured

# Keys this repository has published (settings defaults, README examples): never accepted.
PUBLISHED_KEYS = frozenset({
    "dev-insecure-fenxiao-secret-key-change-me-in-production",
    "change-me-to-a-long-random-string",
    "fenxiao-bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
})
MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5


def secret_key_problem(key: str) -> str | None:
    """Why `key` is not fit to sign anything outside DEBUG, or None when it is."""
    if not key:
        return "SECRET_KEY is not set"
    if key in PUBLISHED_KEYS:
        return "SECRET_KEY is a published example key"
    if key.startswith("django-insecure-"):
        return "SECRET_KEY is one of Django's generated development keys (django-insecure-...)"
    if len(key) < MIN_LENGTH or len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"SECRET_KEY is too weak (fewer than {MIN_LENGTH} characters or {MIN_UNIQUE_CHARACTERS} different ones)"
    return None


def resolve_secret_key(key: str, *, debug: bool) -> str:
    """The SECRET_KEY to use. Outside DEBUG `key` must pass `secret_key_problem`, else
    ImproperlyConfigured; in DEBUG an empty key is replaced by a random one for this process."""
    if debug:
        return key or secrets.token_urlsafe(50)
    problem = secret_key_problem(key)
    if problem:
        raise ImproperlyConfigured(
            f"{problem}; refusing to start with DEBUG off. Set SECRET_KEY in the environment to a "
            "random value of at least 50 characters, e.g. the output of "
            "`python -c \"import secrets; print(secrets.token_urlsafe(50))\"` "
            "(`make` keeps one per clone in .local-secret-key)."
        )
    return key
