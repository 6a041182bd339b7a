"""Helpers for the logs tests: fixture paths, a summary runner and a real nginx on loopback."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
error_log {root}/error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    log_format test '{log_format}';
    access_log {root}/access.log test;
    server {{
        listen 127.0.0.1:{port};
        server_name _;
        location /fail {{ return 502; }}
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


@contextmanager
def running_nginx(root: Path, log_format: str) -> Iterator[int]:
    """nginx in the foreground on a free loopback port; yields the port, stops nginx on exit."""
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port, log_format=log_format))
    process = subprocess.Popen(
        ["nginx", "-p", str(root), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start listening within 10 s") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()
