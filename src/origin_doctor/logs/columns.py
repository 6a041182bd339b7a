"""Streaming parser for column logs: standard (W3C '#Fields' header), v2 plain and real-time records.

The hot loop touches each line once with cheap byte operations and fully decodes only 5xx lines.
A '#Fields' line anywhere in a file replaces the column layout from the next line on.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass

from origin_doctor.logs import fields as f
from origin_doctor.logs.records import FailedRequest, Window
from origin_doctor.logs.summary import LogSummary


@dataclass(frozen=True, slots=True)
class Layout:
    """Which column holds what; built from a '#Fields' header or a given field list."""

    names: tuple[str, ...]
    separator: bytes = b"\t"

    @property
    def separators(self) -> int:
        return len(self.names) - 1

    def index(self, name: str) -> int | None:
        try:
            return self.names.index(name)
        except ValueError:
            return None

    @property
    def fast_time(self) -> bool:
        """Standard logs start with 'date<TAB>time': time filtering can compare raw bytes."""
        return self.names[:2] == ("date", "time") and self.separator == b"\t"

    def problem(self) -> str | None:
        """Why lines in this layout cannot be used, or None."""
        if "sc-status" not in self.names:
            return "field list has no sc-status"
        if not ({"date", "time"} <= set(self.names) or any(t in self.names for t in f.TIME_FIELDS)):
            return "field list has no date/time or timestamp"
        return None


def layout_from_header(line: bytes) -> Layout:
    text = line.decode("utf-8", "replace").split(":", 1)[1]
    return Layout(tuple(text.split()))


class _Columns:
    """Column indexes of one layout, resolved once per layout change."""

    def __init__(self, layout: Layout) -> None:
        ix = layout.index
        self.layout = layout
        self.status = ix("sc-status")
        self.date, self.time = ix("date"), ix("time")
        self.stamp_name = next((t for t in f.TIME_FIELDS if t in layout.names), "")
        self.stamp = ix(self.stamp_name) if self.stamp_name else None
        self.result = ix("x-edge-result-type")
        self.detailed = ix("x-edge-detailed-result-type")
        self.request_id = ix("x-edge-request-id")
        self.host = ix("x-host-header")
        self.protocol = ix("cs-protocol")
        self.path = ix("cs-uri-stem")
        self.edge = ix("x-edge-location")
        self.method = ix("cs-method")
        self.taken = ix("time-taken")

    def epoch(self, parts: list[bytes]) -> float:
        if self.date is not None and self.time is not None:
            return f.epoch_of_date_time(parts[self.date].decode(), parts[self.time].decode())
        assert self.stamp is not None
        return f.epoch_of_timestamp(self.stamp_name, parts[self.stamp].decode())

    def failure(self, line: bytes, epoch: float) -> FailedRequest:
        parts = line.decode("utf-8").split(self.layout.separator.decode())

        def get(index: int | None) -> str:
            # Interned: thousands of kept failures then share one copy of each host, type, status...
            return sys.intern(f.value(parts[index])) if index is not None else ""

        result = get(self.result)
        taken = get(self.taken)
        try:
            time_taken = float(taken) if taken else 0.0
        except ValueError:
            time_taken = 0.0
        return FailedRequest(
            time=epoch,
            status=get(self.status),
            result_type=result,
            detailed_type=get(self.detailed) or result or "(not logged)",
            request_id=get(self.request_id),
            host=sys.intern(f.decoded(parts[self.host])) if self.host is not None else "",
            protocol=get(self.protocol),
            path=f.decoded(parts[self.path]) if self.path is not None else "",
            edge_location=get(self.edge),
            method=get(self.method),
            time_taken=time_taken,
        )


def scan_columns(
    lines: Iterable[bytes],
    source: str,
    summary: LogSummary,
    window: Window,
    layout: Layout | None,
    first_line: int = 1,
) -> int:
    """Feed every line of one input into `summary`; returns the number of the last line read.

    `layout` is the given field list (v2 plain, real-time) or None for standard logs, where a
    '#Fields' header must come first. Bad lines are counted in `summary.bad`, never raised.
    """
    tally, bad = summary.tally, summary.bad
    low, high = window.wire_bounds()
    minute_of: dict[bytes, int] = {}  # 'YYYY-MM-DD\tHH:MM' -> epoch minute (fast path cache)
    per_minute = summary.requests_per_minute
    cols = _Columns(layout) if layout is not None else None
    problem = layout.problem() if layout is not None else None
    lineno = first_line - 1
    for lineno, raw in enumerate(lines, first_line):  # noqa: B007 - lineno is returned
        tally.lines += 1
        if raw[:1] == b"#":
            tally.headers += 1
            if raw.startswith(b"#Fields:"):
                new = layout_from_header(raw.rstrip(b"\r\n"))
                new = Layout(new.names, layout.separator if layout is not None else b"\t")
                cols, problem = _Columns(new), new.problem()
                if problem:
                    bad.add(source, lineno, f"unusable #Fields header: {problem}", raw)
            continue
        line = raw.rstrip(b"\r\n")
        if not line:
            tally.blank += 1
            continue
        if cols is None or problem:
            tally.bad += 1
            bad.add(source, lineno, problem or "data line before any #Fields header", raw)
            continue
        layout_now = cols.layout
        found = line.count(layout_now.separator)
        if found != layout_now.separators:
            tally.bad += 1
            bad.add(source, lineno, f"{found + 1} fields, header says {layout_now.separators + 1}", raw)
            continue
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                tally.bad += 1
                bad.add(source, lineno, "not UTF-8", raw)
                continue
        if layout_now.fast_time:
            stamp = line[:19]
            if stamp < low or stamp >= high:
                tally.outside_window += 1
                continue
            key = line[:16]
            minute = minute_of.get(key)
            if minute is None:
                try:
                    minute = f.epoch_of_minute(key.decode())
                except ValueError:
                    tally.bad += 1
                    bad.add(source, lineno, "unparsable date/time", raw)
                    continue
                minute_of[key] = minute
            assert cols.status is not None
            status = line.split(b"\t", cols.status + 1)[cols.status]
            if status[:1] == b"5":
                seconds = line[17:19]
                if not seconds.isdigit():
                    tally.bad += 1
                    bad.add(source, lineno, "unparsable date/time", raw)
                    continue
                summary.add_failure(cols.failure(line, minute + int(seconds)))
            per_minute[minute] = per_minute.get(minute, 0) + 1
            tally.requests += 1
            continue
        parts = line.split(layout_now.separator)
        try:
            epoch = cols.epoch(parts)
        except (ValueError, UnicodeDecodeError):
            tally.bad += 1
            bad.add(source, lineno, "unparsable date/time", raw)
            continue
        if not window.contains(epoch):
            tally.outside_window += 1
            continue
        minute = int(epoch) // 60 * 60
        per_minute[minute] = per_minute.get(minute, 0) + 1
        tally.requests += 1
        assert cols.status is not None
        if parts[cols.status][:1] == b"5":
            summary.add_failure(cols.failure(line, epoch))
    return lineno
