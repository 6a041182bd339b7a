"""The hello probe's I/O: connect over TCP, send a ClientHello that offers exactly a profile's TLS
parameters, read the answer under one deadline, and turn whatever the peer does into a HelloResult.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import time
from dataclasses import replace

from origin_doctor.probe.conn import Connection
from origin_doctor.probe.hello_reader import MAX_READ_BYTES, HelloReader
from origin_doctor.probe.hello_wire import TLS_VERSIONS, HelloOffer, HelloResult, build_client_hello


async def negotiate(address: str, port: int, offer: HelloOffer, timeout: float) -> HelloResult:
    """Offer `offer` to address:port (an IPv4 or IPv6 literal) and report the server's answer.

    Never raises for anything the peer does; ValueError only for a bad address or offer (our misuse).
    `timeout` bounds the whole exchange: connect, send and read.
    """
    ip = ipaddress.ip_address(address)
    hello = build_client_hello(offer, os.urandom(32))
    reader = HelloReader(offer, max_bytes=MAX_READ_BYTES)
    started = time.perf_counter()
    conn: Connection | None = None
    try:
        async with asyncio.timeout(timeout):
            conn = await Connection.open(str(ip), port)
            await conn.send(hello)
            result = await _read_answer(conn, reader)
    except TimeoutError:
        stage = "waiting for the answer" if conn is not None else "connecting"
        result = reader.result("timeout", f"no answer within {timeout:g} s ({stage})")
    except ConnectionRefusedError:
        result = reader.result("refused", "connection refused")
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
        stage = "" if conn is not None else " while connecting"
        result = reader.result("closed", f"connection reset by peer{stage} ({_errno_name(exc)})")
    except OSError as exc:
        result = reader.result("error", f"socket error: {_errno_name(exc)} {exc.strerror or exc}")
    finally:
        if conn is not None:
            conn.close()  # abandoned mid-handshake on purpose: closed with a reset, no TIME_WAIT
    return replace(result, elapsed_ms=(time.perf_counter() - started) * 1000.0)


async def _read_answer(conn: Connection, reader: HelloReader) -> HelloResult:
    while True:
        data = await conn.recv()
        if not data:
            return reader.eof()
        result = reader.feed(data)
        if result is not None:
            return result


def _errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, "unknown errno") if exc.errno else type(exc).__name__


__all__ = ["TLS_VERSIONS", "HelloOffer", "HelloReader", "HelloResult", "build_client_hello", "negotiate"]
