"""nginx from a private prefix: rendered config, SNI-selected chains, bounded start and stop."""

from __future__ import annotations

import socket
import ssl
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from origin_doctor.lab.nginx import (
    NginxError,
    NginxPortInUse,
    NginxServer,
    ServerBlock,
    free_ports,
    respond,
)
from origin_doctor.lab.pki import DAY, LabPki, issue_leaf, mint_pki, write_chain, write_key

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pki() -> LabPki:
    return mint_pki(NOW)


def _files(pki: LabPki, tmp_path: Path) -> tuple[Path, Path, Path]:
    """Full chain for www, leaf only for ws, one shared key."""
    www = issue_leaf(pki.intermediate, ["www.lab.test"], not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    ws = issue_leaf(pki.intermediate, ["ws.lab.test"], not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    return (
        write_chain(tmp_path / "www.pem", www.chain()),
        write_chain(tmp_path / "ws.pem", [ws.cert]),
        write_key(tmp_path / "key.pem", www.key),
    )


def _served_chain(port: int, sni: str) -> list[x509.Certificate]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        sslobj = tls._sslobj  # type: ignore[attr-defined]
        return [x509.load_der_x509_certificate(cert.public_bytes(ssl._ssl.ENCODING_DER))  # type: ignore[attr-defined]
                for cert in sslobj.get_unverified_chain()]


def _http_get(port: int, sni: str) -> bytes:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(4096):
            data += chunk
        return data


def test_same_port_serves_chains_by_sni(pki: LabPki, tmp_path: Path) -> None:
    www_chain, ws_chain, key = _files(pki, tmp_path)
    (port,) = free_ports(1)
    servers = [
        ServerBlock(port, "www.lab.test", default_server=True, certificate=www_chain, certificate_key=key,
                    protocols=("TLSv1.2", "TLSv1.3")),
        ServerBlock(port, "ws.lab.test", certificate=ws_chain, certificate_key=key,
                    locations=(("/", respond(503)),)),
    ]
    with NginxServer(tmp_path / "nginx", servers) as nginx:
        www = _served_chain(port, "www.lab.test")
        ws = _served_chain(port, "ws.lab.test")
        assert [c.subject.rfc4514_string() for c in www] == [
            "CN=www.lab.test,O=Origin Doctor Lab", "CN=Origin Doctor Lab CA R3,O=Origin Doctor Lab"]
        assert [c.subject.rfc4514_string() for c in ws] == ["CN=ws.lab.test,O=Origin Doctor Lab"]
        assert _http_get(port, "www.lab.test").startswith(b"HTTP/1.1 200")
        assert _http_get(port, "ws.lab.test").startswith(b"HTTP/1.1 503")
        assert "daemon off;" in nginx.conf_path.read_text()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


async def test_async_context_manager_and_bounded_stop(pki: LabPki, tmp_path: Path) -> None:
    www_chain, _, key = _files(pki, tmp_path)
    (port,) = free_ports(1)
    nginx = NginxServer(tmp_path / "nginx", [ServerBlock(port, certificate=www_chain, certificate_key=key)])
    async with nginx:
        # A client that never finishes its request must not hold the shutdown.
        idle = socket.create_connection(("127.0.0.1", port), timeout=2)
        started = time.monotonic()
    idle.close()
    assert time.monotonic() - started < 4


def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    nginx = NginxServer(tmp_path, [ServerBlock(port, ssl=False)], binary="nginx-not-installed")
    with pytest.raises(NginxError, match="not found on PATH"):
        nginx.start()


def test_config_errors(pki: LabPki, tmp_path: Path) -> None:
    (port,) = free_ports(1)
    with pytest.raises(ValueError, match="default_server"):
        NginxServer(tmp_path, [ServerBlock(port, ssl=False, default_server=True)] * 2).write_config()
    bad = NginxServer(tmp_path, [ServerBlock(port, certificate=tmp_path / "missing.pem",
                                             certificate_key=tmp_path / "missing.key")])
    with pytest.raises(NginxError, match="missing.pem"):
        bad.check()
    with pytest.raises(NginxError, match="missing.pem"):
        bad.start()


def test_every_directive_the_lab_uses_passes_nginx_t(pki: LabPki, tmp_path: Path) -> None:
    www_chain, _, key = _files(pki, tmp_path)
    ports = free_ports(3)
    servers = [
        ServerBlock(ports[0], "_", default_server=True, reject_handshake=True),
        ServerBlock(ports[0], "real.lab.test", certificate=www_chain, certificate_key=key,
                    protocols=("TLSv1.3",), ciphers="ECDHE-RSA-CHACHA20-POLY1305", ecdh_curve="prime256v1",
                    client_ca=pki.write_ca_bundle(tmp_path / "root.pem"),
                    conf_commands=(("SignatureAlgorithms", "rsa_pss_rsae_sha256"),)),
        ServerBlock(ports[1], ssl=False, locations=(("/", respond(200, 'say "hi"\n')),)),
        ServerBlock(ports[2], ssl=False, locations=(("/ws", "proxy_pass http://127.0.0.1:9;"),)),
    ]
    NginxServer(tmp_path / "nginx", servers).check()


def test_port_in_use_is_reported_as_such(pki: LabPki, tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(NginxPortInUse):
            NginxServer(tmp_path, [ServerBlock(port, ssl=False)]).start()
