"""The probes' OpenSSL clients: built on pyOpenSSL, but set up as Python's ssl sets up a client."""

from __future__ import annotations

import contextlib
import ssl

from OpenSSL import SSL

from origin_doctor.profile import OPENSSL_MISSING, load_profile, permissive_context, profile_context


def test_the_probe_clients_carry_pythons_client_options() -> None:
    """The OpenSSL options Python's ssl gives a client context (its interoperability workarounds
    among them), less SSLv3, which the version range already excludes, and server preference,
    which only a server reads."""
    python_client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).options
    server_side_only = ssl.OP_NO_SSLv3 | ssl.OP_CIPHER_SERVER_PREFERENCE
    # fresh contexts: pyOpenSSL refuses set_options(), even of nothing, on one already in use
    for context in (permissive_context.__wrapped__(), profile_context.__wrapped__(load_profile("cloudfront"))):
        assert context.set_options(0) == python_client & ~server_side_only


def test_the_profile_client_offers_exactly_the_profiles_suites_that_openssl_has() -> None:
    """OpenSSL silently drops suites it lacks from a cipher string; the profile client must offer
    every other TLS 1.2 suite of the profile and nothing else (TLS 1.3 suites aside)."""
    for name in ("cloudfront", "cloudfront-2025"):
        profile = load_profile(name)
        offered = SSL.Connection(profile_context(profile), None).get_cipher_list()
        tls12 = {suite for suite in offered if not suite.startswith("TLS_")}
        assert tls12 == set(profile.tls12_suites) - OPENSSL_MISSING, name


def _client_hello(record: bytes) -> dict[int, bytes]:
    """The extensions (type -> body) of the ClientHello in a client's first flight."""
    body = record[5 + 4:]  # record header, handshake header
    at = 2 + 32  # version, random
    at += 1 + body[at]  # session id
    at += 2 + int.from_bytes(body[at:at + 2], "big")  # cipher suites
    at += 1 + body[at]  # compression methods
    end = at + 2 + int.from_bytes(body[at:at + 2], "big")
    at += 2
    extensions: dict[int, bytes] = {}
    while at < end:
        kind, size = int.from_bytes(body[at:at + 2], "big"), int.from_bytes(body[at + 2:at + 4], "big")
        extensions[kind] = body[at + 4:at + 4 + size]
        at += 4 + size
    return extensions


def _pyopenssl_first_flight(context: SSL.Context) -> bytes:
    connection = SSL.Connection(context, None)
    connection.set_tlsext_host_name(b"origin.test")
    connection.set_connect_state()
    with contextlib.suppress(SSL.WantReadError):
        connection.do_handshake()
    return connection.bio_read(65536)


SUPPORTED_GROUPS, KEY_SHARE = 10, 51
# CLASSIC_GROUPS as IANA code points: x25519, secp256r1, x448, secp521r1, secp384r1, ffdhe2048-8192
CLASSIC_CODES = (29, 23, 30, 25, 24, 256, 257, 258, 259, 260)


def test_the_probe_clients_offer_openssl_3_0s_groups_and_one_x25519_share() -> None:
    """cryptography's OpenSSL would lead with a hybrid post-quantum key share (a 1,680-byte
    ClientHello); the probe clients keep the groups Python's ssl on OpenSSL 3.0 offered, one
    X25519 share, and a hello of the size old origins saw before (517 bytes, padding included)."""
    for context in (permissive_context(), profile_context(load_profile("cloudfront-2025"))):
        hello = _pyopenssl_first_flight(context)
        extensions = _client_hello(hello)
        groups = extensions[SUPPORTED_GROUPS]
        assert [int.from_bytes(groups[i:i + 2], "big") for i in range(2, len(groups), 2)] == list(CLASSIC_CODES)
        share = extensions[KEY_SHARE]
        assert int.from_bytes(share[:2], "big") == 2 + 2 + 32  # one entry: group, length, X25519 key
        assert int.from_bytes(share[2:4], "big") == 29
        assert len(hello) < 600
