"""The hello probe against real peers on loopback (openssl s_server, asyncio servers), each failing
case with a healthy twin, plus the Sans-I/O encoder and decoder on their own."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hello_flights import (
    HRR_RANDOM,
    alert,
    parse_client_hello,
    records,
    server_hello,
    server_hello_done,
    tls12_flight,
)
from hello_peers import (
    MintedChain,
    StartServer,
    answer_http_400,
    close_at_once,
    mint_chain,
    reset_after_first_byte,
    s_server_pool,
    send_then_stall,
    stay_silent,
    tcp_server,
)

from origin_doctor.probe.hello import HelloOffer, HelloReader, HelloResult, build_client_hello, negotiate
from origin_doctor.probe.hello_codes import CIPHER_SUITES

# The 16 suites of AWS's CloudFront -> origin page, in its table order, and their code points.
CLOUDFRONT_SUITES = (
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA",
    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA",
    "AES256-SHA", "AES128-SHA", "DES-CBC3-SHA", "RC4-MD5",
)  # fmt: skip
CLOUDFRONT_SUITE_CODES = [
    0xC02C, 0xC024, 0xC00A, 0xC02B, 0xC023, 0xC009, 0xC030, 0xC028,
    0xC014, 0xC02F, 0xC027, 0xC013, 0x0035, 0x002F, 0x000A, 0x0004,
]  # fmt: skip
# s2n CloudFront-Upstream (19 suites, s2n preference order).
S2N_UPSTREAM_SUITES = (
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
    "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
    "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "AES256-GCM-SHA384", "AES128-GCM-SHA256",
    "AES256-SHA", "AES128-SHA256", "AES128-SHA", "DES-CBC3-SHA", "RC4-MD5",
)  # fmt: skip
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
CLOUDFRONT_GROUPS = ("X25519", "P-256", "P-384")
CLOUDFRONT_SIGALGS = (
    "rsa_pkcs1_sha256", "rsa_pkcs1_sha384", "rsa_pkcs1_sha512", "rsa_pkcs1_sha224",
    "ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "ecdsa_secp521r1_sha512", "ecdsa_sha224",
    "rsa_pkcs1_sha1", "ecdsa_sha1",
)  # fmt: skip
CLOUDFRONT_SIGALG_CODES = [0x0401, 0x0501, 0x0601, 0x0301, 0x0403, 0x0503, 0x0603, 0x0303, 0x0201, 0x0203]
PSS_SIGALGS = ("rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512")
CLOUDFRONT = HelloOffer(
    ("TLSv1", "TLSv1.1", "TLSv1.2"), CLOUDFRONT_SUITES, CLOUDFRONT_GROUPS, CLOUDFRONT_SIGALGS, "origin.test"
)
S2N_UPSTREAM = HelloOffer(
    ("TLSv1", "TLSv1.1", "TLSv1.2"), S2N_UPSTREAM_SUITES, CLOUDFRONT_GROUPS, CLOUDFRONT_SIGALGS, "origin.test"
)
S2N_UPSTREAM_2025 = HelloOffer(
    ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    TLS13_SUITES + S2N_UPSTREAM_SUITES,
    CLOUDFRONT_GROUPS,
    PSS_SIGALGS + CLOUDFRONT_SIGALGS,
    "origin.test",
)
DEADLINE = 5.0
RANDOM = bytes(range(32))


def with_(offer: HelloOffer, **changes: object) -> HelloOffer:
    fields = {name: getattr(offer, name) for name in HelloOffer.__dataclass_fields__}
    fields.update(changes)
    return HelloOffer(**fields)


@pytest.fixture(scope="session")
def rsa_chain(tmp_path_factory: pytest.TempPathFactory) -> MintedChain:
    return mint_chain(tmp_path_factory.mktemp("rsa"), "rsa", ca_kind="rsa")


@pytest.fixture(scope="session")
def p256_chain(tmp_path_factory: pytest.TempPathFactory) -> MintedChain:
    return mint_chain(tmp_path_factory.mktemp("p256"), "p256")


@pytest.fixture(scope="session")
def p521_chain(tmp_path_factory: pytest.TempPathFactory) -> MintedChain:
    return mint_chain(tmp_path_factory.mktemp("p521"), "p521")


@pytest.fixture
def s_server(tmp_path: Path) -> Iterator[StartServer]:
    yield from s_server_pool(tmp_path)


async def probe(
    port: int, offer: HelloOffer, timeout: float = DEADLINE, address: str = "127.0.0.1"
) -> HelloResult:
    return await negotiate(address, port, offer, timeout)


# --- 1. a healthy RSA origin, TLS 1.2 -------------------------------------------------------------


async def test_rsa_tls12_origin_is_accepted_with_chain_group_and_signature(
    s_server: StartServer, rsa_chain: MintedChain
) -> None:
    port = s_server(rsa_chain, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    result = await probe(port, CLOUDFRONT)
    assert result.kind == "accepted", result.detail
    assert (result.version, result.cipher) == ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")
    assert result.group in ("X25519", "P-256")
    assert result.signature_algorithm == "rsa_pkcs1_sha256"
    assert result.chain == (rsa_chain.leaf_der, rsa_chain.intermediate_der)
    assert not result.client_cert_requested and not result.hello_retry
    assert result.alert is None and 0 < result.elapsed_ms < DEADLINE * 1000


async def test_group_follows_the_offer(s_server: StartServer, rsa_chain: MintedChain) -> None:
    port = s_server(rsa_chain, "-tls1_2")
    result = await probe(port, with_(CLOUDFRONT, groups=("P-384",)))
    assert (result.kind, result.group) == ("accepted", "P-384"), result.detail


async def test_real_flight_decodes_the_same_fed_one_byte_at_a_time(
    s_server: StartServer, rsa_chain: MintedChain
) -> None:
    port = s_server(rsa_chain, "-tls1_2", "-Verify", "1")
    reader = HelloReader(CLOUDFRONT)
    stream, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), DEADLINE)
    flight = b""
    try:
        writer.write(build_client_hello(CLOUDFRONT, RANDOM))
        async with asyncio.timeout(DEADLINE):
            whole = None
            while whole is None:
                data = await stream.read(65536)
                assert data, "server closed early"
                flight += data
                whole = reader.feed(data)
    finally:
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), DEADLINE)
    assert whole.kind == "accepted" and whole.client_cert_requested
    byte_reader = HelloReader(CLOUDFRONT)
    results = [byte_reader.feed(flight[i : i + 1]) for i in range(len(flight))]
    assert results[:-1] == [None] * (len(flight) - 1)
    assert results[-1] == whole


# --- 2. TLS 1.3-only origin -----------------------------------------------------------------------


async def test_tls13_only_origin_rejects_a_tls12_offer(s_server: StartServer, rsa_chain: MintedChain) -> None:
    port = s_server(rsa_chain, "-tls1_3")
    result = await probe(port, S2N_UPSTREAM)
    assert (result.kind, result.alert, result.alert_level) == ("alert", "protocol_version", 2), result.detail
    assert result.first_bytes.startswith(b"\x15\x03")


async def test_tls13_only_origin_accepts_a_tls13_offer(s_server: StartServer, rsa_chain: MintedChain) -> None:
    port = s_server(rsa_chain, "-tls1_3")
    result = await probe(port, S2N_UPSTREAM_2025)
    assert result.kind == "accepted", result.detail
    assert (result.version, result.cipher, result.group) == ("TLSv1.3", "TLS_AES_128_GCM_SHA256", "X25519")
    assert result.chain == () and not result.hello_retry


async def test_tls13_group_without_key_share_gets_hello_retry(
    s_server: StartServer, rsa_chain: MintedChain
) -> None:
    port = s_server(rsa_chain, "-tls1_3", "-groups", "P-384")
    result = await probe(port, S2N_UPSTREAM_2025)
    assert (result.kind, result.hello_retry, result.group) == ("accepted", True, "P-384"), result.detail


# --- 3. cipher suites -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server_cipher", "offer", "accepted"),
    [
        ("ECDHE-RSA-CHACHA20-POLY1305", CLOUDFRONT, False),
        ("ECDHE-RSA-AES128-GCM-SHA256", CLOUDFRONT, True),
        ("AES128-GCM-SHA256", CLOUDFRONT, False),  # static-RSA GCM: only in s2n's upstream list
        ("AES128-GCM-SHA256", S2N_UPSTREAM, True),
    ],
)
async def test_origin_suites_against_the_offer(
    s_server: StartServer, rsa_chain: MintedChain, server_cipher: str, offer: HelloOffer, accepted: bool
) -> None:
    port = s_server(rsa_chain, "-tls1_2", "-cipher", server_cipher)
    result = await probe(port, offer)
    if accepted:
        assert (result.kind, result.cipher) == ("accepted", server_cipher), result.detail
    else:
        assert (result.kind, result.alert) == ("alert", "handshake_failure"), result.detail


# --- 4. certificate key type ----------------------------------------------------------------------


@pytest.mark.parametrize(("chain_name", "accepted"), [("p521_chain", False), ("p256_chain", True)])
async def test_ecdsa_certificate_curve_must_be_in_offered_groups(
    s_server: StartServer, request: pytest.FixtureRequest, chain_name: str, accepted: bool
) -> None:
    chain: MintedChain = request.getfixturevalue(chain_name)
    port = s_server(
        chain, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"
    )
    result = await probe(port, CLOUDFRONT)
    if accepted:
        assert (result.kind, result.signature_algorithm) == ("accepted", "ecdsa_secp256r1_sha256"), (
            result.detail
        )
        assert result.chain[0] == chain.leaf_der
    else:
        assert (result.kind, result.alert) == ("alert", "handshake_failure"), result.detail


# --- 5. signature algorithms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offer", "accepted"),
    [(CLOUDFRONT, False), (with_(CLOUDFRONT, signature_algorithms=PSS_SIGALGS + CLOUDFRONT_SIGALGS), True)],
)
async def test_pss_only_origin_needs_pss_in_the_offer(
    s_server: StartServer, rsa_chain: MintedChain, offer: HelloOffer, accepted: bool
) -> None:
    port = s_server(rsa_chain, "-tls1_2", "-sigalgs", "rsa_pss_rsae_sha256")
    result = await probe(port, offer)
    if accepted:
        assert (result.kind, result.signature_algorithm) == ("accepted", "rsa_pss_rsae_sha256"), result.detail
    else:
        assert result.kind == "alert" and result.alert == "handshake_failure", result.detail


# --- 6. client certificates -----------------------------------------------------------------------


@pytest.mark.parametrize(("options", "requested"), [(("-Verify", "1"), True), ((), False)])
async def test_certificate_request_is_reported(
    s_server: StartServer, rsa_chain: MintedChain, options: tuple[str, ...], requested: bool
) -> None:
    port = s_server(rsa_chain, "-tls1_2", *options)
    result = await probe(port, CLOUDFRONT)
    assert (result.kind, result.client_cert_requested) == ("accepted", requested), result.detail


# --- SNI ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "sni", "kind", "expected_alert"),
    [
        ((), "origin.test", "accepted", ("warning", "unrecognized_name")),
        (("-servername_fatal",), "origin.test", "alert", ("fatal", "unrecognized_name")),
        (("-servername_fatal",), "other.test", "accepted", None),
    ],
)
async def test_sni_mismatch_alerts(
    s_server: StartServer,
    rsa_chain: MintedChain,
    options: tuple[str, ...],
    sni: str,
    kind: str,
    expected_alert: tuple[str, str] | None,
) -> None:
    sni_options = (
        "-servername",
        "other.test",
        "-cert2",
        str(rsa_chain.leaf_pem),
        "-key2",
        str(rsa_chain.key_pem),
    )
    port = s_server(rsa_chain, "-tls1_2", *sni_options, *options)
    result = await probe(port, with_(CLOUDFRONT, sni=sni))
    assert result.kind == kind, result.detail
    levels = {1: "warning", 2: "fatal"}
    seen = None if result.alert is None else (levels.get(result.alert_level or 0), result.alert)
    assert seen == expected_alert


# --- 7. not TLS, silence, closes, refusals --------------------------------------------------------


async def test_http_server_is_not_tls() -> None:
    async with tcp_server(answer_http_400) as port:
        result = await probe(port, CLOUDFRONT)
    assert result.kind == "not_tls", result.detail
    assert result.first_bytes.startswith(b"HTTP/1.1 400") and len(result.first_bytes) <= 64


async def test_http_server_on_ipv6_loopback_is_not_tls() -> None:
    async with tcp_server(answer_http_400, host="::1") as port:
        result = await probe(port, CLOUDFRONT, address="::1")
    assert result.kind == "not_tls", result.detail


async def test_silent_server_times_out_within_the_deadline() -> None:
    async with tcp_server(stay_silent) as port:
        result = await probe(port, CLOUDFRONT, timeout=0.5)
    assert result.kind == "timeout", result.detail
    assert 450 <= result.elapsed_ms < 2000


async def test_server_closing_at_once_is_closed() -> None:
    async with tcp_server(close_at_once) as port:
        result = await probe(port, CLOUDFRONT)
    assert result.kind == "closed", result.detail
    assert result.first_bytes == b""


async def test_reset_is_closed_and_says_so() -> None:
    async with tcp_server(reset_after_first_byte) as port:
        result = await probe(port, CLOUDFRONT)
    assert result.kind == "closed" and "reset" in result.detail, result.detail


async def test_stall_after_server_hello_times_out_with_what_was_seen() -> None:
    async with tcp_server(send_then_stall(records(22, server_hello(0x0303, 0xC02F)))) as port:
        result = await probe(port, CLOUDFRONT, timeout=0.5)
    assert (result.kind, result.version, result.cipher) == (
        "timeout",
        "TLSv1.2",
        "ECDHE-RSA-AES128-GCM-SHA256",
    )


async def test_closed_port_is_refused() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = await probe(port, CLOUDFRONT)
    assert result.kind == "refused", result.detail


async def test_tls_server_on_the_port_is_the_healthy_twin(
    s_server: StartServer, rsa_chain: MintedChain
) -> None:
    port = s_server(rsa_chain)
    assert (await probe(port, CLOUDFRONT)).kind == "accepted"


async def test_bad_address_is_our_misuse() -> None:
    with pytest.raises(ValueError):
        await probe(443, CLOUDFRONT, address="origin.test")


# --- 8. the encoder on its own --------------------------------------------------------------------


def test_hello_offers_exactly_the_profile() -> None:
    hello = parse_client_hello(build_client_hello(CLOUDFRONT, RANDOM))
    assert (hello.record_version, hello.legacy_version) == (0x0301, 0x0303)
    assert hello.random == RANDOM and len(hello.session_id) == 32
    assert hello.cipher_suites == CLOUDFRONT_SUITE_CODES
    assert hello.compression_methods == b"\x00"
    assert hello.u16_list(0x000A, 2) == [0x001D, 0x0017, 0x0018]
    assert hello.u16_list(0x000D, 2) == CLOUDFRONT_SIGALG_CODES
    assert hello.extensions[0x000B] == b"\x01\x00"
    assert hello.extensions[0x0017] == b"" and hello.extensions[0xFF01] == b"\x00"
    assert hello.extensions[0x0000] == b"\x00\x0e\x00\x00\x0borigin.test"
    assert not {0x002B, 0x0033, 0x002D} & hello.extensions.keys()
    assert 0x00FF not in hello.cipher_suites


def test_tls13_offer_adds_supported_versions_key_shares_and_psk_modes() -> None:
    hello = parse_client_hello(build_client_hello(S2N_UPSTREAM_2025, RANDOM))
    assert hello.u16_list(0x002B, 1) == [0x0304, 0x0303, 0x0302, 0x0301]
    assert hello.extensions[0x002D] == b"\x01\x01"
    shares, at, groups = hello.extensions[0x0033][2:], 0, []
    while at < len(shares):
        group, size = (
            int.from_bytes(shares[at : at + 2], "big"),
            int.from_bytes(shares[at + 2 : at + 4], "big"),
        )
        groups.append((group, size))
        at += 4 + size
    assert groups == [(0x001D, 32), (0x0017, 65)]
    assert hello.cipher_suites[:3] == [0x1301, 0x1302, 0x1303]


def test_key_share_falls_back_to_the_first_offered_group() -> None:
    offer = with_(S2N_UPSTREAM_2025, versions=("TLSv1.3",), groups=("P-384", "P-521"))
    hello = parse_client_hello(build_client_hello(offer, RANDOM))
    assert hello.extensions[0x0033][2:6] == b"\x00\x18\x00\x61"
    assert hello.legacy_version == 0x0303 and hello.u16_list(0x002B, 1) == [0x0304]


def test_sslv3_only_offer_uses_sslv3_everywhere_and_no_signature_algorithms() -> None:
    offer = with_(CLOUDFRONT, versions=("SSLv3",), cipher_suites=("AES128-SHA", "DES-CBC3-SHA", "RC4-MD5"))
    hello = parse_client_hello(build_client_hello(offer, RANDOM))
    assert (hello.record_version, hello.legacy_version) == (0x0300, 0x0300)
    assert hello.cipher_suites == [0x002F, 0x000A, 0x0004] and 0x000D not in hello.extensions


def test_ip_literal_sni_is_left_out() -> None:
    hello = parse_client_hello(build_client_hello(with_(CLOUDFRONT, sni="192.0.2.1"), RANDOM))
    assert 0x0000 not in hello.extensions


@pytest.mark.parametrize(
    "changes",
    [
        {"versions": ("TLSv9",)},
        {"versions": ()},
        {"cipher_suites": ("NOT-A-SUITE",)},
        {"cipher_suites": ()},
        {"groups": ("brainpool",)},
        {"signature_algorithms": ("rsa_md5",)},
        {"sni": "bad..name"},
    ],
)
def test_unknown_or_empty_names_are_value_errors(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        build_client_hello(with_(CLOUDFRONT, **changes), RANDOM)


def test_random_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        build_client_hello(CLOUDFRONT, b"short")


# Suites OpenSSL 3 no longer lists; code points from RFC 5246 A.5 and RFC 8422 6 / RFC 4492 6.
LEGACY_SUITE_CODES = {
    "DES-CBC3-SHA": 0x000A, "RC4-MD5": 0x0004, "RC4-SHA": 0x0005, "EDH-RSA-DES-CBC3-SHA": 0x0016,
    "ECDHE-ECDSA-DES-CBC3-SHA": 0xC008, "ECDHE-ECDSA-RC4-SHA": 0xC007,
    "ECDHE-RSA-DES-CBC3-SHA": 0xC012, "ECDHE-RSA-RC4-SHA": 0xC011,
}  # fmt: skip


def test_suite_table_agrees_with_openssl_and_the_rfcs() -> None:
    listing = subprocess.run(
        ["openssl", "ciphers", "-V", "-stdname", "-ciphersuites", ":".join(n for n, _, k in CIPHER_SUITES if k == "TLS13"),
         "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
        capture_output=True, text=True, check=True, timeout=10,
    ).stdout  # fmt: skip
    openssl_codes: dict[str, int] = {}
    for line in listing.splitlines():
        found = re.match(r"\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+- (\S+)", line)
        if found:
            code = int(found.group(1) + found.group(2), 16)
            openssl_codes[found.group(3)] = openssl_codes[found.group(4)] = code
    reference = openssl_codes | LEGACY_SUITE_CODES
    assert {name: code for name, code, _ in CIPHER_SUITES} == {
        name: reference[name] for name, _, _ in CIPHER_SUITES
    }
    assert len(CIPHER_SUITES) - len(LEGACY_SUITE_CODES) == len(
        {n for n, _, _ in CIPHER_SUITES} & openssl_codes.keys()
    )
    assert set(CLOUDFRONT_SUITES) | set(S2N_UPSTREAM_SUITES) | set(TLS13_SUITES) <= reference.keys()


# --- 8. the decoder on its own --------------------------------------------------------------------

CHAIN = [b"leaf-der" * 50, b"intermediate-der" * 40]


def test_synthetic_flight_is_accepted() -> None:
    result = HelloReader(CLOUDFRONT).feed(tls12_flight(CHAIN, request_client_cert=True))
    assert result is not None and result.kind == "accepted"
    assert (result.version, result.cipher, result.group) == (
        "TLSv1.2",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "P-256",
    )
    assert result.signature_algorithm == "rsa_pkcs1_sha256" and result.chain == tuple(CHAIN)
    assert result.client_cert_requested


@pytest.mark.parametrize("fragment", [1, 7, 300])
def test_messages_split_across_records_and_one_byte_feeds(fragment: int) -> None:
    flight = tls12_flight(CHAIN, fragment=fragment)
    reader = HelloReader(CLOUDFRONT)
    results = [reader.feed(flight[i : i + 1]) for i in range(len(flight))]
    assert results[:-1] == [None] * (len(flight) - 1)
    assert results[-1] == HelloReader(CLOUDFRONT).feed(flight)
    unfragmented = HelloReader(CLOUDFRONT).feed(tls12_flight(CHAIN))
    assert unfragmented is not None
    assert results[-1] == replace(unfragmented, first_bytes=flight[:64])
    assert reader.feed(b"more") == results[-1] and reader.eof() == results[-1]


def test_truncated_flight_is_closed_with_what_was_seen() -> None:
    flight = tls12_flight(CHAIN, fragment=100)
    reader = HelloReader(CLOUDFRONT)
    assert reader.feed(flight[:-3]) is None
    result = reader.eof()
    assert (result.kind, result.version, result.chain) == ("closed", "TLSv1.2", tuple(CHAIN))


def test_eof_before_any_byte_is_closed() -> None:
    assert HelloReader().eof().kind == "closed"


def test_partial_record_header_then_eof_is_closed() -> None:
    reader = HelloReader()
    assert reader.feed(b"\x16\x03") is None
    assert reader.eof().first_bytes == b"\x16\x03"


def test_oversized_record_after_a_valid_one_is_an_error() -> None:
    flight = records(22, server_hello(0x0303, 0xC02F)) + b"\x16\x03\x03\xff\xff"
    result = HelloReader(CLOUDFRONT).feed(flight)
    assert result is not None and result.kind == "error" and result.version == "TLSv1.2"


def test_oversized_first_record_is_not_tls() -> None:
    result = HelloReader().feed(b"\x16\x03\x03\xff\xff" + b"\x00" * 10)
    assert result is not None and result.kind == "not_tls"


def test_huge_handshake_message_is_an_error() -> None:
    result = HelloReader().feed(records(22, b"\x02\xff\xff\xff"))
    assert result is not None and result.kind == "error"


def test_endless_flight_stops_at_the_byte_cap() -> None:
    reader = HelloReader(CLOUDFRONT, max_bytes=1000)
    hello_requests = b"\x00\x00\x00\x00" * 2000  # ignorable messages, sent without end
    flight = records(22, server_hello(0x0303, 0xC02F) + hello_requests, fragment=100)
    result = None
    for start in range(0, len(flight), 100):
        result = reader.feed(flight[start : start + 100])
        if result is not None:
            break
    assert result is not None and result.kind == "error" and "1000 bytes" in result.detail


def test_truncated_server_hello_body_is_an_error() -> None:
    result = HelloReader().feed(records(22, b"\x02\x00\x00\x05\x03\x03\x00\x00\x00"))
    assert result is not None and result.kind == "error"


def test_fatal_alert() -> None:
    result = HelloReader().feed(alert(2, 40))
    assert result is not None
    assert (result.kind, result.alert_level, result.alert) == ("alert", 2, "handshake_failure")


def test_fatal_alert_after_a_warning_in_the_same_record() -> None:
    result = HelloReader().feed(records(21, bytes([1, 112, 2, 70])))
    assert result is not None and (result.kind, result.alert) == ("alert", "protocol_version")


def test_odd_sized_alert_record_is_an_error() -> None:
    result = HelloReader().feed(records(21, b"\x02"))
    assert result is not None and result.kind == "error"


def test_warning_alert_does_not_end_the_handshake() -> None:
    result = HelloReader(CLOUDFRONT).feed(alert(1, 112) + tls12_flight(CHAIN))
    assert result is not None and result.kind == "accepted"
    assert (result.alert_level, result.alert) == (1, "unrecognized_name")


def test_http_answer_is_not_tls_from_the_first_byte() -> None:
    reader = HelloReader()
    result = reader.feed(b"H")
    assert result is not None and result.kind == "not_tls"
    long_answer = b"HTTP/1.1 400 Bad Request\r\n" + b"x" * 200
    assert HelloReader().feed(long_answer) == HelloReader().feed(long_answer)
    assert HelloReader().feed(long_answer).first_bytes == long_answer[:64]  # type: ignore[union-attr]


def test_hello_retry_request_counts_as_accepted() -> None:
    hrr = server_hello(
        0x0303, 0x1301, random=HRR_RANDOM, extensions={0x002B: b"\x03\x04", 0x0033: b"\x00\x18"}
    )
    result = HelloReader(S2N_UPSTREAM_2025).feed(records(22, hrr))
    assert result is not None and result.kind == "accepted"
    assert (result.version, result.hello_retry, result.group) == ("TLSv1.3", True, "P-384")


def test_server_choosing_what_was_not_offered_is_an_error() -> None:
    flight = records(22, server_hello(0x0303, 0xCCA8) + server_hello_done())
    result = HelloReader(CLOUDFRONT).feed(flight)
    assert result is not None and result.kind == "error" and "ECDHE-RSA-CHACHA20-POLY1305" in result.detail
    unchecked = HelloReader().feed(flight)
    assert unchecked is not None and unchecked.kind == "accepted"


def test_unknown_code_points_are_named_in_hex() -> None:
    result = HelloReader().feed(records(22, server_hello(0x0303, 0xFEFE) + server_hello_done()))
    assert result is not None and result.cipher == "0xFEFE"


def test_application_data_before_server_hello_done_is_an_error() -> None:
    result = HelloReader().feed(records(22, server_hello(0x0303, 0xC02F)) + records(23, os.urandom(10)))
    assert result is not None and result.kind == "error"
