"""Parse what users type as targets: a name, name:port, [v6]:port, or an https/wss URL."""

from __future__ import annotations

import urllib.parse

from origin_doctor.errors import UsageError
from origin_doctor.model import Target

_SCHEMES = {"https": 443, "wss": 443}


def parse_target(
    text: str,
    *,
    origin: str | None = None,
    host_header: str | None = None,
    websocket: str | None = None,
    port: int | None = None,
) -> Target:
    raw = text.strip()
    if not raw:
        raise UsageError("empty target")
    scheme = "https"
    path = "/"
    if "://" in raw:
        parsed = urllib.parse.urlsplit(raw)
        scheme = parsed.scheme.lower()
        if scheme not in _SCHEMES:
            raise UsageError(f"target {text!r}: scheme must be https:// or wss:// (CloudFront checks TLS origins)")
        host = parsed.hostname
        try:
            url_port = parsed.port
        except ValueError as exc:
            raise UsageError(f"target {text!r}: bad port") from exc
        path = parsed.path or "/"
        if parsed.query:
            path += "?" + parsed.query
    else:
        host, url_port = _split_host_port(raw, text)
    if not host or any(c.isspace() for c in host) or "/" in host:
        raise UsageError(f"target {text!r}: not a host name, host:port or URL")
    chosen_port = port or url_port or _SCHEMES[scheme]
    if not 0 < chosen_port < 65536:
        raise UsageError(f"target {text!r}: port must be 1-65535")
    ws_path = websocket
    if scheme == "wss" and ws_path is None:
        ws_path = path
    name = host.lower().rstrip(".")
    return Target(
        name=name,
        origin=(origin or name).lower().rstrip("."),
        port=chosen_port,
        scheme=scheme,
        path=path,
        host_header=host_header.lower() if host_header else None,
        websocket_path=ws_path,
    )


def _split_host_port(raw: str, text: str) -> tuple[str, int | None]:
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise UsageError(f"target {text!r}: expected [address]:port")
        return host, _port(rest[1:], text) if rest else None
    if raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
        return host, _port(port_text, text)
    return raw, None


def _port(value: str, text: str) -> int:
    if not value.isdigit():
        raise UsageError(f"target {text!r}: port {value!r} is not a number")
    return int(value)


def parse_resolve(entries: tuple[str, ...]) -> dict[tuple[str, int], tuple[str, ...]]:
    """curl's --resolve HOST:PORT:ADDR[,ADDR...]; PORT may be '*' for any port."""
    mapping: dict[tuple[str, int], tuple[str, ...]] = {}
    for entry in entries:
        host, sep1, rest = entry.partition(":")
        port_text, sep2, addresses = rest.partition(":")
        if not (sep1 and sep2 and host and addresses):
            raise UsageError(f"--resolve {entry!r}: expected HOST:PORT:ADDRESS")
        if port_text == "*":
            port = 0
        elif port_text.isdigit():
            port = int(port_text)
        else:
            raise UsageError(f"--resolve {entry!r}: port must be a number or *")
        addrs = tuple(a.strip().strip("[]") for a in addresses.split(",") if a.strip())
        mapping[(host.lower().rstrip("."), port)] = mapping.get((host.lower(), port), ()) + addrs
    return mapping


def parse_nameserver(value: str) -> tuple[str, int]:
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, _port(rest[1:], value) if rest.startswith(":") else 53
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, _port(port, value)
    return value, 53
