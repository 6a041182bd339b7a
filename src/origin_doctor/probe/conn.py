"""One probe connection: a non-blocking socket driven by the event loop, and TLS through a
pyOpenSSL connection over memory buffers once the handshake starts.

The TLS is cryptography's own OpenSSL (pyOpenSSL drives it), not the system OpenSSL 3.0 behind
Python's `ssl`: 3.0 decodes each certificate's public key through its slow provider decoders, which
took 3.0 of the 10 million instructions a scan spent per target (callgrind); a handshake through
cryptography's OpenSSL costs a quarter to a third less CPU (bench/tls_handshake.py: 0.69x, 0.77x).

asyncio's streams put a transport, a protocol, a stream reader and (for TLS) a second protocol
layer between the probe and the socket; a probe writes one request and reads one answer, so those
layers cost more per target than the exchange itself. Here each read and write is one step.
Callers bound every await with their own deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from OpenSSL import SSL

from origin_doctor.model import parse_ip

READ_CHUNK = 65536
_INBOX_PAUSE = 4 * READ_CHUNK  # stop reading a peer that sends faster than the probe reads
RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close with a reset


class TlsError(OSError):
    """OpenSSL refused the handshake or the peer sent an alert. `reason` is OpenSSL's reason in
    the form Python's ssl module gives it, e.g. TLSV1_ALERT_PROTOCOL_VERSION. An OSError, as
    ssl.SSLError is, so that a probe's I/O error handling covers it."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class TlsEOFError(TlsError):
    """The peer closed the connection in the middle of the TLS exchange."""


def tls_error(exc: SSL.Error) -> TlsError:
    """pyOpenSSL's error as a TlsError: the last reason OpenSSL queued names what went wrong."""
    if isinstance(exc, SSL.SysCallError):
        return TlsEOFError("UNEXPECTED_EOF_WHILE_READING", "the peer closed the connection during the TLS exchange")
    queued = exc.args[0] if exc.args and isinstance(exc.args[0], list) else []
    texts = [str(entry[-1]) for entry in queued if isinstance(entry, tuple) and entry]
    text = texts[-1] if texts else str(exc) or type(exc).__name__
    reason = text.upper().replace(" ", "_")
    kind = TlsEOFError if reason == "UNEXPECTED_EOF_WHILE_READING" else TlsError
    return kind(reason, f"[SSL: {reason}] {text}")


def _sni_bytes(name: str) -> bytes:
    """The SNI as Python's ssl sends it: IDNA (an internationalized name as its xn-- form)."""
    try:
        return name.encode("idna")
    except UnicodeError:  # a label IDNA refuses (too long, empty): send the text as it is
        return name.encode("utf-8")


class Connection:
    """An open TCP connection to an origin, plain until `start_tls` succeeds."""

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self.sock = sock
        self.loop = loop
        self.tls: SSL.Connection | None = None
        self.closed = False
        # The socket stays registered for reading while data is wanted (one registration per
        # connection, not one per read); what arrives waits in _inbox for the next recv.
        self._inbox = bytearray()
        self._eof = False
        self._error: OSError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._watching = False

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

    async def start_tls(self, context: SSL.Context, server_hostname: str | None) -> None:
        """Run the TLS handshake. TlsError for what the peer or OpenSSL refuses (TlsEOFError
        when the peer closes during it)."""
        tls = SSL.Connection(context, None)
        if server_hostname and parse_ip(server_hostname) is None:  # SNI names hosts, never addresses
            tls.set_tlsext_host_name(_sni_bytes(server_hostname))
        tls.set_connect_state()
        while True:
            try:
                tls.do_handshake()
                break
            except SSL.WantReadError:
                await self._flush(tls)
                data = await self._recv_raw(READ_CHUNK)
                if not data:
                    tls.bio_shutdown()
                    try:
                        tls.do_handshake()  # lets OpenSSL name an alert it had already read
                    except SSL.WantReadError:
                        pass
                    except SSL.Error as exc:
                        raise tls_error(exc) from None
                    raise ConnectionResetError("the peer closed the connection during the TLS handshake") from None
                tls.bio_write(data)
            except SSL.Error as exc:
                await self._flush(tls)  # our alert, if OpenSSL wrote one
                raise tls_error(exc) from None
        await self._flush(tls)
        self.tls = tls

    async def send(self, data: bytes) -> None:
        tls = self.tls
        if tls is None:
            await self._send_raw(data)
            return
        try:
            tls.sendall(data)
        except SSL.Error as exc:  # the session is already broken (an alert came in meanwhile)
            raise tls_error(exc) from None
        await self._flush(tls)

    async def recv(self, limit: int = READ_CHUNK) -> bytes:
        """Up to `limit` bytes; b"" once the peer has closed (with or without close_notify)."""
        tls = self.tls
        if tls is None:
            return await self._recv_raw(limit)
        while True:
            try:
                return tls.recv(limit)
            except SSL.WantReadError:
                await self._flush(tls)  # e.g. an answer to a key update
                data = await self._recv_raw(READ_CHUNK)
                if not data:
                    return b""
                tls.bio_write(data)
            except (SSL.ZeroReturnError, SSL.SysCallError):
                return b""
            except SSL.Error as exc:
                raise tls_error(exc) from None

    @staticmethod
    def _pending(tls: SSL.Connection) -> bytes:
        chunks = []
        while True:
            try:
                chunks.append(tls.bio_read(READ_CHUNK))
            except SSL.WantReadError:
                return b"".join(chunks)

    async def _flush(self, tls: SSL.Connection) -> None:
        pending = self._pending(tls)
        if pending:
            await self._send_raw(pending)

    async def _send_raw(self, data: bytes) -> None:
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        if sent < len(data):  # a full send buffer: let the loop wait for room
            await self.loop.sock_sendall(self.sock, memoryview(data)[sent:])

    async def _recv_raw(self, limit: int) -> bytes:
        while not self._inbox:
            if self._error is not None:
                raise self._error
            if self._eof:
                return b""
            if not self._watching:
                self.loop.add_reader(self.sock.fileno(), self._readable)
                self._watching = True
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if len(self._inbox) <= limit:
            data = bytes(self._inbox)
            self._inbox.clear()
        else:
            data = bytes(self._inbox[:limit])
            del self._inbox[:limit]
        return data

    def _readable(self) -> None:
        try:
            data = self.sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._error = exc
            data = b""
        if data:
            self._inbox += data
        else:
            self._eof = True
        if not data or len(self._inbox) >= _INBOX_PAUSE:
            self._unwatch()  # nothing more to read, or enough until the probe catches up
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _unwatch(self) -> None:
        if self._watching:
            self.loop.remove_reader(self.sock.fileno())
            self._watching = False

    def close(self) -> None:
        """Say close_notify if TLS is up (best effort, never waits), then close the socket."""
        if self.closed:
            return
        self.closed = True
        if self.tls is not None:
            with contextlib.suppress(SSL.Error):  # close_notify is written; no reply is awaited
                self.tls.shutdown()
            pending = self._pending(self.tls)
            if pending:
                with contextlib.suppress(OSError):
                    self.sock.send(pending)
        # A reset rather than a FIN exchange: the exchange is over, and a fleet scan would
        # otherwise leave one TIME_WAIT socket per target behind it.
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
        self._unwatch()
        self.sock.close()
