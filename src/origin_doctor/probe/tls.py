"""A real TLS handshake (OpenSSL, no verification) over an open TCP connection: the negotiated
version and cipher, the alert when it fails, and the certificate chain exactly as sent."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from OpenSSL import SSL, crypto

from origin_doctor.probe.conn import Connection, TlsEOFError, TlsError


@dataclass(frozen=True, slots=True)
class TlsObservation:
    ok: bool
    version: str | None = None
    cipher: str | None = None
    chain: tuple[bytes, ...] = ()  # DER, in the order the origin sent them
    error: str | None = None  # "alert" | "timeout" | "closed" | "not_tls" | "error"
    reason: str | None = None  # OpenSSL's reason, e.g. "TLSV1_ALERT_PROTOCOL_VERSION"
    detail: str = ""
    elapsed_ms: float = 0.0


def peer_chain(tls: SSL.Connection) -> tuple[bytes, ...]:
    """The chain as sent, unverified, leaf first, as DER. Taken from OpenSSL without going through
    cryptography's parser, which refuses (or warns about) certificates OpenSSL takes: judging them
    is the analysis's job, which names a certificate it cannot parse."""
    return tuple(crypto.dump_certificate(crypto.FILETYPE_ASN1, cert) for cert in tls.get_peer_cert_chain() or ())


_NOT_TLS_REASONS = {"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG",
                    "RECORD_LAYER_FAILURE", "UNEXPECTED_RECORD", "HTTPS_PROXY_REQUEST", "BAD_PACKET_LENGTH"}


async def handshake(conn: Connection, ctx: SSL.Context, sni: str | None, timeout: float) -> TlsObservation:
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
    except TlsError as exc:
        reason = exc.reason
        if isinstance(exc, TlsEOFError):
            return TlsObservation(False, error="closed", reason=reason,
                                  detail="the origin closed the connection during the handshake", elapsed_ms=took())
        kind = "not_tls" if reason in _NOT_TLS_REASONS else "alert"
        return TlsObservation(False, error=kind, reason=reason, detail=exc.detail, elapsed_ms=took())
    except (ConnectionResetError, BrokenPipeError, EOFError) as exc:
        return TlsObservation(False, error="closed", detail=f"connection closed during the handshake ({type(exc).__name__})",
                              elapsed_ms=took())
    except OSError as exc:
        return TlsObservation(False, error="error", detail=f"{type(exc).__name__}: {exc.strerror or exc}",
                              elapsed_ms=took())
    tls = conn.tls
    assert tls is not None
    return TlsObservation(True, version=tls.get_protocol_version_name(), cipher=tls.get_cipher_name(),
                          chain=peer_chain(tls), elapsed_ms=took())
