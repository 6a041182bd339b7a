"""Did CloudFront's failed requests reach the origin? Match them against the origin's access log.

With `$http_x_amz_cf_id` in the origin log the match is exact (CloudFront's x-edge-request-id);
without it only path and time can be compared, which says "maybe", never "certainly".
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from origin_doctor.logs.nginx_format import RECOMMENDED_NGINX_LINE, OriginFormat
from origin_doctor.logs.records import BadLines, FailedRequest
from origin_doctor.logs.summary import iso

MATCH_WINDOW_SECONDS = 5.0


@dataclass
class _HostCounts:
    failed: int = 0
    never_reached_origin: int = 0
    reached_origin_failed_there: int = 0  # the origin logged it with a 5xx
    reached_origin_answered: int = 0  # the origin logged it below 500; CloudFront failed afterwards
    never_reached_by_type: Counter[str] = field(default_factory=Counter)
    examples_never_reached: list[str] = field(default_factory=list)

    def to_dict(self, host: str) -> dict[str, object]:
        return {
            "host": host,
            "failed": self.failed,
            "never_reached_origin": self.never_reached_origin,
            "reached_origin_failed_there": self.reached_origin_failed_there,
            "reached_origin_answered": self.reached_origin_answered,
            "never_reached_by_detailed_result_type": dict(self.never_reached_by_type.most_common()),
            "example_request_ids_never_reached": self.examples_never_reached,
        }


@dataclass
class OriginLogStats:
    lines: int = 0
    parsed: int = 0
    with_cf_id: int = 0
    first: float | None = None
    last: float | None = None
    bad: BadLines = field(default_factory=BadLines)


class _PathIndex:
    """Failed requests by path with sorted end times, for the time-and-path fallback."""

    def __init__(self, failures: Iterable[FailedRequest]) -> None:
        by_path: dict[str, list[tuple[float, str, float]]] = {}
        self.longest = 0.0
        for failure in failures:
            by_path.setdefault(failure.path, []).append((failure.time, failure.request_id, failure.time_taken))
            self.longest = max(self.longest, failure.time_taken)
        self.rows = {path: sorted(rows) for path, rows in by_path.items()}
        self.times = {path: [row[0] for row in rows] for path, rows in self.rows.items()}

    def match(self, path: str, when: float, status: int | None, found: dict[str, int | None]) -> None:
        """Mark failures on `path` whose request could have been running at `when`."""
        times = self.times.get(path)
        if times is None:
            return
        rows = self.rows[path]
        low = bisect.bisect_left(times, when - MATCH_WINDOW_SECONDS)
        high = bisect.bisect_right(times, when + MATCH_WINDOW_SECONDS + self.longest)
        for end, request_id, taken in rows[low:high]:
            if end - taken - MATCH_WINDOW_SECONDS <= when <= end + MATCH_WINDOW_SECONDS:
                found[request_id] = status


def correlate(
    failures: dict[str, FailedRequest],
    origin_lines: Iterable[bytes],
    source: str,
    origin_format: OriginFormat,
    stats: OriginLogStats | None = None,
) -> dict[str, object]:
    """Stream the origin log once; returns the 'correlation' part of the logs document."""
    stats = stats or OriginLogStats()
    seen_status: dict[str, int | None] = {}
    near: dict[str, int | None] = {}
    index = _PathIndex(failures.values())
    for lineno, raw in enumerate(origin_lines, 1):
        stats.lines += 1
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            stats.bad.add(source, lineno, "not UTF-8", raw)
            continue
        if not line:
            continue
        request = origin_format.parse(line)
        if request is None:
            stats.bad.add(source, lineno, "does not match --origin-format", raw)
            continue
        stats.parsed += 1
        if request.time is not None:
            stats.first = request.time if stats.first is None else min(stats.first, request.time)
            stats.last = request.time if stats.last is None else max(stats.last, request.time)
            index.match(request.path, request.time, request.status, near)
        if request.cf_id:
            stats.with_cf_id += 1
            if request.cf_id in failures:
                seen_status[request.cf_id] = request.status
    by_id = origin_format.has_cf_id and stats.with_cf_id > 0
    hosts: dict[str, _HostCounts] = {}
    for request_id, failure in failures.items():
        counts = hosts.setdefault(failure.host or "(no host)", _HostCounts())
        counts.failed += 1
        matched = seen_status if by_id else near
        reached = request_id in matched
        if not reached:
            counts.never_reached_origin += 1
            counts.never_reached_by_type[failure.detailed_type] += 1
            if len(counts.examples_never_reached) < 5:
                counts.examples_never_reached.append(request_id)
            continue
        status = matched.get(request_id)
        if status is not None and status < 500:
            counts.reached_origin_answered += 1
        else:
            counts.reached_origin_failed_there += 1
    return {
        "mode": "request_id" if by_id else "time_and_path",
        "origin_log": source,
        "origin_format": origin_format.text,
        "origin_lines": stats.lines,
        "origin_lines_parsed": stats.parsed,
        "origin_lines_with_cf_id": stats.with_cf_id,
        "origin_first_seen": iso(stats.first),
        "origin_last_seen": iso(stats.last),
        "origin_bad_lines": stats.bad.to_dict(),
        "match_window_seconds": None if by_id else MATCH_WINDOW_SECONDS,
        "note": _note(origin_format, stats, by_id),
        "log_format_hint": None if by_id else RECOMMENDED_NGINX_LINE,
        "by_host": [
            counts.to_dict(host) for host, counts in sorted(hosts.items(), key=lambda kv: -kv[1].failed)
        ],
    }


def _note(origin_format: OriginFormat, stats: OriginLogStats, by_id: bool) -> str:
    if by_id:
        return (
            "Matched by request id: CloudFront's x-edge-request-id against the origin's X-Amz-Cf-Id "
            "(AWS documents the id as the same string; that the origin-request header carries it "
            "verbatim is the usual assumption)."
        )
    why = (
        "the origin log format has no $http_x_amz_cf_id"
        if not origin_format.has_cf_id
        else "no origin line carries an X-Amz-Cf-Id value"
    )
    return (
        f"Correlation is by time and path only ({why}): 'reached' means an origin request for the same "
        f"path within {MATCH_WINDOW_SECONDS:g} s of the failure, which may be another request. "
        "Add the request id to nginx's log format for an exact answer (log_format_hint)."
    )
