"""One probe connection: a non-blocking socket driven by the event loop, and TLS through an
`ssl.SSLObject` over memory buffers once the handshake starts.

asyncio's streams put a transport, a protocol, a stream reader and (for TLS) a second protocol
layer between the probe and the socket; a probe writes one request and reads one answer, so those
layers cost more per target than the exchange itself. Here each read and write is one step.
Callers bound every await with their own deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct

READ_CHUNK = 65536
RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close with a reset


class Connection:
    """An open TCP connection to an origin, plain until `start_tls` succeeds."""

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self.sock = sock
        self.loop = loop
        self.ssl_object: ssl.SSLObject | None = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.closed = False

    @classmethod
    async def open(cls, address: str, port: int) -> Connection:
        """Connect to an IPv4 or IPv6 literal. OSError (refused, unreachable, reset) propagates."""
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        # The handshake's flights and the request are small writes; no Nagle delay between them.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        loop = asyncio.get_running_loop()
        try:
            await loop.sock_connect(sock, (address, port))
        except BaseException:
            sock.close()
            raise
        return cls(sock, loop)

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str | None) -> None:
        """Run the TLS handshake. ssl.SSLError for what the peer or OpenSSL refuses,
        ConnectionResetError when the peer closes during it."""
        tls = context.wrap_bio(self._incoming, self._outgoing, server_side=False, server_hostname=server_hostname)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self._flush()
                data = await self.loop.sock_recv(self.sock, READ_CHUNK)
                if not data:
                    self._incoming.write_eof()
                    try:
                        tls.do_handshake()  # lets OpenSSL name an alert it had already read
                    except ssl.SSLError as exc:
                        if not isinstance(exc, ssl.SSLWantReadError):
                            raise
                    raise ConnectionResetError("the peer closed the connection during the TLS handshake") from None
                self._incoming.write(data)
        await self._flush()
        self.ssl_object = tls

    async def send(self, data: bytes) -> None:
        if self.ssl_object is None:
            await self.loop.sock_sendall(self.sock, data)
            return
        self.ssl_object.write(data)
        await self._flush()

    async def recv(self, limit: int = READ_CHUNK) -> bytes:
        """Up to `limit` bytes; b"" once the peer has closed (with or without close_notify)."""
        tls = self.ssl_object
        if tls is None:
            return await self.loop.sock_recv(self.sock, limit)
        while True:
            try:
                return tls.read(limit)
            except ssl.SSLWantReadError:
                await self._flush()  # e.g. an answer to a key update
                data = await self.loop.sock_recv(self.sock, READ_CHUNK)
                if not data:
                    return b""
                self._incoming.write(data)
            except ssl.SSLZeroReturnError:
                return b""
            except ssl.SSLEOFError:
                return b""

    async def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending:
            await self.loop.sock_sendall(self.sock, pending)

    def close(self) -> None:
        """Say close_notify if TLS is up (best effort, never waits), then close the socket."""
        if self.closed:
            return
        self.closed = True
        if self.ssl_object is not None:
            with contextlib.suppress(ssl.SSLError):  # close_notify is written; no reply is awaited
                self.ssl_object.unwrap()
            pending = self._outgoing.read()
            if pending:
                with contextlib.suppress(OSError):
                    self.sock.send(pending)
        # A reset rather than a FIN exchange: the exchange is over, and a fleet scan would
        # otherwise leave one TIME_WAIT socket per target behind it.
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
        self.sock.close()
