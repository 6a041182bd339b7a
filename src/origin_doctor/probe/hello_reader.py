"""Sans-I/O decoder of the server's answer to the probe's ClientHello: records and handshake
messages up to ServerHello (TLS 1.3), ServerHelloDone (TLS <= 1.2) or an alert, into a HelloResult.
"""

from __future__ import annotations

from origin_doctor.probe.hello_codes import (
    ALERT_NAMES,
    CIPHER_CODES,
    CIPHER_KEY_EXCHANGE,
    CIPHER_NAMES,
    CONTENT_ALERT,
    CONTENT_APPLICATION_DATA,
    CONTENT_CHANGE_CIPHER_SPEC,
    CONTENT_HANDSHAKE,
    EXT_KEY_SHARE,
    EXT_SUPPORTED_VERSIONS,
    GROUP_NAMES,
    HANDSHAKE_NAMES,
    SIGNATURE_NAMES,
    VERSION_CODES,
    VERSION_NAMES,
    codes_for,
    name_or_hex,
)
from origin_doctor.probe.hello_wire import HelloOffer, HelloResult

MAX_READ_BYTES = 256 * 1024
FIRST_BYTES_KEPT = 64
_MAX_RECORD_PAYLOAD = 2**14 + 2048  # RFC 5246 6.2.3: the largest TLSCiphertext fragment
_TLS12 = VERSION_CODES["TLSv1.2"]
_TLS13 = VERSION_CODES["TLSv1.3"]
# RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest.
_HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
_RECORD_TYPES = (CONTENT_CHANGE_CIPHER_SPEC, CONTENT_ALERT, CONTENT_HANDSHAKE, CONTENT_APPLICATION_DATA)


class DecodeError(Exception):
    """The server's bytes do not parse; becomes an `error` result, never escapes the reader."""


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, count: int) -> bytes:
        if self._pos + count > len(self._data):
            raise DecodeError("message truncated")
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int) -> bytes:
        return self.take(self.uint(length_size))

    def remaining(self) -> int:
        return len(self._data) - self._pos


def _offered_codes(offer: HelloOffer | None) -> tuple[set[int], set[int]] | None:
    if offer is None:
        return None
    return (
        set(codes_for(offer.versions, VERSION_CODES, "TLS version")),
        set(codes_for(offer.cipher_suites, CIPHER_CODES, "cipher suite")),
    )


class HelloReader:
    """Turns the server's bytes into one HelloResult. feed() returns None while more is needed;
    eof() says what the bytes so far amount to when the peer closed. With `offer`, a server that
    picks a version or suite that was not offered is an `error` (a real client would abort)."""

    def __init__(self, offer: HelloOffer | None = None, max_bytes: int = MAX_READ_BYTES) -> None:
        self._offered = _offered_codes(offer)
        self._max_bytes = max_bytes
        self._records = bytearray()
        self._handshake = bytearray()
        self._first_bytes = b""
        self._received = 0
        self._seen_record = False
        self._result: HelloResult | None = None
        self._version: int | None = None
        self._cipher: int | None = None
        self._group: str | None = None
        self._signature: str | None = None
        self._chain: tuple[bytes, ...] = ()
        self._cert_requested = False
        self._hello_retry = False
        self._warning: tuple[int, str] | None = None

    def feed(self, data: bytes) -> HelloResult | None:
        if self._result is not None or not data:
            return self._result
        if len(self._first_bytes) < FIRST_BYTES_KEPT:
            self._first_bytes += bytes(data[: FIRST_BYTES_KEPT - len(self._first_bytes)])
        self._received += len(data)
        self._records += data
        try:
            self._result = self._drain_records()
        except DecodeError as exc:
            self._result = self.result("error", f"malformed server message: {exc}")
        if self._result is None and self._received > self._max_bytes:
            self._result = self.result("error", f"more than {self._max_bytes} bytes without an answer")
        return self._result

    def eof(self) -> HelloResult:
        if self._result is None:
            if self._received == 0:
                detail = "peer closed the connection without sending anything"
            elif self._version is not None:
                detail = "peer closed the connection after ServerHello, before ServerHelloDone"
            else:
                detail = f"peer closed the connection mid-message after {self._received} bytes"
            self._result = self.result("closed", detail)
        return self._result

    def result(self, kind: str, detail: str, alert: tuple[int, str] | None = None) -> HelloResult:
        """A result of `kind` carrying everything decoded so far (used for timeouts and resets too)."""
        alert = alert or self._warning
        return HelloResult(
            kind=kind,
            version=None if self._version is None else name_or_hex(VERSION_NAMES, self._version),
            cipher=None if self._cipher is None else name_or_hex(CIPHER_NAMES, self._cipher),
            group=self._group,
            signature_algorithm=self._signature,
            chain=self._chain,
            client_cert_requested=self._cert_requested,
            hello_retry=self._hello_retry,
            alert_level=None if alert is None else alert[0],
            alert=None if alert is None else alert[1],
            first_bytes=self._first_bytes,
            detail=detail,
        )

    def _drain_records(self) -> HelloResult | None:
        while True:
            buf = self._records
            if not self._seen_record and buf and buf[0] not in (CONTENT_HANDSHAKE, CONTENT_ALERT):
                return self._not_tls()
            if len(buf) < 5:
                return None
            content_type, major, length = buf[0], buf[1], int.from_bytes(buf[3:5], "big")
            if content_type not in _RECORD_TYPES or major != 3 or length > _MAX_RECORD_PAYLOAD:
                if not self._seen_record:
                    return self._not_tls()
                raise DecodeError(f"bad record header {bytes(buf[:5]).hex()}")
            if len(buf) < 5 + length:
                return None
            payload = bytes(buf[5 : 5 + length])
            del buf[: 5 + length]
            self._seen_record = True
            if content_type == CONTENT_ALERT:
                answer = self._on_alert(payload)
            elif content_type == CONTENT_HANDSHAKE:
                self._handshake += payload
                answer = self._drain_handshake()
            else:
                kind = (
                    "ChangeCipherSpec" if content_type == CONTENT_CHANGE_CIPHER_SPEC else "application data"
                )
                answer = self.result("error", f"unexpected {kind} record before the handshake answer")
            if answer is not None:
                return answer

    def _not_tls(self) -> HelloResult:
        first = self._first_bytes
        hint = " (an SSLv2 record?)" if first and first[0] & 0x80 else ""
        return self.result("not_tls", f"peer answered with non-TLS bytes{hint}: {first[:16]!r}")

    def _on_alert(self, payload: bytes) -> HelloResult | None:
        if len(payload) < 2 or len(payload) % 2:
            raise DecodeError(f"alert record of {len(payload)} bytes")
        for at in range(0, len(payload), 2):  # a record may carry several alerts
            level, description = payload[at], payload[at + 1]
            name = name_or_hex(ALERT_NAMES, description).lower()
            if level == 1 and description != 0:
                self._warning = (level, name)  # e.g. unrecognized_name: a warning, the handshake goes on
                continue
            severity = "fatal" if level == 2 else f"level-{level}"
            return self.result("alert", f"{severity} alert {name}", alert=(level, name))
        return None

    def _drain_handshake(self) -> HelloResult | None:
        buf = self._handshake
        while len(buf) >= 4:
            length = int.from_bytes(buf[1:4], "big")
            if length > self._max_bytes:
                raise DecodeError(f"handshake message of {length} bytes")
            if len(buf) < 4 + length:
                return None
            msg_type, body = buf[0], bytes(buf[4 : 4 + length])
            del buf[: 4 + length]
            answer = self._on_handshake(msg_type, body)
            if answer is not None:
                return answer
        return None

    def _on_handshake(self, msg_type: int, body: bytes) -> HelloResult | None:
        if msg_type == 0:  # HelloRequest: ignorable before the handshake (RFC 5246 7.4.1.1)
            return None
        if self._version is None:
            if msg_type != 2:
                return self.result("error", f"expected ServerHello, got {_handshake_name(msg_type)}")
            return self._on_server_hello(_Cursor(body))
        if msg_type == 11:
            self._chain = _parse_certificate(_Cursor(body))
        elif msg_type == 12:
            self._parse_server_key_exchange(_Cursor(body))
        elif msg_type == 13:
            self._cert_requested = True
        elif msg_type == 14:
            return self.result("accepted", self._accepted_detail())
        elif msg_type != 22:  # CertificateStatus may precede ServerKeyExchange; nothing else may
            return self.result("error", f"unexpected {_handshake_name(msg_type)} before ServerHelloDone")
        return None

    def _on_server_hello(self, cursor: _Cursor) -> HelloResult | None:
        version = cursor.uint(2)
        server_random = cursor.take(32)
        cursor.vector(1)  # session id
        cipher = cursor.uint(2)
        compression = cursor.uint(1)
        extensions = _parse_extensions(cursor) if cursor.remaining() else {}
        if EXT_SUPPORTED_VERSIONS in extensions:
            version = _Cursor(extensions[EXT_SUPPORTED_VERSIONS]).uint(2)
        self._version, self._cipher = version, cipher
        self._hello_retry = server_random == _HRR_RANDOM
        if version not in VERSION_NAMES:
            return self.result("error", f"server chose unknown version 0x{version:04X}")
        if self._offered is not None:
            versions, suites = self._offered
            if version not in versions:
                return self.result("error", f"server chose {VERSION_NAMES[version]}, which was not offered")
            if cipher not in suites:
                return self.result(
                    "error", f"server chose suite {name_or_hex(CIPHER_NAMES, cipher)}, which was not offered"
                )
        if version == _TLS13:
            if EXT_KEY_SHARE in extensions:
                # HRR carries only the selected group; a ServerHello carries group + key.
                self._group = name_or_hex(GROUP_NAMES, _Cursor(extensions[EXT_KEY_SHARE]).uint(2))
            return self.result("accepted", self._accepted_detail())
        if compression != 0:
            return self.result("error", f"server chose compression method {compression}")
        return None

    def _parse_server_key_exchange(self, cursor: _Cursor) -> None:
        assert self._cipher is not None and self._version is not None
        key_exchange = CIPHER_KEY_EXCHANGE.get(self._cipher)
        if key_exchange == "ECDHE":
            curve_type = cursor.uint(1)
            if curve_type != 3:
                raise DecodeError(f"ECDHE ServerKeyExchange curve type {curve_type}, not named_curve")
            self._group = name_or_hex(GROUP_NAMES, cursor.uint(2))
            cursor.vector(1)  # public point
        elif key_exchange == "DHE":
            prime = cursor.vector(2).lstrip(b"\x00")
            cursor.vector(2)  # generator
            cursor.vector(2)  # public value
            self._group = f"DH-{len(prime) * 8}"
        else:
            return  # unknown suite or no ServerKeyExchange expected: leave it unparsed
        if self._version >= _TLS12:
            self._signature = name_or_hex(SIGNATURE_NAMES, cursor.uint(2))

    def _accepted_detail(self) -> str:
        parts = [name_or_hex(VERSION_NAMES, self._version or 0), name_or_hex(CIPHER_NAMES, self._cipher or 0)]
        if self._group:
            parts.append(self._group)
        if self._hello_retry:
            parts.append("after HelloRetryRequest")
        if self._cert_requested:
            parts.append("client certificate requested")
        if self._warning:
            parts.append(f"warning alert {self._warning[1]}")
        return "server accepted: " + ", ".join(parts)


def _handshake_name(msg_type: int) -> str:
    return HANDSHAKE_NAMES.get(msg_type, f"handshake type {msg_type}")


def _parse_extensions(cursor: _Cursor) -> dict[int, bytes]:
    block = _Cursor(cursor.vector(2))
    extensions: dict[int, bytes] = {}
    while block.remaining():
        ext_type = block.uint(2)
        extensions[ext_type] = block.vector(2)
    return extensions


def _parse_certificate(cursor: _Cursor) -> tuple[bytes, ...]:
    entries = _Cursor(cursor.vector(3))
    chain: list[bytes] = []
    while entries.remaining():
        chain.append(entries.vector(3))
    return tuple(chain)


__all__ = ["FIRST_BYTES_KEPT", "MAX_READ_BYTES", "DecodeError", "HelloReader"]
