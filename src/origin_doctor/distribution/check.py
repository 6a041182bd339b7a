"""Check a parsed distribution: Host decisions, static findings, the probes, then the findings that
explain probe results by the configuration."""

from __future__ import annotations

import importlib
from collections.abc import Collection, Iterable, Mapping

from origin_doctor.distribution.findings import result_findings, static_findings
from origin_doctor.distribution.model import Distribution, HeaderPolicy
from origin_doctor.distribution.plan import build_plan
from origin_doctor.distribution.policies import HostDecision, host_forwarding, managed_policy_ids
from origin_doctor.distribution.report import DistributionReport
from origin_doctor.distribution.run import run_probes
from origin_doctor.engine import CheckOptions
from origin_doctor.model import Finding
from origin_doctor.result import TargetResult


def custom_policy_ids(dist: Distribution) -> list[tuple[str, str]]:
    """(id, kind) of the policies the distribution uses that are not managed, so must come from
    files or the API; kind is "origin_request" or "cache"."""
    managed = managed_policy_ids()
    wanted: dict[tuple[str, str], None] = {}
    for behaviour in dist.behaviours:
        for policy_id, kind in ((behaviour.origin_request_policy_id, "origin_request"),
                                (behaviour.cache_policy_id, "cache")):
            if policy_id and policy_id not in managed:
                wanted.setdefault((policy_id, kind))
    return list(wanted)


def host_decisions(dist: Distribution, policies: Iterable[HeaderPolicy]) -> dict[int, HostDecision]:
    known = {p.id: p for p in policies}
    return {i: host_forwarding(b, known) for i, b in enumerate(dist.behaviours)}


async def check_distribution(dist: Distribution, policies: Iterable[HeaderPolicy], options: CheckOptions,
                             fixed_by_user: Collection[str],
                             unread_policies: Mapping[str, str] | None = None) -> DistributionReport:
    """`unread_policies`: custom policies the live API would not give us, and why."""
    decisions = host_decisions(dist, policies)
    plan = build_plan(dist, decisions, fixed_by_user)
    findings = static_findings(dist, decisions, unread_policies)
    results = await run_probes(plan.probes, options)
    findings += result_findings(plan, results)
    report = DistributionReport(dist, decisions, plan, results, findings)
    return DistributionReport(dist, decisions, plan, results, findings, fleet_findings(report.ordered_results))


def fleet_findings(results: list[TargetResult]) -> list[Finding]:
    """Cross-target findings over every probe (all targets of a distribution are one site).
    The fleet analysis is merged separately; until it is there, there are none."""
    try:
        fleet = importlib.import_module("origin_doctor.analyze.fleet")
    except ModuleNotFoundError:
        return []
    found: list[Finding] = list(fleet.fleet_findings(results))
    return found
