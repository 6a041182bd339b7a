"""The CLI as scripts see it: exit codes, one-line errors, one clean JSON document on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from origin_doctor.cli import cli
from origin_doctor.lab.run import DEFAULT_NOW as LAB_NOW


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "origin_doctor", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def lab_args(lab) -> list[str]:  # type: ignore[no-untyped-def]
    args = ["--ca-bundle", str(lab.ca_bundle), "--at", LAB_NOW.isoformat(), "--connect-timeout", "2",
            "--connect-attempts", "1", "--read-timeout", "2"]
    for entry in lab.resolve_args():
        args += ["--resolve", entry]
    return args


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "--no-such-flag", "x.example"], "No such option"),
        (["check", "ftp://x.example"], "scheme must be https"),
        (["check", "x.example:99999"], "port must be 1-65535"),
        (["check", "x.example", "--ca-bundle", "/nonexistent/ca.pem"], "CA bundle not found"),
        (["check", "x.example", "--at", "yesterday"], "not an ISO 8601 time"),
        (["check", "x.example", "--ssl-protocols", "TLSv9"], "unknown version"),
        (["check", "x.example", "--profile", "akamai"], "unknown profile"),
        (["check", "x.example", "--resolve", "garbage"], "expected HOST:PORT:ADDRESS"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unreadable_ca_bundle_contents(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("this is not a certificate\n")
    result = run("check", "x.example", "--ca-bundle", str(bundle))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no PEM or DER certificate" in result.stderr


def test_json_is_one_document_and_exit_1_for_the_broken_host(lab) -> None:  # type: ignore[no-untyped-def]
    port = lab.endpoints["ws.lab.test"][1]
    result = run("check", f"ws.lab.test:{port}", "--json", *lab_args(lab))
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "origin-doctor/report/1"
    (entry,) = doc["results"]
    assert (entry["outcome"], entry["primary"], entry["cause"], entry["generated_by"]) == (
        "502", "cert.chain_incomplete", 3, "cdn")
    assert entry["target"]["sni"] == "ws.lab.test"
    assert entry["addresses"][0]["tls"]["chain"][0]["pem"].startswith("-----BEGIN CERTIFICATE-----")


def test_healthy_host_exits_0_with_a_verdict_line(lab) -> None:  # type: ignore[no-untyped-def]
    port = lab.endpoints["www.lab.test"][1]
    result = CliRunner().invoke(cli, ["check", f"www.lab.test:{port}", *lab_args(lab)])
    assert result.exit_code == 0, result.output
    assert "CloudFront would serve this origin." in result.output


def test_nameserver_option_reaches_the_lab_dns(lab) -> None:  # type: ignore[no-untyped-def]
    host, port = lab.dns_address
    tls_port = lab.endpoints["nxdomain.lab.test"][1]
    result = run("check", f"nxdomain.lab.test:{tls_port}", "--nameserver", f"{host}:{port}", "--json",
                 *lab_args(lab))
    assert result.returncode == 1
    assert json.loads(result.stdout)["results"][0]["primary"] == "dns.nxdomain"


def test_explain_lists_every_code() -> None:
    result = CliRunner().invoke(cli, ["explain"])
    assert result.exit_code == 0 and "cert.chain_incomplete" in result.output
