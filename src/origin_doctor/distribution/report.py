"""The distribution report: the `distribution` section of the JSON document (rows per alias x behaviour
x origin, config findings) and the terminal renderables. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from origin_doctor.distribution.model import Distribution
from origin_doctor.distribution.plan import Plan, Probe, Row
from origin_doctor.distribution.policies import HostDecision
from origin_doctor.model import Finding, Severity
from origin_doctor.report.terminal import finding_block, render_result
from origin_doctor.result import TargetResult


@dataclass(frozen=True, slots=True)
class DistributionReport:
    dist: Distribution
    decisions: Mapping[int, HostDecision]
    plan: Plan
    results: Mapping[Probe, TargetResult]
    config_findings: Sequence[Finding]
    fleet_findings: Sequence[Finding] = ()

    @property
    def ordered_results(self) -> list[TargetResult]:
        return [self.results[p] for p in self.plan.probes if p in self.results]

    @property
    def failed(self) -> bool:
        return (any(r.verdict.failed for r in self.results.values())
                or any(f.severity is Severity.FAIL for f in (*self.config_findings, *self.fleet_findings)))

    def failover(self, row: Row) -> dict[str, Any] | None:
        if row.role != "primary" or row.probe is None or row.group_id is None:
            return None
        group = self.dist.group(row.group_id)
        result = self.results.get(row.probe)
        if group is None or result is None:
            return None
        tried, why = fails_over(result, group.failover_status_codes)
        return {"criteria": list(group.failover_status_codes), "fails_over": tried, "why": why}


def distribution_section(report: DistributionReport) -> dict[str, Any]:
    dist = report.dist
    index = {probe: i for i, probe in enumerate(p for p in report.plan.probes if p in report.results)}
    return {
        "id": dist.id,
        "domain_name": dist.domain_name,
        "source": dist.source,
        "aliases": list(dist.aliases),
        "origins": [o.summary() for o in dist.origins],
        "origin_groups": [g.summary() for g in dist.groups],
        "behaviours": [
            {"path_pattern": b.path_pattern, "target_origin_id": b.target_origin_id,
             "viewer_protocol_policy": b.viewer_protocol_policy, "cache_policy_id": b.cache_policy_id,
             "origin_request_policy_id": b.origin_request_policy_id,
             "legacy_forwarded_headers": list(b.legacy_headers) if b.legacy_headers is not None else None,
             "host": report.decisions[i].to_dict()}
            for i, b in enumerate(dist.behaviours)
        ],
        "rows": [_row(report, row, index) for row in report.plan.rows],
        "config_findings": [f.to_dict() for f in report.config_findings],
    }


def _row(report: DistributionReport, row: Row, index: Mapping[Probe, int]) -> dict[str, Any]:
    result = report.results.get(row.probe) if row.probe is not None else None
    target = row.probe.target if row.probe is not None else None
    primary = result.verdict.primary if result is not None else None
    data: dict[str, Any] = {
        "viewer_name": row.viewer_name,
        "behaviour": row.behaviour.label,
        "path_pattern": row.behaviour.path_pattern,
        "origin_id": row.origin_id,
        "origin_domain": row.origin.domain if row.origin else None,
        "role": row.role,
        "origin_group": row.group_id,
        "host_forwarded": row.host.forwarded,
        "sni": target.sni if target else None,
        "checked_name": row.checked_name,
        "port": target.port if target else None,
        "path": target.path if target else None,
        "result": index.get(row.probe) if row.probe is not None else None,
        "outcome": result.outcome if result is not None else None,
        "primary": primary.code if primary else None,
        "cause": result.verdict.cause if result is not None else None,
        "skipped": row.skipped,
    }
    failover = report.failover(row)
    if failover is not None:
        data["failover"] = failover
    return data


# Failures where CloudFront never gets an answer from the primary (AWS: "fails to connect", "times out").
_UNREACHED = ("dns.", "tcp.", "tls.handshake_timeout", "http.read_timeout")


def fails_over(result: TargetResult, criteria: Iterable[int]) -> tuple[bool, str]:
    """Would CloudFront try the secondary origin after this primary result? (origin failover page)"""
    primary = result.verdict.primary
    if primary is None or result.outcome == "ok":
        return False, "the primary answers; no failover"
    if primary.code.startswith(_UNREACHED):
        return True, f"CloudFront cannot reach the primary ({primary.code}): it tries the secondary"
    if result.outcome.isdigit() and int(result.outcome) in set(criteria):
        return True, f"the primary answers {result.outcome}, a failover status: CloudFront tries the secondary"
    return False, f"the primary answers {result.outcome}, not a failover status: the viewer gets it"


def rows_table(report: DistributionReport) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in ("name", "behaviour", "origin", "Host", "CloudFront checks", "outcome", "root cause"):
        table.add_column(column, overflow="fold")
    for row in report.plan.rows:
        result = report.results.get(row.probe) if row.probe is not None else None
        origin = row.origin_id + (f" ({row.role})" if row.group_id else "")
        if result is None:
            outcome, cause = Text("-", style="dim"), Text(row.skipped or "not probed", style="dim")
        else:
            style = "green" if not result.verdict.failed else "bold red"
            outcome = Text(result.outcome, style=style)
            cause = Text(result.verdict.primary.code if result.verdict.primary else "")
            failover = report.failover(row)
            if failover and failover["fails_over"]:
                cause.append(" -> fails over", style="yellow")
        table.add_row(row.viewer_name or "(distribution name)", row.behaviour.label, origin,
                      "forwarded" if row.host.forwarded else "origin", row.checked_name or "-", outcome, cause)
    return table


def render(report: DistributionReport, verbose: bool = False) -> Group:
    dist = report.dist
    head = Text()
    head.append(f"Distribution {dist.id or dist.source}", style="bold")
    head.append(f": {len(dist.aliases)} alias(es), {len(dist.origins)} origin(s), {len(dist.behaviours)} "
                f"behaviour(s), {len(report.plan.rows)} row(s), {len(report.results)} probe(s)")
    parts: list[RenderableType] = [head, rows_table(report), Text("")]
    shown = [f for f in report.config_findings if verbose or f.severity >= Severity.WARN]
    if shown:
        parts.append(Text("Configuration:", style="bold"))
        parts += [finding_block(f) for f in sorted(shown, key=lambda f: -f.severity)]
    fleet = [f for f in report.fleet_findings if verbose or f.severity >= Severity.WARN]
    if fleet:
        parts.append(Text("Across origins and names:", style="bold"))
        parts += [finding_block(f) for f in sorted(fleet, key=lambda f: -f.severity)]
    for result in report.ordered_results:
        if verbose or result.verdict.failed:
            parts.append(render_result(result, verbose=verbose))
    if not report.failed:
        parts.append(Text("CloudFront would serve every origin under every name.", style="bold green"))
    return Group(*parts)
