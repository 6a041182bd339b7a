"""The JSON report (../shared/docs/REPORT.md): one document, stable keys, codes as strings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from origin_doctor import __version__
from origin_doctor.model import Finding
from origin_doctor.result import TargetResult

SCHEMA = "origin-doctor/report/1"


def iso_now(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_document(results: Iterable[TargetResult], profile: str, *, generated_at: dt.datetime | None = None,
                    fleet_findings: Iterable[Finding] = (), checked_at: dt.datetime | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": {"name": "origin-doctor", "version": __version__},
        "profile": profile,
        "generated_at": iso_now(generated_at),
        "results": [r.to_dict() for r in results],
        "fleet_findings": [f.to_dict() for f in fleet_findings],
    }
    if checked_at is not None:
        doc["checked_at"] = iso_now(checked_at)
    return doc


def dumps(document: dict[str, Any], *, indent: int | None = 2) -> str:
    return json.dumps(document, indent=indent, ensure_ascii=False, default=_default)


def result_line(result: TargetResult) -> str:
    """One result as a single JSON line (for --jsonl streams)."""
    return json.dumps(result.to_dict(), ensure_ascii=False, separators=(",", ":"), default=_default)


def _default(value: object) -> object:
    if isinstance(value, dt.datetime):
        return iso_now(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
