"""Audit an nginx configuration offline, before a reload: every TLS server block checked the way
CloudFront would meet it. `audit(config, profile, now)` returns an AuditReport.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from origin_doctor import __version__
from origin_doctor.analyze.certfacts import AnchorIndex, describe
from origin_doctor.model import Finding, Severity
from origin_doctor.nginx_audit.checks import LoadedPair, audit_block
from origin_doctor.nginx_audit.config import ServerBlock, parse_config
from origin_doctor.profile import Profile, trust_anchors

SCHEMA = "origin-doctor/nginx-audit/1"


@dataclass(frozen=True, slots=True)
class BlockResult:
    block: ServerBlock
    findings: tuple[Finding, ...]
    loaded: tuple[LoadedPair, ...]

    @property
    def failed(self) -> bool:
        return any(f.severity is Severity.FAIL for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        block = self.block
        return {
            "file": block.file,
            "line": block.line,
            "listen": list(block.listen),
            "server_name": list(block.server_names),
            "ssl_certificate": [p.certificate for p in block.pairs],
            "ssl_certificate_key": [p.key for p in block.pairs],
            "ssl_protocols": list(block.protocols.values),
            "ssl_protocols_from": block.protocols.where,
            "ssl_ciphers": " ".join(block.ciphers.values),
            "ssl_ciphers_from": block.ciphers.where,
            "outcome": "fail" if self.failed else "ok",
            "findings": [f.to_dict() for f in self.findings],
            "certificates": [
                {"file": str(item.pair.certificate_path), "chain": [describe(c, include_pem=False) for c in item.chain]}
                for item in self.loaded
            ],
        }


@dataclass(frozen=True, slots=True)
class AuditReport:
    config: Path
    files: tuple[str, ...]
    blocks: tuple[BlockResult, ...]
    skipped_plain: int  # server blocks without TLS
    profile: str
    now: dt.datetime

    @property
    def failed(self) -> bool:
        return any(b.failed for b in self.blocks)

    def to_dict(self) -> dict[str, Any]:
        iso = self.now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "schema": SCHEMA,
            "tool": {"name": "origin-doctor", "version": __version__},
            "profile": self.profile,
            "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "checked_at": iso,
            "config": str(self.config),
            "files": list(self.files),
            "servers": [b.to_dict() for b in self.blocks],
            "plain_http_servers": self.skipped_plain,
            "failed": sum(1 for b in self.blocks if b.failed),
            "outcome": "fail" if self.failed else "ok",
        }


def audit(config: Path, profile: Profile, now: dt.datetime, warn_days: int = 21,
          prefix: Path | None = None) -> AuditReport:
    blocks, files = parse_config(config, prefix)
    anchors = AnchorIndex(trust_anchors(profile))
    results = []
    for block in blocks:
        if not block.tls:
            continue
        found, loaded = audit_block(block, profile, anchors, now, warn_days)
        results.append(BlockResult(block, tuple(found), tuple(loaded)))
    plain = sum(1 for b in blocks if not b.tls)
    return AuditReport(config, tuple(files), tuple(results), plain, profile.id, now)
