"""Every code is documented, every command has an example (sqlite-utils' test_docs habit)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from origin_doctor.cli import cli
from origin_doctor.cli.explain import catalogue_markdown
from origin_doctor.codes import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
REPORT_CODES = {
    "dns.nxdomain", "dns.no_address", "dns.servfail", "dns.timeout", "tcp.refused", "tcp.timeout",
    "tcp.unreachable", "tls.not_tls", "tls.protocol_mismatch", "tls.no_shared_cipher", "tls.sni_rejected",
    "tls.client_cert_required", "tls.handshake_failed", "tls.handshake_timeout", "cert.chain_incomplete",
    "cert.chain_order", "cert.expired", "cert.not_yet_valid", "cert.self_signed", "cert.untrusted_root",
    "cert.name_mismatch", "cert.expires_soon", "cert.weak_key", "cert.weak_signature", "cert.chain_has_root",
    "cert.chain_extra", "http.no_response", "http.malformed_response", "http.header_too_big",
    "http.read_timeout", "http.origin_5xx", "ws.upgrade_rejected", "ws.bad_accept",
    "fleet.inconsistent_chain", "profile.divergent",
}


def test_public_contract_codes_all_exist() -> None:
    assert REPORT_CODES <= set(CATALOGUE)


def test_codes_page_is_generated_from_the_catalogue() -> None:
    page = (ROOT / "docs" / "codes.md").read_text("utf-8")
    assert page == catalogue_markdown(), "run: origin-doctor explain --markdown > docs/codes.md"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_is_explained(code: str) -> None:
    row = CATALOGUE[code]
    assert row.meaning and row.fix
    assert code == code.lower() and "." in code
    result = CliRunner().invoke(cli, ["explain", code])
    assert result.exit_code == 0
    flat = " ".join(result.output.split())
    assert row.meaning in flat and " ".join(row.fix.split()) in flat


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found += _commands(command, prefix + name + " ")
    return found


@pytest.mark.parametrize(("name", "command"), _commands(cli), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_has_an_example(name: str, command: click.Command) -> None:
    assert command.help and "Example" in command.help, f"{name} needs an Example: block in its help"


def test_unknown_code_is_one_line_exit_2() -> None:
    result = CliRunner().invoke(cli, ["explain", "no.such_code"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and result.output.startswith("error:")
