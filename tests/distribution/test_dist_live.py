"""`distribution --id`: the same distribution read from a local CloudFront API (moto on loopback)
gives the same rows as the saved file; AWS failures are one line and exit 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from dist_documents import (
    UNKNOWN_POLICY,
    custom_host_policy,
    distribution_config,
    get_distribution_output,
    lab_args,
    ports,
)
from moto.server import ThreadedMotoServer

from origin_doctor.cli import cli

ROW_FIELDS = ("viewer_name", "behaviour", "origin_id", "role", "host_forwarded", "sni", "checked_name", "outcome",
              "primary", "skipped")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Dummy credentials, and no user AWS config files leaking in."""
    home = tmp_path_factory.mktemp("aws")
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="module")
def moto_server(aws_env: dict[str, str]) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def live_id(lab: Any, moto_server: str, aws_env: dict[str, str]) -> str:
    saved = {k: os.environ.get(k) for k in aws_env}
    os.environ.update(aws_env)
    try:
        client = boto3.client("cloudfront", endpoint_url=moto_server)
        created = client.create_distribution(DistributionConfig=distribution_config(ports(lab)))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    distribution_id: str = created["Distribution"]["Id"]
    return distribution_id


def _policy_file(tmp_path: Path) -> str:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(custom_host_policy()))
    return str(policy)


def _rows(output: str) -> list[tuple[Any, ...]]:
    rows = json.loads(output)["distribution"]["rows"]
    return [tuple(row[field] for field in ROW_FIELDS) for row in rows]


def test_live_rows_match_the_saved_file(lab: Any, moto_server: str, live_id: str, aws_env: dict[str, str],
                                        tmp_path: Path) -> None:
    policy = _policy_file(tmp_path)
    live = CliRunner().invoke(cli, ["distribution", "--id", live_id, "--endpoint-url", moto_server,
                                    "--origin-request-policy", policy, "--json", *lab_args(lab)], env=aws_env)
    assert live.exit_code == 1, live.output
    saved = tmp_path / "dist.json"
    saved.write_text(json.dumps(get_distribution_output(ports(lab), live_id)))
    offline = CliRunner().invoke(cli, ["distribution", str(saved), "--origin-request-policy", policy, "--json",
                                       *lab_args(lab)])
    assert offline.exit_code == 1, offline.output
    assert _rows(live.output) == _rows(offline.output)
    section = json.loads(live.output)["distribution"]
    assert section["id"] == live_id and section["domain_name"].endswith(".cloudfront.net")
    unknown = next(f for f in section["config_findings"] if f["code"] == "config.policy_unknown")
    # moto has no policy API: the live lookup fails and says how, the run goes on.
    assert unknown["evidence"]["policy"] == UNKNOWN_POLICY and "404" in unknown["evidence"]["reason"]


def test_unknown_distribution_is_one_line_exit_2(moto_server: str, aws_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["distribution", "--id", "ENOSUCHDIST", "--endpoint-url", moto_server],
                                env=aws_env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: AWS get-distribution --id ENOSUCHDIST: ")
    assert result.output.count("\n") == 1


def test_unreachable_endpoint_is_one_line_exit_2(aws_env: dict[str, str]) -> None:
    with socket.socket() as sock:  # bound, never listening: connections are refused at once
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        result = CliRunner().invoke(cli, ["distribution", "--id", "E1", "--endpoint-url", url], env=aws_env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: AWS get-distribution --id E1: ") and result.output.count("\n") == 1


def test_unknown_aws_profile_is_one_line_exit_2(aws_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["distribution", "--id", "E1", "--profile-name", "nope"], env=aws_env)
    assert result.exit_code == 2, result.output
    assert "nope" in result.output and result.output.count("\n") == 1


def test_without_boto3_the_error_says_how_to_install() -> None:
    code = ("import sys; sys.modules['boto3'] = None\n"
            "from origin_doctor.cli import main\n"
            "sys.argv = ['origin-doctor', 'distribution', '--id', 'E1']\n"
            "main()\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                            check=False)
    assert result.returncode == 2
    assert result.stderr == ("error: --id needs boto3: pip install 'origin-doctor[aws]' "
                             "(or pass the saved get-distribution JSON file)\n")
