"""`origin-doctor serve`: rescan a fleet on a jittered interval (never two scans at once) and serve
the latest results: /metrics (Prometheus, our own registry), /probe?target= (one check, in the
style of blackbox_exporter) and / (the HTML report of the last run).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import random
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from origin_doctor.analyze.fleet import fleet_findings
from origin_doctor.engine import CheckOptions, check_target, check_targets
from origin_doctor.errors import OriginDoctorError, UsageError
from origin_doctor.metrics import ScanCounters, Snapshot, SnapshotCollector, result_families
from origin_doctor.model import Finding, Target
from origin_doctor.report.html import render_html
from origin_doctor.report.json import report_document
from origin_doctor.targets import parse_target

JITTER = 0.1  # each wait is the interval +-10%, so many exporters do not scan in step
TIMEOUT_OFFSET = 0.5  # seconds kept back from the scraper's timeout to answer in time (as blackbox does)
DEFAULT_PROBE_TIMEOUT = 30.0
MAX_TARGET_TEXT = 512
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def valid_host(name: str) -> bool:
    """A DNS name or an IP literal: what /probe accepts as an origin (no markup, no spaces)."""
    try:
        ipaddress.ip_address(name.strip("[]"))
        return True
    except ValueError:
        pass
    labels = name.rstrip(".").split(".")
    return 0 < len(name) <= 253 and all(_LABEL.match(label) for label in labels)


def parse_listen(text: str, allow_remote: bool) -> tuple[str, int]:
    """'HOST:PORT' or '[V6]:PORT'; anything but loopback needs `allow_remote`."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]]+):(\d{1,5})", text.strip())
    if not match:
        raise UsageError(f"--listen {text!r}: use HOST:PORT, e.g. 127.0.0.1:9109 or [::1]:9109")
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if port > 65535:
        raise UsageError(f"--listen {text!r}: port {port} is out of range")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not allow_remote:
        raise UsageError(f"--listen {text!r} is not a loopback address; add --allow-remote to expose the "
                         "exporter beyond this machine")
    return host, port


def read_targets(path: str) -> list[Target]:
    """The targets of a fleet file in any format `scan` reads (text, YAML, CSV).

    The exporter runs every target with the same probing options, so per-target option
    overrides are refused at start rather than silently ignored.
    """
    from origin_doctor.errors import InputError
    from origin_doctor.fleet_input import BadLine, open_fleet

    targets: list[Target] = []
    for entry in open_fleet(path).entries:
        if isinstance(entry, BadLine):
            raise InputError(str(entry))
        if entry.overrides:
            keys = ", ".join(key for key, _ in entry.overrides)
            raise InputError(f"{path}:{entry.line}: serve applies one set of probe options to every target; "
                             f"move {keys} to the command line or use scan")
        targets.append(entry.target)
    if not targets:
        raise InputError(f"{path}: no targets in the file")
    return targets


def _fleet_findings(results: Sequence[Any]) -> tuple[Finding, ...]:
    return tuple(fleet_findings(results))


class _OneShot(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Any:
        return iter(self._families)


class Exporter:
    """The scan loop (its own thread and event loop) and the HTTP server (a thread per request)."""

    def __init__(self, targets: Sequence[Target], options: CheckOptions, *, interval: float,
                 concurrency: int = 32, probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
                 log: Callable[[str], None] | None = None) -> None:
        self.targets = tuple(targets)
        self.options = options
        self.interval = interval
        self.concurrency = concurrency
        self.probe_timeout = probe_timeout
        self.counters = ScanCounters()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(SnapshotCollector(lambda: self._latest, self.counters))
        self._latest: Snapshot | None = None
        self._page: tuple[Snapshot | None, bytes] | None = None
        self._log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self._stopping = threading.Event()
        self._scanned = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scan_task: asyncio.Task[None] | None = None
        self._scan_thread: threading.Thread | None = None
        self._server: ThreadingHTTPServer | None = None
        self._server_thread: threading.Thread | None = None

    @property
    def latest(self) -> Snapshot | None:
        return self._latest

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self, host: str, port: int) -> tuple[str, int]:
        """Bind, then start scanning and serving; returns the bound address (port 0 picks one)."""
        self._server = _server_for(host, port, self)
        loop_ready = threading.Event()
        self._scan_thread = threading.Thread(target=self._run_scans, args=(loop_ready,), name="scans", daemon=True)
        self._scan_thread.start()
        loop_ready.wait(10)
        self._server_thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                               name="http", daemon=True)
        self._server_thread.start()
        return self.address

    def wait_for_scan(self, count: int = 1, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        with self._scanned:
            while self.counters.scans + self.counters.errors < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._scanned.wait(left)
        return True

    def stop(self, timeout: float = 10) -> None:
        """Stop serving and cancel a scan in flight; returns within about `timeout` seconds."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._loop is not None and self._scan_task is not None:
            self._loop.call_soon_threadsafe(self._scan_task.cancel)
        for thread in (self._server_thread, self._scan_thread):
            if thread is not None:
                thread.join(timeout)

    # -- scanning -----------------------------------------------------------------------------

    def _run_scans(self, loop_ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._scan_task = loop.create_task(self._scan_forever())
            loop_ready.set()
            loop.run_until_complete(self._scan_task)
        except asyncio.CancelledError:
            pass
        finally:
            loop_ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _scan_forever(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self._latest = await self.scan()
                self.counters.scans += 1
            except Exception as exc:  # noqa: BLE001 - a bug of ours must not stop the exporter
                self.counters.errors += 1
                self._log(f"origin-doctor serve: scan failed: {type(exc).__name__}: {exc}")
            with self._scanned:
                self._scanned.notify_all()
            wait = self.interval * random.uniform(1 - JITTER, 1 + JITTER) - (time.monotonic() - started)
            await asyncio.sleep(max(wait, 0.0))

    async def scan(self) -> Snapshot:
        started = dt.datetime.now(dt.UTC)
        clock = time.monotonic()
        results = [r async for r in check_targets(self.targets, self.options, concurrency=self.concurrency)]
        order = {id(t): i for i, t in enumerate(self.targets)}
        results.sort(key=lambda r: order.get(id(r.target), 0))
        return Snapshot(
            results=tuple(results), started=started, duration_seconds=round(time.monotonic() - clock, 3),
            judged_at=self.options.now or started, profile=self.options.profile.id,
            fleet_findings=_fleet_findings(results),
        )

    # -- pages ----------------------------------------------------------------------------------

    def metrics_page(self) -> bytes:
        return generate_latest(self.registry)

    def status_page(self) -> bytes:
        snapshot = self._latest
        cached = self._page
        if cached is not None and cached[0] is snapshot:
            return cached[1]
        if snapshot is None:
            document = report_document([], self.options.profile.id)
            title = "origin-doctor serve: the first scan is still running"
        else:
            document = report_document(snapshot.results, snapshot.profile, generated_at=snapshot.started,
                                       fleet_findings=snapshot.fleet_findings, checked_at=snapshot.judged_at)
            title = f"origin-doctor serve: last scan {document['generated_at']}"
        page = render_html(document, title).encode("utf-8")
        self._page = (snapshot, page)
        return page

    def probe_target(self, text: str) -> Target:
        """The listed target of that name, else any host, host:port or URL; UsageError when bad."""
        text = text.strip()
        for target in self.targets:
            if target.name == text:
                return target
        if len(text) > MAX_TARGET_TEXT:
            raise UsageError("target is too long")
        target = parse_target(text)
        if not valid_host(target.origin):
            raise UsageError(f"target {text!r}: not a host name, host:port or URL")
        return target

    def probe_page(self, target: Target, scrape_timeout: float | None) -> bytes:
        budget = self.probe_timeout if scrape_timeout is None else min(self.probe_timeout,
                                                                       scrape_timeout - TIMEOUT_OFFSET)
        budget = max(budget, 0.1)
        profile = self.options.profile
        options = replace(self.options, profile=profile.with_overrides(
            connect_timeout=max(min(profile.connect_timeout, budget / 3), 0.05),
            read_timeout=max(min(profile.read_timeout, budget / 3), 0.05),
        ), dns_timeout=min(self.options.dns_timeout, budget / 3))
        started = time.monotonic()
        judged_at = self.options.now or dt.datetime.now(dt.UTC)
        try:
            result = asyncio.run(asyncio.wait_for(check_target(target, options), budget))
            families = result_families((result,), judged_at)
            timed_out = 0
        except TimeoutError:
            families, timed_out = [], 1
            failed = GaugeMetricFamily("origin_doctor_probe_success", "1 when the target would be served.",
                                       labels=["target", "address"])
            failed.add_metric([target.name, ""], 0)
            families.append(failed)
        extra = [
            ("probe_duration_seconds", "How long the probe took.", time.monotonic() - started),
            ("probe_timeout_seconds", "The probe's time budget (scrape timeout minus an offset).", budget),
            ("probe_timed_out", "1 when the probe ran out of time before a verdict.", timed_out),
        ]
        for name, text, value in extra:
            family = GaugeMetricFamily("origin_doctor_" + name, text)
            family.add_metric([], value)
            families.append(family)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_OneShot(families))
        return generate_latest(registry)


class _Handler(BaseHTTPRequestHandler):
    exporter: Exporter
    server_version = "origin-doctor"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        url = urllib.parse.urlsplit(self.path)
        try:
            if url.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, self.exporter.metrics_page())
            elif url.path == "/probe":
                self._probe(urllib.parse.parse_qs(url.query))
            elif url.path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", self.exporter.status_page())
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics, /probe?target=NAME or /\n")
        except BrokenPipeError:
            pass

    def _probe(self, query: dict[str, list[str]]) -> None:
        names = query.get("target", [])
        if len(names) != 1 or not names[0].strip():
            self._send(400, "text/plain; charset=utf-8", b"bad request: give exactly one target=NAME\n")
            return
        header = self.headers.get("X-Prometheus-Scrape-Timeout-Seconds")
        try:
            scrape_timeout = float(header) if header is not None else None
            if scrape_timeout is not None and not scrape_timeout > 0:
                raise ValueError
        except ValueError:
            self._send(400, "text/plain; charset=utf-8",
                       b"bad request: X-Prometheus-Scrape-Timeout-Seconds must be a positive number\n")
            return
        try:
            target = self.exporter.probe_target(names[0])
        except OriginDoctorError as exc:
            self._send(400, "text/plain; charset=utf-8", f"bad request: {exc}\n".encode())
            return
        self._send(200, CONTENT_TYPE_LATEST, self.exporter.probe_page(target, scrape_timeout))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass  # scrapes every few seconds would drown the scan messages


def _server_for(host: str, port: int, exporter: Exporter) -> ThreadingHTTPServer:
    handler = type("Handler", (_Handler,), {"exporter": exporter})
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family, "daemon_threads": True})
    try:
        server: ThreadingHTTPServer = server_class((host, port), handler)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return server
