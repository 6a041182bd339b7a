"""One HTTP/1.1 request shaped like CloudFront's origin request, driven with h11 so that the
wire is seen as it is: status, header block size, time to first byte, protocol errors."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

import h11

from origin_doctor.probe.conn import Connection

BODY_SAMPLE_BYTES = 512
MAX_READ_BYTES = 2**20  # enough to see a header block far over CloudFront's limit


@dataclass(frozen=True, slots=True)
class HttpObservation:
    status: int | None = None
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    header_bytes: int | None = None
    body_sample: bytes = b""
    error: str | None = None  # "no_response" | "malformed" | "header_too_big" | "timeout" | "closed"
    detail: str = ""
    first_bytes: bytes = b""
    ttfb_ms: float | None = None
    elapsed_ms: float = 0.0
    request_id: str = ""
    request_headers: tuple[tuple[str, str], ...] = field(default=())


def cloudfront_request_headers(host: str, request_id: str) -> list[tuple[str, str]]:
    """Headers CloudFront adds by default toward a custom origin (Developer Guide, header table)."""
    return [
        ("Host", host),
        ("User-Agent", "Amazon CloudFront"),
        ("Via", "1.1 origin-doctor.cloudfront.net (CloudFront)"),
        ("X-Amz-Cf-Id", request_id),
        ("X-Forwarded-For", "192.0.2.10"),
        ("Connection", "keep-alive"),
        ("Accept-Encoding", "gzip"),
    ]


def _header_block_size(raw: bytes) -> int | None:
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
        return None if end < 0 else end + 2
    return end + 4


async def request(conn: Connection, host: str, path: str, read_timeout: float, max_header_bytes: int,
                  method: str = "GET", extra_headers: tuple[tuple[str, str], ...] = ()) -> HttpObservation:
    request_id = secrets.token_urlsafe(42)[:56]
    headers = cloudfront_request_headers(host, request_id) + list(extra_headers)
    protocol = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_READ_BYTES)
    started = time.perf_counter()
    raw = bytearray()
    ttfb: float | None = None

    def obs(**kw: object) -> HttpObservation:
        return HttpObservation(first_bytes=bytes(raw[:64]), ttfb_ms=ttfb,
                               elapsed_ms=(time.perf_counter() - started) * 1000,
                               request_id=request_id, request_headers=tuple(headers), **kw)  # type: ignore[arg-type]

    try:
        head = protocol.send(h11.Request(method=method, target=path, headers=headers)) or b""
        await conn.send(head + (protocol.send(h11.EndOfMessage()) or b""))
    except (OSError, ConnectionError) as exc:
        return obs(error="closed", detail=f"could not send the request: {type(exc).__name__}")

    response: h11.Response | None = None
    body = bytearray()
    while True:
        try:
            event = protocol.next_event()
        except h11.RemoteProtocolError as exc:
            if not raw:
                return obs(error="no_response", detail="the origin closed the connection without a response")
            size = _header_block_size(bytes(raw))
            if response is None and (size or len(raw)) > max_header_bytes:
                return obs(error="header_too_big", header_bytes=size or len(raw),
                           detail=f"the response header block is over {max_header_bytes} bytes")
            return obs(error="malformed", detail=f"invalid HTTP/1.1 response: {exc}")
        if event is h11.NEED_DATA:
            if len(raw) >= MAX_READ_BYTES:
                break
            try:
                async with asyncio.timeout(read_timeout):
                    chunk = await conn.recv(65536)
            except TimeoutError:
                if response is None:
                    waited = "no first byte" if not raw else "the response stalled"
                    return obs(error="timeout", detail=f"{waited} within the {read_timeout:g} s read timeout")
                break  # a body stall after the headers: CloudFront serves what it got; we have seen enough
            except (OSError, ConnectionError) as exc:
                chunk = b""
                if not raw:
                    why = getattr(exc, "reason", None) or type(exc).__name__  # a TLS alert names itself
                    return obs(error="no_response", detail=f"connection lost before any response ({why})")
            if ttfb is None and chunk:
                ttfb = (time.perf_counter() - started) * 1000
            raw.extend(chunk)
            if response is None and len(raw) > max_header_bytes and _header_block_size(bytes(raw)) is None:
                # No need to read a megabyte of headers to know CloudFront would refuse them.
                return obs(error="header_too_big", header_bytes=len(raw),
                           detail=f"over {max_header_bytes} bytes of response head without its end")
            protocol.receive_data(chunk)
            continue
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            response = event
            size = _header_block_size(bytes(raw)) or len(raw)
            if size > max_header_bytes:
                return obs(status=event.status_code, error="header_too_big", header_bytes=size,
                           detail=f"the response header block is {size} bytes, over the {max_header_bytes}-byte limit")
            continue
        if isinstance(event, h11.Data):
            if len(body) < BODY_SAMPLE_BYTES:
                body.extend(event.data[: BODY_SAMPLE_BYTES - len(body)])
            else:
                break
            continue
        if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    if response is None:
        if not raw:
            return obs(error="no_response", detail="the origin closed the connection without a response")
        return obs(error="malformed", detail="the connection closed inside the response head")
    return obs(
        status=response.status_code,
        reason=response.reason.decode("latin-1"),
        headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers),
        header_bytes=_header_block_size(bytes(raw)),
        body_sample=bytes(body),
    )
