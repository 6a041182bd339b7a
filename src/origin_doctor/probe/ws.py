"""The WebSocket opening handshake as CloudFront sends it to the origin, driven with websockets'
Sans-I/O client protocol over the probe's TLS connection: upgrade, one ping (or message), close."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from websockets.client import ClientProtocol
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader, InvalidMessage, InvalidStatus
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import WebSocketURI
from websockets.utils import accept_key

from origin_doctor.model import Target
from origin_doctor.probe.conn import Connection
from origin_doctor.probe.http import cloudfront_request_headers

BODY_SAMPLE_BYTES = 256
READ_CHUNK = 65536
MAX_MESSAGE_BYTES = 2**20
# Headers the upgrade itself owns; a user-given header may not replace them.
RESERVED_HEADERS = frozenset({
    "host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-accept",
    "content-length", "transfer-encoding",
})
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})")
_PATH_SAFE = "/?&=%:@!$'()*+,;~-._[]"


@dataclass(frozen=True, slots=True)
class WsObservation:
    path: str
    # None when the exchange succeeded. "no_response", "malformed", "rejected" (not 101), "bad_accept", "bad_handshake" (101 breaking other rules),
    # "upgrade_timeout", "reply_timeout", "closed_early".
    error: str | None = None
    detail: str = ""
    status: int | None = None
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body_sample: bytes = b""
    accept_expected: str | None = None
    accept_received: str | None = None
    subprotocol: str | None = None
    extensions: str | None = None
    upgrade_ms: float | None = None
    reply_kind: str | None = None  # "pong" | "message"
    reply_ms: float | None = None
    reply_sample: str | None = None
    close: str | None = None  # "clean" | "no_close_frame" | "timeout"; None when not reached
    close_code: int | None = None
    request_id: str = ""
    request_headers: tuple[tuple[str, str], ...] = ()

    def summary(self) -> dict[str, Any]:
        """The JSON shape of the `ws` entry of an address."""
        return {
            "path": self.path, "status": self.status, "reason": self.reason or None,
            "error": self.error, "detail": self.detail or None,
            "accept_ok": None if self.status != 101 else self.error not in ("bad_accept",),
            "subprotocol": self.subprotocol, "extensions": self.extensions,
            "upgrade_ms": _ms(self.upgrade_ms), "reply": self.reply_kind, "reply_ms": _ms(self.reply_ms),
            "close": self.close, "close_code": self.close_code, "request_id": self.request_id,
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def request_path(path: str) -> str:
    """The request target as sent: absolute path, unsafe characters percent-encoded."""
    path = path if path.startswith("/") else "/" + path
    return urllib.parse.quote(path, safe=_PATH_SAFE)


def upgrade_headers(target: Target, key: str, request_id: str) -> Headers:
    """CloudFront's origin request headers plus the upgrade, in the order CloudFront-like proxies send them."""
    headers = Headers()
    for name, value in cloudfront_request_headers(target.http_host, request_id):
        if name.lower() not in ("connection", "accept-encoding"):
            headers[name] = value
    headers["Upgrade"] = "websocket"
    headers["Connection"] = "Upgrade"
    headers["Sec-WebSocket-Key"] = key
    headers["Sec-WebSocket-Version"] = "13"
    if target.ws_protocols:
        headers["Sec-WebSocket-Protocol"] = ", ".join(target.ws_protocols)
    for name, value in target.ws_headers:
        if name.lower() not in RESERVED_HEADERS:
            headers[name] = value
    return headers


def _client(target: Target, port: int) -> ClientProtocol:
    offered = " ".join(v for n, v in target.ws_headers if n.lower() == "sec-websocket-extensions")
    # A deflate offer given with --ws-header is only processed if the protocol knows the extension.
    extensions = ([ClientPerMessageDeflateFactory(client_max_window_bits=True)]
                  if "permessage-deflate" in offered.lower() else None)
    uri = WebSocketURI(secure=True, host=target.http_host, port=port, path=request_path(target.websocket_path or "/"),
                       query="")
    return ClientProtocol(uri, extensions=extensions,
                          subprotocols=[Subprotocol(p) for p in target.ws_protocols] or None,
                          max_size=MAX_MESSAGE_BYTES)


class _Wire:
    """Moves bytes between one connection and the protocol, with a deadline per wait."""

    def __init__(self, conn: Connection, protocol: ClientProtocol) -> None:
        self.conn = conn
        self.protocol = protocol
        self.raw = bytearray()  # everything received before the handshake ended
        self.eof = False

    async def flush(self) -> None:
        try:
            # An empty chunk asks for a half-close, which TLS cannot do; closing follows anyway.
            pending = b"".join(self.protocol.data_to_send())
            if pending:
                await self.conn.send(pending)
        except (OSError, ConnectionError):
            self.eof = True  # the origin went away; what it sent before is still judged

    async def events(self, deadline: float) -> list[Any]:
        """Feed bytes until the protocol yields events or the peer closes; TimeoutError at the deadline."""
        while True:
            ready = self.protocol.events_received()
            if ready or self.eof:
                return ready
            async with asyncio.timeout_at(deadline):
                try:
                    data = await self.conn.recv(READ_CHUNK)
                except (OSError, ConnectionError):
                    data = b""
            if self.protocol.handshake_exc is None and self.protocol.state is State.CONNECTING:
                self.raw.extend(data[: 4 * READ_CHUNK - len(self.raw)])
            if data:
                self.protocol.receive_data(data)
            else:
                self.eof = True
                self.protocol.receive_eof()
            await self.flush()


async def upgrade(conn: Connection, target: Target, read_timeout: float) -> WsObservation:
    """Open a WebSocket over an established TLS stream as CloudFront would; every failure is an
    observation. The caller owns (and closes) the connection."""
    path = request_path(target.websocket_path or "/")
    request_id = secrets.token_urlsafe(42)[:56]
    protocol = _client(target, target.port)
    headers = upgrade_headers(target, protocol.key, request_id)
    sent = tuple(headers.raw_items())
    base: dict[str, Any] = {"path": path, "request_id": request_id, "request_headers": sent}
    return await _exchange(conn, protocol, Request(path, headers), target, read_timeout, base)


async def _exchange(conn: Connection, protocol: ClientProtocol, request: Request, target: Target,
                    read_timeout: float, base: dict[str, Any]) -> WsObservation:
    wire = _Wire(conn, protocol)
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    try:
        protocol.send_request(request)
        await wire.flush()
    except (OSError, ConnectionError) as exc:
        return WsObservation(error="no_response", detail=f"could not send the upgrade: {type(exc).__name__}", **base)

    response: Response | None = None
    try:
        while response is None:
            for event in await wire.events(loop.time() + read_timeout):
                if isinstance(event, Response):
                    response = event
            if response is None and (wire.eof or protocol.handshake_exc is not None):
                break
    except TimeoutError:
        return _head_failure(wire, "upgrade_timeout", f"no answer to the upgrade within the {read_timeout:g} s read "
                             "timeout", base)
    if response is None:
        if not wire.raw:
            return WsObservation(error="no_response", detail="the origin closed the connection without answering "
                                 "the upgrade", **base)
        return _head_failure(wire, "malformed", f"not a valid HTTP/1.1 response: {_cause(protocol.handshake_exc)}", base)

    upgrade_ms = (time.perf_counter() - started) * 1000
    seen = {
        "status": response.status_code, "reason": response.reason_phrase,
        "headers": tuple(response.headers.raw_items()), "body_sample": bytes(response.body[:BODY_SAMPLE_BYTES]),
        "accept_received": response.headers.get("Sec-WebSocket-Accept"),
        "accept_expected": accept_key(protocol.key), "upgrade_ms": upgrade_ms,
        "subprotocol": response.headers.get("Sec-WebSocket-Protocol"),
        "extensions": response.headers.get("Sec-WebSocket-Extensions"), **base,
    }
    failure = protocol.handshake_exc
    if isinstance(failure, InvalidStatus):
        return WsObservation(error="rejected", detail=f"the origin answers the upgrade with {response.status_code}",
                             **seen)
    if isinstance(failure, InvalidHeader) and failure.name == "Sec-WebSocket-Accept":
        got = seen["accept_received"]
        what = "without Sec-WebSocket-Accept" if got is None else f"with Sec-WebSocket-Accept {got!r}"
        return WsObservation(error="bad_accept", detail=f"101 {what}; expected {seen['accept_expected']!r}", **seen)
    if failure is not None:
        return WsObservation(error="bad_handshake", detail=str(failure), **seen)
    return await _reply_and_close(wire, target, read_timeout, seen)


async def _reply_and_close(wire: _Wire, target: Target, read_timeout: float, seen: dict[str, Any]) -> WsObservation:
    protocol = wire.protocol
    loop = asyncio.get_running_loop()
    payload = secrets.token_bytes(8)
    started = time.perf_counter()
    if target.ws_send is None:
        protocol.send_ping(payload)
        kind = "pong"
    else:
        protocol.send_text(target.ws_send.encode("utf-8"))
        kind = "message"
    await wire.flush()
    deadline = loop.time() + read_timeout
    answer: Frame | None = None
    try:
        while answer is None and not wire.eof:
            for event in await wire.events(deadline):
                if not isinstance(event, Frame):
                    continue
                if _answers(event, kind, payload):
                    answer = event
                elif event.opcode is Opcode.CLOSE:
                    break
            if protocol.close_rcvd is not None:
                break
    except TimeoutError:
        return WsObservation(error="reply_timeout", reply_kind=kind,
                             detail=f"the upgrade worked, but no {kind} came back within {read_timeout:g} s", **seen)
    if answer is None:
        code = protocol.close_rcvd.code if protocol.close_rcvd is not None else None
        how = f"with close code {code}" if code is not None else "without a close frame"
        return WsObservation(error="closed_early", reply_kind=kind, close_code=code,
                             detail=f"the origin ended the WebSocket {how} before answering the {kind}", **seen)
    reply_ms = (time.perf_counter() - started) * 1000
    sample = bytes(answer.data[:64]).decode("utf-8", "replace")
    close, code = await _close(wire, min(read_timeout, 10.0))
    return WsObservation(reply_kind=kind, reply_ms=reply_ms, reply_sample=sample, close=close, close_code=code, **seen)


def _answers(frame: Frame, kind: str, payload: bytes) -> bool:
    if kind == "pong":
        return frame.opcode is Opcode.PONG and bytes(frame.data) == payload
    return frame.opcode in (Opcode.TEXT, Opcode.BINARY)


async def _close(wire: _Wire, timeout: float) -> tuple[str, int | None]:
    """Send a normal close and wait for the origin's close frame."""
    protocol = wire.protocol
    loop = asyncio.get_running_loop()
    try:
        protocol.send_close(1000)
        await wire.flush()
        deadline = loop.time() + timeout
        while protocol.close_rcvd is None and not wire.eof:
            await wire.events(deadline)
    except TimeoutError:
        return "timeout", None
    except (OSError, ConnectionError):
        pass
    if protocol.close_rcvd is None:
        return "no_close_frame", None
    return "clean", protocol.close_rcvd.code


def _head_failure(wire: _Wire, error: str, detail: str, base: dict[str, Any]) -> WsObservation:
    """When the protocol could not give a Response, read the status line from the raw bytes."""
    raw = bytes(wire.raw)
    match = _STATUS_LINE.match(raw)
    status = int(match.group(1)) if match else None
    if status is not None and status != 101:
        body = raw.partition(b"\r\n\r\n")[2][:BODY_SAMPLE_BYTES]
        return WsObservation(error="rejected", status=status, body_sample=body,
                             detail=f"the origin answers the upgrade with {status}", **base)
    if error == "upgrade_timeout" and raw:
        detail = f"the answer to the upgrade stalled after {len(raw)} bytes ({detail})"
    return WsObservation(error=error, status=status, detail=detail, body_sample=raw[:BODY_SAMPLE_BYTES], **base)


def _cause(exc: Exception | None) -> str:
    if exc is None:
        return "the connection closed inside the response head"
    inner = exc.__cause__ if isinstance(exc, InvalidMessage) and exc.__cause__ is not None else exc
    return f"{type(inner).__name__}: {inner}"[:200]

