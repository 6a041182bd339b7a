"""`logs --probe` against lab origins on loopback: a broken chain beside its healthy twin."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from logs_support import FIXTURES

from origin_doctor.cli import cli
from origin_doctor.lab.nginx import NginxServer, ServerBlock, free_ports
from origin_doctor.lab.pki import DAY, issue_leaf, mint_pki, write_chain, write_key

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def test_probe_names_the_cause_behind_logged_connect_errors(tmp_path: Path) -> None:
    pki = mint_pki(NOW)
    healthy = issue_leaf(pki.intermediate, ["www.lab.test"], not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    broken = issue_leaf(pki.intermediate, ["shop.lab.test"], not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    (port,) = free_ports(1)
    servers = [
        ServerBlock(port, "www.lab.test", default_server=True, certificate=write_chain(tmp_path / "www.pem",
                    healthy.chain()), certificate_key=write_key(tmp_path / "www.key", healthy.key)),
        ServerBlock(port, "shop.lab.test", certificate=write_chain(tmp_path / "shop.pem", [broken.cert]),
                    certificate_key=write_key(tmp_path / "shop.key", broken.key)),
    ]  # fmt: skip
    template = (FIXTURES / "aws-502-origin-dns-error.log").read_text().replace("OriginDnsError", "OriginConnectError")
    log = tmp_path / "cf.log"
    log.write_text(template + template.splitlines()[-1].replace("www.example.com", "shop.lab.test") + "\n")
    log.write_text(log.read_text().replace("www.example.com", "www.lab.test"))
    with NginxServer(tmp_path / "nginx", servers):
        result = CliRunner().invoke(cli, [
            "logs", str(log), "--probe", "--json", "--at", NOW.isoformat(), "--no-compare",
            "--ca-bundle", str(pki.write_ca_bundle(tmp_path / "root.pem")),
            "--origin", f"www.lab.test=www.lab.test:{port}", "--origin", f"shop.lab.test=shop.lab.test:{port}",
            "--resolve", f"www.lab.test:{port}:127.0.0.1", "--resolve", f"shop.lab.test:{port}:127.0.0.1",
        ])  # fmt: skip
    assert result.exit_code == 1, result.output
    rows = {row["host"]: row for row in json.loads(result.stdout)["probe"]}
    shop, www = rows["shop.lab.test"], rows["www.lab.test"]
    assert (shop["outcome"], shop["primary"], shop["cause"]) == ("502", "cert.chain_incomplete", 3)
    assert shop["consistent_with_log"] is True and shop["fix"]
    assert (www["outcome"], www["primary"], www["consistent_with_log"]) == ("ok", None, None)
