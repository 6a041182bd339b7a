"""Test-side TLS bytes written independently of the probe: a ClientHello parser, and builders of
synthetic server flights (ServerHello ... ServerHelloDone, alerts) cut into records of any size."""

from __future__ import annotations

import struct
from dataclasses import dataclass

HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")


@dataclass(frozen=True)
class ParsedClientHello:
    record_version: int
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: list[int]
    compression_methods: bytes
    extensions: dict[int, bytes]

    def u16_list(self, ext_type: int, length_bytes: int) -> list[int]:
        body = self.extensions[ext_type][length_bytes:]
        return [int.from_bytes(body[i : i + 2], "big") for i in range(0, len(body), 2)]


def parse_client_hello(record: bytes) -> ParsedClientHello:
    """Parse one record holding a whole ClientHello; asserts on any length mismatch."""
    assert record[0] == 22, "not a handshake record"
    record_version, record_length = struct.unpack("!HH", record[1:5])
    assert len(record) == 5 + record_length
    handshake = record[5:]
    assert handshake[0] == 1 and int.from_bytes(handshake[1:4], "big") == len(handshake) - 4
    body, pos = handshake[4:], 0

    def take(count: int) -> bytes:
        nonlocal pos
        assert pos + count <= len(body), "truncated ClientHello"
        pos += count
        return body[pos - count : pos]

    legacy_version = int.from_bytes(take(2), "big")
    random = take(32)
    session_id = take(take(1)[0])
    suites_raw = take(int.from_bytes(take(2), "big"))
    compression = take(take(1)[0])
    extensions_raw = take(int.from_bytes(take(2), "big"))
    assert pos == len(body), "trailing bytes after extensions"
    extensions: dict[int, bytes] = {}
    at = 0
    while at < len(extensions_raw):
        ext_type, ext_len = struct.unpack("!HH", extensions_raw[at : at + 4])
        assert ext_type not in extensions, f"duplicate extension {ext_type}"
        extensions[ext_type] = extensions_raw[at + 4 : at + 4 + ext_len]
        at += 4 + ext_len
    assert at == len(extensions_raw)
    suites = [int.from_bytes(suites_raw[i : i + 2], "big") for i in range(0, len(suites_raw), 2)]
    return ParsedClientHello(
        record_version, legacy_version, random, session_id, suites, compression, extensions
    )


def handshake_message(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def server_hello(
    version: int, cipher: int, random: bytes = b"\x11" * 32, extensions: dict[int, bytes] | None = None
) -> bytes:
    body = struct.pack("!H", version) + random + b"\x20" + b"\x22" * 32 + struct.pack("!HB", cipher, 0)
    if extensions is not None:
        block = b"".join(struct.pack("!HH", t, len(v)) + v for t, v in extensions.items())
        body += struct.pack("!H", len(block)) + block
    return handshake_message(2, body)


def certificate(chain: list[bytes]) -> bytes:
    entries = b"".join(len(der).to_bytes(3, "big") + der for der in chain)
    return handshake_message(11, len(entries).to_bytes(3, "big") + entries)


def ecdhe_server_key_exchange(group: int, signature_scheme: int | None) -> bytes:
    body = b"\x03" + struct.pack("!H", group) + b"\x41" + b"\x04" * 65
    if signature_scheme is not None:
        body += struct.pack("!HH", signature_scheme, 64) + b"\x55" * 64
    return handshake_message(12, body)


def certificate_request() -> bytes:
    return handshake_message(13, b"\x01\x01" + b"\x00\x02\x04\x01" + b"\x00\x00")


def server_hello_done() -> bytes:
    return handshake_message(14, b"")


def records(content_type: int, payload: bytes, fragment: int = 2**14, version: int = 0x0303) -> bytes:
    """`payload` cut into records of at most `fragment` bytes (handshake messages may straddle them)."""
    out = b""
    for start in range(0, len(payload), fragment):
        chunk = payload[start : start + fragment]
        out += struct.pack("!BHH", content_type, version, len(chunk)) + chunk
    return out


def alert(level: int, description: int) -> bytes:
    return records(21, bytes([level, description]))


def tls12_flight(chain: list[bytes], request_client_cert: bool = False, fragment: int = 2**14) -> bytes:
    """ECDHE-RSA-AES128-GCM-SHA256 / P-256 / rsa_pkcs1_sha256 up to ServerHelloDone."""
    messages = (
        server_hello(0x0303, 0xC02F, extensions={0xFF01: b"\x00", 0x0017: b""})
        + certificate(chain)
        + ecdhe_server_key_exchange(0x0017, 0x0401)
        + (certificate_request() if request_client_cert else b"")
        + server_hello_done()
    )
    return records(22, messages, fragment)
