"""`origin-doctor demo` reproduces the incident end to end, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_demo_reproduces_the_incident() -> None:
    run = subprocess.run([sys.executable, "-m", "origin_doctor", "demo", "--json"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    by_name = {r["target"]["name"]: r for r in doc["results"]}
    assert by_name["www.lab.test"]["outcome"] == "ok"
    ws = by_name["ws.lab.test"]
    assert (ws["outcome"], ws["primary"], ws["cause"]) == ("502", "cert.chain_incomplete", 3)
    incomplete = next(f for f in ws["findings"] if f["code"] == "cert.chain_incomplete")
    assert "Origin Doctor Lab CA R3" in incomplete["fix"]
    (cross,) = doc["fleet_findings"]
    assert cross["code"] == "fleet.inconsistent_chain"
    assert "ws.lab.test" in cross["summary"] and "www.lab.test" in cross["fix"]


def test_demo_terminal_output_names_cause_and_fix() -> None:
    run = subprocess.run([sys.executable, "-m", "origin_doctor", "demo"], capture_output=True, text=True,
                         timeout=120, check=False, env={**os.environ, "COLUMNS": "100"})
    assert run.returncode == 0, run.stderr
    text = " ".join(run.stdout.split())
    assert "CloudFront would serve this origin." in text
    assert "with 502 because an intermediate is missing" in text
    assert "fleet.inconsistent_chain" in text
