"""What the upgrade puts on the wire (CloudFront's shape, --ws-protocol, --ws-header, --ws-send),
against the websockets library's own server and a recording raw peer."""

from __future__ import annotations

import dataclasses

import pytest
from ws_lab import Knobs, Pki, echo_server, options_for, raw_peer

from origin_doctor.cli.ws_options import apply_ws_options, parse_ws_header
from origin_doctor.engine import check_target
from origin_doctor.errors import UsageError
from origin_doctor.model import Target
from origin_doctor.result import TargetResult
from origin_doctor.targets import parse_target


def socket_target(port: int, **ws: object) -> Target:
    target = parse_target(f"wss://ws.example.com:{port}/socket")
    return apply_ws_options(target, **ws)  # type: ignore[arg-type]


async def run(pki: Pki, port: int, **ws: object) -> TargetResult:
    return await check_target(socket_target(port, **ws), options_for(pki, port))


def ws_of(result: TargetResult) -> dict[str, object]:
    ws = result.addresses[0].ws
    assert ws is not None
    return ws


async def test_request_is_shaped_like_cloudfronts(pki: Pki) -> None:
    heads: list[bytes] = []
    async with raw_peer(pki.server_context("ws.example.com"), Knobs(), heads) as port:
        result = await run(pki, port, ws_header=("Origin: https://app.example.com",))
    assert result.outcome == "ok", result.findings
    assert len(heads) == 1  # the upgrade is the only request; no plain GET before it
    lines = heads[0].decode("latin-1").split("\r\n")
    assert lines[0] == "GET /socket HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    assert lines[1] == "Host: ws.example.com"
    assert headers["User-Agent"] == "Amazon CloudFront"
    assert headers["Via"].endswith("(CloudFront)")
    assert headers["X-Amz-Cf-Id"] == ws_of(result)["request_id"]
    assert headers["Upgrade"] == "websocket" and headers["Connection"] == "Upgrade"
    assert headers["Sec-WebSocket-Version"] == "13" and len(headers["Sec-WebSocket-Key"]) == 24
    assert headers["Origin"] == "https://app.example.com"


async def test_required_subprotocol_and_its_twin(pki: Pki) -> None:
    async with echo_server(pki.server_context("ws.example.com"), subprotocols=["chat"]) as port:
        offered = await run(pki, port, ws_protocol=("chat",))
        missing = await run(pki, port)
    assert offered.outcome == "ok" and ws_of(offered)["subprotocol"] == "chat"
    assert missing.verdict.primary is not None and missing.verdict.primary.code == "ws.upgrade_rejected"
    assert missing.verdict.primary.evidence["status"] == 400


async def test_ws_send_waits_for_the_echo(pki: Pki) -> None:
    async with echo_server(pki.server_context("ws.example.com")) as port:
        result = await run(pki, port, ws_send="hello origin")
    ws = ws_of(result)
    assert result.outcome == "ok"
    assert ws["reply"] == "message" and ws["close"] == "clean" and ws["close_code"] == 1000


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_permessage_deflate_offer(pki: Pki, compression: str | None) -> None:
    async with echo_server(pki.server_context("ws.example.com"), compression=compression) as port:
        result = await run(pki, port, ws_header=("Sec-WebSocket-Extensions: permessage-deflate",),
                           ws_send="compress me " * 20)
    assert result.outcome == "ok", result.findings
    negotiated = ws_of(result)["extensions"]
    assert (negotiated is not None and "permessage-deflate" in str(negotiated)) == (compression is not None)


def test_header_parsing() -> None:
    assert parse_ws_header("Origin:  https://x.example ") == ("Origin", "https://x.example")
    for bad in ("no colon", "Bad Name: x", "Host: other.example", "Sec-WebSocket-Key: abc", ": x"):
        with pytest.raises(UsageError):
            parse_ws_header(bad)


def test_ws_options_need_a_websocket_path() -> None:
    https = parse_target("ws.example.com")
    assert apply_ws_options(https) == https
    with pytest.raises(UsageError, match="need --websocket"):
        apply_ws_options(https, ws_send="x")
    with pytest.raises(UsageError, match="single token"):
        apply_ws_options(parse_target("wss://ws.example.com/s"), ws_protocol=("a, b",))
    with pytest.raises(UsageError, match="must start with '/'"):
        apply_ws_options(dataclasses.replace(https, websocket_path="socket"))
