"""A small fleet on loopback: nginx serving one site whose `ws` name lost its intermediate while
`www` was fixed, a healthy site, and a round-robin name with one node on a leaf-only chain."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import origin_doctor
from origin_doctor.lab.nginx import NginxPortInUse, NginxServer, ServerBlock, free_ports
from origin_doctor.lab.pki import DAY, Issued, issue_leaf, mint_pki, write_chain, write_key

LAB_NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
SRC = Path(origin_doctor.__file__).resolve().parents[1]


@dataclass(frozen=True)
class FleetLab:
    port: int  # every name below, on 127.0.0.1 (and 127.0.0.2 for rr.)
    ca_bundle: Path
    root: Path

    def args(self, *names: str) -> list[str]:
        """--resolve for each name (rr.lab.test gets both nodes), the lab root, the pinned time."""
        out: list[str] = []
        for name in names:
            addresses = "127.0.0.1,127.0.0.2" if name.startswith("rr.") else "127.0.0.1"
            out += ["--resolve", f"{name}:{self.port}:{addresses}"]
        return [*out, "--ca-bundle", str(self.ca_bundle), "--at", LAB_NOW.isoformat(), "--no-progress",
                "--connect-timeout", "5", "--read-timeout", "5"]

    def hosts(self, *names: str) -> str:
        return "".join(f"{name}:{self.port}\n" for name in names)



@pytest.fixture(scope="module")
def fleet_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetLab]:
    root = tmp_path_factory.mktemp("fleet-lab")
    pki = mint_pki(LAB_NOW)

    def leaf(*names: str) -> Issued:
        return issue_leaf(pki.intermediate, list(names), not_before=LAB_NOW - DAY, not_after=LAB_NOW + 90 * DAY)

    www, ws = leaf("www.incident.test"), leaf("ws.incident.test")
    good, rr = leaf("a.good.test", "b.good.test"), leaf("rr.lab.test")
    files = {
        "www": write_chain(root / "www.pem", www.chain()),
        "ws": write_chain(root / "ws.pem", [ws.cert]),  # leaf only: the bug
        "good": write_chain(root / "good.pem", good.chain()),
        "rr": write_chain(root / "rr.pem", rr.chain()),
        "rr-bad": write_chain(root / "rr-bad.pem", [rr.cert]),
    }
    key = write_key(root / "key.pem", www.key)  # the lab shares one leaf key
    ca = pki.write_ca_bundle(root / "ca.pem")
    for _attempt in range(5):
        (port,) = free_ports(1)
        blocks = [
            ServerBlock(port, "www.incident.test", certificate=files["www"], certificate_key=key, default_server=True),
            ServerBlock(port, "ws.incident.test", certificate=files["ws"], certificate_key=key),
            ServerBlock(port, "a.good.test b.good.test", certificate=files["good"], certificate_key=key),
            ServerBlock(port, "rr.lab.test", certificate=files["rr"], certificate_key=key),
            ServerBlock(port, "rr.lab.test", address="127.0.0.2", certificate=files["rr-bad"], certificate_key=key,
                        default_server=True),
        ]
        server = NginxServer(root / "nginx", blocks)
        try:
            server.start()
        except NginxPortInUse:
            continue
        try:
            yield FleetLab(port, ca, root)
        finally:
            server.stop()
        return
    raise RuntimeError("no free port for the fleet lab after 5 attempts")


def run_cli(*args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess (its own event loop, signals and exit code)."""
    return subprocess.run([sys.executable, "-m", "origin_doctor", *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=cli_env(), check=False)


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["COLUMNS"] = "200"
    return env
