"""A real nginx run from a private prefix: config rendering from `ServerBlock` data, start with a
bounded wait for every listen port, and a bounded stop. Usable as a sync or async context manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

START_TIMEOUT = 5.0
STOP_TIMEOUT = 3.0


class NginxError(RuntimeError):
    """nginx is missing, rejects its config, or does not come up or go down in time."""


class NginxPortInUse(NginxError):
    """A listen port was taken between choosing it and nginx binding it; pick new ports and retry."""


@dataclass(frozen=True, slots=True)
class ServerBlock:
    """One `server {}`: where it listens, how it speaks TLS, and what its locations answer.

    `locations` maps a location prefix to the directives inside it. TLS knobs left at None use
    nginx's defaults.
    """

    port: int
    server_name: str = "_"
    address: str = "127.0.0.1"
    ssl: bool = True
    default_server: bool = False
    certificate: Path | None = None
    certificate_key: Path | None = None
    protocols: tuple[str, ...] | None = None
    ciphers: str | None = None
    ecdh_curve: str | None = None
    client_ca: Path | None = None  # set: `ssl_verify_client on` against this CA file
    reject_handshake: bool = False
    conf_commands: tuple[tuple[str, str], ...] = ()
    locations: tuple[tuple[str, str], ...] = (("/", 'return 200 "ok\\n";'),)


def respond(status: int, body: str | None = None) -> str:
    """Location body answering with a fixed status (and text)."""
    if body is None:
        return f"return {status};"
    return f'return {status} "{_escape(body)}";'


def websocket_proxy(backend_port: int, backend_address: str = "127.0.0.1") -> str:
    """Location body proxying HTTP/1.1 and WebSocket upgrades to a local backend."""
    return (
        f"proxy_pass http://{backend_address}:{backend_port};\n"
        "proxy_http_version 1.1;\n"
        "proxy_set_header Upgrade $http_upgrade;\n"
        "proxy_set_header Connection $connection_upgrade;\n"
        "proxy_set_header Host $host;\n"
        "proxy_connect_timeout 5s;\n"
        "proxy_read_timeout 60s;"
    )


def render_config(prefix: Path, servers: Sequence[ServerBlock], *, master_process: bool = False,
                  http_directives: Sequence[str] = ()) -> str:
    """The whole nginx.conf: runs in the foreground, every path inside `prefix`. `http_directives`
    go into the http block as they are (a `log_format`, say; `access_log` belongs in a location)."""
    _check_listeners(servers)
    temp = prefix / "temp"
    lines = [
        "daemon off;",
        f"master_process {'on' if master_process else 'off'};",
        "worker_processes 1;",
        f"pid {prefix / 'nginx.pid'};",
        f"lock_file {prefix / 'nginx.lock'};",
        f"error_log {prefix / 'error.log'} warn;",
        "events { worker_connections 512; }",
        "http {",
        "    access_log off;",
        "    default_type text/plain;",
        "    server_names_hash_bucket_size 128;",
        "    keepalive_timeout 5s;",
        *(f"    {kind}_temp_path {temp / kind};" for kind in _TEMP_KINDS),
        "    map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
        *(f"    {directive}" for directive in http_directives),
    ]
    for server in servers:
        lines.extend("    " + line for line in _render_server(server))
    lines.append("}")
    return "\n".join(lines) + "\n"


_TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def _render_server(server: ServerBlock) -> list[str]:
    listen = f"listen {server.address}:{server.port}"
    if server.ssl:
        listen += " ssl"
    if server.default_server:
        listen += " default_server"
    out = ["server {", f"    {listen};", f"    server_name {server.server_name};"]
    directives: list[str] = []
    if server.reject_handshake:
        directives.append("ssl_reject_handshake on;")
    if server.certificate is not None:
        directives.append(f"ssl_certificate {server.certificate};")
    if server.certificate_key is not None:
        directives.append(f"ssl_certificate_key {server.certificate_key};")
    if server.protocols is not None:
        directives.append(f"ssl_protocols {' '.join(server.protocols)};")
    if server.ciphers is not None:
        directives.append(f"ssl_ciphers {server.ciphers};")
    if server.ecdh_curve is not None:
        directives.append(f"ssl_ecdh_curve {server.ecdh_curve};")
    if server.client_ca is not None:
        directives.append("ssl_verify_client on;")
        directives.append(f"ssl_client_certificate {server.client_ca};")
    directives.extend(f"ssl_conf_command {name} {value};" for name, value in server.conf_commands)
    out.extend("    " + line for line in directives)
    for prefix, body in server.locations:
        out.append(f"    location {prefix} {{")
        out.extend("        " + line for line in body.splitlines())
        out.append("    }")
    out.append("}")
    return out


def _check_listeners(servers: Sequence[ServerBlock]) -> None:
    by_listener: dict[tuple[str, int], list[ServerBlock]] = {}
    for server in servers:
        by_listener.setdefault((server.address, server.port), []).append(server)
    for (address, port), group in by_listener.items():
        if len({s.ssl for s in group}) > 1:
            raise ValueError(f"{address}:{port} mixes ssl and plain server blocks")
        if sum(s.default_server for s in group) > 1:
            raise ValueError(f"{address}:{port} has more than one default_server")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass
class NginxServer:
    """nginx serving `servers` from `prefix_dir` (created if missing)."""

    prefix_dir: Path
    servers: Sequence[ServerBlock] = ()
    master_process: bool = False
    binary: str = "nginx"
    http_directives: Sequence[str] = ()
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def conf_path(self) -> Path:
        return self.prefix_dir / "nginx.conf"

    @property
    def error_log(self) -> Path:
        return self.prefix_dir / "error.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def ports(self) -> list[tuple[str, int]]:
        return sorted({(s.address, s.port) for s in self.servers})

    def write_config(self) -> Path:
        self.prefix_dir.mkdir(parents=True, exist_ok=True)
        for kind in _TEMP_KINDS:
            (self.prefix_dir / "temp" / kind).mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(render_config(self.prefix_dir, self.servers, master_process=self.master_process,
                                                http_directives=self.http_directives))
        return self.conf_path

    def check(self) -> None:
        """`nginx -t` on the rendered config; raises NginxError with nginx's own message."""
        self.write_config()
        result = subprocess.run(
            [*self._command(), "-t", "-q"], capture_output=True, timeout=START_TIMEOUT, check=False
        )
        if result.returncode != 0:
            raise NginxError(f"nginx rejects its config: {result.stderr.decode(errors='replace').strip()}")

    def start(self) -> None:
        if self._process is not None:
            raise NginxError("nginx is already running")
        self.write_config()
        (self.prefix_dir / "nginx.pid").unlink(missing_ok=True)
        self.error_log.unlink(missing_ok=True)
        console = (self.prefix_dir / "console.log").open("wb")
        try:
            self._process = subprocess.Popen(
                self._command(), stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            console.close()
        try:
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGQUIT (graceful), then SIGKILL; bounded by STOP_TIMEOUT in total."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGQUIT)
            try:
                process.wait(timeout=STOP_TIMEOUT - 1.0)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=1.0)
        else:
            process.wait()

    def __del__(self) -> None:
        # Last resort for a caller that never called stop(): never leave an nginx running.
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1.0)

    def _command(self) -> list[str]:
        binary = shutil.which(self.binary)
        if binary is None:
            raise NginxError(
                f"nginx binary {self.binary!r} not found on PATH; install it (Debian: apt-get install nginx-light)"
            )
        return [binary, "-p", f"{self.prefix_dir}/", "-c", str(self.conf_path), "-e", str(self.error_log)]

    def _wait_until_listening(self) -> None:
        """nginx writes its pid file only after binding every listener; then each port must accept."""
        deadline = time.monotonic() + START_TIMEOUT
        pid_file = self.prefix_dir / "nginx.pid"
        pending = list(self.ports)
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise self._startup_error(f"nginx exited with status {self._process.returncode}")
            if self.error_log.exists() and "Address already in use" in self.error_log.read_text(errors="replace"):
                raise self._startup_error("a listen port is taken")
            if _read_pid(pid_file) == self._process.pid:
                while pending and _accepts(*pending[0]):
                    pending.pop(0)
                if not pending:
                    return
            if time.monotonic() > deadline:
                raise self._startup_error(f"nginx did not listen on {self.ports} within {START_TIMEOUT} s")
            time.sleep(0.02)

    def _startup_error(self, what: str) -> NginxError:
        log = ""
        for path in (self.error_log, self.prefix_dir / "console.log"):
            if path.exists():
                log += path.read_text(errors="replace")
        tail = " | ".join(log.strip().splitlines()[-3:])
        error_type = NginxPortInUse if "Address already in use" in log else NginxError
        return error_type(f"{what}: {tail}" if tail else what)

    def __enter__(self) -> NginxServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> NginxServer:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _accepts(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((address, port)) == 0


def free_ports(count: int, address: str = "127.0.0.1") -> list[int]:
    """Ports the kernel just handed out; nginx binds them shortly after (see NginxPortInUse)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    holders = [socket.socket(family, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for holder in holders:
            holder.bind((address, 0))
        return [holder.getsockname()[1] for holder in holders]
    finally:
        for holder in holders:
            holder.close()
