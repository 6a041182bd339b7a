"""Prometheus metric families over one immutable set of results (what `origin-doctor serve` exports).

Labels stay bounded: target names, addresses, catalogue codes, chain positions and phases; never
evidence, summaries or anything else a remote origin chooses.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from origin_doctor.inputs import parse_iso_time
from origin_doctor.model import Finding
from origin_doctor.result import TargetResult

PREFIX = "origin_doctor_"
SERVED_STATUS = 200  # predicted_status when the viewer would get the origin's answer (outcome "ok")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One finished scan. Never mutated: the exporter swaps in a new one when the next scan ends."""

    results: tuple[TargetResult, ...]
    started: dt.datetime
    duration_seconds: float
    judged_at: dt.datetime  # the clock certificates were judged against (pinned with --at, else `started`)
    profile: str
    fleet_findings: tuple[Finding, ...] = ()


def target_labels(results: tuple[TargetResult, ...]) -> list[str]:
    """The `target` label of each result: its name, or name@origin:port when the name repeats."""
    names = Counter(r.target.name for r in results)
    return [
        r.target.name if names[r.target.name] == 1 else f"{r.target.name}@{r.target.origin}:{r.target.port}"
        for r in results
    ]




def predicted_status(result: TargetResult) -> int:
    outcome = result.verdict.outcome
    return int(outcome) if outcome.isdigit() else SERVED_STATUS


def not_after_by_position(result: TargetResult) -> dict[int, dt.datetime]:
    """Earliest not-after per position of the chain as sent, over every address. Read from the chain
    itself, so it is there even when validation failed (expired, untrusted, name mismatch)."""
    earliest: dict[int, dt.datetime] = {}
    for address in result.addresses:
        for position, cert in enumerate((address.tls or {}).get("chain") or ()):
            moment = parse_iso_time(cert.get("not_after"))
            if moment is not None and (position not in earliest or moment < earliest[position]):
                earliest[position] = moment
    return earliest


def _phases(address: Any) -> Iterator[tuple[str, float]]:
    tls = address.tls or {}
    http = address.http or {}
    for phase, millis in (("dns", address.dns_ms), ("connect", address.tcp_ms),
                          ("tls", tls.get("handshake_ms")), ("http", http.get("ttfb_ms"))):
        if isinstance(millis, int | float):
            yield phase, millis / 1000


def result_families(results: tuple[TargetResult, ...], judged_at: dt.datetime) -> list[Metric]:
    """Per-target families; shared by /metrics (the whole fleet) and /probe (one target)."""
    success = GaugeMetricFamily(PREFIX + "probe_success",
                                "1 when this address of the target has no failing finding.",
                                labels=["target", "address"])
    status = GaugeMetricFamily(PREFIX + "predicted_status",
                               "What the viewer would get: 502, 504, the origin's own 5xx, or 200 when served.",
                               labels=["target"])
    primary = GaugeMetricFamily(PREFIX + "primary_finding",
                                "The root cause of a failing target (1), with its AWS cause number or '-'.",
                                labels=["target", "code", "cause"])
    found = GaugeMetricFamily(PREFIX + "finding", "A finding present on the target (1).",
                              labels=["target", "code", "severity"])
    not_after = GaugeMetricFamily(PREFIX + "cert_not_after_timestamp_seconds",
                                  "Not-after of the certificate at this position of the chain as sent "
                                  "(earliest over the addresses); present even when validation fails.",
                                  labels=["target", "position"])
    days = GaugeMetricFamily(PREFIX + "cert_expiry_days",
                             "Days until the first certificate in the chain as sent expires (negative: expired).",
                             labels=["target"])
    phases = GaugeMetricFamily(PREFIX + "phase_duration_seconds", "Duration of one pipeline phase.",
                               labels=["target", "address", "phase"])
    tls_version = GaugeMetricFamily(PREFIX + "tls_version_info", "The TLS version negotiated (1).",
                                    labels=["target", "address", "version"])
    for label, result in zip(target_labels(results), results, strict=True):
        if result.addresses:
            for address in result.addresses:
                success.add_metric([label, address.address], 0 if address.failed else 1)
                for phase, seconds in _phases(address):
                    phases.add_metric([label, address.address, phase], seconds)
                version = (address.tls or {}).get("version")
                if version:
                    tls_version.add_metric([label, address.address, str(version)], 1)
        else:  # nothing to connect to (DNS): the target as a whole
            success.add_metric([label, ""], 0 if result.verdict.failed else 1)
        status.add_metric([label], predicted_status(result))
        if result.verdict.primary is not None:
            cause = result.verdict.cause
            primary.add_metric([label, result.verdict.primary.code, str(cause) if cause else "-"], 1)
        for code, severity in sorted({(f.code, f.severity) for f in result.findings}):
            found.add_metric([label, code, severity.label], 1)
        expiries = not_after_by_position(result)
        for position, moment in sorted(expiries.items()):
            not_after.add_metric([label, str(position)], moment.timestamp())
        if expiries:
            days.add_metric([label], round((min(expiries.values()) - judged_at).total_seconds() / 86400, 3))
    return [success, status, primary, found, not_after, days, phases, tls_version]


def fleet_families(snapshot: Snapshot) -> list[Metric]:
    fleet = GaugeMetricFamily(PREFIX + "fleet_finding",
                              "A finding across targets of one site (e.g. fleet.inconsistent_chain) (1).",
                              labels=["subject", "code", "severity"])
    for subject, code, severity in sorted({(f.subject, f.code, f.severity) for f in snapshot.fleet_findings}):
        fleet.add_metric([subject, code, severity.label], 1)
    failing = GaugeMetricFamily(PREFIX + "targets_failing", "Targets the CDN would not serve, last run.")
    failing.add_metric([], sum(1 for r in snapshot.results if r.verdict.failed))
    total = GaugeMetricFamily(PREFIX + "targets", "Targets checked in the last run.")
    total.add_metric([], len(snapshot.results))
    last = GaugeMetricFamily(PREFIX + "last_run_timestamp_seconds", "When the last finished scan started.")
    last.add_metric([], snapshot.started.timestamp())
    duration = GaugeMetricFamily(PREFIX + "scan_duration_seconds", "How long the last finished scan took.")
    duration.add_metric([], snapshot.duration_seconds)
    return [fleet, failing, total, last, duration]


@dataclass
class ScanCounters:
    scans: int = 0
    errors: int = 0


class SnapshotCollector(Collector):
    """Renders whatever snapshot `latest()` returns at scrape time; nothing carries over between scrapes."""

    def __init__(self, latest: Callable[[], Snapshot | None], counters: ScanCounters) -> None:
        self._latest = latest
        self._counters = counters

    def collect(self) -> Iterator[Metric]:
        scans = CounterMetricFamily(PREFIX + "scans", "Scans finished since the exporter started.")
        scans.add_metric([], self._counters.scans)
        errors = CounterMetricFamily(PREFIX + "scan_errors", "Scans that ended in an internal error.")
        errors.add_metric([], self._counters.errors)
        yield scans
        yield errors
        snapshot = self._latest()
        if snapshot is None:
            return
        yield from fleet_families(snapshot)
        yield from result_families(snapshot.results, snapshot.judged_at)

