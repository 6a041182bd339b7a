"""The HTTP probe against a real TLS peer that writes given bytes in small pieces (h11's recv(10)
spirit): status, header size, malformed heads, silence and early close become observations."""

from __future__ import annotations

import asyncio
import ssl
import warnings
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from origin_doctor.probe import http as http_probe
from origin_doctor.probe import tcp as tcp_probe
from origin_doctor.probe import tls as tls_probe
from origin_doctor.profile import load_profile, permissive_context, profile_context

LIMIT = 20480


@pytest.fixture(scope="module")
def server_context() -> ssl.SSLContext:
    ca = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("origin.test").configure_cert(ctx)
    return ctx


async def _serve(ctx: ssl.SSLContext, reply: bytes | None, piece: int,
                 host: str = "127.0.0.1") -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            if reply is None:
                await asyncio.sleep(30)
            else:
                for start in range(0, len(reply), piece):
                    writer.write(reply[start:start + piece])
                    await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, 0, ssl=ctx)
    return server, server.sockets[0].getsockname()[1]


async def probe(ctx: ssl.SSLContext, reply: bytes | None, piece: int = 10,
                read_timeout: float = 2.0, host: str = "127.0.0.1") -> http_probe.HttpObservation:
    server, port = await _serve(ctx, reply, piece, host)
    async with server:
        tcp, conn = await tcp_probe.connect(host, port, 2.0, 1)
        assert conn is not None, tcp
        try:
            tls = await tls_probe.handshake(conn, permissive_context(), "origin.test", 2.0)
            assert tls.ok, tls
            return await http_probe.request(conn, "origin.test", "/", read_timeout, LIMIT)
        finally:
            tcp_probe.close(conn)


async def test_status_and_header_size_in_ten_byte_pieces(server_context: ssl.SSLContext) -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: t\r\n\r\nok"
    obs = await probe(server_context, reply)
    assert (obs.status, obs.error, obs.header_bytes, obs.body_sample) == (200, None, len(reply) - 2, b"ok")
    assert ("User-Agent", "Amazon CloudFront") in obs.request_headers


async def test_header_just_under_and_over_the_limit(server_context: ssl.SSLContext) -> None:
    def reply(total: int) -> bytes:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: "
        return head + b"a" * (total - len(head) - 4) + b"\r\n\r\n"

    under = await probe(server_context, reply(LIMIT), piece=4096)
    assert (under.error, under.header_bytes) == (None, LIMIT)
    over = await probe(server_context, reply(LIMIT + 1), piece=4096)
    assert (over.error, over.header_bytes) == ("header_too_big", LIMIT + 1)


async def test_a_megabyte_of_headers_stops_early(server_context: ssl.SSLContext) -> None:
    reply = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 1_000_000 + b"\r\n\r\n"
    obs = await probe(server_context, reply, piece=65536)
    assert obs.error == "header_too_big"
    assert obs.header_bytes is not None and obs.header_bytes < 200_000


@pytest.mark.parametrize(
    "reply", [b"HTTP/1.1 abc nope\r\n\r\n", b"\x16\x03\x01garbage\r\n\r\n", b"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n"]
)
async def test_malformed_heads(server_context: ssl.SSLContext, reply: bytes) -> None:
    assert (await probe(server_context, reply)).error == "malformed"


async def test_close_without_response(server_context: ssl.SSLContext) -> None:
    assert (await probe(server_context, b"")).error == "no_response"


async def test_silence_is_a_read_timeout_within_the_deadline(server_context: ssl.SSLContext) -> None:
    obs = await asyncio.wait_for(probe(server_context, None, read_timeout=0.3), 5)
    assert obs.error == "timeout"
    assert obs.elapsed_ms < 3000


async def test_origin_503(server_context: ssl.SSLContext) -> None:
    obs = await probe(server_context, b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy")
    assert (obs.status, obs.reason, obs.body_sample) == (503, "Service Unavailable", b"busy")


async def test_the_probe_connection_speaks_ipv6_too(server_context: ssl.SSLContext) -> None:
    reply = b"HTTP/1.1 204 No Content\r\n\r\n"
    obs = await probe(server_context, reply, piece=4, host="::1")
    assert (obs.status, obs.error) == (204, None)


@pytest.mark.parametrize(("server_hostname", "expected"), [
    ("origin.test", "origin.test"), ("bücher.test", "xn--bcher-kva.test"), ("127.0.0.1", None), ("::1", None)])
async def test_sni_is_sent_as_pythons_ssl_sends_it(server_context: ssl.SSLContext, server_hostname: str,
                                                    expected: str | None) -> None:
    """A name goes out IDNA-encoded; an address is not a host name and sends no SNI (RFC 6066)."""
    seen: list[str | None] = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trustme.CA().issue_cert("origin.test").configure_cert(ctx)
    ctx.sni_callback = lambda _sock, name, _ctx: seen.append(name)  # type: ignore[func-returns-value]
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0, ssl=ctx)
    async with server:
        tcp, conn = await tcp_probe.connect("127.0.0.1", server.sockets[0].getsockname()[1], 2.0, 1)
        assert conn is not None, tcp
        try:
            tls = await tls_probe.handshake(conn, permissive_context(), server_hostname, 2.0)
        finally:
            tcp_probe.close(conn)
    assert tls.ok, tls
    assert seen == [expected]


def _with_negative_serial(der: bytes) -> bytes:
    """The certificate with its serial number's sign bit set: OpenSSL takes it, cryptography warns
    (RFC 5280 forbids it) or, in later versions, refuses it. The signature no longer matches,
    which a handshake without verification does not look at."""
    tbs = 4 if der[1] == 0x82 else 2  # Certificate SEQUENCE header
    at = tbs + (4 if der[tbs + 1] == 0x82 else 2)  # TBSCertificate SEQUENCE header
    at += 5  # [0] EXPLICIT version 3
    assert der[at] == 0x02  # the serial INTEGER
    serial = bytearray(der)
    serial[at + 2] |= 0x80
    return bytes(serial)


async def test_the_chain_is_taken_as_openssl_received_it(tmp_path: Path) -> None:
    """A certificate that OpenSSL accepts and cryptography objects to comes back byte for byte;
    judging it is the analysis's job, not the handshake's."""
    ca = trustme.CA()
    issued = ca.issue_cert("origin.test")
    leaf = x509.load_pem_x509_certificate(issued.cert_chain_pems[0].bytes())
    odd = _with_negative_serial(leaf.public_bytes(serialization.Encoding.DER))
    chain = tmp_path / "chain.pem"
    chain.write_text(ssl.DER_cert_to_PEM_cert(odd))
    key = tmp_path / "key.pem"
    key.write_bytes(issued.private_key_pem.bytes())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0, ssl=ctx)
    async with server:
        tcp, conn = await tcp_probe.connect("127.0.0.1", server.sockets[0].getsockname()[1], 2.0, 1)
        assert conn is not None, tcp
        try:
            tls = await tls_probe.handshake(conn, permissive_context(), "origin.test", 2.0)
        finally:
            tcp_probe.close(conn)
    assert tls.ok, tls
    assert tls.chain == (odd,)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
async def test_old_origins_still_complete_a_handshake(version: ssl.TLSVersion) -> None:
    """CloudFront still offers TLS 1.0 and 1.1 to origins, so the probe's OpenSSL (cryptography's
    build, not the system's) must still speak them, with both the profile's and the permissive client."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trustme.CA().issue_cert("origin.test").configure_cert(ctx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python deprecates these versions
        ctx.minimum_version = ctx.maximum_version = version
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0, ssl=ctx)
    seen = []
    async with server:
        for client in (profile_context(load_profile("cloudfront")), permissive_context()):
            tcp, conn = await tcp_probe.connect("127.0.0.1", server.sockets[0].getsockname()[1], 2.0, 1)
            assert conn is not None, tcp
            try:
                seen.append(await tls_probe.handshake(conn, client, "origin.test", 2.0))
            finally:
                tcp_probe.close(conn)
    expected = "TLSv1" if version == ssl.TLSVersion.TLSv1 else "TLSv1.1"
    assert [(t.ok, t.version) for t in seen] == [(True, expected), (True, expected)], seen
