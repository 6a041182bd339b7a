"""The hello probe against real peers on loopback (openssl s_server, asyncio servers), each failing
case with a healthy twin. The Sans-I/O halves alone are in test_hello_wire.py."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hello_flights import records, server_hello
from hello_offers import (
    CLOUDFRONT,
    CLOUDFRONT_SIGALGS,
    PSS_SIGALGS,
    RANDOM,
    S2N_UPSTREAM,
    S2N_UPSTREAM_2025,
    with_,
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

DEADLINE = 5.0


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
