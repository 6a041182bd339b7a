"""Test support for fix-chain and audit-nginx: a pinned-time private PKI whose leaves carry an
AIA URL, a loopback HTTP server that plays the CA's AIA host (good and hostile answers), and a
small nginx runner. Everything binds 127.0.0.1 on free ports.
"""

from __future__ import annotations

import datetime as dt
import http.server
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
AT = "2026-11-29T10:00:00Z"
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Node:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

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


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fix Chain Lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def mint(cn: str, issuer: Node | None, *, ca: bool, names: tuple[str, ...] = (), aia: str | None = None,
         not_before: dt.datetime = NOW - 30 * DAY, not_after: dt.datetime = NOW + 300 * DAY) -> Node:
    key = ec.generate_private_key(ec.SECP256R1())
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if aia is not None:
        builder = builder.add_extension(x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(aia))
        ]), critical=False)
    return Node(builder.sign(signer_key, hashes.SHA256()), key)


@dataclass(frozen=True)
class Pki:
    root: Node
    intermediate: Node
    leaf: Node  # ws.example.test, www.example.test; AIA -> aia_url
    other_root: Node
    other_leaf: Node  # issued by other_intermediate under other_root (untrusted)
    other_intermediate: Node

    def write_bundle(self, folder: Path) -> Path:
        path = folder / "ca-bundle.pem"
        path.write_bytes(self.root.pem)
        return path


def mint_pki(aia_url: str | None = None, names: tuple[str, ...] = ("ws.example.test", "www.example.test")) -> Pki:
    root = mint("Fix Lab Root", None, ca=True, not_before=NOW - 900 * DAY, not_after=NOW + 3000 * DAY)
    intermediate = mint("Fix Lab Intermediate", root, ca=True, not_before=NOW - 400 * DAY,
                        not_after=NOW + 1000 * DAY)
    leaf = mint(names[0], intermediate, ca=False, names=names, aia=aia_url)
    other_root = mint("Unknown Root", None, ca=True)
    other_intermediate = mint("Unknown Intermediate", other_root, ca=True)
    other_leaf = mint(names[0], other_intermediate, ca=False, names=names)
    return Pki(root, intermediate, leaf, other_root, other_intermediate, other_leaf)


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

NGINX_MAIN = """daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp; fastcgi_temp_path {prefix}/tmp;
  uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;
  server {{
    listen 127.0.0.1:{port} ssl;
    server_name {name};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{ return 200 "ok\\n"; }}
  }}
}}
"""


class Nginx:
    """nginx -p PREFIX in the foreground, one TLS server block; reload() re-reads the config."""

    def __init__(self, prefix: Path, name: str, cert: Path, key: Path) -> None:
        if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
            raise RuntimeError("nginx is not installed (scripts/debian-packages.txt: nginx-light)")
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.prefix, self.name, self.port = prefix, name, free_port()
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        self.conf = prefix / "nginx.conf"
        self.write(cert, key)
        self.process: subprocess.Popen[bytes] | None = None

    def write(self, cert: Path, key: Path) -> None:
        self.conf.write_text(NGINX_MAIN.format(prefix=self.prefix, port=self.port, name=self.name,
                                               cert=cert, key=key))

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "-p", str(self.prefix), "-c", str(self.conf)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode() if self.process.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen within 10 s")

    def reload(self) -> None:
        """SIGHUP, as `nginx -s reload` sends; wait until the new workers are up."""
        assert self.process is not None
        log = self.prefix / "error.log"
        before = log.read_text() if log.exists() else ""
        os.kill(self.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            text = log.read_text() if log.exists() else ""
            if "reconfiguring" in text[len(before):] and "start worker process" in text[len(before):]:
                time.sleep(0.2)  # the old workers finish their graceful shutdown
                return
            time.sleep(0.05)
        raise RuntimeError("nginx did not reload within 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()


@dataclass
class AiaLab:
    """The fake AIA host (routes can be added while it runs), the PKI and its CA bundle."""

    base: str
    routes: dict[str, Route]
    pki: Pki
    ca_bundle: Path

    def leaf_with_aia(self, path: str) -> Node:
        """A fresh leaf under the lab intermediate whose AIA points at `path` on the fake host."""
        return mint("ws.example.test", self.pki.intermediate, ca=False,
                    names=("ws.example.test", "www.example.test"), aia=self.base + path)
