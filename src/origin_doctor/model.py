"""Frozen data shared by every stage: targets, findings and per-target results.

Observations of each stage live next to their probe (probe/*.py); this module holds only what
analyzers, the verdict, the engine and the renderers all speak.
"""

from __future__ import annotations

import enum
import ipaddress
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


class Severity(enum.IntEnum):
    """Ordered, so that max() picks the worst."""

    INFO = 1
    WARN = 2
    FAIL = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Stage(enum.StrEnum):
    """Pipeline order matters: the verdict picks the first failing stage as the root cause."""

    CONFIG = "config"
    DNS = "dns"
    TCP = "tcp"
    TLS = "tls"
    CERT = "cert"
    HTTP = "http"
    WS = "ws"
    FUNCTION = "function"
    PROFILE = "profile"
    FLEET = "fleet"
    INTERNAL = "internal"


PIPELINE_ORDER: tuple[Stage, ...] = (
    Stage.INTERNAL,
    Stage.CONFIG,
    Stage.DNS,
    Stage.TCP,
    Stage.TLS,
    Stage.CERT,
    Stage.HTTP,
    Stage.WS,
    Stage.FUNCTION,
    Stage.PROFILE,
    Stage.FLEET,
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One judged fact about a target. A broken origin is a finding, never an exception."""

    code: str
    severity: Severity
    stage: Stage
    subject: str
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.label,
            "stage": str(self.stage),
            "subject": self.subject,
            "summary": self.summary,
            "evidence": dict(self.evidence),
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class Target:
    """What to check, and how the CDN would address it.

    `name` is the viewer-facing name; `origin` the name (or address) the CDN connects to.
    When `forward_host` is true the distribution forwards the viewer's Host, so SNI, the
    certificate name check and the Host header all use `host_header`. `origin_headers` are the
    distribution's custom origin headers, added to the HTTP request as CloudFront adds them.
    """

    name: str
    origin: str
    port: int = 443
    scheme: str = "https"
    path: str = "/"
    host_header: str | None = None
    websocket_path: str | None = None
    ws_protocols: tuple[str, ...] = ()
    ws_headers: tuple[tuple[str, str], ...] = ()
    ws_send: str | None = None
    site: str | None = None
    profile: str | None = None
    origin_headers: tuple[tuple[str, str], ...] = ()

    @property
    def sni(self) -> str:
        return self.host_header or self.origin

    @property
    def http_host(self) -> str:
        return self.host_header or self.origin

    @property
    def checked_name(self) -> str:
        """The name CloudFront checks on the origin's certificate."""
        return self.host_header or self.origin

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "origin": self.origin,
            "port": self.port,
            "scheme": self.scheme,
            "sni": self.sni,
            "host_header": self.http_host,
            "path": self.path,
        }
        if self.websocket_path is not None:
            data["websocket"] = self.websocket_path
        if self.site is not None:
            data["site"] = self.site
        if self.origin_headers:
            data["origin_headers"] = [name for name, _ in self.origin_headers]  # values may be secrets
        return data

    def __reduce__(self) -> tuple[type[Target], tuple[Any, ...]]:
        # A scan pickles every target on its way to a worker; the dataclass default walks
        # fields() for each one, which costs the parent more than the pickling itself.
        return Target, _target_values(self)


_target_values = operator.attrgetter(*(f.name for f in fields(Target)))


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address `text` spells, or None. Host names are turned away without a parse attempt
    (two failed parses with their exceptions, several per target in a scan): an IPv4 literal ends
    in a digit and an IPv6 one has a colon."""
    if ":" not in text and not text[-1:].isdigit():
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
