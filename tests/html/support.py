"""Reports for the HTML tests: real checks of lab origins, plus an origin whose certificate carries
markup in its subject and names (minted here), and a logs document with markup in a path."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from origin_doctor.engine import check_target
from origin_doctor.lab.checking import LAB_CONNECT_TIMEOUT, LAB_READ_TIMEOUT, lab_options, lab_target
from origin_doctor.lab.peers import start_peer
from origin_doctor.model import Target
from origin_doctor.report.json import report_document

# Each payload would set window.__pwned if it ever became markup.
SCRIPT_SUBJECT = "<script>window.__pwned=1</script>"
IMG_ORGANIZATION = "<img src=x onerror=window.__pwned=2>"
SVG_NAME = "<svg onload=window.__pwned=3>"
PATH_PAYLOAD = "/<script>window.__pwned=4</script><img src=x onerror=window.__pwned=5>"
PAYLOADS = (SCRIPT_SUBJECT, IMG_ORGANIZATION, SVG_NAME, PATH_PAYLOAD)
EVIL_NAME = "evil.lab.test"
LAB_NAMES = ("www.lab.test", "ws.lab.test", "expired.lab.test", "tls13-only.lab.test", "refused.lab.test",
             "expires-soon.lab.test")


def mint_markup_certificate(now: dt.datetime, directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SCRIPT_SUBJECT),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, IMG_ORGANIZATION)])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SVG_NAME), x509.DNSName(EVIL_NAME)]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "evil.pem", directory / "evil.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def lab_args(lab: Any) -> list[str]:
    """The CLI flags that point a command at the running lab."""
    args = ["--ca-bundle", str(lab.ca_bundle), "--at", lab.now.isoformat(), "--no-compare",
            "--connect-timeout", str(LAB_CONNECT_TIMEOUT), "--connect-attempts", "1",
            "--read-timeout", str(LAB_READ_TIMEOUT)]
    for entry in lab.resolve_args():
        args += ["--resolve", entry]
    return args


async def _check_all(lab: Any, directory: Path) -> list[Any]:
    cert_path, key_path = mint_markup_certificate(lab.now, directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    options = lab_options(lab)
    names = [n for n in LAB_NAMES if n in lab.scenarios]
    results = list(await asyncio.gather(*(check_target(lab_target(lab, n, websocket=False), options) for n in names)))
    async with await start_peer("http_ok", tls=context) as peer:
        evil_options = replace(options, resolve={**options.resolve, (EVIL_NAME, peer.port): ("127.0.0.1",)})
        results.append(await check_target(Target(name=EVIL_NAME, origin=EVIL_NAME, port=peer.port), evil_options))
    return results


def lab_report(lab: Any, directory: Path) -> dict[str, Any]:
    results = asyncio.run(asyncio.wait_for(_check_all(lab, directory), 90))
    return report_document(results, "cloudfront", checked_at=lab.now)


LOG_FIELDS = ("date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
              "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol "
              "cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type "
              "cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte "
              "x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end")
# 5xx per 5-minute bucket: (OriginConnectError 502, OriginCommError 504, OriginDnsError 502), 12 buckets.
BUCKET_COUNTS = [(5, 1, 0), (9, 0, 2), (0, 0, 0), (14, 3, 1)] * 3
DETAILED = (("OriginConnectError", "502"), ("OriginCommError", "504"), ("OriginDnsError", "502"))


def _log_line(minute: int, second: int, path: str, status: str, detailed: str, request_id: str) -> str:
    result = "Hit" if status == "200" else "Error"
    fields = [
        "2026-11-29", f"09:{minute:02d}:{second:02d}", "FRA56-P3", "512", "198.51.100.7", "GET",
        "d111111abcdef8.cloudfront.net", path, status, "-", "Mozilla/5.0", "-", "-", result, request_id,
        "www.example.test", "https", "387", "0.050", "-", "TLSv1.3", "TLS_AES_128_GCM_SHA256", result, "HTTP/2.0",
        "-", "-", "50123", "0.010", detailed, "text/html", "120", "-", "-",
    ]
    return "\t".join(fields)


def write_cloudfront_log(path: Path) -> Path:
    """A standard CloudFront access log whose failing requests carry markup in the URI path."""
    lines = ["#Version: 1.0", "#Fields: " + LOG_FIELDS]
    for bucket, counts in enumerate(BUCKET_COUNTS):
        minute = bucket * 5
        lines.append(_log_line(minute, 0, "/", "200", "Hit", f"OK-{bucket}"))
        number = 0
        for (detailed, status), count in zip(DETAILED, counts, strict=True):
            for _ in range(count):
                number += 1
                lines.append(_log_line(minute, number % 60, PATH_PAYLOAD, status, detailed, f"R-{bucket}-{number}"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def logs_document(directory: Path) -> dict[str, Any]:
    """The real `origin-doctor logs --json` document for that log."""
    from click.testing import CliRunner

    from origin_doctor.cli import cli

    result = CliRunner().invoke(cli, ["logs", str(write_cloudfront_log(directory / "cloudfront.log")), "--json"])
    assert result.exit_code == 1, result.output  # CloudFront made 5xx itself
    document: dict[str, Any] = json.loads(result.output)
    return document
