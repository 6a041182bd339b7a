"""Streaming parser for standard logging v2 JSON output: one JSON object per line, keys are field names."""

from __future__ import annotations

import json
from collections.abc import Iterable

from origin_doctor.logs import fields as f
from origin_doctor.logs.records import FailedRequest, Window
from origin_doctor.logs.summary import LogSummary


def _text(record: dict[str, object], name: str) -> str:
    raw = record.get(name)
    if raw is None:
        return ""
    return f.value(str(raw))


def _epoch(record: dict[str, object]) -> float:
    for name in f.TIME_FIELDS:
        if name in record:
            return f.epoch_of_timestamp(name, str(record[name]))
    return f.epoch_of_date_time(str(record["date"]), str(record["time"]))


def scan_json(lines: Iterable[bytes], source: str, summary: LogSummary, window: Window, first_line: int = 1) -> int:
    """Feed every line of one v2 JSON input into `summary`; returns the number of the last line read."""
    tally, bad = summary.tally, summary.bad
    lineno = first_line - 1
    for lineno, raw in enumerate(lines, first_line):  # noqa: B007 - lineno is returned
        tally.lines += 1
        line = raw.strip()
        if not line:
            tally.blank += 1
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            tally.bad += 1
            bad.add(source, lineno, "not UTF-8", raw)
            continue
        except ValueError:
            tally.bad += 1
            bad.add(source, lineno, "not a JSON object", raw)
            continue
        if not isinstance(record, dict) or "sc-status" not in record:
            tally.bad += 1
            bad.add(source, lineno, "JSON record has no sc-status", raw)
            continue
        try:
            epoch = _epoch(record)
        except (KeyError, ValueError):
            tally.bad += 1
            bad.add(source, lineno, "unparsable date/time", raw)
            continue
        if not window.contains(epoch):
            tally.outside_window += 1
            continue
        minute = int(epoch) // 60 * 60
        summary.requests_per_minute[minute] = summary.requests_per_minute.get(minute, 0) + 1
        tally.requests += 1
        status = _text(record, "sc-status")
        if not status.startswith("5"):
            continue
        result = _text(record, "x-edge-result-type")
        try:
            taken = float(_text(record, "time-taken") or 0)
        except ValueError:
            taken = 0.0
        summary.add_failure(FailedRequest(
            time=epoch,
            status=status,
            result_type=result,
            detailed_type=_text(record, "x-edge-detailed-result-type") or result or "(not logged)",
            request_id=_text(record, "x-edge-request-id"),
            host=f.decoded(str(record.get("x-host-header", "-"))),
            protocol=_text(record, "cs-protocol"),
            path=f.decoded(str(record.get("cs-uri-stem", "-"))),
            edge_location=_text(record, "x-edge-location"),
            method=_text(record, "cs-method"),
            time_taken=taken,
        ))  # fmt: skip
    return lineno
