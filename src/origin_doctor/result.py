"""Per-address and per-target results, and their JSON shape (../shared/docs/REPORT.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from origin_doctor.model import Finding, Severity, Target
from origin_doctor.verdict import Verdict


@dataclass(frozen=True, slots=True)
class AddressResult:
    address: str
    port: int
    dns_ms: float | None = None
    tcp_ms: float | None = None
    tcp_error: str | None = None
    tls: dict[str, Any] | None = None
    http: dict[str, Any] | None = None
    ws: dict[str, Any] | None = None
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "address": self.address,
            "port": self.port,
            "dns_ms": _round(self.dns_ms),
            "tcp_ms": _round(self.tcp_ms),
            "tcp_error": self.tcp_error,
            "tls": self.tls,
            "http": self.http if self.http is not None else {"status": None},
        }
        if self.ws is not None:
            data["ws"] = self.ws
        return data

    @property
    def failed(self) -> bool:
        return any(f.severity is Severity.FAIL for f in self.findings)


@dataclass(frozen=True, slots=True)
class TargetResult:
    target: Target
    verdict: Verdict
    findings: tuple[Finding, ...]
    addresses: tuple[AddressResult, ...] = ()
    elapsed_ms: float = 0.0
    profile: str = "cloudfront"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        return self.verdict.outcome

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def to_dict(self) -> dict[str, Any]:
        primary = self.verdict.primary
        return {
            "target": self.target.to_dict(),
            "profile": self.profile,
            "outcome": self.verdict.outcome,
            "generated_by": self.verdict.generated_by,
            "cause": self.verdict.cause,
            "primary": primary.code if primary else None,
            "findings": [f.to_dict() for f in self.findings],
            "addresses": [a.to_dict() for a in self.addresses],
            "elapsed_ms": _round(self.elapsed_ms),
            **self.extra,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
