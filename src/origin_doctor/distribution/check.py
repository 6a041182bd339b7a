"""Check a parsed distribution: Host decisions, static findings, the probes, then the findings that
explain probe results by the configuration."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from origin_doctor.distribution.checks import result_findings, static_findings
from origin_doctor.distribution.model import Behaviour, Distribution, HeaderPolicy
from origin_doctor.distribution.plan import build_plan
from origin_doctor.distribution.policies import HostDecision, host_forwarding, managed_policy_ids
from origin_doctor.distribution.report import DistributionReport
from origin_doctor.distribution.run import run_probes
from origin_doctor.engine import CheckOptions


def custom_policy_ids(dist: Distribution) -> list[str]:
    """Policy ids the distribution uses that are not managed (so must come from files or the API)."""
    managed = managed_policy_ids()
    wanted: dict[str, None] = {}
    for behaviour in dist.behaviours:
        for policy_id in _policy_ids(behaviour):
            if policy_id not in managed:
                wanted.setdefault(policy_id)
    return list(wanted)


def _policy_ids(behaviour: Behaviour) -> Iterable[str]:
    return [p for p in (behaviour.origin_request_policy_id, behaviour.cache_policy_id) if p]


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
    return DistributionReport(dist, decisions, plan, results, findings)
