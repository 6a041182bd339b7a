"""Open a TCP connection the way the CDN does: a per-attempt timeout and a number of attempts."""

from __future__ import annotations

import asyncio
import errno
import time
from dataclasses import dataclass

from origin_doctor.probe.conn import Connection

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


@dataclass(frozen=True, slots=True)
class TcpObservation:
    address: str
    port: int
    error: str | None = None  # "refused" | "timeout" | "unreachable" | "reset"
    errno: int | None = None
    attempts: int = 1
    elapsed_ms: float = 0.0


async def connect(address: str, port: int, timeout: float, attempts: int
                  ) -> tuple[TcpObservation, Connection | None]:
    """Return the observation and, on success, the open connection (the caller closes it)."""
    started = time.perf_counter()
    last_error, last_errno = "timeout", None
    tried = 0
    for tried in range(1, max(1, attempts) + 1):
        try:
            async with asyncio.timeout(timeout):
                conn = await Connection.open(address, port)
            elapsed = (time.perf_counter() - started) * 1000
            return TcpObservation(address, port, attempts=tried, elapsed_ms=elapsed), conn
        except TimeoutError:
            last_error, last_errno = "timeout", None
        except ConnectionRefusedError as exc:
            last_error, last_errno = "refused", exc.errno
            break  # an active refusal is final; only silence is worth retrying
        except ConnectionResetError as exc:
            last_error, last_errno = "reset", exc.errno
            break
        except OSError as exc:
            last_error = "unreachable" if exc.errno in _UNREACHABLE else "refused"
            last_errno = exc.errno
            break
    elapsed = (time.perf_counter() - started) * 1000
    return TcpObservation(address, port, last_error, last_errno, tried, elapsed), None


def close(conn: Connection | None) -> None:
    if conn is not None:
        conn.close()
