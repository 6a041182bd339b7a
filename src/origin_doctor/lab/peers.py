"""Small misbehaving origins on loopback: asyncio peers that fail in ways nginx cannot.

`start_peer(behaviour)` listens on a free port; every connection gets the chosen behaviour, after
the TLS handshake when a server context is given. `Peer.close()` is bounded and ends every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

from origin_doctor.lab import ws_peer
from origin_doctor.lab.ws_peer import Connection, http_response, read_head

# CloudFront's limit on the response header block is 20,480 bytes; the default sits just over it.
HUGE_HEADER_BYTES = 21_000
JUST_UNDER_HEADER_BYTES = 20_000

TLS_HANDSHAKE_SECONDS = 10.0
# close() waits at most CLOSE_WAIT_SECONDS + SERVER_WAIT_SECONDS: under the 2 s the tests allow.
CLOSE_WAIT_SECONDS = 1.0
SERVER_WAIT_SECONDS = 0.5
# A connection lives at most this long past stall_seconds, whatever the client does.
LIFETIME_MARGIN_SECONDS = 30.0
# A blackhole fill connection that has not completed by then is taken as dropped by the kernel.
BLACKHOLE_PROBE_SECONDS = 0.3
BLACKHOLE_MAX_FILL = 8

Handler = Callable[[Connection], Awaitable[None]]


async def _silent(conn: Connection) -> None:
    await conn.discard_until_eof(conn.stall_seconds)


async def _close(conn: Connection) -> None:
    return None


async def _garbage(conn: Connection) -> None:
    # Starts with a NUL byte: neither a TLS record type (20-24) nor the "H" of an HTTP status line.
    conn.writer.write(b"\x00\xff\x00garbage\x00" + os.urandom(48))
    await conn.writer.drain()


async def _http_ok(conn: Connection) -> None:
    if await read_head(conn.reader) is not None:
        await conn.send(http_response(200, "OK", b"ok\n"))


async def _http_no_response(conn: Connection) -> None:
    await read_head(conn.reader)


async def _http_malformed(conn: Connection) -> None:
    if await read_head(conn.reader) is not None:
        await conn.send(b"HTTP/1.1 abc nope\r\nthis line is not a header\r\n: \r\n\r\nbody")


async def _http_huge_header(conn: Connection) -> None:
    if await read_head(conn.reader) is not None:
        await conn.send(huge_header_response(conn.header_bytes))


async def _http_stall(conn: Connection) -> None:
    if await read_head(conn.reader) is not None:
        await asyncio.sleep(conn.stall_seconds)


async def _http_503(conn: Connection) -> None:
    if await read_head(conn.reader) is not None:
        await conn.send(http_response(503, "Service Unavailable", b"origin is down\n"))


BEHAVIOURS: dict[str, Handler] = {
    "silent": _silent,
    "close": _close,
    "garbage": _garbage,
    "http_ok": _http_ok,
    "http_no_response": _http_no_response,
    "http_malformed": _http_malformed,
    "http_huge_header": _http_huge_header,
    "http_stall": _http_stall,
    "http_503": _http_503,
    "ws_ok": ws_peer.ws_ok,
    "ws_bad_accept": ws_peer.ws_bad_accept,
    "ws_reject_400": ws_peer.ws_reject_400,
    "ws_reject_200": ws_peer.ws_reject_200,
    "ws_no_pong": ws_peer.ws_no_pong,
}
KNOWN_BEHAVIOURS = frozenset(BEHAVIOURS) | {"blackhole"}


def huge_header_response(header_bytes: int) -> bytes:
    """A valid 200 whose head (status line through the blank line) is exactly `header_bytes` long."""
    body = b"big headers\n"
    base = http_response(200, "OK", body)
    head_len = len(base) - len(body)
    padding_needed = header_bytes - head_len
    if padding_needed < 0:
        raise ValueError(f"header_bytes={header_bytes} is below the smallest head ({head_len} bytes)")
    pad_lines: list[str] = []
    index = 0
    # Each line is "X-Pad-NNN: " + value + CRLF; lines stay under 1,000 bytes, like real big cookies.
    while padding_needed > 0:
        prefix = f"X-Pad-{index:03d}: "
        overhead = len(prefix) + 2
        if padding_needed < overhead + 1:
            raise ValueError(f"header_bytes={header_bytes} cannot be hit exactly; try a larger value")
        value_len = min(padding_needed - overhead, 980)
        remaining_after = padding_needed - overhead - value_len
        if 0 < remaining_after < overhead + 1:
            value_len -= overhead + 1  # leave room for one more valid line
        pad_lines.append(prefix + "p" * value_len + "\r\n")
        padding_needed -= overhead + value_len
        index += 1
    response = http_response(200, "OK", body, "".join(pad_lines))
    assert len(response) - len(body) == header_bytes
    return response


@dataclass
class _Options:
    behaviour: str
    tls: ssl.SSLContext | None
    stall_seconds: float
    header_bytes: int


class Peer:
    """A listening misbehaving origin; use as an async context manager or call close()."""

    def __init__(self, host: str, port: int, options: _Options) -> None:
        self.host = host
        self.port = port
        self._options = options
        self._server: asyncio.Server | None = None
        self._blackhole_sockets: list[socket.socket] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._closed = False

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def behaviour(self) -> str:
        return self._options.behaviour

    async def __aenter__(self) -> Peer:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop listening and end every connection; returns within a couple of seconds."""
        if self._closed:
            return
        self._closed = True
        if self._server is not None:
            self._server.close()
        for sock in self._blackhole_sockets:
            sock.close()
        self._blackhole_sockets.clear()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_WAIT_SECONDS)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), SERVER_WAIT_SECONDS)

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if self._closed or task is None:
            writer.transport.abort()
            return
        self._tasks.add(task)
        self._writers.add(writer)
        handler = BEHAVIOURS[self._options.behaviour]
        try:
            async with asyncio.timeout(self._options.stall_seconds + LIFETIME_MARGIN_SECONDS):
                if self._options.tls is not None:
                    await writer.start_tls(self._options.tls, ssl_handshake_timeout=TLS_HANDSHAKE_SECONDS)
                conn = Connection(reader, writer, self._options.stall_seconds, self._options.header_bytes)
                await handler(conn)
                await conn.finish()
        except asyncio.CancelledError:
            # The stream machinery reads task.exception() when the task ends; a task that ends
            # cancelled would make it log a spurious error, so end normally.
            pass
        except (OSError, ssl.SSLError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.transport.abort()
            self._writers.discard(writer)
            self._tasks.discard(task)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


async def start_peer(
    behaviour: str,
    *,
    tls: ssl.SSLContext | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    stall_seconds: float = 3600,
    header_bytes: int = HUGE_HEADER_BYTES,
) -> Peer:
    """Listen on host:port (0 = a free port) and misbehave on every connection as `behaviour` says.

    `header_bytes` sizes the head of "http_huge_header" (use JUST_UNDER_HEADER_BYTES for the twin).
    """
    if behaviour not in KNOWN_BEHAVIOURS:
        raise ValueError(
            f"unknown peer behaviour {behaviour!r}; known: {', '.join(sorted(KNOWN_BEHAVIOURS))}"
        )
    if behaviour == "http_huge_header":
        huge_header_response(header_bytes)  # reject an impossible size now, not per connection
    options = _Options(behaviour, tls, stall_seconds, header_bytes)
    if behaviour == "blackhole":
        return await _start_blackhole(host, port, options)
    listener = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        listener.bind((host, port))
        listener.listen(128)
        listener.setblocking(False)
        bound_port: int = listener.getsockname()[1]
        peer = Peer(host, bound_port, options)
        peer._server = await asyncio.start_server(
            peer._on_connection, sock=listener, limit=ws_peer.HEAD_LIMIT
        )
    except BaseException:
        listener.close()
        raise
    return peer


async def _start_blackhole(host: str, port: int, options: _Options) -> Peer:
    """A listener that never accepts, with its accept queue filled, so new SYNs go unanswered.

    Linux keeps backlog+1 connections in the accept queue: with listen(0) one completed connection
    fills it, and later SYNs are dropped silently (tcp_abort_on_overflow=0), so a client's connect()
    times out. Seen on kernel 6.18: the first connect succeeded at once, the next four each timed
    out after their full 1.5 s. We fill until a fill attempt itself goes unanswered, so a kernel
    with a different rule still ends up full. `tls` is ignored: nobody gets that far.
    """
    loop = asyncio.get_running_loop()
    listener = socket.socket(_family(host), socket.SOCK_STREAM)
    peer: Peer | None = None
    try:
        listener.bind((host, port))
        listener.listen(0)
        bound_port: int = listener.getsockname()[1]
        peer = Peer(host, bound_port, options)
        peer._blackhole_sockets.append(listener)
        filled = 0
        for _ in range(BLACKHOLE_MAX_FILL):
            filler = socket.socket(_family(host), socket.SOCK_STREAM)
            filler.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(filler, (host, bound_port)), BLACKHOLE_PROBE_SECONDS)
            except TimeoutError:
                filler.close()
                if filled:  # an empty queue always takes one, so a slow first attempt proves nothing
                    return peer
                continue
            peer._blackhole_sockets.append(filler)
            filled += 1
        raise RuntimeError(f"could not fill the accept queue of {host}:{bound_port}; blackhole unavailable")
    except BaseException:
        if peer is not None:
            await peer.close()
        else:
            listener.close()
        raise


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on `host` where nothing listens (bound, then released): connects get refused."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port
