"""The parts of a CloudFront DistributionConfig that decide how CloudFront connects to origins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OriginKind = Literal["custom", "s3", "vpc"]


@dataclass(frozen=True, slots=True)
class Origin:
    id: str
    domain: str
    kind: OriginKind
    path: str = ""  # OriginPath, prefixed to every request path
    custom_headers: tuple[tuple[str, str], ...] = ()
    http_port: int = 80
    https_port: int = 443
    protocol_policy: str = "match-viewer"  # http-only | https-only | match-viewer (S3 REST: always match-viewer)
    ssl_protocols: tuple[str, ...] = ()  # OriginSslProtocols; empty: not narrowed
    connection_attempts: int = 3
    connection_timeout: float = 10.0
    read_timeout: float = 30.0
    keepalive_timeout: float = 5.0
    ip_address_type: str | None = None

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id, "domain": self.domain, "kind": self.kind, "origin_path": self.path,
            "custom_headers": [name for name, _ in self.custom_headers],
            "http_port": self.http_port, "https_port": self.https_port,
            "protocol_policy": self.protocol_policy, "ssl_protocols": list(self.ssl_protocols),
            "connection_attempts": self.connection_attempts, "connection_timeout": self.connection_timeout,
            "read_timeout": self.read_timeout, "keepalive_timeout": self.keepalive_timeout,
            "ip_address_type": self.ip_address_type,
        }


@dataclass(frozen=True, slots=True)
class OriginGroup:
    id: str
    members: tuple[str, ...]  # primary first
    failover_status_codes: tuple[int, ...]

    def summary(self) -> dict[str, object]:
        return {"id": self.id, "members": list(self.members), "failover_status_codes": list(self.failover_status_codes)}


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One cache behaviour; `path_pattern` is None for the default behaviour."""

    path_pattern: str | None
    target_origin_id: str
    viewer_protocol_policy: str
    cache_policy_id: str | None = None
    origin_request_policy_id: str | None = None
    legacy_headers: tuple[str, ...] | None = None  # ForwardedValues.Headers when no cache policy is attached

    @property
    def label(self) -> str:
        return self.path_pattern if self.path_pattern is not None else "default (*)"


@dataclass(frozen=True, slots=True)
class Distribution:
    id: str | None
    domain_name: str | None  # dxxxx.cloudfront.net, only in get-distribution output
    aliases: tuple[str, ...]
    origins: tuple[Origin, ...]
    groups: tuple[OriginGroup, ...]
    behaviours: tuple[Behaviour, ...]  # ordered behaviours first, the default last (CloudFront's match order)
    source: str

    def origin(self, origin_id: str) -> Origin | None:
        return next((o for o in self.origins if o.id == origin_id), None)

    def group(self, group_id: str) -> OriginGroup | None:
        return next((g for g in self.groups if g.id == group_id), None)

    @property
    def viewer_names(self) -> tuple[str, ...]:
        if self.aliases:
            return self.aliases
        return (self.domain_name,) if self.domain_name else ()


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """What an origin request policy or cache policy does with viewer headers."""

    id: str
    name: str
    kind: Literal["origin_request", "cache"]
    header_behavior: str  # none | whitelist | allViewer | allViewerAndWhitelistCloudFront | allExcept
    headers: tuple[str, ...] = ()

    @property
    def forwards_host(self) -> bool:
        listed = {h.lower() for h in self.headers}
        if self.header_behavior in ("allViewer", "allViewerAndWhitelistCloudFront"):
            return True
        if self.header_behavior == "allExcept":
            return "host" not in listed
        if self.header_behavior == "whitelist":
            return "host" in listed
        return False
