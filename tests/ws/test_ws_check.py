"""wss:// checked as CloudFront would: each broken origin next to a healthy twin that differs in one knob."""

from __future__ import annotations

from pathlib import Path

import pytest
from ws_lab import Knobs, Pki, echo_server, nginx, options_for, raw_peer

from origin_doctor.engine import check_target
from origin_doctor.result import TargetResult
from origin_doctor.targets import parse_target


async def wss(url: str, options_pki: Pki, port: int, read_timeout: float = 2.0) -> TargetResult:
    return await check_target(parse_target(url), options_for(options_pki, port, read_timeout))


def codes(result: TargetResult) -> set[str]:
    return {f.code for f in result.findings}


def only_address(result: TargetResult) -> dict[str, object]:
    assert len(result.addresses) == 1
    ws = result.addresses[0].ws
    assert ws is not None
    return ws


# --- behind nginx: the echo server with the upgrade headers proxied ---

async def test_echo_behind_nginx_is_served(pki: Pki, tmp_path: Path) -> None:
    async with echo_server(None) as backend:
        servers = [("ws.example.com", pki.full_chain["ws.example.com"], pki.key["ws.example.com"])]
        with nginx(tmp_path, servers, backend) as port:
            result = await wss(f"wss://ws.example.com:{port}/socket", pki, port)
            sent = await check_target(
                parse_target(f"wss://ws.example.com:{port}/chat"),
                options_for(pki, port),
            )
    assert result.outcome == "ok", result.findings
    ws = only_address(result)
    assert ws["status"] == 101 and ws["reply"] == "pong" and ws["close"] == "clean"
    assert result.addresses[0].http is None  # a wss:// viewer request reaches the origin only as the upgrade
    assert sent.outcome == "ok"


async def test_incident_pair_www_fine_ws_leaf_only(pki: Pki, tmp_path: Path) -> None:
    """The seed's story: same nginx, same backend; ws serves its leaf alone."""
    async with echo_server(None) as backend:
        servers = [
            ("www.example.com", pki.full_chain["www.example.com"], pki.key["www.example.com"]),
            ("ws.example.com", pki.leaf_only["ws.example.com"], pki.key["ws.example.com"]),
        ]
        with nginx(tmp_path, servers, backend) as port:
            www = await wss(f"wss://www.example.com:{port}/socket", pki, port)
            ws = await wss(f"wss://ws.example.com:{port}/socket", pki, port)
    assert www.outcome == "ok", www.findings
    assert ws.outcome == "502" and ws.verdict.generated_by == "cdn"
    assert ws.verdict.primary is not None and ws.verdict.primary.code == "cert.chain_incomplete"
    assert ws.verdict.cause == 3
    # The upgrade itself works over the same wire: the certificate alone explains the 502.
    assert only_address(ws)["status"] == 101
    assert not any(f.code.startswith("ws.") for f in ws.findings)


# --- raw peers: one knob each ---

TWINS = [
    # REPORT.md: an origin answer below 500 reaches the viewer as is, so the outcome is "ok" while the
    # finding still fails the target (the viewer's WebSocket client cannot open the socket).
    pytest.param(Knobs(status=400), "ws.upgrade_rejected", "ok", None, id="reject-400"),
    pytest.param(Knobs(status=200), "ws.upgrade_rejected", "ok", None, id="reject-200"),
    pytest.param(Knobs(status=503), "ws.upgrade_rejected", "503", "origin", id="reject-503"),
    pytest.param(Knobs(right_accept=False), "ws.bad_accept", "502", "cdn", id="bad-accept"),
    pytest.param(Knobs(answer_pings=False), "ws.timeout", "504", "cdn", id="no-pong"),
]


@pytest.mark.parametrize(("knobs", "code", "outcome", "generated_by"), TWINS)
async def test_broken_upgrade_and_its_healthy_twin(pki: Pki, knobs: Knobs, code: str, outcome: str,
                                                   generated_by: str | None) -> None:
    tls = pki.server_context("ws.example.com")
    async with raw_peer(tls, knobs) as port:
        broken = await wss(f"wss://ws.example.com:{port}/socket", pki, port, read_timeout=0.5)
    async with raw_peer(tls, Knobs()) as port:
        twin = await wss(f"wss://ws.example.com:{port}/socket", pki, port, read_timeout=0.5)
    assert twin.outcome == "ok" and not twin.verdict.failed, twin.findings
    assert broken.verdict.failed
    assert broken.verdict.primary is not None and broken.verdict.primary.code == code, broken.findings
    assert broken.outcome == outcome and broken.verdict.generated_by == generated_by


async def test_rejection_carries_status_and_body(pki: Pki) -> None:
    async with raw_peer(pki.server_context("ws.example.com"), Knobs(status=400)) as port:
        result = await wss(f"wss://ws.example.com:{port}/socket", pki, port)
    found = next(f for f in result.findings if f.code == "ws.upgrade_rejected")
    assert found.evidence["status"] == 400
    assert found.evidence["body_start"] == "upgrade refused with 400"


async def test_bad_accept_names_both_keys(pki: Pki) -> None:
    async with raw_peer(pki.server_context("ws.example.com"), Knobs(right_accept=False)) as port:
        result = await wss(f"wss://ws.example.com:{port}/socket", pki, port)
    found = next(f for f in result.findings if f.code == "ws.bad_accept")
    assert found.evidence["received"] != found.evidence["expected"]
    assert found.evidence["received"] and found.evidence["expected"]


async def test_no_pong_times_out_after_the_upgrade(pki: Pki) -> None:
    async with raw_peer(pki.server_context("ws.example.com"), Knobs(answer_pings=False)) as port:
        result = await wss(f"wss://ws.example.com:{port}/socket", pki, port, read_timeout=0.3)
    found = next(f for f in result.findings if f.code == "ws.timeout")
    assert found.evidence["phase"] == "pong"
    assert only_address(result)["status"] == 101
