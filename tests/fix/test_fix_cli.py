"""`origin-doctor fix-chain --cert ...`: formats, key handling, sources and exit codes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509
from fix_support import AT, AiaLab, pem_file

from origin_doctor.cli import cli


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["fix-chain", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _common(lab: AiaLab) -> list[str]:
    return ["--ca-bundle", str(lab.ca_bundle), "--at", AT]


def test_nginx_bundle_from_a_leaf_file_via_aia(aia_lab: AiaLab, tmp_path: Path) -> None:
    leaf = pem_file(tmp_path / "ws.crt", aia_lab.pki.leaf)
    out = tmp_path / "ws-fullchain.pem"
    code, stdout, _ = _run("--cert", str(leaf), "--out", str(out), *_common(aia_lab))
    assert code == 0, stdout
    written = x509.load_pem_x509_certificates(out.read_bytes())
    assert written == [aia_lab.pki.leaf.cert, aia_lab.pki.intermediate.cert]
    assert "added:     'Origin Doctor Lab CA R3' from aia http://127.0.0.1:" in stdout
    assert "verified:" in stdout and str(out) in stdout


def test_wrong_order_and_root_in_one_file_are_reported(aia_lab: AiaLab, tmp_path: Path) -> None:
    pki = aia_lab.pki
    given = pem_file(tmp_path / "mixed.pem", pki.root, pki.intermediate, pki.leaf)
    out = tmp_path / "fixed.pem"
    code, stdout, _ = _run("--cert", str(given), "--out", str(out), "--no-fetch", *_common(aia_lab))
    assert code == 0, stdout
    assert "dropped:   'Origin Doctor Lab Root CA': a root" in stdout and "reordered:" in stdout
    assert x509.load_pem_x509_certificates(out.read_bytes()) == [pki.leaf.cert, pki.intermediate.cert]


def test_acm_writes_two_files_and_prints_the_import_command(aia_lab: AiaLab, tmp_path: Path) -> None:
    leaf = pem_file(tmp_path / "ws.crt", aia_lab.pki.leaf)
    key = tmp_path / "ws.key"
    key.write_bytes(aia_lab.pki.leaf.key_pem)
    out = tmp_path / "acm"
    code, stdout, _ = _run("--cert", str(leaf), "--key", str(key), "--format", "acm", "--out", str(out),
                           *_common(aia_lab))
    assert code == 0, stdout
    assert x509.load_pem_x509_certificates((out / "certificate.pem").read_bytes()) == [aia_lab.pki.leaf.cert]
    assert x509.load_pem_x509_certificates((out / "chain.pem").read_bytes()) == [aia_lab.pki.intermediate.cert]
    assert f"aws acm import-certificate --certificate fileb://{out}/certificate.pem" in stdout
    assert f"--certificate-chain fileb://{out}/chain.pem --private-key fileb://{key}" in stdout
    assert "PRIVATE KEY" not in stdout


def test_haproxy_file_holds_chain_and_key_with_mode_0600(aia_lab: AiaLab, tmp_path: Path) -> None:
    leaf = pem_file(tmp_path / "ws.crt", aia_lab.pki.leaf)
    key = tmp_path / "ws.key"
    key.write_bytes(aia_lab.pki.leaf.key_pem)
    out = tmp_path / "haproxy.pem"
    code, stdout, stderr = _run("--cert", str(leaf), "--key", str(key), "--format", "haproxy", "--out", str(out),
                                *_common(aia_lab))
    assert code == 0, stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_bytes()
    assert text.count(b"BEGIN CERTIFICATE") == 2 and b"BEGIN PRIVATE KEY" in text
    assert "PRIVATE KEY" not in stdout + stderr


def test_haproxy_without_key_is_a_usage_error(aia_lab: AiaLab, tmp_path: Path) -> None:
    leaf = pem_file(tmp_path / "ws.crt", aia_lab.pki.leaf)
    code, _, stderr = _run("--cert", str(leaf), "--format", "haproxy", *_common(aia_lab))
    assert code == 2 and stderr.startswith("error: --format haproxy") and stderr.count("\n") == 1


def test_key_mismatch_is_detected_and_nothing_written(aia_lab: AiaLab, tmp_path: Path) -> None:
    leaf = pem_file(tmp_path / "ws.crt", aia_lab.pki.leaf)
    wrong = tmp_path / "other.key"
    wrong.write_bytes(aia_lab.pki.other_leaf.key_pem)
    out = tmp_path / "out.pem"
    code, stdout, _ = _run("--cert", str(leaf), "--key", str(wrong), "--out", str(out), *_common(aia_lab))
    assert code == 1 and "Key mismatch" in stdout and "NO BUNDLE" in stdout and not out.exists()
    assert "PRIVATE KEY" not in stdout


def test_unknown_root_refuses_with_exit_1_and_writes_nothing(aia_lab: AiaLab, tmp_path: Path) -> None:
    pki = aia_lab.pki
    given = pem_file(tmp_path / "other.pem", pki.other_leaf, pki.other_intermediate, pki.other_root)
    out = tmp_path / "out.pem"
    code, stdout, _ = _run("--cert", str(given), "--out", str(out), *_common(aia_lab))
    assert code == 1 and not out.exists()
    assert "NO BUNDLE" in stdout and "Unknown Root CA" in stdout and "cannot add a root" in stdout


def test_from_report_supplies_what_another_host_sent(aia_lab: AiaLab, tmp_path: Path) -> None:
    pki = aia_lab.pki
    report = tmp_path / "report.json"
    chain = [{"subject": "x", "pem": n.pem.decode()} for n in (pki.leaf, pki.intermediate)]
    report.write_text(json.dumps({"results": [{"target": {"name": "www.example.test"},
                                               "addresses": [{"tls": {"chain": chain}}]}]}))
    leaf = pem_file(tmp_path / "ws.crt", pki.leaf)
    out = tmp_path / "out.pem"
    code, stdout, _ = _run("--cert", str(leaf), "--from-report", str(report), "--no-fetch", "--out", str(out),
                           *_common(aia_lab))
    assert code == 0, stdout
    assert "from report (www.example.test)" in stdout


def test_json_document(aia_lab: AiaLab, tmp_path: Path) -> None:
    leaf = pem_file(tmp_path / "ws.crt", aia_lab.pki.leaf)
    code, stdout, _ = _run("--cert", str(leaf), "--out", str(tmp_path / "o.pem"), "--json", *_common(aia_lab))
    doc = json.loads(stdout)
    assert code == 0 and doc["schema"] == "origin-doctor/fix-chain/1" and doc["ok"] is True
    assert [c["subject"] for c in doc["bundle"]] == [aia_lab.pki.leaf.cert.subject.rfc4514_string(),
                                                     aia_lab.pki.intermediate.cert.subject.rfc4514_string()]


def test_bad_input_is_one_line_and_exit_2(aia_lab: AiaLab, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"not a certificate")
    for args in (["--cert", str(junk)], ["--cert", str(tmp_path / "missing.pem")], [],
                 ["ws.example.test", "--cert", str(junk)],
                 ["--cert", str(junk), "--from-report", str(junk)]):
        code, _, stderr = _run(*args, *_common(aia_lab))
        assert code == 2 and stderr.startswith("error: ") and stderr.count("\n") == 1, (args, stderr)


def test_der_and_pkcs7_inputs_and_an_intermediates_folder(aia_lab: AiaLab, tmp_path: Path) -> None:
    from fix_support import p7

    pki = aia_lab.pki
    der = tmp_path / "ws.der"
    der.write_bytes(pki.leaf.der)
    folder = tmp_path / "cas"
    folder.mkdir()
    (folder / "r3.p7b").write_bytes(p7(pki.intermediate))
    (folder / "readme.txt").write_text("not a certificate")
    out = tmp_path / "out.pem"
    code, stdout, _ = _run("--cert", str(der), "--intermediates", str(folder), "--no-fetch", "--out", str(out),
                           *_common(aia_lab))
    assert code == 0, stdout
    assert "from file r3.p7b" in stdout
    assert x509.load_pem_x509_certificates(out.read_bytes()) == [pki.leaf.cert, pki.intermediate.cert]


def test_aia_allow_blocks_other_hosts(aia_lab: AiaLab, tmp_path: Path) -> None:
    leaf = pem_file(tmp_path / "ws.crt", aia_lab.pki.leaf)
    out = tmp_path / "out.pem"
    code, stdout, _ = _run("--cert", str(leaf), "--aia-allow", "*.ca.example", "--out", str(out), *_common(aia_lab))
    assert code == 1 and "not allowed by --aia-allow" in stdout and not out.exists()
