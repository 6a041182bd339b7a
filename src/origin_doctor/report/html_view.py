"""What the HTML report shows, computed from the REPORT.md JSON document as plain data (pure).

The template only lays these views out; every judgement (failing first, the missing link, stage
states, expiry) is made here, so it can be tested without a browser.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from origin_doctor.inputs import parse_iso_time

STAGES = ("dns", "tcp", "tls", "cert", "http", "ws")
CAUSES = {
    1: "TLS negotiation or name",
    2: "protocols or ciphers",
    3: "certificate or chain",
    4: "port",
    5: "DNS",
    6: "Lambda@Edge",
}
NO_CAUSE = "outside AWS's six causes (timeouts, HTTP)"


@dataclass(frozen=True, slots=True)
class CertBox:
    position: int
    subject: str
    issuer: str
    not_before: str
    not_after: str
    names: tuple[str, ...]
    expired: bool
    not_yet_valid: bool
    missing: bool = False  # a placeholder for the certificate the origin should have sent


@dataclass(frozen=True, slots=True)
class AddressView:
    address: str
    port: int
    tls_version: str
    http_status: str
    chain: tuple[CertBox, ...]


@dataclass(frozen=True, slots=True)
class FindingView:
    code: str
    severity: str
    stage: str
    subject: str
    summary: str
    fix: str
    evidence: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class TargetView:
    key: str  # a stable DOM id suffix
    name: str
    origin: str
    port: int
    outcome: str
    primary: str
    failed: bool
    worst: str  # fail, warn, info or ok
    cause: str
    expiry: str  # earliest not_after in what was sent, "" when no chain was seen
    expiry_days: float | None
    tls_version: str
    stages: tuple[tuple[str, str], ...]  # (stage, ok|fail|warn|skip)
    addresses: tuple[AddressView, ...]
    findings: tuple[FindingView, ...]
    missing_issuer: str


@dataclass(frozen=True, slots=True)
class RunView:
    title: str
    profile: str
    generated_at: str
    checked_at: str
    total: int
    failing: int
    warning: int
    by_cause: tuple[tuple[str, int], ...]
    by_code: tuple[tuple[str, int], ...]
    targets: tuple[TargetView, ...]
    fleet_findings: tuple[FindingView, ...] = field(default=())




def _finding_view(raw: dict[str, Any]) -> FindingView:
    evidence = raw.get("evidence") or {}
    return FindingView(
        code=str(raw.get("code", "")),
        severity=str(raw.get("severity", "")),
        stage=str(raw.get("stage", "")),
        subject=str(raw.get("subject", "")),
        summary=str(raw.get("summary", "")),
        fix=str(raw.get("fix") or ""),
        evidence=tuple((str(k), _short(v)) for k, v in evidence.items()) if isinstance(evidence, dict) else (),
    )


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chain(raw_chain: list[dict[str, Any]], now: dt.datetime | None, missing_issuer: str | None) -> tuple[CertBox, ...]:
    boxes: list[CertBox] = []
    for position, cert in enumerate(raw_chain):
        not_before, not_after = parse_iso_time(cert.get("not_before")), parse_iso_time(cert.get("not_after"))
        boxes.append(CertBox(
            position=position,
            subject=str(cert.get("subject", "")),
            issuer=str(cert.get("issuer", "")),
            not_before=str(cert.get("not_before", "")),
            not_after=str(cert.get("not_after", "")),
            names=tuple(str(n) for n in cert.get("names") or ()),
            expired=bool(now and not_after and not_after < now),
            not_yet_valid=bool(now and not_before and not_before > now),
        ))  # fmt: skip
    if missing_issuer:
        # The link goes right after the last certificate that names it as issuer (the leaf, usually).
        after = max((b.position for b in boxes if b.issuer == missing_issuer), default=len(boxes) - 1)
        placeholder = CertBox(after + 1, missing_issuer, "", "", "", (), False, False, missing=True)
        boxes = [*boxes[: after + 1], placeholder, *boxes[after + 1:]]
    return tuple(boxes)


def _address_matches(finding: dict[str, Any], address: str, port: int) -> bool:
    host = f"[{address}]" if ":" in address else address
    return str(finding.get("subject", "")).startswith(f"{host}:{port}")


def _stages(result: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    findings = result.get("findings") or []
    addresses = result.get("addresses") or []
    seen = {
        "dns": bool(addresses),
        "tcp": any(a.get("tcp_ms") is not None or a.get("tcp_error") for a in addresses),
        "tls": any(a.get("tls") for a in addresses),
        "cert": any((a.get("tls") or {}).get("chain") for a in addresses),
        "http": any((a.get("http") or {}).get("status") is not None for a in addresses),
        "ws": any(a.get("ws") for a in addresses),
    }
    stages: list[tuple[str, str]] = []
    for stage in STAGES:
        if stage == "ws" and not (result.get("target") or {}).get("websocket"):
            continue
        severities = {f.get("severity") for f in findings if f.get("stage") == stage}
        if "fail" in severities:
            state = "fail"
        elif "warn" in severities:
            state = "warn"
        elif seen[stage] or severities:
            state = "ok"
        else:
            state = "skip"
        stages.append((stage, state))
    return tuple(stages)


def target_view(index: int, result: dict[str, Any], now: dt.datetime | None) -> TargetView:
    target = result.get("target") or {}
    findings = [f for f in result.get("findings") or [] if isinstance(f, dict)]
    severities = {f.get("severity") for f in findings}
    worst = next((s for s in ("fail", "warn", "info") if s in severities), "ok")
    missing = [f for f in findings if f.get("code") == "cert.chain_incomplete"]
    addresses: list[AddressView] = []
    not_afters: list[dt.datetime] = []
    versions: list[str] = []
    for raw in result.get("addresses") or []:
        tls = raw.get("tls") or {}
        address, port = str(raw.get("address", "")), int(raw.get("port") or target.get("port") or 0)
        gap = next((str((f.get("evidence") or {}).get("missing_issuer") or "") for f in missing
                    if _address_matches(f, address, port)), "")
        chain = _chain(list(tls.get("chain") or []), now, gap or None)
        not_afters += [t for t in (parse_iso_time(c.not_after) for c in chain if not c.missing) if t]
        if tls.get("version"):
            versions.append(str(tls["version"]))
        status = (raw.get("http") or {}).get("status")
        addresses.append(AddressView(address, port, str(tls.get("version") or ""),
                                     "" if status is None else str(status), chain))
    earliest = min(not_afters, default=None)
    cause = result.get("cause")
    return TargetView(
        key=f"t{index}",
        name=str(target.get("name", "")),
        origin=str(target.get("origin", "")),
        port=int(target.get("port") or 0),
        outcome=str(result.get("outcome", "")),
        primary=str(result.get("primary") or ""),
        failed=result.get("primary") is not None,
        worst=worst,
        cause=CAUSES.get(cause, NO_CAUSE) if isinstance(cause, int) else ("" if result.get("primary") is None else NO_CAUSE),
        expiry=earliest.strftime("%Y-%m-%d %H:%M") if earliest else "",
        expiry_days=round((earliest - now).total_seconds() / 86400, 1) if earliest and now else None,
        tls_version=", ".join(dict.fromkeys(versions)),
        stages=_stages(result),
        addresses=tuple(addresses),
        findings=tuple(_finding_view(f) for f in findings),
        missing_issuer=next((str((f.get("evidence") or {}).get("missing_issuer") or "") for f in missing), ""),
    )


def run_view(document: dict[str, Any], title: str = "origin-doctor report") -> RunView:
    """The whole `origin-doctor/report/1` document as a view, failing targets first."""
    now = parse_iso_time(document.get("checked_at")) or parse_iso_time(document.get("generated_at"))
    results = [r for r in document.get("results") or [] if isinstance(r, dict)]
    views = [target_view(i, r, now) for i, r in enumerate(results)]
    rank = {"fail": 0, "warn": 1, "info": 2, "ok": 3}
    views.sort(key=lambda v: (not v.failed, rank.get(v.worst, 3), v.name))
    failing = [v for v in views if v.failed]
    causes = Counter(v.cause for v in failing)
    codes = Counter(v.primary for v in failing)
    return RunView(
        title=title,
        profile=str(document.get("profile", "")),
        generated_at=str(document.get("generated_at", "")),
        checked_at=str(document.get("checked_at") or document.get("generated_at") or ""),
        total=len(views),
        failing=len(failing),
        warning=sum(1 for v in views if not v.failed and v.worst == "warn"),
        by_cause=tuple(causes.most_common()),
        by_code=tuple(codes.most_common()),
        targets=tuple(views),
        fleet_findings=tuple(_finding_view(f) for f in document.get("fleet_findings") or [] if isinstance(f, dict)),
    )
