"""`origin-doctor logs`: what CloudFront logged, whether the origin ever saw it, which hosts to probe."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console

from origin_doctor.cli.options import build_options, probe_options
from origin_doctor.errors import UsageError
from origin_doctor.logs.correlate import OriginLogStats, correlate
from origin_doctor.logs.fields import parse_field_list
from origin_doctor.logs.nginx_format import OriginFormat
from origin_doctor.logs.probe import parse_origin_map, probe_candidates
from origin_doctor.logs.records import BadLines, Window
from origin_doctor.logs.render import build_document, render
from origin_doctor.logs.sources import FORMATS, expand, guarded_lines, open_binary, scan_all
from origin_doctor.logs.summary import FAILED_REQUEST_CAP, LogSummary
from origin_doctor.report.html import write_html

_DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _instant(flag: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(f"{flag} {text!r}: use ISO 8601, e.g. 2026-11-20T00:00Z") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _bucket(text: str) -> int:
    match = _DURATION.match(text.strip().lower())
    seconds = int(match.group(1)) * _UNIT[match.group(2)] if match else 0
    if seconds < 60 or seconds % 60:
        raise UsageError(f"--bucket {text!r}: give whole minutes, e.g. 1m, 5m, 1h")
    return seconds


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Log format; auto reads '#Fields' headers and spots v2 JSON lines.")
@click.option("--fields", default=None, help="Column list for v2 'plain' output (default: the standard order).")
@click.option("--realtime-fields", default=None,
              help="Field list of real-time log records, in the order configured (comma separated).")
@click.option("--delimiter", type=click.Choice(["tab", "space"]), default="tab", show_default=True,
              help="Field separator of v2 plain / real-time records.")
@click.option("--since", default=None, help="Only requests at or after this time (ISO 8601, UTC if no zone).")
@click.option("--until", default=None, help="Only requests before this time.")
@click.option("--bucket", default="5m", show_default=True, help="Time bucket of the series (whole minutes).")
@click.option("--origin-log", default=None, help="The origin's access log (nginx), plain or gzip.")
@click.option("--origin-format", default="combined", show_default=True,
              help="nginx log_format string of --origin-log, or a preset: combined, recommended.")
@click.option("--max-bad-examples", default=20, show_default=True, type=click.IntRange(0, 10_000),
              help="Bad lines kept as examples (all are counted).")
@click.option("--probe", is_flag=True, help="Then diagnose the origin of each host with CloudFront-generated 5xx.")
@click.option("--origin", "origins", multiple=True, metavar="HOST=ORIGIN[:PORT]",
              help="With --probe: the origin behind a viewer host (default: the host itself). Repeatable.")
@probe_options
@click.option("--json", "as_json", is_flag=True, help="Write one JSON document (origin-doctor/logs/1).")
@click.option("--html", "html_path", default=None, metavar="PATH",
              help="Also write a self-contained HTML report with the 5xx chart.")
def logs(
    paths: tuple[str, ...],
    fmt: str,
    fields: str | None,
    realtime_fields: str | None,
    delimiter: str,
    since: str | None,
    until: str | None,
    bucket: str,
    origin_log: str | None,
    origin_format: str,
    max_bad_examples: int,
    probe: bool,
    origins: tuple[str, ...],
    as_json: bool,
    html_path: str | None,
    **probe_settings: Any,
) -> None:
    """Summarise the 5xx in CloudFront logs and say whether the origin ever saw them.

    PATHS are files, directories or globs, plain or gzip; '-' reads stdin. Standard logs (with
    '#Fields' headers), standard logging v2 JSON and plain output, and real-time log records
    (--realtime-fields) are read as a stream.

    \b
    Examples:
        origin-doctor logs cloudfront/*.gz
        origin-doctor logs cloudfront/*.gz --html 5xx.html
        origin-doctor logs cloudfront/ --origin-log /var/log/nginx/access.log \\
            --origin-format recommended
        origin-doctor logs kinesis.log --realtime-fields timestamp,c-ip,sc-status,...
        origin-doctor logs cloudfront/ --since 2026-11-20T00:00Z --probe \\
            --origin www.example.com=origin.example.com

    \b
    Exit codes: 0 no 5xx made by CloudFront itself (and, with --probe, every
                probed origin would be served), 1 otherwise, 2 usage or input error.
    """
    window = Window(_instant("--since", since), _instant("--until", until))
    if window.since is not None and window.until is not None and window.since >= window.until:
        raise UsageError("--since must be before --until")
    columns: tuple[str, ...] = ()
    if realtime_fields is not None:
        if fmt not in ("auto", "realtime"):
            raise UsageError("--realtime-fields goes with --format realtime (or auto)")
        fmt, columns = "realtime", parse_field_list(realtime_fields)
    elif fields is not None:
        columns = parse_field_list(fields)
    if fmt in ("realtime",) and not columns:
        raise UsageError("--format realtime needs --realtime-fields (the configured field list)")
    if columns and "sc-status" not in columns:
        raise UsageError("the field list needs sc-status")
    parsed_format = OriginFormat(origin_format) if origin_log is not None else None
    if origin_log is None and origin_format != "combined":
        raise UsageError("--origin-format needs --origin-log")
    if origins and not probe:
        raise UsageError("--origin goes with --probe")
    origin_map = parse_origin_map(origins)
    check_options = build_options(**probe_settings) if probe else None

    # Failed requests are kept only when something needs them after the scan.
    keep = FAILED_REQUEST_CAP if origin_log is not None or probe else 0
    summary = LogSummary(bucket_seconds=_bucket(bucket), failed_request_cap=keep)
    summary.bad = BadLines(keep=max_bad_examples)
    separator = b"\t" if delimiter == "tab" else b" "
    scan_all(expand(paths), summary, window, fmt, columns, separator)

    correlation = None
    if origin_log is not None and parsed_format is not None:
        stats = OriginLogStats(bad=BadLines(keep=max_bad_examples))
        with open_binary(origin_log) as (stream, _compressed):
            lines = guarded_lines(stream, origin_log, stats.bad)
            correlation = correlate(summary.failed_requests, lines, origin_log, parsed_format, stats)
        correlation["failed_requests_not_kept"] = summary.failed_requests_not_kept

    probed = None
    if check_options is not None:
        probed = probe_candidates(
            summary.probe_candidates(), origin_map, summary.failed_requests.values(), check_options
        )
    document = build_document(summary, window, datetime.now(UTC), correlation, probed)
    if html_path is not None:
        write_html(document, html_path)
    if as_json:
        click.echo(json.dumps(document, indent=2))
    else:
        Console(file=sys.stdout, soft_wrap=False).print(render(document))
    probe_failed = any(row["primary"] is not None for row in probed or [])
    if document["failures"]["cdn_generated_5xx"] or probe_failed:
        sys.exit(1)
