"""`origin-doctor check wss://...` end to end in a subprocess: what the operator reads, the JSON,
exit codes, and one-line usage errors."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from rich.console import Console
from ws_lab import Knobs, Pki, echo_server, nginx, options_for, raw_peer

from origin_doctor.engine import check_target
from origin_doctor.report.terminal import render_result
from origin_doctor.targets import parse_target

SRC = Path(__file__).resolve().parents[2] / "src"


async def cli(*args: str) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200", "NO_COLOR": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "origin_doctor", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(60):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def lab_args(pki: Pki, port: int) -> list[str]:
    return ["--resolve", f"ws.example.com:{port}:127.0.0.1", "--resolve", f"www.example.com:{port}:127.0.0.1",
            "--ca-bundle", str(pki.root_pem), "--at", "2026-11-29T10:00:00Z", "--connect-attempts", "1",
            "--connect-timeout", "3", "--read-timeout", "1", "--no-compare"]


async def test_wss_502_says_why_and_how_to_fix(pki: Pki, tmp_path: Path) -> None:
    async with echo_server(None) as backend:
        servers = [("www.example.com", pki.full_chain["www.example.com"], pki.key["www.example.com"]),
                   ("ws.example.com", pki.leaf_only["ws.example.com"], pki.key["ws.example.com"])]
        with nginx(tmp_path, servers, backend) as port:
            code, out, err = await cli("check", f"wss://ws.example.com:{port}/socket", *lab_args(pki, port))
            twin_code, twin_out, _ = await cli("check", f"www.example.com:{port}", "--websocket", "/socket",
                                               *lab_args(pki, port))
    assert code == 1, err
    flat = " ".join(out.split())
    assert "CloudFront answers the WebSocket upgrade on /socket with 502 because an intermediate is missing" in flat
    assert "cert.chain_incomplete" in flat and "fix: " in flat and "fullchain" in flat, out
    assert twin_code == 0, twin_out
    assert "the WebSocket upgrade on /socket works" in " ".join(twin_out.split())


async def test_json_carries_the_ws_observation(pki: Pki) -> None:
    async with raw_peer(pki.server_context("ws.example.com"), Knobs(right_accept=False)) as port:
        code, out, _ = await cli("check", f"wss://ws.example.com:{port}/socket", "--json", *lab_args(pki, port))
    assert code == 1
    result = json.loads(out)["results"][0]
    assert (result["outcome"], result["generated_by"], result["primary"]) == ("502", "cdn", "ws.bad_accept")
    assert result["target"]["websocket"] == "/socket"
    ws = result["addresses"][0]["ws"]
    assert ws["status"] == 101 and ws["accept_ok"] is False and ws["error"] == "bad_accept"


async def test_usage_errors_are_one_line(pki: Pki) -> None:
    cases = [
        ("check", "ws.example.com", "--ws-send", "hi"),
        ("check", "wss://ws.example.com/s", "--ws-header", "Connection: close"),
        ("check", "wss://ws.example.com/s", "--ws-header", "no-colon"),
        ("check", "ws.example.com", "--websocket", "socket"),
    ]
    for args in cases:
        code, out, err = await cli(*args)
        assert code == 2 and out == "", args
        assert err.startswith("error: ") and err.count("\n") == 1, (args, err)


async def test_terminal_table_has_a_ws_column(pki: Pki) -> None:
    async with raw_peer(pki.server_context("ws.example.com"), Knobs(answer_pings=False)) as port:
        result = await check_target(parse_target(f"wss://ws.example.com:{port}/socket"),
                                    options_for(pki, port, read_timeout=0.3))
    console = Console(width=160, record=True, color_system=None)
    console.print(render_result(result))
    text = console.export_text()
    header = next(line for line in text.splitlines() if line.lstrip().startswith("address"))
    assert header.split()[:6] == ["address", "tcp", "tls", "cert", "http", "ws"]
    assert "passes the origin's 101 for /socket, but the WebSocket then fails" in " ".join(text.split())
    assert "ws.timeout" in text and "WS 101" in text


async def test_rejected_upgrade_below_500_still_exits_1(pki: Pki) -> None:
    async with raw_peer(pki.server_context("ws.example.com"), Knobs(status=400)) as port:
        code, out, _ = await cli("check", f"wss://ws.example.com:{port}/socket", "--json", *lab_args(pki, port))
    result = json.loads(out)["results"][0]
    assert code == 1
    assert (result["outcome"], result["primary"]) == ("ok", "ws.upgrade_rejected")
    evidence = next(f["evidence"] for f in result["findings"] if f["code"] == "ws.upgrade_rejected")
    assert evidence["status"] == 400 and evidence["body_start"] == "upgrade refused with 400"
