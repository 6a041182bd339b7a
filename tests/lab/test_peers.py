"""The lab peers misbehave as promised, seen by real clients on loopback, and always shut down fast."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import h11
import pytest
import trustme
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHeaderValue, InvalidStatus

from origin_doctor.lab.peers import (
    HUGE_HEADER_BYTES,
    JUST_UNDER_HEADER_BYTES,
    Peer,
    closed_port,
    start_peer,
)
from origin_doctor.lab.ws_peer import accept_value

CLOUDFRONT_HEADER_LIMIT = 20_480
STEP = 3.0  # generous bound for one network step on loopback
SHORT = 0.5  # how long we wait to conclude "nothing comes"
REQUEST = b"GET / HTTP/1.1\r\nHost: lab.test\r\nUser-Agent: test\r\n\r\n"
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
UPGRADE = (
    "GET /chat HTTP/1.1\r\nHost: lab.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode("ascii")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("lab.test", "127.0.0.1", "::1").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@asynccontextmanager
async def opened(
    peer: Peer, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(peer.host, peer.port, ssl=tls, server_hostname="lab.test" if tls else None),
        STEP,
    )
    try:
        yield reader, writer
    finally:
        writer.transport.abort()


async def read_all(reader: asyncio.StreamReader, seconds: float = STEP) -> bytes:
    return await asyncio.wait_for(_read_to_eof(reader), seconds)


async def _read_to_eof(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while chunk := await reader.read(65536):
        chunks.append(chunk)
    return b"".join(chunks)


async def exchange(peer: Peer, request: bytes = REQUEST, tls: ssl.SSLContext | None = None) -> bytes:
    async with opened(peer, tls) as (reader, writer):
        writer.write(request)
        await writer.drain()
        return await read_all(reader)


def parse_response(raw: bytes) -> tuple[h11.Response, bytes]:
    """Parse with h11 (a strict HTTP/1.1 parser); raises h11.RemoteProtocolError on broken bytes."""
    client = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 * 1024)
    client.send(h11.Request(method="GET", target="/", headers=[("Host", "lab.test")]))
    client.receive_data(raw)
    response = client.next_event()
    assert isinstance(response, h11.Response), response
    body = b""
    while isinstance(event := client.next_event(), h11.Data):
        body += event.data
    return response, body


def head_length(raw: bytes) -> int:
    return raw.index(b"\r\n\r\n") + 4


def ws_connect(peer: Peer, tls: ssl.SSLContext | None = None, path: str = "/") -> connect:
    scheme = "wss" if tls else "ws"
    return connect(
        f"{scheme}://{peer.host}:{peer.port}{path}",
        ssl=tls,
        open_timeout=STEP,
        close_timeout=SHORT,
        ping_interval=None,
    )


# --- HTTP behaviours, on plain TCP and after a TLS handshake ---------------------------------------


@pytest.fixture(params=["plain", "tls"])
def tls_pair(
    request: pytest.FixtureRequest, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> tuple[ssl.SSLContext | None, ssl.SSLContext | None]:
    return (server_tls, client_tls) if request.param == "tls" else (None, None)


async def test_http_ok_answers_200(tls_pair: tuple[ssl.SSLContext | None, ssl.SSLContext | None]) -> None:
    server, client = tls_pair
    async with await start_peer("http_ok", tls=server) as peer:
        response, body = parse_response(await exchange(peer, tls=client))
    assert response.status_code == 200
    assert body == b"ok\n"


async def test_http_503_answers_503(tls_pair: tuple[ssl.SSLContext | None, ssl.SSLContext | None]) -> None:
    server, client = tls_pair
    async with await start_peer("http_503", tls=server) as peer:
        response, _ = parse_response(await exchange(peer, tls=client))
    assert response.status_code == 503


async def test_http_malformed_is_rejected_by_a_strict_parser(
    tls_pair: tuple[ssl.SSLContext | None, ssl.SSLContext | None],
) -> None:
    server, client = tls_pair
    async with await start_peer("http_malformed", tls=server) as peer:
        raw = await exchange(peer, tls=client)
    assert raw.startswith(b"HTTP/1.1 abc")
    with pytest.raises(h11.RemoteProtocolError):
        parse_response(raw)


@pytest.mark.parametrize(
    ("header_bytes", "over_limit"), [(HUGE_HEADER_BYTES, True), (JUST_UNDER_HEADER_BYTES, False)]
)
async def test_http_huge_header_and_its_just_under_twin(
    tls_pair: tuple[ssl.SSLContext | None, ssl.SSLContext | None], header_bytes: int, over_limit: bool
) -> None:
    server, client = tls_pair
    async with await start_peer("http_huge_header", tls=server, header_bytes=header_bytes) as peer:
        raw = await exchange(peer, tls=client)
    response, _ = parse_response(raw)  # valid HTTP either way
    assert response.status_code == 200
    assert head_length(raw) == header_bytes
    assert (head_length(raw) > CLOUDFRONT_HEADER_LIMIT) is over_limit
    assert all(len(line) < 1000 for line in raw[: head_length(raw)].split(b"\r\n"))


async def test_http_no_response_closes_after_reading_the_request(
    tls_pair: tuple[ssl.SSLContext | None, ssl.SSLContext | None],
) -> None:
    server, client = tls_pair
    async with await start_peer("http_no_response", tls=server) as peer:
        assert await exchange(peer, tls=client) == b""


async def test_close_ends_the_connection_at_once(
    tls_pair: tuple[ssl.SSLContext | None, ssl.SSLContext | None],
) -> None:
    server, client = tls_pair
    async with await start_peer("close", tls=server) as peer, opened(peer, client) as (reader, _):
        assert await read_all(reader) == b""


async def test_http_stall_sends_nothing_until_the_stall_ends(
    tls_pair: tuple[ssl.SSLContext | None, ssl.SSLContext | None],
) -> None:
    server, client = tls_pair
    peer = await start_peer("http_stall", tls=server, stall_seconds=1.0)
    async with peer, opened(peer, client) as (reader, writer):
        writer.write(REQUEST)
        await writer.drain()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(1), SHORT)
        assert await read_all(reader) == b""  # the stall ends, then the peer closes


async def test_http_head_over_64k_is_dropped_without_answer() -> None:
    async with await start_peer("http_ok") as peer:
        raw = await exchange(peer, request=b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000)
    assert raw == b""


# --- byte-level behaviours --------------------------------------------------------------------------


async def test_garbage_is_neither_tls_nor_http(client_tls: ssl.SSLContext) -> None:
    async with await start_peer("garbage") as peer:
        raw = await exchange(peer)
        assert raw and not raw.startswith(b"HTTP") and raw[0] not in range(20, 25)
        with pytest.raises(ssl.SSLError):
            await exchange(peer, tls=client_tls)


async def test_silent_plain_peer_times_out_a_tls_handshake(client_tls: ssl.SSLContext) -> None:
    async with await start_peer("silent") as peer:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                asyncio.open_connection(peer.host, peer.port, ssl=client_tls, server_hostname="lab.test"),
                SHORT,
            )
        # Negative control: TCP itself connects fine; only the answer is missing.
        async with opened(peer) as (reader, writer):
            writer.write(REQUEST)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reader.read(1), SHORT)


async def test_silent_tls_peer_completes_the_handshake_then_says_nothing(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    async with (
        await start_peer("silent", tls=server_tls) as peer,
        opened(peer, client_tls) as (reader, writer),
    ):
        writer.write(REQUEST)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(1), SHORT)


# --- WebSocket behaviours ----------------------------------------------------------------------------


async def test_ws_ok_echoes_and_answers_pings(
    tls_pair: tuple[ssl.SSLContext | None, ssl.SSLContext | None],
) -> None:
    server, client = tls_pair
    async with await start_peer("ws_ok", tls=server) as peer:
        websocket: ClientConnection
        async with ws_connect(peer, client) as websocket:
            await websocket.send("hello")
            assert await asyncio.wait_for(websocket.recv(), STEP) == "hello"
            await websocket.send(b"\x00\x01binary")
            assert await asyncio.wait_for(websocket.recv(), STEP) == b"\x00\x01binary"
            pong = await websocket.ping(b"are you there")
            await asyncio.wait_for(pong, STEP)


async def test_ws_ok_sends_the_rfc_accept_value() -> None:
    async with await start_peer("ws_ok") as peer, opened(peer) as (reader, writer):
        writer.write(UPGRADE)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), STEP)
    assert head.startswith(b"HTTP/1.1 101 ")
    # RFC 6455's own example: this key must give this accept value.
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    assert accept_value(WS_KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


async def test_ws_ok_answers_a_plain_request_with_426() -> None:
    async with await start_peer("ws_ok") as peer:
        raw = await exchange(peer)
    assert raw.startswith(b"HTTP/1.1 426 ")


async def test_ws_bad_accept_fails_the_client_handshake() -> None:
    async with await start_peer("ws_bad_accept") as peer:
        with pytest.raises(InvalidHeaderValue) as caught:
            async with ws_connect(peer):
                pass
        assert caught.value.name.lower() == "sec-websocket-accept"
        async with opened(peer) as (reader, writer):
            writer.write(UPGRADE)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), STEP)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"Sec-WebSocket-Accept: " in head
    assert accept_value(WS_KEY).encode() not in head


@pytest.mark.parametrize(("behaviour", "status"), [("ws_reject_400", 400), ("ws_reject_200", 200)])
async def test_ws_reject_answers_the_upgrade_with_a_non_101(
    tls_pair: tuple[ssl.SSLContext | None, ssl.SSLContext | None], behaviour: str, status: int
) -> None:
    server, client = tls_pair
    async with await start_peer(behaviour, tls=server) as peer:
        with pytest.raises(InvalidStatus) as caught:
            async with ws_connect(peer, client):
                pass
    assert caught.value.response.status_code == status
    assert caught.value.response.body


async def test_ws_no_pong_opens_then_ignores_pings_and_messages() -> None:
    async with await start_peer("ws_no_pong") as peer, ws_connect(peer) as websocket:
        pong = await websocket.ping(b"anyone?")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(pong), SHORT)
        await websocket.send("hello")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(websocket.recv(), SHORT)


async def test_ws_peers_reject_a_missing_key_cleanly() -> None:
    async with await start_peer("ws_no_pong") as peer:
        raw = await exchange(peer)  # no Sec-WebSocket-Key at all
    assert raw.startswith(b"HTTP/1.1 400 ")


# --- TCP-level peers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_blackhole_leaves_connection_attempts_unanswered(host: str) -> None:
    async with await start_peer("blackhole", host=host) as peer:
        for _ in range(3):  # repeated attempts all time out: the queue stays full
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(asyncio.open_connection(peer.host, peer.port), SHORT)
            assert time.monotonic() - started >= SHORT * 0.9


async def test_closed_port_refuses() -> None:
    port = closed_port()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), STEP)


async def test_closed_port_on_ipv6() -> None:
    port = closed_port("::1")
    with pytest.raises(ConnectionRefusedError):
        await asyncio.wait_for(asyncio.open_connection("::1", port), STEP)


async def test_http_ok_on_ipv6() -> None:
    async with await start_peer("http_ok", host="::1") as peer:
        response, _ = parse_response(await exchange(peer))
    assert response.status_code == 200


# --- lifecycle --------------------------------------------------------------------------------------


async def test_close_is_bounded_with_stalled_connections(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    peer = await start_peer("http_stall", tls=server_tls, stall_seconds=3600)
    writers: list[asyncio.StreamWriter] = []
    readers: list[asyncio.StreamReader] = []
    try:
        for _ in range(3):
            # No ClientHello: the peer waits inside its TLS handshake.
            reader, writer = await asyncio.wait_for(asyncio.open_connection(peer.host, peer.port), STEP)
            readers.append(reader)
            writers.append(writer)
            # A full request over TLS: the peer stalls in the behaviour itself.
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(peer.host, peer.port, ssl=client_tls, server_hostname="lab.test"),
                STEP,
            )
            writer.write(REQUEST)
            readers.append(reader)
            writers.append(writer)
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await peer.close()
        assert time.monotonic() - started < 2.0
        await peer.close()  # idempotent
        for reader in readers:  # every client sees its connection end
            with contextlib.suppress(ConnectionResetError, ssl.SSLError):
                assert await read_all(reader) == b""
    finally:
        for writer in writers:
            writer.transport.abort()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.wait_for(asyncio.open_connection(peer.host, peer.port), STEP)


async def test_unknown_behaviour_and_impossible_header_size_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown peer behaviour"):
        await start_peer("teapot")
    with pytest.raises(ValueError, match="header_bytes"):
        await start_peer("http_huge_header", header_bytes=10)
