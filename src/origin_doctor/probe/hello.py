"""The hello probe's I/O: connect over TCP, send a ClientHello that offers exactly a profile's TLS
parameters, read the answer under one deadline, and turn whatever the peer does into a HelloResult.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import socket
import time
from dataclasses import replace

from origin_doctor.probe.conn import RESET_ON_CLOSE
from origin_doctor.probe.hello_reader import MAX_READ_BYTES, HelloReader
from origin_doctor.probe.hello_wire import TLS_VERSIONS, HelloOffer, HelloResult, build_client_hello

_READ_CHUNK = 64 * 1024


async def negotiate(address: str, port: int, offer: HelloOffer, timeout: float) -> HelloResult:
    """Offer `offer` to address:port (an IPv4 or IPv6 literal) and report the server's answer.

    Never raises for anything the peer does; ValueError only for a bad address or offer (our misuse).
    `timeout` bounds the whole exchange: connect, send and read.
    """
    ip = ipaddress.ip_address(address)
    hello = build_client_hello(offer, os.urandom(32))
    reader = HelloReader(offer, max_bytes=MAX_READ_BYTES)
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    # A bare non-blocking socket driven by the loop: no transport, protocol or stream objects for
    # an exchange of one write and a few reads (they cost more than the exchange itself).
    sock = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    connected = False
    try:
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (str(ip), port))
            connected = True
            await loop.sock_sendall(sock, hello)
            result = await _read_answer(loop, sock, reader)
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
        if connected:
            # The handshake is abandoned on purpose: reset instead of a FIN exchange, so neither
            # side keeps the connection in TIME_WAIT (a fleet scan opens one of these per target).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
        sock.close()
    return replace(result, elapsed_ms=(time.perf_counter() - started) * 1000.0)


async def _read_answer(loop: asyncio.AbstractEventLoop, sock: socket.socket, reader: HelloReader) -> HelloResult:
    while True:
        data = await loop.sock_recv(sock, _READ_CHUNK)
        if not data:
            return reader.eof()
        result = reader.feed(data)
        if result is not None:
            return result


def _errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, "unknown errno") if exc.errno else type(exc).__name__


__all__ = ["TLS_VERSIONS", "HelloOffer", "HelloReader", "HelloResult", "build_client_hello", "negotiate"]
