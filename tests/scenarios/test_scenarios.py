"""The scenario table: every lab origin diagnosed end to end over loopback, with its healthy twin
(which differs in one knob) checked too, so that each finding is shown to come from that knob."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from origin_doctor.engine import check_target
from origin_doctor.lab.checking import lab_options, lab_target
from origin_doctor.lab.scenarios import SCENARIOS, Scenario
from origin_doctor.result import TargetResult


def diagnose(lab, name: str) -> TargetResult:  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(check_target(lab_target(lab, name), lab_options(lab)), 60))


def codes_of(result: TargetResult) -> set[str]:
    return {f.code for f in result.findings}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name.removesuffix(".lab.test"))
def test_scenario(lab, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    result = diagnose(lab, scenario.name)
    primary = result.verdict.primary.code if result.verdict.primary else None
    assert (result.outcome, primary) == (scenario.expect_outcome, scenario.expect_primary), [
        (f.code, f.summary) for f in result.findings
    ]
    assert result.verdict.cause == scenario.expect_cause
    assert result.verdict.generated_by == (
        scenario.expect_generated_by if primary is None or result.outcome != "ok" else None
    )
    assert set(scenario.expect_codes) <= codes_of(result)
    if scenario.twin is not None:
        twin = diagnose(lab, scenario.twin)
        assert twin.outcome == "ok" and twin.verdict.primary is None, [(f.code, f.summary) for f in twin.findings]
        expected = {scenario.expect_primary, *scenario.expect_codes} - {None}
        assert not expected & codes_of(twin)


def test_the_incident_names_the_missing_intermediate(lab) -> None:  # type: ignore[no-untyped-def]
    ws = diagnose(lab, "ws.lab.test")
    www = diagnose(lab, "www.lab.test")
    assert www.outcome == "ok"
    assert ws.addresses[0].port == www.addresses[0].port  # one nginx address, chosen by SNI
    incomplete = next(f for f in ws.findings if f.code == "cert.chain_incomplete")
    assert incomplete.evidence["sent"] == 1
    assert "Origin Doctor Lab CA R3" in incomplete.evidence["missing_issuer"]
    assert "Origin Doctor Lab CA R3" in incomplete.fix
    chain = ws.addresses[0].tls["chain"]  # type: ignore[index]
    assert len(chain) == 1 and "ws.lab.test" in chain[0]["names"]


def test_narrowed_origin_ssl_protocols_name_the_version_the_origin_speaks(lab) -> None:  # type: ignore[no-untyped-def]
    options = lab_options(lab)
    narrowed = options.profile.with_overrides(ssl_protocols=("TLSv1", "TLSv1.1"))
    result = asyncio.run(check_target(lab_target(lab, "www.lab.test"), dataclasses.replace(options, profile=narrowed)))
    assert result.verdict.primary is not None and result.verdict.primary.code == "tls.protocol_mismatch"
    assert result.verdict.primary.evidence["origin_versions"] == "TLSv1.2"
    assert "OriginSslProtocols" in result.verdict.primary.fix
    # the healthy twin: the same origin with the profile's default versions
    assert diagnose(lab, "www.lab.test").outcome == "ok"


def test_a_handshake_retried_permissively_says_so(lab) -> None:  # type: ignore[no-untyped-def]
    """The strict client-certificate origin accepts CloudFront's hello but fails the profile's
    OpenSSL handshake; the chain and HTTP are then seen through the permissive client, and the
    report must name that client, not the profile's."""
    tls = diagnose(lab, "client-cert-strict.lab.test").addresses[0].tls
    assert tls is not None and tls["negotiation"]["result"] == "accepted"
    assert tls["observed_with"] == "permissive"
    assert tls["version"] == "TLSv1.3"  # the cloudfront profile stops at TLS 1.2
    healthy = diagnose(lab, "www.lab.test").addresses[0].tls
    assert healthy is not None and healthy["observed_with"] == "profile"
