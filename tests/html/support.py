"""Reports for the HTML tests: real checks of lab origins, plus an origin whose certificate carries
markup in its subject and names (minted here), and a logs document with markup in a path."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from origin_doctor.engine import check_target
from origin_doctor.lab.checking import lab_options, lab_target
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


def logs_document() -> dict[str, Any]:
    """The 'origin-doctor/logs/1' shape: a few buckets of 5xx by detailed result type."""
    types = ["OriginConnectError", "OriginDnsError", "Error"]
    buckets = [
        {"start": f"2026-11-29T09:{minute:02d}:00Z", "requests": 100, "5xx": sum(counts),
         "by_detailed_result_type": dict(zip(types, counts, strict=True))}
        for minute, counts in zip(range(0, 60, 5), [(5, 0, 1), (9, 2, 0), (0, 0, 0), (14, 1, 3)] * 3, strict=False)
    ]
    return {
        "schema": "origin-doctor/logs/1",
        "generated_at": "2026-11-29T10:00:00Z",
        "window": {"since": None, "until": None},
        "requests": 1200,
        "failures": {"total_5xx": sum(b["5xx"] for b in buckets), "cdn_generated_5xx": 80,
                     "first_seen": "2026-11-29T09:00:03Z", "last_seen": "2026-11-29T09:58:40Z"},
        "by_detailed_result_type": [{"type": t, "count": 10, "generated_by": "cdn", "meaning": "m"} for t in types],
        "by_host": [{"host": "www.example.test", "count": 30, "cdn_generated_5xx": 30,
                     "first_seen": "2026-11-29T09:00:03Z", "last_seen": "2026-11-29T09:58:40Z"}],
        "by_path": [{"key": PATH_PAYLOAD, "count": 7}, {"key": "/", "count": 3}],
        "series": {"bucket_seconds": 300, "types": types, "buckets": buckets},
        "probe": None,
    }
