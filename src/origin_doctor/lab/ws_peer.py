"""WebSocket behaviours of the lab peers, and the per-connection plumbing peers.py shares with them.

ws_ok runs websockets' Sans-I/O ServerProtocol over the stream; the broken ones write raw HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from dataclasses import dataclass

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

HEAD_LIMIT = 64 * 1024
READ_CHUNK = 64 * 1024
FINISH_SECONDS = 1.0
# RFC 6455 section 1.3: the GUID appended to the client's key before hashing.
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass
class Connection:
    """One accepted connection (already TLS-wrapped when the peer has a context) and the peer's knobs."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    stall_seconds: float
    header_bytes: int

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def discard_until_eof(self, seconds: float) -> None:
        """Read and drop whatever the client sends until it closes or `seconds` pass."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while await self.reader.read(READ_CHUNK):
                    pass

    async def finish(self) -> None:
        """Close politely (FIN, or close_notify under TLS) so the client sees a clean end of stream.

        Closing a socket with unread input makes the kernel send a reset instead of FIN, and whether
        input is pending is a race; so on plain TCP half-close first and drain what the client sends.
        """
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(FINISH_SECONDS):
                if self.writer.can_write_eof():
                    self.writer.write_eof()
                    while await self.reader.read(READ_CHUNK):
                        pass
                self.writer.close()
                await self.writer.wait_closed()


async def read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The request head up to and including the blank line; None on EOF or a head over 64 KiB."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None


def http_response(status: int, reason: str, body: bytes, extra_headers: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\n{extra_headers}Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def header_value(head: bytes, name: str) -> str | None:
    wanted = name.lower().encode("ascii")
    for line in head.split(b"\r\n")[1:]:
        field, sep, value = line.partition(b":")
        if sep and field.strip().lower() == wanted:
            return value.strip().decode("latin-1")
    return None


def accept_value(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode("ascii")).digest()).decode("ascii")


def switching_protocols(accept: str) -> bytes:
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode("ascii")


async def ws_ok(conn: Connection) -> None:
    """A real WebSocket server: 101 with the right accept, echoes messages, answers pings."""
    protocol = ServerProtocol(max_size=HEAD_LIMIT)
    while True:
        data = await conn.reader.read(READ_CHUNK)
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        for event in protocol.events_received():
            if isinstance(event, Request):
                protocol.send_response(protocol.accept(event))
            elif isinstance(event, Frame):
                _echo(protocol, event)
        for chunk in protocol.data_to_send():
            if not chunk:  # end of stream: the protocol is done with this connection
                await conn.writer.drain()
                return
            conn.writer.write(chunk)
        await conn.writer.drain()
        if not data:
            return


def _echo(protocol: ServerProtocol, frame: Frame) -> None:
    if frame.opcode is Opcode.TEXT:
        protocol.send_text(frame.data, fin=frame.fin)
    elif frame.opcode is Opcode.BINARY:
        protocol.send_binary(frame.data, fin=frame.fin)
    elif frame.opcode is Opcode.CONT:
        protocol.send_continuation(frame.data, fin=frame.fin)
    # Pings are answered and closes echoed by the protocol itself.


async def ws_bad_accept(conn: Connection) -> None:
    head = await read_head(conn.reader)
    if head is None:
        return
    key = header_value(head, "Sec-WebSocket-Key") or "missing"
    # The hash of the key without the GUID: well formed, plausible, wrong.
    wrong = base64.b64encode(hashlib.sha1(key.encode("latin-1")).digest()).decode("ascii")
    await conn.send(switching_protocols(wrong))
    await conn.discard_until_eof(conn.stall_seconds)


async def ws_reject_400(conn: Connection) -> None:
    if await read_head(conn.reader) is not None:
        await conn.send(http_response(400, "Bad Request", b"websocket upgrade refused\n"))


async def ws_reject_200(conn: Connection) -> None:
    if await read_head(conn.reader) is not None:
        await conn.send(http_response(200, "OK", b"this is not a websocket endpoint\n"))


async def ws_no_pong(conn: Connection) -> None:
    """A correct 101, then silence: pings and messages are read and ignored."""
    head = await read_head(conn.reader)
    if head is None:
        return
    key = header_value(head, "Sec-WebSocket-Key")
    if key is None:
        await conn.send(http_response(400, "Bad Request", b"missing Sec-WebSocket-Key\n"))
        return
    await conn.send(switching_protocols(accept_value(key)))
    await conn.discard_until_eof(conn.stall_seconds)
