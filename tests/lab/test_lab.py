"""The whole lab: the scenario table is coherent, every origin comes up on loopback, www and ws
share one nginx port with different chains, and everything stops in bounded time, even on errors."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import ssl
import time
from pathlib import Path

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype
import pytest
from cryptography import x509

from origin_doctor import codes
from origin_doctor.lab.nginx import NginxError
from origin_doctor.lab.run import DEFAULT_NOW, Lab
from origin_doctor.lab.scenarios import BY_NAME, SCENARIOS, Origin, Scenario

# Codes a misbehaving server cannot produce on loopback, or that the lab leaves to other tests.
NOT_REPRODUCED = {
    "tcp.unreachable": "needs an unroutable address; the lab never leaves 127.0.0.1",
    "cert.unparsable": "nginx and Python's ssl refuse to load a broken certificate (unit-tested instead)",
    "cert.policy_violation": "a strict web-PKI verifier objection; unit-tested with a critical-SAN leaf",
    "cert.rejected": "a chain only the verifier rejects; unit-tested with a leaf issued by a non-CA",
}
SERVER_STAGES = ("dns.", "tcp.", "tls.", "cert.", "http.", "ws.")
UNREACHABLE = {"refused.lab.test", "blackhole.lab.test"}


def _is_healthy(row: Scenario) -> bool:
    return row.expect_outcome == "ok" and row.expect_primary is None and not row.expect_codes


def test_every_server_code_has_a_scenario() -> None:
    covered = {row.expect_primary for row in SCENARIOS} | {c for row in SCENARIOS for c in row.expect_codes}
    server_codes = {code for code in codes.CATALOGUE if code.startswith(SERVER_STAGES)}
    assert server_codes - covered == set(NOT_REPRODUCED)


def test_rows_agree_with_the_catalogue_and_name_healthy_twins() -> None:
    assert len(BY_NAME) == len(SCENARIOS)
    for row in SCENARIOS:
        assert row.name.endswith(".lab.test"), row.name
        for code in (row.expect_primary, *row.expect_codes):
            assert code is None or code in codes.CATALOGUE, (row.name, code)
        if row.expect_primary is None:
            assert row.expect_outcome == "ok" and row.expect_cause is None, row.name
            assert all(codes.info(c).severity < codes.FAIL for c in row.expect_codes), row.name
        else:
            info = codes.info(row.expect_primary)
            assert info.severity == codes.FAIL and row.expect_cause == info.cause, row.name
            if info.cdn_answer in ("502", "504"):
                assert row.expect_outcome == info.cdn_answer, row.name
            assert row.twin is not None and _is_healthy(BY_NAME[row.twin]), row.name
        if row.twin is not None:
            assert BY_NAME[row.twin].needs == row.needs or row.needs == "none", row.name
    assert BY_NAME["ws.lab.test"].origin.share_port_with == "www.lab.test"
    assert BY_NAME["origin-503.lab.test"].expect_generated_by == "origin"
    assert BY_NAME["ws.lab.test"].expect_generated_by == "cdn"


def _connects(endpoint: tuple[str, int], timeout: float = 3.0) -> int:  # generous: CI runs tests side by side
    with socket.socket() as probe:
        probe.settimeout(timeout)
        try:
            return probe.connect_ex(endpoint)
        except TimeoutError:
            return -1


def _handshake(endpoint: tuple[str, int], sni: str, *, max_tls12: bool = True) -> list[x509.Certificate]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if max_tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with (
        socket.create_connection(endpoint, timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        chain = tls._sslobj.get_unverified_chain()  # type: ignore[attr-defined]
        return [x509.load_der_x509_certificate(cert.public_bytes(ssl._ssl.ENCODING_DER))  # type: ignore[attr-defined]
                for cert in chain]


def _subjects(chain: list[x509.Certificate]) -> list[str]:
    return [c.subject.rfc4514_string() for c in chain]


async def _ask(lab: Lab, name: str, timeout: float = 2.0) -> dns.message.Message:
    query = dns.message.make_query(name, dns.rdatatype.A)
    return await dns.asyncquery.udp(query, lab.dns_address[0], port=lab.dns_address[1], timeout=timeout)


async def test_lab_starts_serves_every_scenario_and_stops(tmp_path: Path) -> None:
    started = time.monotonic()
    async with Lab(now=DEFAULT_NOW, workdir=tmp_path) as lab:
        assert time.monotonic() - started < 10
        assert set(lab.endpoints) == set(BY_NAME)
        assert lab.now == DEFAULT_NOW

        results = await asyncio.gather(*(asyncio.to_thread(_connects, ep) for ep in lab.endpoints.values()))
        by_name = dict(zip(lab.endpoints, results, strict=True))
        assert {name for name, rc in by_name.items() if rc != 0} == UNREACHABLE
        assert by_name["refused.lab.test"] != 0 and by_name["blackhole.lab.test"] != 0

        # The incident: one address, one port, two chains chosen by SNI.
        assert lab.endpoints["www.lab.test"] == lab.endpoints["ws.lab.test"]
        www = await asyncio.to_thread(_handshake, lab.endpoints["www.lab.test"], "www.lab.test")
        ws = await asyncio.to_thread(_handshake, lab.endpoints["ws.lab.test"], "ws.lab.test")
        assert _subjects(www) == ["CN=www.lab.test,O=Origin Doctor Lab", "CN=Origin Doctor Lab CA R3,O=Origin Doctor Lab"]
        assert _subjects(ws) == ["CN=ws.lab.test,O=Origin Doctor Lab"]
        aia = ws[0].extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        assert [d.access_location.value for d in aia] == [lab.aia_url + "r3.der"]

        wrong_order = await asyncio.to_thread(
            _handshake, lab.endpoints["wrong-order.lab.test"], "wrong-order.lab.test")
        assert [c.subject.rfc4514_string().split(",")[0] for c in wrong_order] == [
            "CN=wrong-order.lab.test", "CN=Lab CA Level 1", "CN=Lab CA Level 2"]

        # CloudFront's side of the TLS rows: at most TLS 1.2.
        with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION"):
            await asyncio.to_thread(_handshake, lab.endpoints["tls13-only.lab.test"], "tls13-only.lab.test")
        await asyncio.to_thread(  # the same origin passes with a TLS 1.3 client
            _handshake, lab.endpoints["tls13-only.lab.test"], "tls13-only.lab.test", max_tls12=False)
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            await asyncio.to_thread(_handshake, lab.endpoints["sni-rejected.lab.test"], "sni-rejected.lab.test")
        with pytest.raises(ssl.SSLError, match="WRONG_VERSION_NUMBER"):
            await asyncio.to_thread(_handshake, lab.endpoints["plain-http.lab.test"], "plain-http.lab.test")

        trust = x509.load_pem_x509_certificates(lab.ca_bundle.read_bytes())
        assert _subjects(trust) == ["CN=Origin Doctor Lab Root CA,O=Origin Doctor Lab"]

        overrides = lab.resolve_args()
        assert f"www.lab.test:{lab.endpoints['www.lab.test'][1]}:127.0.0.1" in overrides
        assert not any(arg.startswith(("resolved.lab.test:", "nxdomain.lab.test:")) for arg in overrides)

        resolved = await _ask(lab, "resolved.lab.test")
        assert [rr.to_text() for rrset in resolved.answer for rr in rrset] == ["127.0.0.1"]
        assert (await _ask(lab, "nxdomain.lab.test")).rcode() == dns.rcode.NXDOMAIN
        assert (await _ask(lab, "servfail.lab.test")).rcode() == dns.rcode.SERVFAIL
        no_address = await _ask(lab, "no-address.lab.test")
        assert no_address.rcode() == dns.rcode.NOERROR and not no_address.answer
        with pytest.raises(dns.exception.Timeout):
            await _ask(lab, "dns-timeout.lab.test", timeout=0.3)

        target = lab.target("ws.lab.test")
        assert (target.origin, target.port, target.websocket_path) == (
            "ws.lab.test", lab.endpoints["www.lab.test"][1], "/ws")

        # Clients still connected (to nginx and to stalling peers) must not hold the shutdown.
        lingering = [socket.create_connection(lab.endpoints[name], timeout=2)
                     for name in ("www.lab.test", "stall.lab.test", "tls-silent.lab.test")]
        assert lab.nginx is not None and lab.nginx.pid is not None
        nginx_pid = lab.nginx.pid
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5
    for sock in lingering:
        sock.close()
    with pytest.raises(ProcessLookupError):
        os.kill(nginx_pid, 0)
    reachable = [ep for name, ep in lab.endpoints.items() if name not in UNREACHABLE]
    assert all(rc != 0 for rc in await asyncio.gather(*(asyncio.to_thread(_connects, ep) for ep in reachable)))


async def test_a_failed_start_stops_what_already_runs(tmp_path: Path) -> None:
    broken = Scenario("broken.lab.test", "nginx rejects this cipher list", "ok", None, None,
                      origin=Origin(ciphers="NO-SUCH-CIPHER"))
    rows = (BY_NAME["http-ok.lab.test"], broken)
    lab = Lab(workdir=tmp_path, scenarios=rows)
    started = time.monotonic()
    with pytest.raises(NginxError, match="cipher"):
        await lab.__aenter__()
    assert time.monotonic() - started < 10
    peer_endpoint = lab.endpoints["http-ok.lab.test"]
    assert await asyncio.to_thread(_connects, peer_endpoint) != 0


def test_scenario_lookup_is_clear() -> None:
    lab = Lab()
    assert lab.scenario("www.lab.test") is BY_NAME["www.lab.test"]
    with pytest.raises(KeyError, match="no lab scenario named 'nope'"):
        lab.scenario("nope")
    assert dataclasses.replace(BY_NAME["www.lab.test"]).origin == Origin()
