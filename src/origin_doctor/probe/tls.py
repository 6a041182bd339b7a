"""A real TLS handshake (OpenSSL, no verification) over an open TCP connection: the negotiated
version and cipher, the alert when it fails, and the certificate chain exactly as sent."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import Any

from origin_doctor.probe.conn import Connection


@dataclass(frozen=True, slots=True)
class TlsObservation:
    ok: bool
    version: str | None = None
    cipher: str | None = None
    chain: tuple[bytes, ...] = ()  # DER, in the order the origin sent them
    error: str | None = None  # "alert" | "timeout" | "closed" | "not_tls" | "error"
    reason: str | None = None  # ssl.SSLError.reason, e.g. "TLSV1_ALERT_PROTOCOL_VERSION"
    detail: str = ""
    elapsed_ms: float = 0.0


def peer_chain(ssl_object: Any) -> tuple[bytes, ...]:
    """The chain as sent, unverified. Public from Python 3.13; private on 3.11 and 3.12."""
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        inner = getattr(ssl_object, "_sslobj", None)
        getter = getattr(inner, "get_unverified_chain", None)
    if getter is None:
        return ()
    chain = getter() or []
    der: list[bytes] = []
    for cert in chain:
        if isinstance(cert, bytes | bytearray):
            der.append(bytes(cert))
        else:
            der.append(cert.public_bytes(ssl._ssl.ENCODING_DER))  # type: ignore[attr-defined]
    return tuple(der)


_NOT_TLS_REASONS = {"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG",
                    "RECORD_LAYER_FAILURE", "UNEXPECTED_RECORD", "HTTPS_PROXY_REQUEST", "BAD_PACKET_LENGTH"}


async def handshake(conn: Connection, ctx: ssl.SSLContext, sni: str | None, timeout: float) -> TlsObservation:
    """Upgrade the connection in place. On failure it is unusable and the caller closes it."""
    started = time.perf_counter()

    def took() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        async with asyncio.timeout(timeout):
            await conn.start_tls(ctx, sni or None)
    except TimeoutError:
        return TlsObservation(False, error="timeout", detail=f"no TLS handshake within {timeout:g} s",
                              elapsed_ms=took())
    except ssl.SSLError as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return TlsObservation(False, error="closed", reason=reason,
                                  detail="the origin closed the connection during the handshake", elapsed_ms=took())
        kind = "not_tls" if reason in _NOT_TLS_REASONS else "alert"
        return TlsObservation(False, error=kind, reason=reason, detail=str(exc.args[-1] if exc.args else exc),
                              elapsed_ms=took())
    except (ConnectionResetError, BrokenPipeError, EOFError) as exc:
        return TlsObservation(False, error="closed", detail=f"connection closed during the handshake ({type(exc).__name__})",
                              elapsed_ms=took())
    except OSError as exc:
        return TlsObservation(False, error="error", detail=f"{type(exc).__name__}: {exc.strerror or exc}",
                              elapsed_ms=took())
    ssl_object = conn.ssl_object
    assert ssl_object is not None
    cipher = ssl_object.cipher()
    return TlsObservation(True, version=ssl_object.version(), cipher=cipher[0] if cipher else None,
                          chain=peer_chain(ssl_object), elapsed_ms=took())
