"""The story end to end: nginx serves only the leaf, `check` says 502, `fix-chain` reads the live
chain and completes it from the CA's AIA URL (PKCS#7), nginx is reloaded with the bundle, and
the same `check` passes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fix_support import AT, AiaLab, Route, free_port, lab_nginx, p7, pem_file, reload_nginx

from origin_doctor.cli import cli
from origin_doctor.lab.nginx import NginxServer

NAME = "ws.example.test"


@pytest.fixture
def leaf_only_nginx(aia_lab: AiaLab, tmp_path: Path) -> Iterator[tuple[NginxServer, Path]]:
    aia_lab.routes["/ca/intermediate.p7c"] = Route(p7(aia_lab.pki.intermediate))
    leaf = aia_lab.leaf_with_aia("/ca/intermediate.p7c")
    cert = pem_file(tmp_path / "ws.crt", leaf)
    key = tmp_path / "ws.key"
    key.write_bytes(leaf.key_pem)
    with lab_nginx(tmp_path / "nginx", free_port(), cert, key) as server:
        yield server, key


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def _probe_args(lab: AiaLab, port: int) -> list[str]:
    return ["--resolve", f"{NAME}:{port}:127.0.0.1", "--ca-bundle", str(lab.ca_bundle), "--at", AT,
            "--no-compare", "--connect-timeout", "5", "--connect-attempts", "1", "--read-timeout", "5"]


def _check(lab: AiaLab, port: int) -> dict[str, object]:
    code, output = _cli("check", f"{NAME}:{port}", "--json", *_probe_args(lab, port))
    document = json.loads(output)
    result = document["results"][0]
    assert code == (0 if result["outcome"] == "ok" else 1)
    return dict(result)


def test_leaf_only_origin_is_fixed_by_the_bundle(aia_lab: AiaLab, leaf_only_nginx: tuple[NginxServer, Path],
                                                  tmp_path: Path) -> None:
    server, key = leaf_only_nginx
    port = server.ports[0][1]
    before = _check(aia_lab, port)
    assert before["outcome"] == "502" and before["primary"] == "cert.chain_incomplete"

    bundle = tmp_path / "ws-fullchain.pem"
    code, output = _cli("fix-chain", f"{NAME}:{port}", "--key", str(key), "--out", str(bundle),
                        *_probe_args(aia_lab, port))
    assert code == 0, output
    assert "given:     1 certificate(s): ws.example.test" in output
    assert f"added:     'Origin Doctor Lab CA R3' from aia {aia_lab.base}/ca/intermediate.p7c" in output

    reload_nginx(server, bundle, key, expect_chain=2)
    after = _check(aia_lab, port)
    assert after["outcome"] == "ok" and after["primary"] is None, after["findings"]


def test_nothing_listening_is_said_plainly(aia_lab: AiaLab) -> None:
    port = free_port()
    code, output = _cli("fix-chain", f"{NAME}:{port}", *_probe_args(aia_lab, port))
    assert code == 1 and "no certificate seen" in output and "No bundle written" in output
