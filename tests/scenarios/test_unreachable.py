"""tcp.unreachable: the one connect failure no loopback server can produce. A fresh network namespace
(`unshare --net`, as root) has its loopback down and no routes, so connecting to 127.0.0.1 there fails
with ENETUNREACH at once; nothing is sent anywhere. Its twin is the same command outside the namespace."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _check(lab, name: str, *, isolated: bool) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    _, port = lab.endpoints[name]
    command = [sys.executable, "-m", "origin_doctor", "check", f"https://{name}:{port}", "--json",
               "--resolve", f"{name}:{port}:127.0.0.1", "--ca-bundle", str(lab.ca_bundle),
               "--at", lab.now.isoformat(), "--connect-timeout", "2", "--connect-attempts", "1"]
    if isolated:
        unshare = shutil.which("unshare")
        assert unshare is not None, "util-linux's unshare is needed for the unreachable scenario"
        command = [unshare, "--net", *command]
    env = dict(os.environ, PYTHONPATH=str(SRC), COLUMNS="200")
    run = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert run.stdout, run.stderr
    return run.returncode, json.loads(run.stdout)["results"][0]


def test_no_route_to_the_origin_is_tcp_unreachable(lab) -> None:  # type: ignore[no-untyped-def]
    code, result = _check(lab, "www.lab.test", isolated=True)
    assert (code, result["outcome"], result["primary"]) == (1, "502", "tcp.unreachable"), result
    finding = result["findings"][0]
    assert finding["stage"] == "tcp" and finding["evidence"]["errno"] == errno.ENETUNREACH, finding
    twin_code, twin = _check(lab, "www.lab.test", isolated=False)
    assert (twin_code, twin["outcome"], twin["primary"]) == (0, "ok", None), twin
