"""Real peers for the hello probe tests: certificate chains minted here, `openssl s_server`
processes on 127.0.0.1 port 0, and small asyncio servers that misbehave on purpose."""

from __future__ import annotations

import asyncio
import datetime
import re
import socket
import struct
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
_STARTUP_SECONDS = 10.0


@dataclass(frozen=True)
class MintedChain:
    leaf_der: bytes
    intermediate_der: bytes
    leaf_pem: Path
    intermediate_pem: Path
    key_pem: Path


def new_key(kind: str) -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    curves: dict[str, ec.EllipticCurve] = {
        "p256": ec.SECP256R1(),
        "p384": ec.SECP384R1(),
        "p521": ec.SECP521R1(),
    }
    return ec.generate_private_key(curves[kind])


def _certificate(
    subject: str, key: PrivateKey, issuer: str, issuer_key: PrivateKey, is_ca: bool
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW - datetime.timedelta(days=1))
        .not_valid_after(_NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if not is_ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("origin.test")]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def mint_chain(directory: Path, leaf_kind: str, ca_kind: str = "p256") -> MintedChain:
    """root -> intermediate -> leaf ("origin.test"); files written under `directory`."""
    root_key, intermediate_key, leaf_key = new_key(ca_kind), new_key(ca_kind), new_key(leaf_kind)
    intermediate = _certificate(
        "Hello Test Intermediate", intermediate_key, "Hello Test Root", root_key, True
    )
    leaf = _certificate("origin.test", leaf_key, "Hello Test Intermediate", intermediate_key, False)
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "leaf.pem", directory / "intermediate.pem", directory / "key.pem"
    paths[0].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(intermediate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return MintedChain(
        leaf.public_bytes(serialization.Encoding.DER),
        intermediate.public_bytes(serialization.Encoding.DER),
        *paths,
    )


StartServer = Callable[..., int]


def s_server_pool(log_dir: Path) -> Iterator[StartServer]:
    """Generator behind a fixture: yields start(chain, *options) -> port; kills every server after."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(chain: MintedChain, *options: str) -> int:
        log = log_dir / f"s_server-{len(processes)}.log"
        command = [
            "openssl", "s_server", "-accept", "127.0.0.1:0",
            "-cert", str(chain.leaf_pem), "-key", str(chain.key_pem), "-cert_chain", str(chain.intermediate_pem),
            *options,
        ]  # fmt: skip
        with log.open("wb") as out:
            # stdin stays an open pipe: s_server shuts down when its stdin reaches EOF.
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
        processes.append(process)
        deadline = time.monotonic() + _STARTUP_SECONDS
        while time.monotonic() < deadline:
            found = re.search(rb"ACCEPT 127\.0\.0\.1:(\d+)", log.read_bytes())
            if found:
                return int(found.group(1))
            if process.poll() is not None:
                raise AssertionError(f"openssl s_server exited: {log.read_text(errors='replace')}")
            time.sleep(0.01)
        raise AssertionError("openssl s_server did not report its port in time")

    yield start
    for process in processes:
        process.kill()
        process.wait(timeout=5)
        assert process.stdin is not None
        process.stdin.close()


@asynccontextmanager
async def tcp_server(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], object], host: str = "127.0.0.1"
) -> AsyncIterator[int]:
    """An asyncio TCP server on host:0 running `handler` per connection; yields the port."""
    writers: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        result = handler(reader, writer)
        if asyncio.iscoroutine(result):
            await result

    server = await asyncio.start_server(on_connect, host, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await asyncio.wait_for(server.wait_closed(), 5)


async def answer_http_400(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.wait_for(reader.read(4096), 5)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()
    writer.close()


def stay_silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept and never write; tcp_server closes the connection at teardown."""


async def reset_after_first_byte(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.wait_for(reader.read(1), 5)
    # Linger 0 turns the close into a TCP RST.
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def send_then_stall(answer: bytes) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], object]:
    """A handler that writes `answer` after the first byte of the hello and then never again."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.wait_for(reader.read(1), 5)
        writer.write(answer)
        await writer.drain()

    return handler


def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()
