"""Streaming 5xx summary: counts by result type, host, protocol, path, edge and time bucket.

Memory is bounded: distinct keys per dimension, examples and the kept failed requests are capped;
whatever exceeds a cap is still counted (under '(other)' or an overflow counter).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from origin_doctor.logs.records import BadLines, FailedRequest, LineTally
from origin_doctor.logs.result_types import describe, generated_by_cdn

KEY_CAP = 10_000  # distinct paths/hosts/edges kept per dimension
EXAMPLES = 5  # request ids kept per host and per result type
FAILED_REQUEST_CAP = 500_000  # failed requests kept for correlation with the origin log
OTHER = "(other)"


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class CappedCounter(Counter[str]):
    """A Counter that stops learning new keys at `cap`; later keys are counted under '(other)'."""

    def __init__(self, cap: int = KEY_CAP) -> None:
        super().__init__()
        self.cap = cap

    def bump(self, key: str) -> None:
        if key in self or len(self) < self.cap:
            self[key] += 1
        else:
            self[OTHER] += 1


@dataclass
class Span:
    """Count, first/last seen and example request ids for one group of failures."""

    count: int = 0
    first: float | None = None
    last: float | None = None
    examples: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, failure: FailedRequest) -> None:
        self.count += 1
        self.statuses[failure.status] += 1
        if self.first is None or failure.time < self.first:
            self.first = failure.time
        if self.last is None or failure.time > self.last:
            self.last = failure.time
        if len(self.examples) < EXAMPLES and failure.request_id:
            self.examples.append(failure.request_id)

    def to_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "statuses": dict(self.statuses.most_common()),
            "first_seen": iso(self.first),
            "last_seen": iso(self.last),
            "example_request_ids": list(self.examples),
        }


@dataclass
class HostSpan(Span):
    cdn_generated: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    protocols: Counter[str] = field(default_factory=Counter)


class LogSummary:
    """Accumulates what the parsers feed it; `to_dict` renders the 'origin-doctor/logs/1' body."""

    def __init__(self, bucket_seconds: int = 300, failed_request_cap: int = FAILED_REQUEST_CAP) -> None:
        """`failed_request_cap` bounds the failed requests kept for correlation and probing; 0 keeps none
        (the summary alone needs none, so its memory stays flat however many 5xx there are)."""
        if bucket_seconds < 60 or bucket_seconds % 60:
            raise ValueError("bucket_seconds must be a positive multiple of 60")
        self.bucket_seconds = bucket_seconds
        self.tally = LineTally()
        self.bad = BadLines()
        self.files: list[dict[str, object]] = []
        self.requests_per_minute: dict[int, int] = {}
        self.all_failures = Span()
        self.by_type: dict[str, Span] = {}
        self.by_host: dict[str, HostSpan] = {}
        self.by_protocol: Counter[str] = Counter()
        self.by_path = CappedCounter()
        self.by_edge = CappedCounter()
        self.failures_per_bucket: dict[int, Counter[str]] = {}
        self.failed_requests: dict[str, FailedRequest] = {}
        self.failed_request_cap = failed_request_cap
        self.failed_requests_not_kept = 0

    def add_failure(self, failure: FailedRequest) -> None:
        kind = failure.detailed_type
        if kind not in self.by_type and len(self.by_type) >= KEY_CAP:
            kind = OTHER  # a log with endless made-up type values must not grow memory
        self.all_failures.add(failure)
        span = self.by_type.get(kind)
        if span is None:
            span = self.by_type[kind] = Span()
        span.add(failure)
        host = self._host_span(failure.host or "(no host)")
        host.add(failure)
        host.by_type[kind] += 1
        host.protocols[failure.protocol or "?"] += 1
        if generated_by_cdn(kind):
            host.cdn_generated += 1
        self.by_protocol[failure.protocol or "?"] += 1
        self.by_path.bump(failure.path or "(none)")
        self.by_edge.bump(failure.edge_location or "(none)")
        bucket = int(failure.time) // self.bucket_seconds * self.bucket_seconds
        self.failures_per_bucket.setdefault(bucket, Counter())[kind] += 1
        if len(self.failed_requests) < self.failed_request_cap and failure.request_id:
            self.failed_requests[failure.request_id] = failure
        elif self.failed_request_cap:
            self.failed_requests_not_kept += 1

    def _host_span(self, host: str) -> HostSpan:
        span = self.by_host.get(host)
        if span is None:
            if len(self.by_host) >= KEY_CAP:
                host = OTHER
                span = self.by_host.get(host)
            if span is None:
                span = self.by_host[host] = HostSpan()
        return span

    def probe_candidates(self) -> list[dict[str, object]]:
        """Viewer hosts with CloudFront-generated 5xx, most failures first: what `--probe` checks."""
        rows = [
            {
                "host": host,
                "cdn_generated_5xx": span.cdn_generated,
                "total_5xx": span.count,
                "by_detailed_result_type": {k: n for k, n in span.by_type.most_common() if generated_by_cdn(k)},
                "protocols": dict(span.protocols.most_common()),
            }
            for host, span in self.by_host.items()
            if span.cdn_generated and host not in (OTHER, "(no host)")
        ]
        rows.sort(key=lambda row: (-int(str(row["cdn_generated_5xx"])), str(row["host"])))
        return rows

    def series(self) -> dict[str, object]:
        """Per-bucket totals and 5xx by detailed result type, in time order, gaps filled with zeros."""
        size = self.bucket_seconds
        totals: Counter[int] = Counter()
        for minute, count in self.requests_per_minute.items():
            totals[minute // size * size] += count
        keys = set(totals) | set(self.failures_per_bucket)
        types = sorted(self.by_type, key=lambda k: -self.by_type[k].count)
        buckets: list[dict[str, object]] = []
        if keys:
            start, end = min(keys), max(keys)
            sparse = (end - start) // size > 100_000  # far-apart stragglers: list only buckets with data
            steps = sorted(keys) if sparse else list(range(start, end + size, size))
            for bucket in steps:
                failures = self.failures_per_bucket.get(bucket, Counter())
                buckets.append({
                    "start": iso(bucket),
                    "requests": totals.get(bucket, 0),
                    "5xx": sum(failures.values()),
                    "by_detailed_result_type": {k: failures.get(k, 0) for k in types},
                })  # fmt: skip
        return {"bucket_seconds": size, "types": types, "buckets": buckets}

    def to_dict(self) -> dict[str, object]:
        def counted(counter: Counter[str], limit: int = 50) -> list[dict[str, object]]:
            return [{"key": k, "count": n} for k, n in counter.most_common(limit)]

        types = sorted(self.by_type.items(), key=lambda kv: -kv[1].count)
        hosts = sorted(self.by_host.items(), key=lambda kv: -kv[1].count)
        cdn_generated = sum(span.cdn_generated for span in self.by_host.values())
        return {
            "files": self.files,
            "lines": self.tally.to_dict(),
            "bad_lines": self.bad.to_dict(),
            "requests": self.tally.requests,
            "failures": {
                "total_5xx": self.all_failures.count,
                "cdn_generated_5xx": cdn_generated,
                **self.all_failures.to_dict(),
            },
            "by_detailed_result_type": [
                {"type": kind, **span.to_dict(), **describe(kind).to_dict()} for kind, span in types
            ],
            "by_host": [
                {
                    "host": host,
                    **span.to_dict(),
                    "cdn_generated_5xx": span.cdn_generated,
                    "by_detailed_result_type": dict(span.by_type.most_common()),
                    "protocols": dict(span.protocols.most_common()),
                }
                for host, span in hosts
            ],
            "by_protocol": counted(self.by_protocol),
            "by_path": counted(self.by_path),
            "by_edge_location": counted(self.by_edge),
            "series": self.series(),
            "probe_candidates": self.probe_candidates(),
            "failed_requests_not_kept": self.failed_requests_not_kept,
        }
