"""`origin-doctor serve`: watch a fleet between incidents as a Prometheus exporter."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import click

from origin_doctor.cli.options import build_options, probe_options
from origin_doctor.exporter import DEFAULT_PROBE_TIMEOUT, Exporter, parse_listen, read_targets


@click.command()
@click.option("--targets", "targets_file", required=True, metavar="FILE",
              help="The fleet: one target per line (name, name:port or URL); '#' starts a comment.")
@click.option("--interval", default=300.0, show_default=True, type=click.FloatRange(1, 86400),
              help="Seconds between scans (jittered by 10%; a scan never overlaps the next).")
@click.option("--listen", default="127.0.0.1:9109", show_default=True, metavar="HOST:PORT",
              help="Where to serve /metrics, /probe and /.")
@click.option("--allow-remote", is_flag=True, help="Allow --listen on a non-loopback address.")
@click.option("--concurrency", default=32, show_default=True, type=click.IntRange(1, 1024),
              help="Targets checked at once during a scan.")
@click.option("--probe-timeout", default=DEFAULT_PROBE_TIMEOUT, show_default=True, type=click.FloatRange(0.5, 300),
              help="Upper bound for one /probe (the scraper's timeout header lowers it).")
@probe_options
def serve(targets_file: str, interval: float, listen: str, allow_remote: bool, concurrency: int,
          probe_timeout: float, **probe: Any) -> None:
    """Rescan targets on an interval and export the results to Prometheus.

    Serves /metrics (the last scan), /probe?target=NAME (one check now, for targets
    Prometheus drives, as blackbox_exporter does) and / (the HTML report of the last scan).
    Listens on loopback unless --allow-remote is given. Stop with Ctrl-C or SIGTERM.

    \b
    Example:
        origin-doctor serve --targets fleet.txt --interval 300 --listen 127.0.0.1:9109
        curl -s 127.0.0.1:9109/metrics | grep origin_doctor_probe_success
    """
    host, port = parse_listen(listen, allow_remote)
    options = build_options(**probe)
    targets = read_targets(targets_file)
    exporter = Exporter(targets, options, interval=interval, concurrency=concurrency, probe_timeout=probe_timeout)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    bound_host, bound_port = exporter.start(host, port)
    previous = signal.signal(signal.SIGTERM, on_signal)
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(f"origin-doctor serve: {len(targets)} targets every {interval:g}s; "
               f"listening on http://{shown}:{bound_port}/", err=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        exporter.stop()
        click.echo("origin-doctor serve: stopped", err=True)
