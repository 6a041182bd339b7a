"""`origin-doctor scan FILE|-`: check every target of a fleet file as a bounded stream, with live
progress, JSON Lines as targets finish, a summary, and fleet findings across names and addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from origin_doctor.analyze.fleet import FleetAnalysis
from origin_doctor.cli.options import build_options, probe_options
from origin_doctor.engine import CheckOptions
from origin_doctor.errors import InputError, OriginDoctorError, UsageError
from origin_doctor.fleet_input import BadLine, FleetEntry, open_fleet
from origin_doctor.model import Severity, Target
from origin_doctor.report.fleet_terminal import Tally, render_summary
from origin_doctor.report.html import write_html
from origin_doctor.report.json import dumps, report_document
from origin_doctor.scan_workers import ForkedWorker, default_workers, fork_workers, scan_results, stop_forked

BAD_LINES_KEPT = 20
_EXIT_ON_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
# fleet-file key -> build_options keyword
_OPTION_NAMES = {"profile": "profile_name", "ssl_protocols": "ssl_protocols", "ca_bundle": "ca_bundle", "at": "at",
                 "warn_days": "warn_days", "connect_timeout": "connect_timeout",
                 "connect_attempts": "connect_attempts", "read_timeout": "read_timeout"}


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.0f} hosts/s" if speed else "- hosts/s", style="cyan")


@click.command()
@click.argument("fleet_file", metavar="FILE|-")
@click.option("--format", "fmt", type=click.Choice(["txt", "yaml", "csv"]), default=None,
              help="Input format (default: from the file name; '-' reads txt unless given).")
@probe_options
@click.option("--concurrency", type=click.IntRange(1, 10000), default=100, show_default=True,
              help="Address probes in flight at once (targets queued behind a busy address wait without a slot).")
@click.option("--per-address", type=click.IntRange(0, 10000), default=16, show_default=True,
              help="Probes of one origin address at once (0: no limit), to stay polite to shared origins.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: one per CPU, up to 8, for 500+ targets; else 1). "
                   "Targets are sharded by origin name; --concurrency and --per-address are split between them.")
@click.option("--json", "as_json", is_flag=True, help="Write exactly one JSON document (the whole report) to stdout.")
@click.option("--jsonl", "jsonl_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write one result per line to this file as each target finishes ('-': stdout).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a self-contained HTML report at the end (holds every result: for big fleets "
                   "prefer --jsonl).")
@click.option("--fail-on", type=click.Choice(["fail", "warn"]), default="fail", show_default=True,
              help="'warn': a target with warnings also counts as failing (exit 1), for CI gates.")
@click.option("--no-progress", is_flag=True, help="No live progress bar on stderr.")
def scan(fleet_file: str, fmt: str | None, concurrency: int, per_address: int, workers: int | None, as_json: bool,
         jsonl_path: Path | None, html_path: Path | None, fail_on: str, no_progress: bool, **probe: Any) -> None:
    """Check every target in FILE ('-': stdin) and compare names and addresses across the fleet.

    \b
    FILE formats:
      hosts.txt   one target per line as for `check` (name, name:port or URL), '#' comments,
                  optional key=value overrides after it: www.example.com origin=lb.example.com
      fleet.yaml  a list of targets, or {defaults: {...}, targets: [...]}; each target a string
                  or a mapping with target: and any of origin, port, host_header, path, websocket,
                  site, profile, ssl_protocols, ca_bundle, at, warn_days, connect_timeout,
                  connect_attempts, read_timeout, compare
      hosts.csv   a header row with a 'target' column and any of the keys above
    Every probing option below is the default for all targets; the file overrides it per target.

    \b
    A malformed entry prints `error: FILE:LINE: ...` at once and is skipped; the rest still runs.
    Exit codes: 0 every target would be served; 1 at least one target fails (or warns, with
    --fail-on warn); 2 usage or input error: bad flags, an unreadable file, or malformed entries
    when no target fails (a failing target wins: 1); 130/143 interrupted by SIGINT/SIGTERM (every
    finished --jsonl line is complete).

    \b
    Example:
        origin-doctor scan hosts.txt
        origin-doctor scan fleet.yaml --json > fleet-report.json
        origin-doctor scan hosts.csv --jsonl out.jsonl --concurrency 200
        origin-doctor scan hosts.txt --html fleet-report.html
        cat hosts.txt | origin-doctor scan - --fail-on warn
    """
    if as_json and jsonl_path is not None and str(jsonl_path) == "-":
        raise UsageError("--json and --jsonl - both write to stdout; choose one")
    base = build_options(**probe)
    fleet = open_fleet(fleet_file, fmt)
    stderr = Console(stderr=True, soft_wrap=False)
    run = _Scan(base, probe, stderr, Severity.WARN if fail_on == "warn" else Severity.FAIL)
    if fleet_file != "-":
        run.base_dir = Path(fleet_file).parent
    if html_path is not None:
        # Results go to a spool file as they finish, so the HTML is built once at the end.
        run.html_spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in the finally below
    jsonl: IO[str] | None = None
    if jsonl_path is not None:
        try:
            jsonl = sys.stdout if str(jsonl_path) == "-" else jsonl_path.open("w", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{jsonl_path}: cannot write ({exc.strerror or exc})") from exc
    forked = fork_workers(workers or (1 if probe.get("debug") else default_workers(fleet.total)))
    items = run.items(fleet.entries, fleet.source)
    try:
        code = asyncio.run(run.main(read_in_thread(items) if fleet_file == "-" else items, fleet.source, fleet.total,
                                    concurrency, per_address, forked, as_json, jsonl, show_progress=not no_progress))
        if html_path is not None:
            run.write_html(html_path)
    finally:
        stop_forked(forked)  # only those still running: a finished run has reaped its workers
        if jsonl is not None and jsonl is not sys.stdout:
            jsonl.close()
        if run.html_spool is not None:
            run.html_spool.close()
    sys.exit(code)


_T = TypeVar("_T")
_READ_AHEAD = 1024


async def read_in_thread(items: Iterator[_T]) -> AsyncIterator[_T]:
    """The items of a blocking iterator, read by a thread of their own: a pipe on stdin may pause
    for as long as its writer likes, and meanwhile the probes, the result lines and Ctrl-C must go
    on. The thread is a daemon, so an interrupted run does not wait for the pipe's next line."""
    loop = asyncio.get_running_loop()
    arrived: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()
    room = threading.Semaphore(_READ_AHEAD)

    def read() -> None:
        outcome: tuple[bool, Any] = (False, None)
        try:
            for item in items:
                room.acquire()
                loop.call_soon_threadsafe(arrived.put_nowait, (True, item))
        except BaseException as exc:  # noqa: BLE001 - handed to the event loop, which raises it
            outcome = (False, exc)
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(arrived.put_nowait, outcome)

    threading.Thread(target=read, name="fleet-input", daemon=True).start()
    while True:
        more, value = await arrived.get()
        if not more:
            if value is not None:
                raise value
            return
        room.release()
        yield value


def _readable(entries: Iterable[Any], source: str) -> Iterator[Any]:
    """The entries; a reader that breaks mid-file (an I/O error, say) is one input error."""
    iterator = iter(entries)
    while True:
        try:
            entry = next(iterator)
        except StopIteration:
            return
        except OriginDoctorError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the reader raises, the user gets one line
            raise InputError(f"{source}: cannot read the fleet file ({type(exc).__name__}: {exc})") from exc
        yield entry


def _end_document(first: bool, findings: list[Any]) -> None:
    """Close the --json document opened on stdout: the results array, then the fleet findings."""
    tail = dumps({"fleet_findings": [f.to_dict() for f in findings]})
    sys.stdout.write(("\n  ]," if not first else "],") + "\n" + tail[2:] + "\n")
    sys.stdout.flush()


class _Scan:
    """One scan run: per-target options, the tally, fleet analysis, and where results go."""

    def __init__(self, base: CheckOptions, probe: dict[str, Any], stderr: Console, fail_on: Severity) -> None:
        self.base = base
        self.probe = probe
        self.stderr = stderr
        self.tally = Tally(fail_on=fail_on)
        self.fleet = FleetAnalysis()
        self.bad_lines: list[str] = []
        self.bad_count = 0
        self._options: dict[tuple[tuple[str, Any], ...], CheckOptions | str] = {}
        self.progress: Progress | None = None
        self.base_dir = Path(".")  # a fleet file's relative ca_bundle paths start from its folder
        self.html_spool: IO[str] | None = None
        self.fleet_findings: list[Any] = []

    def items(self, entries: Any, source: str) -> Iterator[Target | tuple[Target, CheckOptions]]:
        for entry in _readable(entries, source):
            if isinstance(entry, BadLine):
                self._bad(str(entry))
                continue
            assert isinstance(entry, FleetEntry)
            if not entry.overrides:
                yield entry.target
                continue
            options = self._options_for(entry.overrides)
            if isinstance(options, str):
                self._bad(f"{source}:{entry.line}: {options}")
                continue
            yield entry.target, options

    def _options_for(self, overrides: tuple[tuple[str, Any], ...]) -> CheckOptions | str:
        """One CheckOptions per distinct set of overrides, so engine contexts are shared."""
        known = self._options.get(overrides)
        if known is None:
            kwargs = dict(self.probe)
            for key, value in overrides:
                if key == "compare":
                    kwargs["no_compare"] = not value
                else:
                    kwargs[_OPTION_NAMES[key]] = self.base_dir / value if key == "ca_bundle" else value
            try:
                known = build_options(**kwargs)
            except OriginDoctorError as exc:
                known = str(exc)
            self._options[overrides] = known
        return known

    def _bad(self, message: str) -> None:
        self.bad_count += 1
        if len(self.bad_lines) < BAD_LINES_KEPT:
            self.bad_lines.append(message)
        self.stderr.print(Text(f"error: {message}", style="red"), soft_wrap=True, highlight=False)

    async def main(self, items: Iterator[Target | tuple[Target, CheckOptions]]
                   | AsyncIterator[Target | tuple[Target, CheckOptions]], source: str, total: int | None,
                   concurrency: int, per_address: int, forked: list[ForkedWorker], as_json: bool,
                   jsonl: IO[str] | None,
                   show_progress: bool) -> int:
        started = time.perf_counter()
        caught: list[signal.Signals] = []
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in _EXIT_ON_SIGNAL:
            loop.add_signal_handler(sig, self._interrupt, caught, sig, task)
        doc_open = False
        if as_json:
            head = report_document([], self.base.profile.id, checked_at=self.base.now)
            opening = dumps({k: v for k, v in head.items() if k not in ("results", "fleet_findings")})
            sys.stdout.write(opening[:-2] + ',\n  "results": [')
            doc_open = True
        progress = Progress(TextColumn("[bold]scan[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("[red]{task.fields[failing]} failing[/]"), _RateColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(), console=self.stderr,
                            disable=not show_progress, transient=True)
        bar = progress.add_task(source, total=total, failing=0)
        self.progress = progress
        first = True
        try:
            with progress:
                async for result, line in scan_results(items, self.base, forked=forked, concurrency=concurrency,
                                                       per_address=per_address):
                    self.tally.add(result)
                    self.fleet.add(result)
                    if jsonl is not None:
                        jsonl.write(line + "\n")
                        jsonl.flush()
                    if self.html_spool is not None:
                        self.html_spool.write(line + "\n")
                    if as_json:
                        sys.stdout.write(("\n    " if first else ",\n    ") + line)
                        first = False
                    if show_progress:
                        progress.update(bar, advance=1, failing=self.tally.failing)
        except asyncio.CancelledError:
            if not caught or task is None:
                raise
            task.uncancel()
        except OriginDoctorError:
            if doc_open:  # the input broke mid-run: stdout still gets a whole document
                _end_document(first, [])
            raise
        finally:
            for sig in _EXIT_ON_SIGNAL:
                loop.remove_signal_handler(sig)
        findings = self.fleet.findings()
        self.fleet_findings = findings
        if doc_open:
            _end_document(first, findings)
        self.stderr.print(render_summary(self.tally, findings, elapsed_s=time.perf_counter() - started,
                                         bad_lines=self.bad_lines, bad_count=self.bad_count,
                                         interrupted=bool(caught)))
        if caught:
            return _EXIT_ON_SIGNAL[caught[0]]
        return self._exit_code(source, findings)

    def write_html(self, path: Path) -> None:
        if self.html_spool is None:
            return
        document = report_document([], self.base.profile.id, checked_at=self.base.now,
                                   fleet_findings=self.fleet_findings)
        self.html_spool.seek(0)
        document["results"] = [json.loads(line) for line in self.html_spool if line.strip()]
        write_html(document, path)

    def _exit_code(self, source: str, findings: list[Any]) -> int:
        if self.tally.done == 0:
            self.stderr.print(f"error: {source}: no target could be checked", highlight=False)
            return 2
        if self.tally.failing or any(f.severity >= self.tally.fail_on for f in findings):
            return 1
        return 2 if self.bad_count else 0

    def _interrupt(self, caught: list[signal.Signals], sig: signal.Signals, task: asyncio.Task[Any] | None) -> None:
        if not caught and task is not None:
            caught.append(sig)
            task.cancel()

