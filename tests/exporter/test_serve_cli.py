"""`origin-doctor serve` as a real process: it binds loopback, exports the lab, refuses remote binds
without the flag and bad targets files with one line, and stops on SIGTERM within a bounded time."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from origin_doctor.cli import cli
from origin_doctor.errors import UsageError
from origin_doctor.exporter import parse_listen, read_targets, valid_host
from tests.html.support import lab_args

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_serve_process_exports_the_lab_and_stops_on_sigterm(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fleet = tmp_path / "fleet.txt"
    ports = {name: lab.endpoints[name][1] for name in ("www.lab.test", "ws.lab.test")}
    fleet.write_text("# the incident pair\n" + "".join(f"{n}:{p}\n" for n, p in ports.items()))
    env = {**os.environ, "PYTHONPATH": SRC}
    process = subprocess.Popen(
        [sys.executable, "-m", "origin_doctor", "serve", "--targets", str(fleet), "--listen", "127.0.0.1:0",
         "--interval", "3600", *lab_args(lab)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        url = f"http://127.0.0.1:{match.group(1)}/metrics"
        deadline = time.monotonic() + 60
        values: dict[str, float] = {}
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url, timeout=10) as response:
                text = response.read().decode()
            values = {
                f"{s.name}{sorted(s.labels.items())}": s.value
                for family in text_string_to_metric_families(text) for s in family.samples
                if s.name == "origin_doctor_predicted_status"
            }
            if values:
                break
            time.sleep(0.2)
        assert sorted(values.values()) == [200, 502], values
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert "stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_remote_bind_needs_the_explicit_flag(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.txt"
    fleet.write_text("www.example.test\n")
    result = CliRunner().invoke(cli, ["serve", "--targets", str(fleet), "--listen", "0.0.0.0:9109"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "--allow-remote" in result.output
    assert parse_listen("0.0.0.0:0", allow_remote=True) == ("0.0.0.0", 0)
    assert parse_listen("[::1]:9109", allow_remote=False) == ("::1", 9109)
    assert parse_listen("localhost:9109", allow_remote=False) == ("localhost", 9109)
    for bad in ("9109", "127.0.0.1:99999", "127.0.0.1:", "[::1]"):
        with pytest.raises(UsageError):
            parse_listen(bad, allow_remote=False)


def test_port_in_use_is_one_line_exit_2(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.txt"
    fleet.write_text("www.example.test\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--targets", str(fleet), "--listen", f"127.0.0.1:{port}"])
    assert result.exit_code == 2 and result.output.startswith("error: cannot listen on 127.0.0.1:")
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(("content", "message"), [
    ("# only comments\n\n", "no targets"),
    ("www.example.test\nbad name!\n", ":2: "),
])
def test_bad_targets_file_is_one_line_exit_2(tmp_path: Path, content: str, message: str) -> None:
    fleet = tmp_path / "fleet.txt"
    fleet.write_text(content)
    result = CliRunner().invoke(cli, ["serve", "--targets", str(fleet), "--listen", "127.0.0.1:0"])
    assert result.exit_code == 2 and message in result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    missing = CliRunner().invoke(cli, ["serve", "--targets", str(tmp_path / "absent.txt")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_targets_file_and_host_checks(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.txt"
    fleet.write_text("www.example.test  # main site\nhttps://shop.example.test:8443/health\n")
    assert [(t.name, t.port, t.path) for t in read_targets(str(fleet))] == [
        ("www.example.test", 443, "/"), ("shop.example.test", 8443, "/health")]
    assert valid_host("www.example.test") and valid_host("127.0.0.1") and valid_host("::1")
    assert not valid_host("<script>") and not valid_host("a..b") and not valid_host("-a.test")
