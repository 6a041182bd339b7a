"""Certificates and keys from files: PEM, DER or PKCS#7, one or many per file, a folder of them,
or the chains recorded in a JSON scan report. Unreadable input is an InputError naming the file.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import types
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.utils import CryptographyDeprecationWarning

from origin_doctor.errors import InputError

MAX_INPUT_BYTES = 16 * 1024 * 1024  # a certificate file larger than this is not one


@dataclass(frozen=True, slots=True)
class Candidate:
    """A certificate that might go into the bundle, and where it came from."""

    cert: x509.Certificate
    source: str  # "sent", "file ws.crt", "report", "aia http://..."


def parse_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in PEM, DER or PKCS#7 (PEM or DER) bytes; [] when none parse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        if b"-----BEGIN" in data:
            certs: list[x509.Certificate] = []
            if b"-----BEGIN CERTIFICATE-----" in data:
                with contextlib.suppress(ValueError):
                    certs += x509.load_pem_x509_certificates(data)
            if b"-----BEGIN PKCS7-----" in data:
                with contextlib.suppress(ValueError):
                    certs += pkcs7.load_pem_pkcs7_certificates(data)
            return certs
        try:
            return [x509.load_der_x509_certificate(data)]
        except ValueError:
            pass
        try:
            return list(pkcs7.load_der_pkcs7_certificates(data))
        except ValueError:
            return []


def _read(path: Path, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InputError(f"{path}: {size} bytes is too large for a {what} file")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} file ({exc.strerror or exc})") from exc


def load_certificate_file(path: Path) -> list[x509.Certificate]:
    certs = parse_certificates(_read(path, "certificate"))
    if not certs:
        raise InputError(f"{path}: no PEM, DER or PKCS#7 certificate found")
    return certs


def load_intermediates(path: Path) -> list[Candidate]:
    """--intermediates: a file, or every certificate file directly inside a folder."""
    if path.is_dir():
        found: list[Candidate] = []
        for child in sorted(path.iterdir()):
            if child.is_file():
                found += [Candidate(c, f"file {child.name}") for c in parse_certificates(_read(child, "certificate"))]
        return found
    return [Candidate(c, f"file {path.name}") for c in load_certificate_file(path)]


def load_report_chains(path: Path) -> list[Candidate]:
    """--from-report: every certificate any address of a scan served (`tls.chain[].pem`)."""
    try:
        document: Any = json.loads(_read(path, "report"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        raise InputError(f"{where}: not a JSON report ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise InputError(f"{path}: not an origin-doctor JSON report (no 'results' list)")
    found: list[Candidate] = []
    for result in document["results"]:
        name = (result.get("target") or {}).get("name", "?") if isinstance(result, dict) else "?"
        addresses = result.get("addresses", []) if isinstance(result, dict) else []
        for address in addresses if isinstance(addresses, list) else []:
            tls = address.get("tls") if isinstance(address, dict) else None
            chain = tls.get("chain", []) if isinstance(tls, dict) else []
            for entry in chain if isinstance(chain, list) else []:
                pem = entry.get("pem") if isinstance(entry, dict) else None
                if isinstance(pem, str):
                    found += [Candidate(c, f"report ({name})") for c in parse_certificates(pem.encode("ascii", "replace"))]
    return found


PrivateKey = types.PrivateKeyTypes


def load_private_key(path: Path) -> PrivateKey:
    """A PEM or DER private key. The key's content never appears in a message."""
    data = _read(path, "key")
    loader = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    try:
        return loader(data, password=None)
    except TypeError as exc:
        raise InputError(f"{path}: the key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InputError(f"{path}: not a PEM or DER private key") from exc


def key_matches(key: PrivateKey, cert: x509.Certificate) -> bool:
    """Whether the private key belongs to the certificate (same public key)."""
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        ours = key.public_key().public_bytes(serialization.Encoding.DER, spki)
        theirs = cert.public_key().public_bytes(serialization.Encoding.DER, spki)
    except (ValueError, TypeError):
        return False
    return ours == theirs
