"""The small values every log parser produces: failed requests, the time window and bad-line tallies.

Parsers count every line they read and keep a record only for 5xx answers, so memory follows the
number of failures (capped), never the size of the input.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

BAD_LINE_EXAMPLES = 20
EXAMPLE_TEXT_CHARS = 160


@dataclass(frozen=True, slots=True)
class FailedRequest:
    """One request CloudFront answered with a 5xx, with the fields the summary and correlation use."""

    time: float  # epoch seconds (UTC) when CloudFront finished the response
    status: str
    result_type: str  # x-edge-result-type
    detailed_type: str  # x-edge-detailed-result-type, or the result type when the log lacks it
    request_id: str
    host: str  # x-host-header: the name the viewer asked for
    protocol: str  # cs-protocol: http, https, ws, wss, grpcs
    path: str
    edge_location: str
    method: str
    time_taken: float


@dataclass(frozen=True, slots=True)
class Window:
    """Half-open time window [since, until) in epoch seconds; None means unbounded."""

    since: float | None = None
    until: float | None = None

    def contains(self, epoch: float) -> bool:
        if self.since is not None and epoch < self.since:
            return False
        return not (self.until is not None and epoch >= self.until)

    def wire_bounds(self) -> tuple[bytes, bytes]:
        """Bounds as 'YYYY-MM-DD<TAB>HH:MM:SS' bytes, comparable with a standard log line's start."""
        low = _wire(self.since) if self.since is not None else b""
        high = _wire(self.until) if self.until is not None else b"\xff"
        return low, high


def _wire(epoch: float) -> bytes:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d\t%H:%M:%S").encode()


@dataclass(frozen=True, slots=True)
class BadLine:
    source: str
    line: int
    reason: str
    text: str


@dataclass
class BadLines:
    """Counts lines we could not use, by reason, and keeps the first few as examples."""

    keep: int = BAD_LINE_EXAMPLES
    count: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    examples: list[BadLine] = field(default_factory=list)

    def add(self, source: str, line: int, reason: str, raw: bytes | str = b"") -> None:
        self.count += 1
        self.by_reason[reason] += 1
        if len(self.examples) < self.keep:
            text = raw if isinstance(raw, str) else raw.decode("utf-8", "backslashreplace")
            text = text.rstrip("\r\n")
            if len(text) > EXAMPLE_TEXT_CHARS:
                text = text[:EXAMPLE_TEXT_CHARS] + "..."
            self.examples.append(BadLine(source, line, reason, text))

    def to_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "by_reason": dict(self.by_reason.most_common()),
            "examples": [
                {"file": b.source, "line": b.line, "reason": b.reason, "text": b.text} for b in self.examples
            ],
        }


@dataclass
class LineTally:
    """Every line read lands in exactly one of these counters (nothing is dropped silently)."""

    lines: int = 0
    requests: int = 0  # data lines parsed and inside the window
    outside_window: int = 0
    headers: int = 0  # '#Version', '#Fields' and other comment lines
    blank: int = 0
    bad: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "lines": self.lines,
            "requests": self.requests,
            "outside_window": self.outside_window,
            "headers": self.headers,
            "blank": self.blank,
            "bad": self.bad,
        }
