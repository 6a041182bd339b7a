"""The lab's WebSocket peers (origin_doctor.lab.peers) behind TLS, each next to the healthy ws_ok."""

from __future__ import annotations

import pytest
from ws_lab import Pki, options_for

from origin_doctor.engine import check_target
from origin_doctor.lab.peers import start_peer
from origin_doctor.targets import parse_target

ROWS = [
    pytest.param("ws_bad_accept", "ws.bad_accept", "502", id="bad-accept"),
    pytest.param("ws_reject_400", "ws.upgrade_rejected", "ok", id="reject-400"),
    pytest.param("ws_reject_200", "ws.upgrade_rejected", "ok", id="reject-200"),
    pytest.param("ws_no_pong", "ws.timeout", "504", id="no-pong"),
]


async def _check(pki: Pki, behaviour: str) -> tuple[str, str | None, bool]:
    async with await start_peer(behaviour, tls=pki.server_context("ws.example.com")) as peer:
        target = parse_target(f"wss://ws.example.com:{peer.port}/socket")
        result = await check_target(target, options_for(pki, peer.port, read_timeout=0.5))
    primary = result.verdict.primary.code if result.verdict.primary else None
    return result.outcome, primary, result.verdict.failed


@pytest.mark.parametrize(("behaviour", "code", "outcome"), ROWS)
async def test_lab_peer_and_healthy_twin(pki: Pki, behaviour: str, code: str, outcome: str) -> None:
    assert await _check(pki, behaviour) == (outcome, code, True)
    assert await _check(pki, "ws_ok") == ("ok", None, False)
