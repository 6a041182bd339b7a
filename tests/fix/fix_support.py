"""Test support for fix-chain and audit-nginx: the lab PKI with leaves that carry an AIA URL,
a loopback HTTP server that plays the CA's AIA host (good and hostile answers), and a reload for
the lab's nginx. Everything binds 127.0.0.1 on free ports.
"""

from __future__ import annotations

import datetime as dt
import http.server
import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from origin_doctor.lab import pki as lab_pki
from origin_doctor.lab.nginx import NginxServer, ServerBlock
from origin_doctor.lab.pki import Issued, KeyKind, LabPki, PrivateKey, issue_leaf, self_signed_leaf

NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
AT = "2026-11-29T10:00:00Z"
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Node:
    """A lab certificate with its key, and the byte forms the tests serve and write."""

    cert: x509.Certificate
    key: PrivateKey

    @classmethod
    def of(cls, issued: Issued) -> Node:
        return cls(issued.cert, issued.key)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


NAMES = ("ws.example.test", "www.example.test")


@dataclass(frozen=True)
class Pki:
    """The lab PKI (origin_doctor.lab.pki) seen from fix-chain: one leaf under the lab's R3 with an
    AIA URL, and a leaf under the lab's unknown root."""

    lab: LabPki
    leaf: Node  # ws.example.test + www.example.test, AIA -> the fake CA host
    other_leaf: Node  # under the unknown root, with a different key

    @property
    def root(self) -> Node:
        return Node.of(self.lab.root)

    @property
    def intermediate(self) -> Node:
        return Node.of(self.lab.intermediate)

    @property
    def other_root(self) -> Node:
        return Node.of(self.lab.unknown_root)

    @property
    def other_intermediate(self) -> Node:
        return Node.of(self.lab.unknown_intermediate)

    @property
    def expired_intermediate(self) -> Node:
        return Node.of(self.lab.expired_intermediate)

    def issue(self, issuer: Issued, aia: str | None = None, names: tuple[str, ...] = NAMES,
              key: KeyKind = "rsa2048") -> Node:
        return Node.of(issue_leaf(issuer, names, not_before=NOW - 30 * DAY, not_after=NOW + 300 * DAY,
                                  aia_url=aia, key=key))

    def self_signed(self, names: tuple[str, ...] = NAMES) -> Node:
        return Node.of(self_signed_leaf(names, not_before=NOW - 30 * DAY, not_after=NOW + 300 * DAY))

    def write_bundle(self, folder: Path) -> Path:
        return self.lab.write_ca_bundle(folder / "ca-bundle.pem")


def mint_pki(aia_url: str | None = None) -> Pki:
    lab = lab_pki.mint_pki(NOW)
    leaf = Node.of(issue_leaf(lab.intermediate, NAMES, not_before=NOW - 30 * DAY, not_after=NOW + 300 * DAY,
                              aia_url=aia_url))
    other = Node.of(issue_leaf(lab.unknown_intermediate, NAMES, not_before=NOW - 30 * DAY,
                               not_after=NOW + 300 * DAY, key="ec256"))
    return Pki(lab, leaf, other)


def pem_file(path: Path, *nodes: Node) -> Path:
    path.write_bytes(b"".join(n.pem for n in nodes))
    return path


# ---- the CA's AIA host -------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """One answer of the fake AIA host."""

    body: bytes = b""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds before answering
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes


class AiaHandler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, Route] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        route = self.routes.get(self.path, Route(b"not found", 404))
        if route.delay:
            time.sleep(route.delay)
        try:
            self.send_response(route.status)
            for key, value in route.headers:
                self.send_header(key, value)
            if route.send_length:
                self.send_header("Content-Length", str(len(route.body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            view = memoryview(route.body)
            for start in range(0, len(view), 65536):
                self.wfile.write(view[start:start + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def aia_server(routes: dict[str, Route]) -> Iterator[str]:
    """Serve `routes` (path -> Route) on 127.0.0.1; yield the base URL. Routes may be added later."""
    handler = type("Handler", (AiaHandler,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def p7(*nodes: Node) -> bytes:
    return pkcs7.serialize_certificates([n.cert for n in nodes], serialization.Encoding.DER)


# ---- nginx -------------------------------------------------------------------------------------

def lab_nginx(prefix: Path, port: int, cert: Path, key: Path) -> NginxServer:
    """The lab's nginx with a master process, so that it can be reloaded like a production one."""
    block = ServerBlock(port=port, server_name=NAMES[0], certificate=cert, certificate_key=key)
    return NginxServer(prefix, [block], master_process=True)


def served_chain_length(port: int, name: str) -> int:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw, \
            context.wrap_socket(raw, server_hostname=name) as tls:
        return len(tls._sslobj.get_unverified_chain() or [])  # type: ignore[attr-defined]  # public from 3.13


def _children(pid: int) -> set[int]:
    """Live child processes of `pid` (nginx's workers), read from /proc."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid) and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def reload_nginx(server: NginxServer, cert: Path, key: Path, expect_chain: int) -> None:
    """Point the server block at new files and SIGHUP the master (what `nginx -s reload` does);
    wait, bounded, until the old workers are gone and new connections get the new chain."""
    server.servers = [replace(block, certificate=cert, certificate_key=key) for block in server.servers]
    server.check()
    assert server.pid is not None
    old_workers = _children(server.pid)
    os.kill(server.pid, signal.SIGHUP)
    port = server.servers[0].port
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not old_workers & _children(server.pid):
            try:
                if served_chain_length(port, NAMES[0]) == expect_chain:
                    return
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not serve a {expect_chain}-certificate chain within 10 s of the reload")


@dataclass
class AiaLab:
    """The fake AIA host (routes can be added while it runs), the PKI and its CA bundle."""

    base: str
    routes: dict[str, Route]
    pki: Pki
    ca_bundle: Path

    def leaf_with_aia(self, path: str) -> Node:
        """A fresh leaf under the lab intermediate whose AIA points at `path` on the fake host."""
        return self.pki.issue(self.pki.lab.intermediate, aia=self.base + path)
