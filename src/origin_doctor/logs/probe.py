"""`logs --probe`: turn hosts with CloudFront-generated 5xx into targets, check them, and set the
probe's verdict next to the log evidence (does the predicted cause fit the logged result types?)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from origin_doctor.engine import CheckOptions, check_targets
from origin_doctor.errors import UsageError
from origin_doctor.logs.records import FailedRequest
from origin_doctor.logs.result_types import describe
from origin_doctor.model import Target
from origin_doctor.result import TargetResult
from origin_doctor.targets import parse_target


def parse_origin_map(entries: Iterable[str]) -> dict[str, str]:
    """'--origin www.example.com=origin.example.com[:port]' entries -> {viewer host: origin}."""
    mapping: dict[str, str] = {}
    for entry in entries:
        host, sep, origin = entry.partition("=")
        if not sep or not host.strip() or not origin.strip():
            raise UsageError(f"--origin {entry!r}: use HOST=ORIGIN, e.g. www.example.com=origin.example.com")
        mapping[host.strip().lower().rstrip(".")] = origin.strip()
    return mapping


def _websocket_paths(failures: Iterable[FailedRequest]) -> dict[str, str]:
    """The most common failing ws/wss path per host: the path the probe upgrades on."""
    paths: dict[str, Counter[str]] = {}
    for failure in failures:
        if failure.protocol in ("ws", "wss"):
            paths.setdefault(failure.host, Counter())[failure.path or "/"] += 1
    return {host: counter.most_common(1)[0][0] for host, counter in paths.items()}


def build_targets(
    candidates: list[dict[str, Any]], origins: Mapping[str, str], failures: Iterable[FailedRequest]
) -> list[Target]:
    ws_paths = _websocket_paths(failures)
    targets: list[Target] = []
    for row in candidates:
        host = str(row["host"])
        origin = origins.get(host.lower(), host)
        origin_name, _, port_text = origin.rpartition(":") if origin.count(":") == 1 else (origin, "", "")
        port = int(port_text) if port_text.isdigit() else None
        ws_path = ws_paths.get(host)
        text = f"wss://{host}{ws_path}" if ws_path else host
        targets.append(parse_target(text, origin=origin_name or origin, port=port))
    return targets


def _consistent(result: TargetResult, logged_types: Mapping[str, int]) -> bool | None:
    """Is the probe's root cause among the codes the logged result types point to? None if unknown."""
    primary = result.verdict.primary
    likely = {code for kind in logged_types for code in describe(kind).likely_codes}
    if primary is None or not likely:
        return None
    return primary.code in likely


async def _run(targets: list[Target], options: CheckOptions) -> list[TargetResult]:
    return [result async for result in check_targets(targets, options)]


def probe_candidates(
    candidates: list[dict[str, Any]],
    origins: Mapping[str, str],
    failures: Iterable[FailedRequest],
    options: CheckOptions,
) -> list[dict[str, Any]]:
    """Check each candidate host's origin; rows in the candidates' order for the logs document."""
    targets = build_targets(candidates, origins, failures)
    results = {result.target.name: result for result in asyncio.run(_run(targets, options))}
    rows: list[dict[str, Any]] = []
    for row, target in zip(candidates, targets, strict=True):
        result = results[target.name]
        primary = result.verdict.primary
        logged = dict(row["by_detailed_result_type"])
        rows.append({
            "host": row["host"],
            "origin": f"{target.origin}:{target.port}",
            "cdn_generated_5xx": row["cdn_generated_5xx"],
            "logged_types": logged,
            "outcome": result.verdict.outcome,
            "generated_by": result.verdict.generated_by,
            "primary": primary.code if primary else None,
            "cause": result.verdict.cause,
            "summary": primary.summary if primary else None,
            "fix": primary.fix if primary else None,
            "consistent_with_log": _consistent(result, logged),
            "result": result.to_dict(),
        })  # fmt: skip
    return rows
