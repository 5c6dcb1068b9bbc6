"""The network side of webhooks: which URLs may receive them, and one POST with short timeouts.

Server-side request forgery: a webhook URL is chosen by the partner, and fenxiao's workers sit
inside a network (the database, Redis, cloud metadata at 169.254.169.254). So a URL must be http or
https, and every address its host resolves to must be a public one: loopback, private, link-local,
multicast, reserved, unspecified and other non-global addresses (also inside IPv4-mapped, 6to4 and
Teredo IPv6 addresses) are refused, unless settings.WEBHOOKS_ALLOW_PRIVATE (tests, the demo). This is
checked when the endpoint is created or changed, and again on every delivery, on the addresses the
delivery then connects to: the POST goes to the checked address itself (the host name is kept for
the Host header and TLS), so a DNS answer that changes between the check and the connection (DNS
rebinding) cannot redirect it. Redirects are never followed.

`resolve` is the one resolver (tests replace it).
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from .models import URL_MAX_LENGTH

EXCERPT_BYTES = 1024


class UrlRefused(ValueError):
    """A URL that may not receive webhooks: `code` for machines, the message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to for TCP, in the resolver's order, without repeats.
    Raises OSError (socket.gaierror) when it does not resolve."""
    seen: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP):
        address = sockaddr[0].split("%", 1)[0]   # an IPv6 zone ("fe80::1%eth0") is no part of the address
        if address not in seen:
            seen.append(address)
    return seen


def address_forbidden(address: str) -> bool:
    """True for an address webhooks may not be sent to: anything but a global unicast address
    (loopback, private, link-local, multicast, reserved, unspecified, shared, documentation ...),
    looking inside IPv4-mapped, 6to4 and Teredo IPv6 addresses."""
    ip = ipaddress.ip_address(address)
    inner = []
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped   # ::ffff:a.b.c.d is a.b.c.d
    if ip.version == 6:
        if ip.sixtofour is not None:
            inner.append(ip.sixtofour)
        if ip.teredo is not None:
            inner.extend(ip.teredo)
    for candidate in (ip, *inner):
        if (candidate.is_loopback or candidate.is_private or candidate.is_link_local or candidate.is_multicast
                or candidate.is_reserved or candidate.is_unspecified or not candidate.is_global):
            return True
    return False


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str   # as in the URL (IPv6 without brackets)
    port: int
    path: str   # path and query, "/" at least


def parse_url(url: str) -> Target:
    """The parts of a webhook URL, or UrlRefused: `url_too_long` (over 2000 characters),
    `invalid_url` (not a URL: no host, spaces or control characters, credentials, a bad port),
    `invalid_scheme` (anything but http and https)."""
    if not isinstance(url, str) or not url:
        raise UrlRefused("invalid_url", "Give the URL to deliver to.")
    if len(url) > URL_MAX_LENGTH:
        raise UrlRefused("url_too_long", f"A webhook URL has at most {URL_MAX_LENGTH} characters.")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise UrlRefused("invalid_url", "A webhook URL has no spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("invalid_url", "This is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefused("invalid_scheme", "Webhooks are delivered only to http:// or https:// URLs.")
    if not parts.hostname:
        raise UrlRefused("invalid_url", "The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("invalid_url", "Put no credentials in the URL: receivers check the signature instead.")
    if parts.fragment:
        raise UrlRefused("invalid_url", "A webhook URL has no #fragment.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=parts.hostname, port=port or (443 if scheme == "https" else 80), path=path)


def allowed_addresses(target: Target, *, allow_private: bool | None = None) -> list[str]:
    """The addresses of `target`'s host a delivery may connect to. UrlRefused `unresolvable_host`
    when it does not resolve, `forbidden_address` when any of its addresses is not public (one
    private address among public ones is refused too: such a name is made to reach inside) and
    private addresses are not allowed (`allow_private`, default settings.WEBHOOKS_ALLOW_PRIVATE)."""
    if allow_private is None:
        allow_private = settings.WEBHOOKS_ALLOW_PRIVATE
    try:
        addresses = [str(ipaddress.ip_address(target.host))]
    except ValueError:
        try:
            addresses = resolve(target.host, target.port)
        except (OSError, UnicodeError) as exc:
            raise UrlRefused("unresolvable_host", f"The host {target.host!r} does not resolve ({exc}).") from None
    if not addresses:
        raise UrlRefused("unresolvable_host", f"The host {target.host!r} does not resolve.")
    if not allow_private:
        for address in addresses:
            if address_forbidden(address):
                raise UrlRefused("forbidden_address",
                                 f"{target.host} resolves to {address}, which is not a public address: "
                                 "webhooks are not delivered to loopback, private, link-local or reserved addresses.")
    return addresses


def check_url(url: str, *, allow_private: bool | None = None) -> Target:
    """Everything a new or changed endpoint URL must pass (parse_url, then its host's addresses
    unless private ones are allowed, when a host that does not resolve yet is accepted too: it is
    checked again on each delivery). Raises UrlRefused."""
    if allow_private is None:
        allow_private = settings.WEBHOOKS_ALLOW_PRIVATE
    target = parse_url(url)
    if not allow_private:
        allowed_addresses(target, allow_private=False)
    return target


@dataclass(frozen=True)
class Answer:
    """What one POST came to: a status code and the first KB of the body, or an error."""

    status_code: int | None
    error: str
    duration_ms: int
    excerpt: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to `address`, speaking for `host` (Host header)."""

    def __init__(self, host, port, *, address: str, connect_timeout: float, read_timeout: float):
        super().__init__(host, port, timeout=read_timeout)
        self._address, self._connect_timeout, self._read_timeout = address, connect_timeout, read_timeout

    def _open(self):
        sock = socket.create_connection((self._address, self.port), timeout=self._connect_timeout)
        sock.settimeout(self._read_timeout)
        return sock

    def connect(self):
        self.sock = self._open()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """The same over TLS: the certificate is checked against `host` (SNI too), not the address."""

    default_port = 443

    def connect(self):
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._open(), server_hostname=self.host)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def post(url: str, body: bytes, headers: dict[str, str], *, connect_timeout: float | None = None,
         read_timeout: float | None = None, allow_private: bool | None = None) -> Answer:
    """POST `body` to `url` with `headers`: the URL and its host's addresses are checked first
    (parse_url, allowed_addresses), then the first address that accepts a connection within
    `connect_timeout` seconds gets the request; each read waits at most `read_timeout` seconds
    (defaults: settings.WEBHOOKS_CONNECT_TIMEOUT, WEBHOOKS_READ_TIMEOUT). Reads at most the first
    KB of the answer. Never raises for the network: every failure is an Answer with an `error`
    (refused URL or address, DNS, connection, timeout, TLS, a malformed answer)."""
    connect_timeout = settings.WEBHOOKS_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    read_timeout = settings.WEBHOOKS_READ_TIMEOUT if read_timeout is None else read_timeout
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = parse_url(url)
        addresses = allowed_addresses(target, allow_private=allow_private)
    except UrlRefused as exc:
        return Answer(None, f"{exc.code}: {exc}"[:300], took(), "")
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error = ""
    for address in addresses:
        conn = cls(target.host, target.port, address=address, connect_timeout=connect_timeout,
                   read_timeout=read_timeout)
        try:
            try:
                conn.connect()
            except (TimeoutError, socket.timeout):
                last_error = f"connect timeout: {address} did not accept a connection within {connect_timeout:g} s"
                continue
            except ssl.SSLError as exc:
                return Answer(None, f"tls: {exc}"[:300], took(), "")
            except OSError as exc:
                last_error = f"connect: {address}: {exc.strerror or exc}"
                continue
            try:
                conn.request("POST", target.path, body=body, headers=headers)
                response = conn.getresponse()
                excerpt = response.read(EXCERPT_BYTES)
                return Answer(response.status, "", took(), _text(excerpt))
            except (TimeoutError, socket.timeout):
                return Answer(None, f"read timeout: no answer within {read_timeout:g} s", took(), "")
            except (http.client.HTTPException, OSError) as exc:
                return Answer(None, f"{type(exc).__name__}: {exc}"[:300], took(), "")
        finally:
            conn.close()
    return Answer(None, last_error[:300] or "connect: no address", took(), "")
