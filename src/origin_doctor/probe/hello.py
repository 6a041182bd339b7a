"""The hello probe's I/O: connect over TCP, send a ClientHello that offers exactly a profile's TLS
parameters, read the answer under one deadline, and turn whatever the peer does into a HelloResult.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import time
from contextlib import suppress
from dataclasses import replace

from origin_doctor.probe.hello_reader import MAX_READ_BYTES, HelloReader
from origin_doctor.probe.hello_wire import TLS_VERSIONS, HelloOffer, HelloResult, build_client_hello

_READ_CHUNK = 64 * 1024
_CLOSE_GRACE_SECONDS = 1.0


async def negotiate(address: str, port: int, offer: HelloOffer, timeout: float) -> HelloResult:
    """Offer `offer` to address:port (an IPv4 or IPv6 literal) and report the server's answer.

    Never raises for anything the peer does; ValueError only for a bad address or offer (our misuse).
    `timeout` bounds the whole exchange: connect, send and read.
    """
    ip = ipaddress.ip_address(address)
    hello = build_client_hello(offer, os.urandom(32))
    reader = HelloReader(offer, max_bytes=MAX_READ_BYTES)
    started = time.perf_counter()
    writer: asyncio.StreamWriter | None = None
    connected = False
    try:
        async with asyncio.timeout(timeout):
            stream, writer = await asyncio.open_connection(str(ip), port)
            connected = True
            writer.write(hello)
            await writer.drain()
            result = await _read_answer(stream, reader)
    except TimeoutError:
        stage = "waiting for the answer" if connected else "connecting"
        result = reader.result("timeout", f"no answer within {timeout:g} s ({stage})")
    except ConnectionRefusedError:
        result = reader.result("refused", "connection refused")
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
        stage = "" if connected else " while connecting"
        result = reader.result("closed", f"connection reset by peer{stage} ({_errno_name(exc)})")
    except OSError as exc:
        result = reader.result("error", f"socket error: {_errno_name(exc)} {exc.strerror or exc}")
    finally:
        if writer is not None:
            writer.close()
            with suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), _CLOSE_GRACE_SECONDS)
    return replace(result, elapsed_ms=(time.perf_counter() - started) * 1000.0)


async def _read_answer(stream: asyncio.StreamReader, reader: HelloReader) -> HelloResult:
    while True:
        data = await stream.read(_READ_CHUNK)
        if not data:
            return reader.eof()
        result = reader.feed(data)
        if result is not None:
            return result


def _errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, "unknown errno") if exc.errno else type(exc).__name__


__all__ = ["TLS_VERSIONS", "HelloOffer", "HelloReader", "HelloResult", "build_client_hello", "negotiate"]
