"""Which URLs may receive webhooks (server-side request forgery), checked on the address a delivery
connects to. No database."""
import socket

import pytest

from webhooks import net


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "fe80::1",
    "0.0.0.0", "::", "224.0.0.1", "ff02::1", "240.0.0.1", "100.64.0.1", "192.0.2.10", "fc00::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:0a00:0001::1", "255.255.255.255",
])
def test_non_public_addresses_are_forbidden(address):
    assert net.address_forbidden(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert not net.address_forbidden(address)


@pytest.mark.parametrize("url,code", [
    ("ftp://example.com/hook", "invalid_scheme"),
    ("file:///etc/passwd", "invalid_scheme"),
    ("gopher://example.com/", "invalid_scheme"),
    ("example.com/hook", "invalid_scheme"),
    ("http://", "invalid_url"),
    ("http://user:pw@example.com/", "invalid_url"),
    ("http://example.com/a b", "invalid_url"),
    ("http://example.com:99999/", "invalid_url"),
    ("http://example.com/#frag", "invalid_url"),
    ("", "invalid_url"),
    ("https://example.com/" + "a" * 1981, "url_too_long"),   # 2001 characters
])
def test_urls_that_are_refused_before_any_lookup(url, code):
    with pytest.raises(net.UrlRefused) as exc:
        net.parse_url(url)
    assert exc.value.code == code


def test_a_url_of_exactly_2000_characters_is_accepted():
    url = "https://example.com/" + "a" * 1980
    assert len(url) == 2000
    target = net.parse_url(url)
    assert (target.scheme, target.host, target.port, len(target.path)) == ("https", "example.com", 443, 1981)


def test_the_resolved_address_decides(monkeypatch):
    answers = {"hooks.example.com": ["93.184.215.14"], "inside.example.com": ["10.0.0.7"],
               "mixed.example.com": ["93.184.215.14", "192.168.0.2"]}

    def resolve(host, port):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    monkeypatch.setattr(net, "resolve", resolve)
    assert net.check_url("https://hooks.example.com/in", allow_private=False).host == "hooks.example.com"
    for url, code in [("https://inside.example.com/in", "forbidden_address"),
                      ("https://mixed.example.com/in", "forbidden_address"),
                      ("http://127.0.0.1:8000/in", "forbidden_address"),
                      ("http://[::1]/in", "forbidden_address"),
                      ("https://nowhere.example.com/in", "unresolvable_host")]:
        with pytest.raises(net.UrlRefused) as exc:
            net.check_url(url, allow_private=False)
        assert exc.value.code == code, url
    # allowed: no lookup at all when private addresses may be used (the host may not exist yet)
    assert net.check_url("https://nowhere.example.com/in", allow_private=True).port == 443


def test_a_delivery_to_a_forbidden_address_is_never_attempted(monkeypatch):
    """The check is repeated on every delivery, on the addresses the POST would connect to: a name
    that resolved to a public address when the endpoint was made and now resolves inside (DNS
    rebinding) gets no connection at all."""
    monkeypatch.setattr(net, "resolve", lambda host, port: ["169.254.169.254"])

    def no_connection(*args, **kwargs):
        raise AssertionError("a connection was opened")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    answer = net.post("http://rebind.example.com/hook", b"{}", {}, allow_private=False)
    assert answer.status_code is None and answer.error.startswith("forbidden_address: rebind.example.com resolves "
                                                                  "to 169.254.169.254")


def test_the_post_connects_to_the_checked_address_with_the_host_name_kept(monkeypatch):
    """The address that was checked is the one connected to (no second lookup that could answer
    differently); the Host header keeps the name."""
    from pytest_httpserver import HTTPServer

    lookups = []

    def resolve(host, port):
        lookups.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(net, "resolve", resolve)
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        server.expect_request("/hook", method="POST").respond_with_data("thanks " * 300, status=202)
        answer = net.post(f"http://receiver.example:{server.port}/hook", b'{"a":1}', {"x-test": "1"},
                          allow_private=True)
        (request, _), = server.log
    finally:
        server.stop()
    assert lookups == ["receiver.example"]
    assert request.headers["Host"] == f"receiver.example:{server.port}" and request.get_data() == b'{"a":1}'
    assert (answer.status_code, answer.error, len(answer.excerpt)) == (202, "", 1024)   # the first KB only
    assert answer.excerpt == ("thanks " * 300)[:1024]


def test_refused_connections_and_timeouts_are_answers_not_exceptions():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()   # nothing listens there now
    answer = net.post(f"http://127.0.0.1:{port}/", b"{}", {}, allow_private=True)
    assert answer.status_code is None and answer.error.startswith("connect: 127.0.0.1:")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)   # accepts the connection, never answers
    try:
        answer = net.post(f"http://127.0.0.1:{listener.getsockname()[1]}/", b"{}", {}, allow_private=True,
                          read_timeout=0.2)
    finally:
        listener.close()
    assert (answer.status_code, answer.error) == (None, "read timeout: no answer within 0.2 s")
    assert 150 <= answer.duration_ms < 2000
