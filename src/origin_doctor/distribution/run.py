"""Run a plan's probes through the engine: one engine run per distinct per-origin profile, side by side."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from origin_doctor.distribution.plan import Probe, ProbeSettings
from origin_doctor.engine import CheckOptions, check_targets
from origin_doctor.result import TargetResult


def options_for(base: CheckOptions, settings: ProbeSettings) -> CheckOptions:
    """The base options (command line) with one origin's settings applied to the profile."""
    profile = base.profile
    protocols = settings.ssl_protocols
    if protocols:
        # The profile may not offer every version the API accepts (e.g. a TLS 1.2+ profile and TLSv1).
        allowed = set(profile.tls_versions) | set(profile.optional_versions)
        protocols = tuple(v for v in protocols if v in allowed) or None
    narrowed = profile.with_overrides(
        ssl_protocols=protocols, connect_timeout=settings.connect_timeout,
        connect_attempts=settings.connect_attempts, read_timeout=settings.read_timeout,
    )
    # The distribution chose these versions; comparing with another CloudFront policy would mislead.
    compare = base.compare_profiles and not protocols
    return replace(base, profile=narrowed, compare_profiles=compare)


async def run_probes(probes: tuple[Probe, ...], base: CheckOptions,
                     concurrency: int = 32) -> dict[Probe, TargetResult]:
    by_settings: dict[ProbeSettings, list[Probe]] = {}
    for probe in probes:
        by_settings.setdefault(probe.settings, []).append(probe)
    results: dict[Probe, TargetResult] = {}

    async def run_group(settings: ProbeSettings, group: list[Probe]) -> None:
        wanted = {probe.target: probe for probe in group}
        async for result in check_targets([p.target for p in group], options_for(base, settings), concurrency):
            results[wanted[result.target]] = result

    await asyncio.gather(*(run_group(s, g) for s, g in by_settings.items()))
    return results
