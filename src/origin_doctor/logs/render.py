"""The 'origin-doctor/logs/1' JSON document, and rich terminal tables drawn from that same document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from origin_doctor import __version__
from origin_doctor.logs.records import Window
from origin_doctor.logs.summary import LogSummary, iso

SCHEMA = "origin-doctor/logs/1"
TOP = 10


def build_document(
    summary: LogSummary,
    window: Window,
    generated_at: datetime,
    correlation: dict[str, object] | None = None,
    probe: list[dict[str, object]] | None = None,
) -> dict[str, Any]:
    """The whole result as plain data; `generated_at` is passed in so the document is reproducible."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "origin-doctor", "version": __version__},
        "generated_at": iso(generated_at.timestamp()),
        "window": {"since": iso(window.since), "until": iso(window.until)},
        **summary.to_dict(),
        "correlation": correlation,
        "probe": probe,
    }


class _PlainTable(Table):
    """Cells given as str are plain text: log content must never be read as rich markup."""

    def add_row(self, *renderables: RenderableType | None, **options: Any) -> None:
        super().add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in renderables), **options)


def _table(title: str, *columns: str) -> Table:
    table = _PlainTable(title=title, title_justify="left", show_edge=False, pad_edge=False, min_width=40)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _top(mapping: dict[str, int], limit: int = 3) -> str:
    return ", ".join(f"{k} {v}" for k, v in list(mapping.items())[:limit])


def _short_codes(codes: list[str]) -> str:
    """'tls.a, tls.b, tls.c, tls.d' -> 'tls.* (4)': long lists stay readable in a narrow column."""
    stages: dict[str, list[str]] = {}
    for code in codes:
        stages.setdefault(code.split(".", 1)[0], []).append(code)
    shown = [", ".join(group) if len(group) <= 3 else f"{stage}.* ({len(group)})" for stage, group in stages.items()]
    return ", ".join(shown) or "-"


def render(doc: dict[str, Any]) -> RenderableType:
    """Tables for a terminal; every number shown is also in the JSON document."""
    parts: list[RenderableType] = [_overview(doc)]
    types = doc["by_detailed_result_type"]
    if types:
        table = _table("5xx by x-edge-detailed-result-type", "type", "5xx", "status", "made by",
                       "origin saw it", "likely finding codes")  # fmt: skip
        meanings = Text()
        for row in types:
            codes = _short_codes(row["likely_codes"])
            if row["likely_codes"] and row["mapping_certainty"] == "inference":
                codes += " (inference)"
            table.add_row(row["type"], str(row["count"]), _top(row["statuses"]), row["generated_by"],
                          row["reached_origin"], codes)  # fmt: skip
            meanings.append(f"\n{row['type']}: ", style="bold")
            meanings.append(f"{row['meaning']} {row['note']}".rstrip())
            if row["example_request_ids"]:
                meanings.append(f" Example request id: {row['example_request_ids'][0]}", style="dim")
        parts.append(table)
        parts.append(meanings)
        hosts = _table("5xx by viewer host (x-host-header)", "host", "5xx", "by CloudFront", "types",
                       "protocols", "last seen")  # fmt: skip
        for row in doc["by_host"][:TOP]:
            hosts.add_row(row["host"], str(row["count"]), str(row["cdn_generated_5xx"]),
                          _top(row["by_detailed_result_type"], 2), _top(row["protocols"], 2),
                          row["last_seen"] or "-")  # fmt: skip
        parts.append(hosts)
        for title, key in (("by protocol", "by_protocol"), ("by edge location", "by_edge_location"),
                           ("by path", "by_path")):  # fmt: skip
            small = _table(f"5xx {title}", key.removeprefix("by_").replace("_", " "), "5xx")
            for item in doc[key][:TOP]:
                small.add_row(item["key"], str(item["count"]))
            parts.append(small)
        parts.append(_timeline(doc["series"]))
    if doc.get("correlation"):
        parts.append(_correlation(doc["correlation"]))
    if doc.get("probe") is not None:
        parts.append(_probe(doc["probe"]))
    elif doc["probe_candidates"]:
        names = ", ".join(row["host"] for row in doc["probe_candidates"][:TOP])
        parts.append(Text(f"Hosts with CloudFront-generated 5xx (candidates to probe): {names}"))
    parts.append(_bad_lines(doc["bad_lines"]))
    return Group(*parts)


def _overview(doc: dict[str, Any]) -> Text:
    lines, failures = doc["lines"], doc["failures"]
    text = Text()
    text.append(f"{len(doc['files'])} file(s), {lines['lines']} lines: {lines['requests']} requests, ")
    text.append(f"{lines['outside_window']} outside the time window, {lines['headers']} header, ")
    text.append(f"{lines['blank']} blank, {lines['bad']} bad\n")
    text.append(f"{failures['total_5xx']} answered 5xx", style="bold")
    text.append(f", {failures['cdn_generated_5xx']} generated by CloudFront itself")
    if failures["first_seen"]:
        text.append(f"; first {failures['first_seen']}, last {failures['last_seen']}")
    return text


def _timeline(series: dict[str, Any]) -> Table:
    table = _table(f"5xx per {series['bucket_seconds'] // 60} min (buckets with 5xx)", "bucket start",
                   "requests", "5xx", "types")  # fmt: skip
    shown = [b for b in series["buckets"] if b["5xx"]]
    for bucket in shown[:24]:
        types = {k: v for k, v in bucket["by_detailed_result_type"].items() if v}
        table.add_row(bucket["start"], str(bucket["requests"]), str(bucket["5xx"]), _top(types))
    if len(shown) > 24:
        table.caption = f"{len(shown) - 24} more buckets with 5xx in --json (series)"
    return table


def _correlation(corr: dict[str, Any]) -> Group:
    table = _table(f"Did the failed requests reach the origin? (by {corr['mode'].replace('_', ' ')})",
                   "host", "failed", "never reached origin", "reached, origin failed",
                   "reached, origin answered <500")  # fmt: skip
    for row in corr["by_host"][:TOP]:
        table.add_row(row["host"], str(row["failed"]), str(row["never_reached_origin"]),
                      str(row["reached_origin_failed_there"]), str(row["reached_origin_answered"]))  # fmt: skip
    parts: list[RenderableType] = [table, Text(corr["note"])]
    if corr.get("log_format_hint"):
        parts.append(Text("Add to nginx (http block):\n" + corr["log_format_hint"], style="bold"))
    bad = corr["origin_bad_lines"]
    if bad["count"]:
        parts.append(Text(f"origin log: {bad['count']} line(s) did not match the format, e.g. "
                          f"line {bad['examples'][0]['line']}: {bad['examples'][0]['text']}"))  # fmt: skip
    return Group(*parts)


def _probe(rows: list[dict[str, Any]]) -> Table:
    table = _table("Probe of hosts with CloudFront-generated 5xx", "host", "origin", "5xx in log",
                   "predicted", "cause", "fits log", "fix")  # fmt: skip
    fits = {True: "yes", False: "no", None: "-"}
    for row in rows:
        table.add_row(row["host"], row.get("origin") or "-", str(row.get("cdn_generated_5xx", "")),
                      str(row.get("outcome") or "-"), str(row.get("primary") or "-"),
                      fits[row.get("consistent_with_log")], row.get("fix") or "-")  # fmt: skip
    return table


def _bad_lines(bad: dict[str, Any]) -> RenderableType:
    if not bad["count"]:
        return Text("No bad lines.")
    reasons = "; ".join(f"{reason}: {n}" for reason, n in bad["by_reason"].items())
    text = Text(f"{bad['count']} bad line(s) ({reasons}); first {len(bad['examples'])}:", style="bold")
    for example in bad["examples"]:
        text.append(f"\n{example['file']}:{example['line']}: {example['reason']}", style="not bold")
        text.append("\n    " + example["text"].replace("\t", "\\t"), style="dim")
    return text
