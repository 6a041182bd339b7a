"""The hello probe's Sans-I/O halves on their own: the ClientHello encoder (parsed back by an
independent parser) and the answer decoder fed synthetic flights in every cut."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import replace

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
from hello_offers import (
    CLOUDFRONT,
    CLOUDFRONT_SIGALG_CODES,
    CLOUDFRONT_SUITE_CODES,
    CLOUDFRONT_SUITES,
    RANDOM,
    S2N_UPSTREAM_2025,
    S2N_UPSTREAM_SUITES,
    TLS13_SUITES,
    with_,
)

from origin_doctor.probe.hello import HelloReader, build_client_hello
from origin_doctor.probe.hello_codes import CIPHER_SUITES

# --- the encoder --------------------------------------------------------------------


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


# --- the decoder --------------------------------------------------------------------

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
