"""Loopback WebSocket origins for the ws tests: a private PKI (root -> intermediate -> leaves), a
real websockets echo server, raw TLS peers with one knob each, and nginx proxying the upgrade."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme
from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from origin_doctor.engine import CheckOptions
from origin_doctor.lab.nginx import NginxServer, ServerBlock, free_ports, websocket_proxy
from origin_doctor.profile import load_profile

NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
NAMES = ("ws.example.com", "www.example.com")
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
HEAD_LIMIT = 64 * 1024
PEER_LIFETIME = 20.0


@dataclass(frozen=True)
class Pki:
    root_pem: Path
    full_chain: dict[str, Path]  # name -> leaf + intermediate
    leaf_only: dict[str, Path]  # name -> leaf alone (the incident's mistake)
    key: dict[str, Path]

    def server_context(self, name: str, *, full_chain: bool = True) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        chain = self.full_chain[name] if full_chain else self.leaf_only[name]
        ctx.load_cert_chain(chain, self.key[name])
        return ctx


def make_pki(where: Path) -> Pki:
    root = trustme.CA(organization_name="origin-doctor test root")
    intermediate = root.create_child_ca()
    root_pem = where / "root.pem"
    root.cert_pem.write_to_path(str(root_pem))
    full, leaf, key = {}, {}, {}
    for name in NAMES:
        cert = intermediate.issue_cert(name)
        full[name] = where / f"{name}.fullchain.pem"
        full[name].write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        leaf[name] = where / f"{name}.leaf.pem"
        leaf[name].write_bytes(cert.cert_chain_pems[0].bytes())
        key[name] = where / f"{name}.key"
        cert.private_key_pem.write_to_path(str(key[name]))
    return Pki(root_pem, full, leaf, key)


def options_for(pki: Pki, port: int, read_timeout: float = 2.0) -> CheckOptions:
    profile = load_profile("cloudfront").with_overrides(
        ca_bundle=pki.root_pem, connect_timeout=3.0, connect_attempts=1, read_timeout=read_timeout)
    resolve = {(name, port): ("127.0.0.1",) for name in NAMES}
    return CheckOptions(profile=profile, now=NOW, resolve=resolve, compare_profiles=False, debug=True)


# --- a real WebSocket server (the websockets library), echoing every message ---

async def _echo(connection: ServerConnection) -> None:
    with contextlib.suppress(Exception):
        async for message in connection:
            await connection.send(message)


@contextlib.asynccontextmanager
async def echo_server(tls: ssl.SSLContext | None, subprotocols: list[str] | None = None,
                      compression: str | None = "deflate") -> AsyncIterator[int]:
    async with serve(_echo, "127.0.0.1", 0, ssl=tls, compression=compression,
                     subprotocols=[Subprotocol(p) for p in subprotocols] if subprotocols else None) as server:
        yield server.sockets[0].getsockname()[1]


# --- raw peers: one knob away from a correct WebSocket server ---

@dataclass(frozen=True)
class Knobs:
    status: int = 101  # what the upgrade is answered with
    right_accept: bool = True  # Sec-WebSocket-Accept computed from the key, or from the key without the GUID
    answer_pings: bool = True  # after 101: behave as a WebSocket server, or read and ignore everything


def _accept(key: str, right: bool) -> str:
    material = key + WS_GUID if right else key
    return base64.b64encode(hashlib.sha1(material.encode("ascii")).digest()).decode("ascii")


def _key_of(head: bytes) -> str:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            return value.strip().decode("ascii")
    return ""


async def _serve_frames(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """After our own 101: a server protocol in OPEN state answers pings, echoes and closes."""
    protocol = ServerProtocol(state=State.OPEN)
    while True:
        data = await reader.read(65536)
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        for event in protocol.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                protocol.send_text(event.data)
        for chunk in protocol.data_to_send():
            if chunk:
                writer.write(chunk)
            elif writer.can_write_eof():
                writer.write_eof()
        await writer.drain()
        if not data or protocol.state is State.CLOSED:
            return


async def _raw_connection(knobs: Knobs, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          heads: list[bytes]) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(PEER_LIFETIME):
            head = await reader.readuntil(b"\r\n\r\n")
            heads.append(head)
            if knobs.status != 101:
                body = f"upgrade refused with {knobs.status}\n".encode()
                writer.write(f"HTTP/1.1 {knobs.status} Nope\r\nContent-Type: text/plain\r\n"
                             f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
                await writer.drain()
            else:
                accept = _accept(_key_of(head), knobs.right_accept)
                writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
                await writer.drain()
                if knobs.answer_pings:
                    await _serve_frames(reader, writer)
                else:
                    while await reader.read(65536):
                        pass
    with contextlib.suppress(Exception):
        writer.close()
        async with asyncio.timeout(1.0):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def raw_peer(tls: ssl.SSLContext, knobs: Knobs, heads: list[bytes] | None = None) -> AsyncIterator[int]:
    """Serve `knobs` on a free port; every request head received is appended to `heads`."""
    received = heads if heads is not None else []
    handlers: set[asyncio.Task[None]] = set()
    writers: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        writers.add(writer)
        try:
            await _raw_connection(knobs, reader, writer, received)
        finally:
            handlers.discard(task)
            writers.discard(writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls, limit=HEAD_LIMIT)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in list(writers):
            writer.close()
        for task in list(handlers):
            task.cancel()
        if handlers:
            await asyncio.wait(list(handlers), timeout=2.0)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await server.wait_closed()


# --- nginx terminating TLS and proxying the upgrade to a backend on loopback ---

@contextlib.contextmanager
def nginx(tmp: Path, servers: list[tuple[str, Path, Path]], backend: int) -> Iterator[int]:
    """The lab's nginx with one TLS server block per (name, chain, key) on one free port, each
    proxying HTTP and WebSocket upgrades to `backend`; yields the port."""
    port = free_ports(1)[0]
    blocks = [ServerBlock(port, name, certificate=chain, certificate_key=key,
                          locations=(("/", websocket_proxy(backend)),)) for name, chain, key in servers]
    with NginxServer(tmp / "nginx", blocks):
        yield port
