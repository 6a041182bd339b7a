"""`origin-doctor scan` over a real nginx fleet: the incident, a healthy twin, round-robin, bad
input lines, exit codes, one JSON document, and JSON Lines that survive SIGINT."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.fleet.conftest import FleetLab, cli_env, run_cli


def _fleet_findings(stdout: str) -> list[dict[str, object]]:
    doc = json.loads(stdout)
    findings = doc["fleet_findings"]
    assert isinstance(findings, list)
    return findings


@pytest.mark.parametrize("workers", ["1", "2"])
def test_incident_pair_points_at_www_as_fix_source(fleet_lab: FleetLab, tmp_path: Path, workers: str) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("# the seed incident\n" + fleet_lab.hosts("www.incident.test", "ws.incident.test"))
    out = tmp_path / "out.jsonl"
    run = run_cli("scan", str(hosts), "--json", "--jsonl", str(out), "--workers", workers,
                  *fleet_lab.args("www.incident.test", "ws.incident.test"))
    assert run.returncode == 1, run.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == json.loads(run.stdout)["results"]  # the same whole results, PEMs included
    assert all(a["tls"]["chain"][0]["pem"] for r in lines for a in r["addresses"])
    assert "Unknown child process" not in run.stderr  # workers are reaped by asyncio alone
    chain = [f for f in _fleet_findings(run.stdout) if f["code"] == "fleet.inconsistent_chain"]
    assert len(chain) == 1
    evidence = chain[0]["evidence"]
    assert isinstance(evidence, dict)
    assert [h.split(" ")[0] for h in evidence["broken_hosts"]] == [f"ws.incident.test:{fleet_lab.port}"]
    assert evidence["fix_source"]["host"] == f"www.incident.test:{fleet_lab.port}"
    assert chain[0]["subject"] == "incident.test"


def test_consistent_fleet_has_no_fleet_findings_and_exits_0(fleet_lab: FleetLab, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(fleet_lab.hosts("a.good.test", "b.good.test", "www.incident.test"))
    run = run_cli("scan", str(hosts), "--json", *fleet_lab.args("a.good.test", "b.good.test", "www.incident.test"))
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["fleet_findings"] == []
    assert sorted(r["outcome"] for r in doc["results"]) == ["ok", "ok", "ok"]
    assert doc["schema"] == "origin-doctor/report/1"


def test_round_robin_name_with_one_bad_node_is_caught(fleet_lab: FleetLab, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(fleet_lab.hosts("rr.lab.test"))
    run = run_cli("scan", str(hosts), "--json", *fleet_lab.args("rr.lab.test"))
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    (result,) = doc["results"]
    assert [a["address"] for a in result["addresses"]] == ["127.0.0.1", "127.0.0.2"]
    chain = [f for f in doc["fleet_findings"] if f["code"] == "fleet.inconsistent_chain"]
    assert len(chain) == 1
    assert chain[0]["evidence"]["broken_hosts"] == [f"rr.lab.test:{fleet_lab.port} (127.0.0.2)"]
    assert chain[0]["evidence"]["fix_source"]["address"] == "127.0.0.1"


def test_malformed_line_is_named_and_the_rest_runs(fleet_lab: FleetLab, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(f"a.good.test:{fleet_lab.port}\n\nnot a target here\nb.good.test:{fleet_lab.port}\n"
                     f"c.good.test:99999\n")
    run = run_cli("scan", str(hosts), "--json", *fleet_lab.args("a.good.test", "b.good.test"))
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {hosts}:3: expected key=value after the target, got 'a'",
        f"error: {hosts}:5: target 'c.good.test:99999': port must be 1-65535",
    ]
    doc = json.loads(run.stdout)
    assert sorted(r["target"]["name"] for r in doc["results"]) == ["a.good.test", "b.good.test"]
    assert run.returncode == 2  # nothing failed, but the input was malformed


def test_bad_lines_do_not_hide_a_failing_target(fleet_lab: FleetLab, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(f"ws.incident.test:{fleet_lab.port}\nbogus key\n")
    run = run_cli("scan", str(hosts), *fleet_lab.args("ws.incident.test"))
    assert run.returncode == 1
    assert f"{hosts}:2:" in run.stderr


def test_exit_codes_for_unusable_input(tmp_path: Path) -> None:
    missing = run_cli("scan", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: ") and len(missing.stderr.strip().splitlines()) == 1
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    nothing = run_cli("scan", str(empty), "--no-progress")
    assert nothing.returncode == 2
    assert f"error: {empty}: no target could be checked" in nothing.stderr
    bad_yaml = tmp_path / "fleet.yaml"
    bad_yaml.write_text("targets:\n  - target: [unclosed\n")
    broken = run_cli("scan", str(bad_yaml))
    assert broken.returncode == 2 and "fleet.yaml:" in broken.stderr and "Traceback" not in broken.stderr


def test_fail_on_warn_turns_warnings_into_exit_1(fleet_lab: FleetLab, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(fleet_lab.hosts("a.good.test"))
    # The leaf expires in 90 days: a 100-day warning window makes it cert.expires_soon (warn).
    ok = run_cli("scan", str(hosts), *fleet_lab.args("a.good.test"), "--warn-days", "100")
    assert ok.returncode == 0, ok.stderr
    gated = run_cli("scan", str(hosts), *fleet_lab.args("a.good.test"), "--warn-days", "100", "--fail-on", "warn")
    assert gated.returncode == 1


def test_yaml_overrides_and_stdin(fleet_lab: FleetLab, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        f"defaults:\n  port: {fleet_lab.port}\ntargets:\n"
        "  - www.incident.test\n"
        "  - target: shop.example.invalid\n    origin: ws.incident.test\n    host_header: ws.incident.test\n"
        "    site: incident.test\n    path: /health\n    warn_days: 5\n"
    )
    run = run_cli("scan", str(fleet), "--json", *fleet_lab.args("www.incident.test", "ws.incident.test"))
    doc = json.loads(run.stdout)
    by_name = {r["target"]["name"]: r for r in doc["results"]}
    shop = by_name["shop.example.invalid"]
    assert shop["target"]["path"] == "/health" and shop["target"]["site"] == "incident.test"
    assert shop["primary"] == "cert.chain_incomplete"
    (chain,) = [f for f in doc["fleet_findings"] if f["code"] == "fleet.inconsistent_chain"]
    assert chain["subject"] == "incident.test"
    piped = run_cli("scan", "-", *fleet_lab.args("a.good.test"), stdin=fleet_lab.hosts("a.good.test"))
    assert piped.returncode == 0, piped.stderr


@pytest.mark.parametrize(("sig", "code", "workers"),
                         [(signal.SIGINT, 130, "1"), (signal.SIGTERM, 143, "1"), (signal.SIGINT, 130, "2")])
def test_jsonl_lines_survive_a_signal(fleet_lab: FleetLab, tmp_path: Path, sig: signal.Signals, code: int,
                                      workers: str) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # never accepted: connects succeed, the ClientHello is never answered
    slow_port = silent.getsockname()[1]
    try:
        fast = ["a.good.test", "b.good.test", "www.incident.test", "ws.incident.test"]
        hosts = tmp_path / "hosts.txt"
        hosts.write_text(fleet_lab.hosts(*fast) + "".join(f"slow{i}.test:{slow_port}\n" for i in range(3)))
        out = tmp_path / "out.jsonl"
        args = [*fleet_lab.args(*fast), "--resolve", f"slow0.test:{slow_port}:127.0.0.1",
                "--resolve", f"slow1.test:{slow_port}:127.0.0.1", "--resolve", f"slow2.test:{slow_port}:127.0.0.1",
                "--connect-timeout", "60", "--jsonl", str(out), "--workers", workers]
        process = subprocess.Popen([sys.executable, "-m", "origin_doctor", "scan", str(hosts), *args],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if out.exists() and out.read_text().count("\n") >= len(fast):
                    break
                assert process.poll() is None, process.communicate()
                time.sleep(0.05)
            else:
                raise AssertionError("the fast targets did not finish in 30 s")
            process.send_signal(sig)
            _, stderr = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)
        assert process.returncode == code, stderr
        assert "interrupted" in stderr
        text = out.read_text()
        assert text.endswith("\n")
        lines = [json.loads(line) for line in text.splitlines()]
        assert sorted(r["target"]["name"] for r in lines) == sorted(fast)
        assert "Traceback" not in stderr
    finally:
        silent.close()



def test_per_target_ca_bundle_is_relative_to_the_fleet_file(fleet_lab: FleetLab, tmp_path: Path) -> None:
    folder = tmp_path / "fleet"
    folder.mkdir()
    (folder / "lab-root.pem").write_bytes(fleet_lab.ca_bundle.read_bytes())
    fleet = folder / "fleet.csv"
    fleet.write_text(f"target,ca_bundle\na.good.test:{fleet_lab.port},lab-root.pem\n"
                     f"b.good.test:{fleet_lab.port},missing.pem\n")
    args = [a for a in fleet_lab.args("a.good.test", "b.good.test") if a != str(fleet_lab.ca_bundle)]
    args.remove("--ca-bundle")
    run = run_cli("scan", str(fleet), "--json", *args)
    doc = json.loads(run.stdout)
    assert [r["outcome"] for r in doc["results"]] == ["ok"]
    assert f"error: {fleet}:3: {folder / 'missing.pem'}: CA bundle not found" in run.stderr
    assert run.returncode == 2


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_a_killed_worker_leaves_internal_errors_not_holes(tmp_path: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # never accepted: every hello waits for the whole (short) timeout
    port = silent.getsockname()[1]
    try:
        names = [f"slow{i}.test" for i in range(8)]
        hosts = tmp_path / "hosts.txt"
        hosts.write_text("".join(f"{n}:{port}\n" for n in names))
        out = tmp_path / "out.jsonl"
        resolve = [arg for n in names for arg in ("--resolve", f"{n}:{port}:127.0.0.1")]
        process = subprocess.Popen(
            [sys.executable, "-m", "origin_doctor", "scan", str(hosts), *resolve, "--workers", "2",
             "--per-address", "0", "--connect-timeout", "4", "--connect-attempts", "1", "--no-progress",
             "--jsonl", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
        try:
            deadline = time.monotonic() + 10
            while len(workers := _children(process.pid)) < 2:
                assert time.monotonic() < deadline, "workers did not start"
                time.sleep(0.05)
            time.sleep(1.0)  # the targets are handed out and waiting on the silent peer
            os.kill(workers[0], signal.SIGKILL)
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        assert sorted(r["target"]["name"] for r in lines) == names  # every target has its line
        lost = [r for r in lines if r["primary"] == "internal.error"]
        assert lost and all("worker process exited" in r["findings"][0]["summary"] for r in lost)
        assert len(lost) < len(names)  # the other worker finished its own
        assert process.returncode == 1, stderr
    finally:
        silent.close()


def test_html_report_holds_every_result_and_the_fleet_finding(fleet_lab: FleetLab, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(fleet_lab.hosts("www.incident.test", "ws.incident.test"))
    page = tmp_path / "fleet.html"
    run = run_cli("scan", str(hosts), "--html", str(page), "--workers", "1",
                  *fleet_lab.args("www.incident.test", "ws.incident.test"))
    assert run.returncode == 1, run.stderr
    html = page.read_text("utf-8")
    assert "ws.incident.test" in html and "www.incident.test" in html
    assert "cert.chain_incomplete" in html and "fleet.inconsistent_chain" in html


def test_workers_do_not_hold_the_parents_stdin_and_stdout(tmp_path: Path) -> None:
    """A forked worker gives up the parent's stdin and stdout at once, so a reader of `--json` on a
    pipe sees its end when the parent is done, whatever a worker still does."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    port = silent.getsockname()[1]
    try:
        names = [f"quiet{i}.test" for i in range(4)]
        hosts = tmp_path / "hosts.txt"
        hosts.write_text("".join(f"{n}:{port}\n" for n in names))
        resolve = [arg for n in names for arg in ("--resolve", f"{n}:{port}:127.0.0.1")]
        process = subprocess.Popen(
            [sys.executable, "-m", "origin_doctor", "scan", str(hosts), *resolve, "--workers", "2", "--json",
             "--per-address", "0", "--connect-timeout", "3", "--connect-attempts", "1", "--no-progress"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
        try:
            deadline = time.monotonic() + 10
            while len(workers := _children(process.pid)) < 2:
                assert time.monotonic() < deadline, "workers did not start"
                time.sleep(0.05)
            # A worker shows up in /proc the moment it is forked, a few instructions before it
            # swaps its descriptors, so give it a moment; all it waits on meanwhile is a silent peer.
            for pid in workers:
                while (held := {fd: os.readlink(f"/proc/{pid}/fd/{fd}") for fd in (0, 1)}) != {
                        0: os.devnull, 1: os.devnull}:
                    assert time.monotonic() < deadline, held
                    time.sleep(0.02)
            out, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)
        assert len(json.loads(out)["results"]) == len(names)
    finally:
        silent.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_pausing_pipe_on_stdin_does_not_stall_the_run(fleet_lab: FleetLab, tmp_path: Path, workers: str) -> None:
    """`inventory | origin-doctor scan -`: while the writer pauses, the targets already read are
    checked and written out, and Ctrl-C still ends the run at once."""
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "origin_doctor", "scan", "-", *fleet_lab.args("a.good.test", "b.good.test"),
         "--jsonl", str(out), "--workers", workers, "--no-progress"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    try:
        assert process.stdin is not None
        process.stdin.write(fleet_lab.hosts("a.good.test", "b.good.test"))
        process.stdin.flush()  # and the pipe stays open: the writer is thinking
        deadline = time.monotonic() + 30
        while not (out.exists() and out.read_text().count("\n") == 2):
            assert time.monotonic() < deadline, "the targets already piped in were not checked while stdin stayed open"
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    assert process.returncode == 130, stderr
    assert sorted(json.loads(line)["target"]["name"] for line in out.read_text().splitlines()) == [
        "a.good.test", "b.good.test"]
    assert "Traceback" not in stderr
