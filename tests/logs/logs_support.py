"""Helpers for the logs tests: fixture paths, a summary runner and a real nginx on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from origin_doctor.lab.nginx import NginxServer, ServerBlock, free_ports
from origin_doctor.logs.records import Window
from origin_doctor.logs.render import build_document
from origin_doctor.logs.sources import scan_all
from origin_doctor.logs.summary import LogSummary

FIXTURES = Path(__file__).parent / "fixtures"


def summarise(*paths: Path | str, window: Window | None = None, **options: Any) -> dict[str, Any]:
    """Run the streaming summary over `paths` and return the JSON document as a dict."""
    from datetime import UTC, datetime

    summary = LogSummary(bucket_seconds=options.pop("bucket_seconds", 300))
    scan_all([str(p) for p in paths], summary, window or Window(), **options)
    return build_document(summary, window or Window(), datetime(2026, 11, 29, tzinfo=UTC))


@contextmanager
def running_nginx(root: Path, log_format: str) -> Iterator[int]:
    """The lab's nginx on a free loopback port (plain HTTP) logging every request to
    root/access.log in `log_format`; yields the port, stops nginx on exit."""
    port = free_ports(1)[0]
    log = f"access_log {root / 'access.log'} test;"
    server = ServerBlock(port, ssl=False, locations=(("/fail", f"return 502;\n{log}"),
                                                     ("/", f'return 200 "ok\\n";\n{log}')))
    with NginxServer(root, [server], http_directives=(f"log_format test '{log_format}';",)):
        yield port
