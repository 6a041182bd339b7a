"""Alias x behaviour x origin rows, and the engine targets they need (identical probes made once).

Per origin, the distribution's OriginSslProtocols, connection attempts/timeout and read timeout
shape the profile, unless the user fixed that value on the command line.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from origin_doctor.distribution.model import Behaviour, Distribution, Origin
from origin_doctor.distribution.policies import HostDecision
from origin_doctor.model import Target


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """Profile changes for one origin; None keeps the command line's (or the profile's) value."""

    ssl_protocols: tuple[str, ...] | None = None
    connect_timeout: float | None = None
    connect_attempts: int | None = None
    read_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Probe:
    target: Target
    settings: ProbeSettings


@dataclass(frozen=True, slots=True)
class Row:
    viewer_name: str | None  # None: the distribution's own *.cloudfront.net name, not known offline
    behaviour: Behaviour
    origin_id: str
    origin: Origin | None
    role: str  # "origin", "primary" or "secondary"
    group_id: str | None
    host: HostDecision
    probe: Probe | None
    skipped: str | None = None  # why this row is not probed

    @property
    def checked_name(self) -> str | None:
        if self.probe is not None:
            return self.probe.target.checked_name
        if self.origin is None:
            return None
        return self.viewer_name if self.host.forwarded else self.origin.domain


@dataclass(frozen=True, slots=True)
class Plan:
    rows: tuple[Row, ...]
    probes: tuple[Probe, ...]  # unique, in first-use order


def probe_path(origin_path: str) -> str:
    """CloudFront prefixes the origin path to the request path; we probe the origin path's root."""
    stripped = origin_path.strip("/")
    return f"/{stripped}/" if stripped else "/"


def settings_for(origin: Origin, fixed_by_user: Collection[str]) -> ProbeSettings:
    return ProbeSettings(
        ssl_protocols=origin.ssl_protocols or None if "ssl_protocols" not in fixed_by_user else None,
        connect_timeout=origin.connection_timeout if "connect_timeout" not in fixed_by_user else None,
        connect_attempts=origin.connection_attempts if "connect_attempts" not in fixed_by_user else None,
        read_timeout=origin.read_timeout if "read_timeout" not in fixed_by_user else None,
    )


def _skip_reason(origin: Origin, viewer_name: str | None, host: HostDecision) -> str | None:
    if origin.kind == "s3":
        return "S3 REST origin: S3 supplies the certificate and CloudFront uses TLSv1.2; not probed"
    if origin.kind == "vpc":
        return "VPC origin: private, reachable only through CloudFront's VPC origin service; not probed"
    if origin.protocol_policy == "http-only":
        return f"http-only: CloudFront connects over plain HTTP to port {origin.http_port}; no TLS to check"
    if not (origin.https_port in (80, 443) or 1024 <= origin.https_port <= 65535):
        return f"HTTPS port {origin.https_port} is not one CloudFront connects to; not probed"
    if "s3-website" in origin.domain:
        return "S3 website endpoints serve HTTP only; CloudFront cannot connect with HTTPS"
    if host.forwarded and viewer_name is None:
        return "Host is forwarded but the distribution's domain name is unknown (use get-distribution output)"
    if host.forwarded and viewer_name is not None and viewer_name.startswith("*."):
        return ("wildcard alias: the forwarded Host is whatever name the viewer used; check one with "
                f"origin-doctor check NAME --origin {origin.domain} --host-header NAME")
    return None


def build_plan(dist: Distribution, decisions: dict[int, HostDecision], fixed_by_user: Collection[str]) -> Plan:
    """`decisions`: the Host decision per behaviour index (in `dist.behaviours`)."""
    rows: list[Row] = []
    probes: dict[Probe, None] = {}
    viewer_names: tuple[str | None, ...] = dist.viewer_names or (None,)
    for index, behaviour in enumerate(dist.behaviours):
        host = decisions[index]
        group = dist.group(behaviour.target_origin_id)
        members: list[tuple[str, str, str | None]]
        if group is not None:
            members = [(m, "primary" if i == 0 else "secondary", group.id) for i, m in enumerate(group.members)]
        else:
            members = [(behaviour.target_origin_id, "origin", None)]
        for viewer_name in viewer_names:
            for origin_id, role, group_id in members:
                origin = dist.origin(origin_id)
                if origin is None:
                    rows.append(Row(viewer_name, behaviour, origin_id, None, role, group_id, host, None,
                                    f"no origin with id {origin_id!r}"))
                    continue
                skipped = _skip_reason(origin, viewer_name, host)
                probe = None
                if skipped is None:
                    probe = Probe(_target(dist, origin, viewer_name, host), settings_for(origin, fixed_by_user))
                    probes.setdefault(probe)
                rows.append(Row(viewer_name, behaviour, origin_id, origin, role, group_id, host, probe, skipped))
    return Plan(tuple(rows), tuple(probes))


def _target(dist: Distribution, origin: Origin, viewer_name: str | None, host: HostDecision) -> Target:
    forwarded = viewer_name if host.forwarded and viewer_name and viewer_name != origin.domain else None
    return Target(
        name=forwarded or origin.domain,
        origin=origin.domain,
        port=origin.https_port,
        path=probe_path(origin.path),
        host_header=forwarded,
        site=dist.id or "distribution",  # one site: fleet findings compare every name and origin
        origin_headers=origin.custom_headers,
    )
