"""audit-nginx over a real config tree: includes, several TLS server blocks, the story's broken
`ws` block next to its healthy twin, and each TLS knob broken once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from fix_support import AT, AiaLab, Node, pem_file

from origin_doctor.cli import cli

MAIN = """
user nobody;
events {{ worker_connections 64; }}
http {{
    ssl_protocols TLSv1.2 TLSv1.3;
    include sites/*.conf;
    server {{ listen 80; server_name plain.example.test; return 301 https://$host$request_uri; }}
}}
"""
WWW = """
server {{
    listen 443 ssl;
    server_name www.example.test;
    ssl_certificate certs/www-fullchain.pem;
    ssl_certificate_key certs/site.key;
    include snippets/tls.conf;
}}
"""
WS = """
server {{
    listen 443 ssl;
    listen [::]:443 ssl;
    server_name ws.example.test ~^ws\\d+\\.example\\.test$;
    ssl_certificate {ws_cert};
    ssl_certificate_key certs/site.key;
    location / {{ proxy_pass http://127.0.0.1:9000; }}
}}
"""
TLS_SNIPPET = 'ssl_ciphers "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";\n'


def _tree(root: Path, lab: AiaLab, ws_cert: str = "certs/ws.pem") -> Path:
    pki = lab.pki
    for folder in ("certs", "sites", "snippets"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    pem_file(root / "certs/www-fullchain.pem", pki.leaf, pki.intermediate)
    pem_file(root / "certs/ws.pem", pki.leaf)
    (root / "certs/site.key").write_bytes(pki.leaf.key_pem)
    (root / "snippets/tls.conf").write_text(TLS_SNIPPET)
    (root / "sites/www.conf").write_text(WWW.format())
    (root / "sites/ws.conf").write_text(WS.format(ws_cert=ws_cert))
    main = root / "nginx.conf"
    main.write_text(MAIN.format())
    return main


def _audit(lab: AiaLab, config: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["audit-nginx", str(config), "--ca-bundle", str(lab.ca_bundle), "--at", AT,
                                      *extra], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _servers(lab: AiaLab, config: Path) -> tuple[int, dict[str, dict[str, object]]]:
    code, stdout, _ = _audit(lab, config, "--json")
    document = json.loads(stdout)
    assert document["schema"] == "origin-doctor/nginx-audit/1"
    return code, {s["server_name"][0]: s for s in document["servers"]}


def _codes(server: dict[str, object]) -> list[str]:
    return [f["code"] for f in server["findings"]]  # type: ignore[attr-defined, index]


def test_the_leaf_only_ws_block_fails_with_the_command_to_run(aia_lab: AiaLab, tmp_path: Path) -> None:
    config = _tree(tmp_path, aia_lab)
    code, servers = _servers(aia_lab, config)
    assert code == 1 and set(servers) == {"www.example.test", "ws.example.test"}
    ws, www = servers["ws.example.test"], servers["www.example.test"]
    assert ws["outcome"] == "fail" and www["outcome"] == "ok", www["findings"]
    assert ws["file"] == str(tmp_path / "sites/ws.conf") and ws["line"] == 2
    assert ws["listen"] == ["443 ssl", "[::]:443 ssl"] and ws["ssl_certificate"] == ["certs/ws.pem"]
    assert ws["ssl_protocols"] == ["TLSv1.2", "TLSv1.3"] and ws["ssl_ciphers"] == "HIGH:!aNULL:!MD5"
    assert www["ssl_ciphers"].startswith("ECDHE-ECDSA")  # type: ignore[union-attr]
    incomplete = next(f for f in ws["findings"] if f["code"] == "cert.chain_incomplete")  # type: ignore[union-attr]
    assert incomplete["severity"] == "fail"
    assert incomplete["fix"].startswith(f"origin-doctor fix-chain --cert {tmp_path}/certs/ws.pem --key ")
    assert "config.name_skipped" in _codes(ws)  # the regex name, noted


def test_terminal_output_lists_blocks_and_the_fix(aia_lab: AiaLab, tmp_path: Path) -> None:
    code, stdout, _ = _audit(aia_lab, _tree(tmp_path, aia_lab))
    assert code == 1
    assert "FAIL" in stdout and "cert.chain_incomplete" in stdout and "fix: origin-doctor fix-chain" in stdout
    assert "2 TLS server block(s), 1 would fail behind CloudFront; 1 plain-HTTP block(s) not audited" in stdout


def test_running_the_suggested_command_makes_the_audit_pass(aia_lab: AiaLab, tmp_path: Path) -> None:
    config = _tree(tmp_path, aia_lab)
    _, servers = _servers(aia_lab, config)
    fix = next(f for f in servers["ws.example.test"]["findings"]  # type: ignore[union-attr]
               if f["code"] == "cert.chain_incomplete")["fix"]
    command = fix.split(",")[0].split()
    assert command[:2] == ["origin-doctor", "fix-chain"]
    result = CliRunner().invoke(cli, [*command[1:], "--ca-bundle", str(aia_lab.ca_bundle), "--at", AT])
    assert result.exit_code == 0, result.output
    fixed = tmp_path / "certs/ws-fullchain.pem"
    assert len(x509.load_pem_x509_certificates(fixed.read_bytes())) == 2
    _tree(tmp_path, aia_lab, ws_cert="certs/ws-fullchain.pem")
    code, servers = _servers(aia_lab, config)
    assert code == 0 and all(s["outcome"] == "ok" for s in servers.values())


@pytest.mark.parametrize(("directive", "expected"), [
    ("ssl_protocols TLSv1.3;", "tls.protocol_mismatch"),
    ("ssl_ciphers ECDHE-RSA-CHACHA20-POLY1305:TLS_AES_128_GCM_SHA256;", "tls.no_shared_cipher"),
    ("ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;", "tls.no_shared_cipher"),  # RSA key: no ECDSA suite fits
    ("ssl_ciphers NOT-A-CIPHER;", "config.bad_cipher_string"),
    ("ssl_certificate_key certs/other.key;", "config.key_mismatch"),
    ("ssl_certificate_key certs/missing.key;", "config.file_unreadable"),
])
def test_each_tls_knob_breaks_only_its_block(aia_lab: AiaLab, tmp_path: Path, directive: str, expected: str) -> None:
    config = _tree(tmp_path, aia_lab, ws_cert="certs/www-fullchain.pem")
    (tmp_path / "certs/other.key").write_bytes(aia_lab.pki.other_leaf.key_pem)
    ws = tmp_path / "sites/ws.conf"
    text = ws.read_text()
    if directive.startswith("ssl_certificate_key"):
        text = text.replace("ssl_certificate_key certs/site.key;", directive)
    else:
        text = text.replace("    location", f"    {directive}\n    location")
    ws.write_text(text)
    code, servers = _servers(aia_lab, config)
    assert code == 1 and expected in _codes(servers["ws.example.test"])
    assert servers["www.example.test"]["outcome"] == "ok"


def test_healthy_twin_of_the_knobs_passes(aia_lab: AiaLab, tmp_path: Path) -> None:
    config = _tree(tmp_path, aia_lab, ws_cert="certs/www-fullchain.pem")
    code, servers = _servers(aia_lab, config)
    assert code == 0 and servers["ws.example.test"]["outcome"] == "ok"


def test_every_exact_server_name_must_be_on_the_certificate(aia_lab: AiaLab, tmp_path: Path) -> None:
    config = _tree(tmp_path, aia_lab, ws_cert="certs/www-fullchain.pem")
    ws = tmp_path / "sites/ws.conf"
    ws.write_text(ws.read_text().replace("server_name ws.example.test", "server_name ws.example.test api.example.test"))
    code, servers = _servers(aia_lab, config)
    mismatch = [f for f in servers["ws.example.test"]["findings"]  # type: ignore[union-attr]
                if f["code"] == "cert.name_mismatch"]
    assert code == 1 and len(mismatch) == 1 and mismatch[0]["evidence"]["checked_name"] == "api.example.test"


def test_unknown_root_and_expired_leaf_are_failures(aia_lab: AiaLab, tmp_path: Path) -> None:
    pki = aia_lab.pki
    config = _tree(tmp_path, aia_lab)
    pem_file(tmp_path / "certs/ws.pem", pki.other_leaf, pki.other_intermediate)
    (tmp_path / "certs/other.key").write_bytes(pki.other_leaf.key_pem)
    ws = tmp_path / "sites/ws.conf"
    ws.write_text(ws.read_text().replace("certs/site.key", "certs/other.key"))
    code, servers = _servers(aia_lab, config)
    assert code == 1 and "cert.untrusted_root" in _codes(servers["ws.example.test"])
    code, _, _ = _audit(aia_lab, config, "--at", "2030-01-01T00:00:00Z")
    assert code == 1


def test_http_level_certificate_is_inherited(aia_lab: AiaLab, tmp_path: Path) -> None:
    config = _tree(tmp_path, aia_lab)
    main = config.read_text().replace("ssl_protocols TLSv1.2 TLSv1.3;",
                                      "ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_certificate certs/www-fullchain.pem;"
                                      "\n    ssl_certificate_key certs/site.key;")
    config.write_text(main)
    ws = tmp_path / "sites/ws.conf"
    ws.write_text("server { listen 8443 ssl; server_name ws.example.test; }\n")
    code, servers = _servers(aia_lab, config)
    assert code == 0 and servers["ws.example.test"]["ssl_certificate"] == ["certs/www-fullchain.pem"]


def test_tls_block_without_certificate_fails(aia_lab: AiaLab, tmp_path: Path) -> None:
    config = _tree(tmp_path, aia_lab)
    (tmp_path / "sites/ws.conf").write_text("server { listen 8443 ssl; server_name ws.example.test; }\n")
    code, servers = _servers(aia_lab, config)
    assert code == 1 and _codes(servers["ws.example.test"]) == ["config.no_certificate"]


@pytest.mark.parametrize(("broken", "where"), [
    ("server {\n    listen 443 ssl\n}\n", "sites/ws.conf:2"),
    ("server {\n    listen 443 ssl;\n", "sites/ws.conf:2"),  # unexpected end of file
    ("server {\n    listen;\n}\n", "sites/ws.conf:2"),  # invalid number of arguments
    ("location / {\n}\n", "sites/ws.conf:1"),  # not allowed in http
])
def test_invalid_config_is_one_line_naming_file_and_line(aia_lab: AiaLab, tmp_path: Path, broken: str,
                                                          where: str) -> None:
    config = _tree(tmp_path, aia_lab)
    (tmp_path / "sites/ws.conf").write_text(broken)
    code, stdout, stderr = _audit(aia_lab, config)
    assert code == 2 and stdout == ""
    assert stderr.startswith(f"error: {tmp_path / where}: ") and stderr.count("\n") == 1, stderr


def test_missing_include_and_missing_config_are_exit_2(aia_lab: AiaLab, tmp_path: Path) -> None:
    config = _tree(tmp_path, aia_lab)
    config.write_text(config.read_text().replace("include sites/*.conf;", "include nowhere.conf;"))
    code, _, stderr = _audit(aia_lab, config)
    assert code == 2 and "nowhere.conf" in stderr and stderr.count("\n") == 1
    code, _, stderr = _audit(aia_lab, tmp_path / "absent.conf")
    assert code == 2 and stderr.startswith("error: ") and "absent.conf" in stderr


def test_intermediates_out_of_order_are_a_warning_with_the_fix_command(aia_lab: AiaLab, tmp_path: Path) -> None:
    pki = aia_lab.pki
    config = _tree(tmp_path, aia_lab)
    leaf = pki.issue(pki.lab.level2)
    pem_file(tmp_path / "certs/ws.pem", leaf, Node.of(pki.lab.level1), Node.of(pki.lab.level2))
    (tmp_path / "certs/site.key").write_bytes(leaf.key_pem)
    code, servers = _servers(aia_lab, config)
    order = next(f for f in servers["ws.example.test"]["findings"]  # type: ignore[union-attr]
                 if f["code"] == "cert.chain_order")
    assert code == 0 and order["severity"] == "warn" and order["fix"].startswith("origin-doctor fix-chain")


def test_leaf_not_first_in_the_file_is_a_key_mismatch_with_the_fix_command(aia_lab: AiaLab, tmp_path: Path) -> None:
    pki = aia_lab.pki
    config = _tree(tmp_path, aia_lab)
    pem_file(tmp_path / "certs/ws.pem", pki.intermediate, pki.leaf)
    code, servers = _servers(aia_lab, config)
    ws = servers["ws.example.test"]
    assert code == 1 and [c for c in _codes(ws) if c != "config.name_skipped"] == ["config.key_mismatch"]
    assert ws["findings"][0]["fix"].startswith("origin-doctor fix-chain")  # type: ignore[index]


def test_certificate_chosen_by_variable_is_noted_not_failed(aia_lab: AiaLab, tmp_path: Path) -> None:
    config = _tree(tmp_path, aia_lab, ws_cert="certs/$ssl_server_name.pem")
    code, servers = _servers(aia_lab, config)
    assert code == 0 and _codes(servers["ws.example.test"]) == ["config.dynamic_certificate"]
