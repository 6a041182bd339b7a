"""`origin-doctor check TARGET`: diagnose one origin as CloudFront connects to it."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click
from rich.console import Console

from origin_doctor.cli.options import build_options, probe_options
from origin_doctor.cli.ws_options import apply_ws_options, ws_options
from origin_doctor.engine import check_target
from origin_doctor.report.html import write_html
from origin_doctor.report.json import dumps, report_document
from origin_doctor.report.terminal import render_result
from origin_doctor.targets import parse_target


@click.command()
@click.argument("target")
@click.option("--origin", default=None, help="The origin domain CloudFront connects to (default: the target's name).")
@click.option("--host-header", default=None,
              help="The distribution forwards this Host: it becomes SNI and the name checked on the certificate.")
@click.option("--websocket", "websocket", default=None, metavar="PATH",
              help="Check the WebSocket upgrade on PATH instead of a plain GET (as a wss:// URL does).")
@ws_options
@probe_options
@click.option("--json", "as_json", is_flag=True, help="Write exactly one JSON document to stdout.")
@click.option("--html", "html_path", default=None, metavar="PATH", help="Also write a self-contained HTML report.")
@click.option("-v", "--verbose", is_flag=True, help="Also show the chain as sent and info findings.")
def check(target: str, origin: str | None, host_header: str | None, websocket: str | None,
          ws_protocol: tuple[str, ...], ws_header: tuple[str, ...], ws_send: str | None, as_json: bool,
          html_path: str | None, verbose: bool, **probe: Any) -> None:
    """Diagnose one origin exactly as CloudFront would connect to it.

    TARGET is a name, name:port, or an https:// or wss:// URL (port and path are used).
    A wss:// URL, or a name with --websocket PATH, checks the WebSocket upgrade as CloudFront
    sends it to the origin (see docs/websocket.md).

    \b
    Example:
        origin-doctor check ws.example.com
        origin-doctor check https://shop.example.com/health --origin lb.example.com --host-header shop.example.com
        origin-doctor check ws.example.com --json > report.json
        origin-doctor check wss://ws.example.com/socket --ws-protocol chat --ws-send hello
        origin-doctor check ws.example.com --html report.html
    """
    options = build_options(**probe)
    parsed = parse_target(target, origin=origin, host_header=host_header, websocket=websocket)
    parsed = apply_ws_options(parsed, ws_protocol, ws_header, ws_send)
    result = asyncio.run(check_target(parsed, options))
    doc = report_document([result], options.profile.id, checked_at=options.now)
    if html_path is not None:
        write_html(doc, html_path)
    if as_json:
        sys.stdout.write(dumps(doc) + "\n")
    else:
        Console(soft_wrap=False).print(render_result(result, verbose=verbose))
    sys.exit(1 if result.verdict.failed else 0)
