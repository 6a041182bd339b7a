from __future__ import annotations

import pytest

from origin_doctor.errors import UsageError
from origin_doctor.targets import parse_nameserver, parse_resolve, parse_target


@pytest.mark.parametrize(
    ("text", "name", "port", "path", "ws"),
    [
        ("ws.example.com", "ws.example.com", 443, "/", None),
        ("ws.example.com:8443", "ws.example.com", 8443, "/", None),
        ("https://shop.example.com/health?x=1", "shop.example.com", 443, "/health?x=1", None),
        ("wss://ws.example.com:9443/socket", "ws.example.com", 9443, "/socket", "/socket"),
        ("[::1]:8443", "::1", 8443, "/", None),
        ("WWW.Example.COM.", "www.example.com", 443, "/", None),
    ],
)
def test_parse_target_forms(text: str, name: str, port: int, path: str, ws: str | None) -> None:
    target = parse_target(text)
    assert (target.name, target.port, target.path, target.websocket_path) == (name, port, path, ws)
    assert target.origin == name


def test_origin_and_host_header_decide_sni_and_checked_name() -> None:
    plain = parse_target("shop.example.com", origin="lb.example.com")
    assert (plain.sni, plain.checked_name, plain.http_host) == ("lb.example.com",) * 3
    forwarded = parse_target("shop.example.com", origin="lb.example.com", host_header="shop.example.com")
    assert (forwarded.sni, forwarded.checked_name, forwarded.http_host) == ("shop.example.com",) * 3


@pytest.mark.parametrize("bad", ["", "http://x.example.com", "a b", "host:notaport", "host:70000", "ftp://x"])
def test_bad_targets_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_target(bad)


def test_parse_resolve_like_curl() -> None:
    mapping = parse_resolve(("www.example.com:443:127.0.0.1,::1", "*.lab:*:127.0.0.2"))
    assert mapping[("www.example.com", 443)] == ("127.0.0.1", "::1")
    assert mapping[("*.lab", 0)] == ("127.0.0.2",)
    with pytest.raises(UsageError):
        parse_resolve(("nonsense",))


def test_parse_nameserver() -> None:
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("[::1]:5353") == ("::1", 5353)
    assert parse_nameserver("127.0.0.1") == ("127.0.0.1", 53)
