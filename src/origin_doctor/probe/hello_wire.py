"""Sans-I/O ClientHello: the offer and result types, and the encoder of a hello that offers exactly
a profile's versions, suites, groups and signature algorithms. The only crypto is key-share keys.
"""

from __future__ import annotations

import functools
import os
import struct
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from origin_doctor.model import parse_ip
from origin_doctor.probe.hello_codes import (
    CIPHER_CODES,
    CONTENT_HANDSHAKE,
    EXT_EC_POINT_FORMATS,
    EXT_EXTENDED_MASTER_SECRET,
    EXT_KEY_SHARE,
    EXT_PSK_MODES,
    EXT_RENEGOTIATION_INFO,
    EXT_SERVER_NAME,
    EXT_SIGNATURE_ALGORITHMS,
    EXT_SUPPORTED_GROUPS,
    EXT_SUPPORTED_VERSIONS,
    GROUP_ALIASES,
    GROUP_CODES,
    SIGNATURE_CODES,
    TLS_VERSIONS,
    VERSION_CODES,
    codes_for,
)

_TLS12 = VERSION_CODES["TLSv1.2"]
_TLS13 = VERSION_CODES["TLSv1.3"]


@dataclass(frozen=True, slots=True)
class HelloOffer:
    """What the ClientHello offers: names from hello_codes' tables, in preference order."""

    versions: tuple[str, ...]
    cipher_suites: tuple[str, ...]
    groups: tuple[str, ...]
    signature_algorithms: tuple[str, ...]
    sni: str | None


@dataclass(frozen=True, slots=True)
class HelloResult:
    """What the server answered to the hello. `kind` is one of accepted, alert, not_tls, closed,
    timeout, refused, error; the other fields hold whatever was seen before the answer ended.
    An alert on an accepted result is a warning the server sent and then went on (e.g.
    unrecognized_name); `elapsed_ms` is filled in by negotiate(), 0.0 from the reader alone."""

    kind: str
    version: str | None = None
    cipher: str | None = None
    group: str | None = None
    signature_algorithm: str | None = None
    chain: tuple[bytes, ...] = ()
    client_cert_requested: bool = False
    hello_retry: bool = False
    alert_level: int | None = None
    alert: str | None = None
    first_bytes: bytes = b""
    detail: str = ""
    elapsed_ms: float = 0.0


def _u8(value: int) -> bytes:
    return struct.pack("!B", value)


def _u16(value: int) -> bytes:
    return struct.pack("!H", value)


def _vec8(body: bytes) -> bytes:
    return _u8(len(body)) + body


def _vec16(body: bytes) -> bytes:
    return _u16(len(body)) + body


def _extension(ext_type: int, body: bytes) -> bytes:
    return _u16(ext_type) + _vec16(body)


_KEY_SHARE_GROUPS = ("X25519", "X448", "P-256", "P-384", "P-521")


def _key_share_public(group: str) -> bytes | None:
    """A fresh public key for the group, or None when we cannot make one (e.g. ffdhe)."""
    if group == "X25519":
        return x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    if group == "X448":
        return x448.X448PrivateKey.generate().public_key().public_bytes_raw()
    curves: dict[str, ec.EllipticCurve] = {
        "P-256": ec.SECP256R1(),
        "P-384": ec.SECP384R1(),
        "P-521": ec.SECP521R1(),
    }
    if group not in curves:
        return None
    public = ec.generate_private_key(curves[group]).public_key()
    return public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def _key_shares(groups: tuple[str, ...]) -> bytes:
    """X25519 and P-256 shares when offered (what browsers send); otherwise one share for the
    first offered group we can generate, so the server can still answer without a retry."""
    chosen = [g for g in groups if g in ("X25519", "P-256")]
    if not chosen:
        chosen = [g for g in groups if g in _KEY_SHARE_GROUPS][:1]
    entries = b""
    for group in chosen:
        public = _key_share_public(group)
        assert public is not None
        entries += _u16(GROUP_CODES[group]) + _vec16(public)
    return _vec16(entries)


def _server_name(sni: str) -> bytes | None:
    """RFC 6066 3 HostName, or None for an IP literal (SNI carries DNS names only)."""
    host = sni.rstrip(".")
    if parse_ip(host) is not None:
        return None
    encoded = host.encode("idna")  # UnicodeError (a ValueError) for names IDNA rejects
    if not encoded or len(encoded) > 253:
        raise ValueError(f"bad SNI host name: {sni!r}")
    return _vec16(_u8(0) + _vec16(encoded))


def canonical_groups(groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(GROUP_ALIASES.get(g, g) for g in groups)


def build_client_hello(offer: HelloOffer, client_random: bytes) -> bytes:
    """The whole TLS record carrying a ClientHello that offers exactly `offer`.

    ValueError for an unknown name, an empty version or suite list, or a random that is not 32 bytes.
    """
    if len(client_random) != 32:
        raise ValueError("client_random must be 32 bytes")
    record_version, legacy_version, suites, extensions = _hello_parts(replace(offer, sni=None))
    if offer.sni:
        server_name = _server_name(offer.sni)
        if server_name is not None:  # server_name stays the first extension
            extensions = _extension(EXT_SERVER_NAME, server_name) + extensions
    body = (
        legacy_version
        + client_random
        + _vec8(os.urandom(32))  # legacy_session_id; a full one also satisfies TLS 1.3 middleboxes
        + suites
        + _vec8(b"\x00")  # compression: null only
        + _vec16(extensions)
    )
    handshake = _u8(1) + struct.pack("!I", len(body))[1:] + body
    if len(handshake) > 2**14:
        raise ValueError("ClientHello larger than one record")
    return _u8(CONTENT_HANDSHAKE) + record_version + _vec16(handshake)


@functools.lru_cache(maxsize=64)
def _hello_parts(offer: HelloOffer) -> tuple[bytes, bytes, bytes, bytes]:
    """The encoded parts of a hello that depend only on the offer (without SNI): record version,
    legacy version, cipher suite list and every extension after server_name. Cached per process:
    the key shares are then made once per offer, which is fine because no handshake completes."""
    if not offer.versions:
        raise ValueError("no TLS version offered")
    if not offer.cipher_suites:
        raise ValueError("no cipher suite offered")
    versions = sorted(set(codes_for(offer.versions, VERSION_CODES, "TLS version")), reverse=True)
    suites = codes_for(offer.cipher_suites, CIPHER_CODES, "cipher suite")
    groups = canonical_groups(offer.groups)
    group_codes = codes_for(groups, GROUP_CODES, "group")
    signature_codes = codes_for(offer.signature_algorithms, SIGNATURE_CODES, "signature algorithm")
    highest = versions[0]
    legacy_version = max((v for v in versions if v <= _TLS12), default=_TLS12)
    record_version = VERSION_CODES["SSLv3"] if highest == VERSION_CODES["SSLv3"] else VERSION_CODES["TLSv1"]

    extensions = b""
    if group_codes:
        extensions += _extension(EXT_SUPPORTED_GROUPS, _vec16(b"".join(map(_u16, group_codes))))
    extensions += _extension(EXT_EC_POINT_FORMATS, _vec8(b"\x00"))  # uncompressed only
    if highest >= _TLS12 and signature_codes:
        extensions += _extension(EXT_SIGNATURE_ALGORITHMS, _vec16(b"".join(map(_u16, signature_codes))))
    extensions += _extension(EXT_EXTENDED_MASTER_SECRET, b"")
    extensions += _extension(EXT_RENEGOTIATION_INFO, _vec8(b""))
    if highest == _TLS13:
        listed = [v for v in versions if v >= VERSION_CODES["TLSv1"]]
        extensions += _extension(EXT_SUPPORTED_VERSIONS, _vec8(b"".join(map(_u16, listed))))
        extensions += _extension(EXT_KEY_SHARE, _key_shares(groups))
        extensions += _extension(EXT_PSK_MODES, _vec8(b"\x01"))  # psk_dhe_ke
    return _u16(record_version), _u16(legacy_version), _vec16(b"".join(map(_u16, suites))), extensions


__all__ = ["TLS_VERSIONS", "HelloOffer", "HelloResult", "build_client_hello", "canonical_groups"]
