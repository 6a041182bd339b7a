"""Judge one nginx TLS server block as CloudFront would meet it: the certificate file as the
chain nginx sends, every server_name, the key, and the protocols and ciphers that overlap.
"""

from __future__ import annotations

import datetime as dt
import shlex
import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from origin_doctor.analyze.cert import check_chain
from origin_doctor.analyze.certfacts import AnchorIndex, common_names, dns_names, name_of
from origin_doctor.codes import FAIL, INFO, CodeInfo, finding, register
from origin_doctor.errors import InputError
from origin_doctor.fix.sources import key_matches, load_private_key, parse_certificates
from origin_doctor.model import Finding
from origin_doctor.nginx_audit.config import FilePair, ServerBlock
from origin_doctor.profile import Profile

register(
    CodeInfo("config.no_certificate", FAIL, "502", 1, "a TLS server block has no ssl_certificate",
             "Add ssl_certificate and ssl_certificate_key to the server block (or at http level)."),
    CodeInfo("config.file_unreadable", FAIL, None, None,
             "a certificate or key file named in the nginx config cannot be read or holds no PEM data",
             "Fix the path or the file; `nginx -t` fails on it and a reload keeps the old configuration."),
    CodeInfo("config.key_mismatch", FAIL, None, None,
             "ssl_certificate_key is not the private key of the certificate's leaf",
             "Point ssl_certificate_key at the key the leaf was issued for; nginx refuses to load the pair."),
    CodeInfo("config.bad_cipher_string", FAIL, None, None, "OpenSSL rejects the ssl_ciphers string",
             "Write ssl_ciphers as an OpenSSL cipher list, e.g. ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256."),
    CodeInfo("config.name_skipped", INFO, None, None,
             "a server_name the audit cannot check against the certificate (regex, wildcard or catch-all)",
             "Check with origin-doctor check NAME against the running server for the names CloudFront uses."),
    CodeInfo("config.dynamic_certificate", INFO, None, None,
             "ssl_certificate holds variables; the file is chosen per connection and is not audited",
             "Run origin-doctor check against the running server for each name."),
    CodeInfo("config.key_unchecked", INFO, None, None,
             "the private key is encrypted, so whether it matches the certificate is not checked",
             "Check by hand: openssl x509 -noout -pubkey -in CERT | diff - <(openssl pkey -pubout -in KEY)."),
)

_CHAIN_FIXABLE = {"cert.chain_incomplete", "cert.chain_order", "cert.chain_extra", "cert.chain_has_root"}


@dataclass(frozen=True, slots=True)
class LoadedPair:
    pair: FilePair
    chain: tuple[x509.Certificate, ...]  # the file's certificates in order: what nginx sends


def checkable_names(names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(names to check on the certificate, names skipped). `.example.com` checks example.com."""
    exact: list[str] = []
    skipped: list[str] = []
    for name in names:
        if name.startswith("~") or name in ("", "_") or "*" in name:
            skipped.append(name)
        elif name.startswith("."):
            exact.append(name[1:])
            skipped.append(f"*{name}")
        else:
            exact.append(name)
    return exact, skipped


def _unreadable(block: ServerBlock, what: str, path: Path, why: str, where: str) -> Finding:
    return finding("config.file_unreadable", block.label, f"The {what} file {path} ({where}) {why}.",
                   path=str(path), directive=where)


def _load(block: ServerBlock, pair: FilePair, found: list[Finding]) -> LoadedPair | None:
    if pair.certificate_path is None:
        found.append(finding("config.dynamic_certificate", block.label,
                             f"ssl_certificate {pair.certificate} ({pair.where}) holds variables; not audited.",
                             directive=pair.where))
        return None
    try:
        data = pair.certificate_path.read_bytes()
    except OSError as exc:
        found.append(_unreadable(block, "certificate", pair.certificate_path,
                                 f"cannot be read ({exc.strerror or exc})", pair.where))
        return None
    certs = tuple(parse_certificates(data)) if b"-----BEGIN CERTIFICATE-----" in data else ()
    if not certs:
        found.append(_unreadable(block, "certificate", pair.certificate_path, "holds no PEM certificate", pair.where))
        return None
    return LoadedPair(pair, certs)


def _key_findings(block: ServerBlock, loaded: LoadedPair) -> list[Finding]:
    pair = loaded.pair
    if pair.key is None:
        return [finding("config.file_unreadable", block.label,
                        f"ssl_certificate {pair.certificate} ({pair.where}) has no ssl_certificate_key; "
                        "nginx -t fails.", directive=pair.where)]
    if pair.key_path is None:
        return []
    try:
        key = load_private_key(pair.key_path)
    except InputError as exc:
        if "encrypted" in str(exc):
            return [finding("config.key_unchecked", block.label,
                            f"The key {pair.key_path} is encrypted; its match with the leaf is not checked.",
                            path=str(pair.key_path))]
        return [_unreadable(block, "key", pair.key_path, "is not a readable private key", pair.where)]
    if key_matches(key, loaded.chain[0]):
        return []
    owner = next((c for c in loaded.chain[1:] if key_matches(key, c)), None)
    if owner is not None:
        return [finding("config.key_mismatch", block.label,
                        f"{pair.certificate_path} starts with '{name_of(loaded.chain[0])}', not with the leaf "
                        f"'{name_of(owner)}' that {pair.key_path} belongs to; nginx serves the first certificate "
                        "as its own and refuses this pair.",
                        fix=_fix_chain_command(pair), certificate=str(pair.certificate_path),
                        key=str(pair.key_path), directive=pair.where, leaf_position=loaded.chain.index(owner))]
    return [finding("config.key_mismatch", block.label,
                    f"{pair.key_path} is not the private key of the first certificate in {pair.certificate_path}; "
                    "nginx refuses to load this pair (the reload fails, the old config keeps running).",
                    certificate=str(pair.certificate_path), key=str(pair.key_path), directive=pair.where)]


def _fix_chain_command(pair: FilePair) -> str:
    assert pair.certificate_path is not None
    cert = pair.certificate_path
    out = cert.with_name(f"{cert.stem}-fullchain.pem")
    parts = ["origin-doctor", "fix-chain", "--cert", str(cert)]
    if pair.key_path is not None:
        parts += ["--key", str(pair.key_path)]
    parts += ["--out", str(out)]
    return (f"{' '.join(shlex.quote(p) for p in parts)}, then set 'ssl_certificate {out};' ({pair.where}) "
            "and run nginx -t && nginx -s reload.")


def _cert_findings(block: ServerBlock, loaded: LoadedPair, anchors: AnchorIndex, now: dt.datetime,
                   warn_days: int, order_fatal: bool) -> list[Finding]:
    exact, skipped = checkable_names(block.server_names)
    der = tuple(c.public_bytes(serialization.Encoding.DER) for c in loaded.chain)
    subject = f"{block.label} ({loaded.pair.certificate})"
    leaf = loaded.chain[0]
    first = exact[0] if exact else (dns_names(leaf) or common_names(leaf) or ["localhost"])[0]
    found = check_chain(der, first, anchors, now, subject, warn_days, order_fatal)
    if not exact:
        found = [f for f in found if f.code != "cert.name_mismatch"]
    for name in exact[1:]:
        found += [f for f in check_chain(der, name, anchors, now, subject, warn_days, order_fatal)
                  if f.code == "cert.name_mismatch"]
    for name in skipped:
        shown = name or '""'
        found.append(finding("config.name_skipped", block.label,
                             f"server_name '{shown}' is a regex, wildcard or catch-all; not checked "
                             "against the certificate.", server_name=name))
    command = _fix_chain_command(loaded.pair)
    return [replace(f, fix=command) if f.code in _CHAIN_FIXABLE else f for f in found]


def openssl_suites(cipher_string: str) -> list[dict[str, Any]] | None:
    """What OpenSSL makes of an ssl_ciphers string (TLS 1.2 and older suites); None if it refuses."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.set_ciphers(cipher_string)
    except ssl.SSLError:
        return None
    return [dict(c) for c in context.get_ciphers() if c.get("protocol") != "TLSv1.3"]


def _auth_fits(auth: str, keys: set[str]) -> bool:
    if auth == "auth-ecdsa":
        return "ec" in keys
    if auth == "auth-rsa":
        return "rsa" in keys
    return False  # anonymous or PSK suites never serve a certificate


def _key_kinds(loaded: list[LoadedPair]) -> set[str]:
    kinds: set[str] = set()
    for item in loaded:
        key = item.chain[0].public_key()
        if isinstance(key, rsa.RSAPublicKey):
            kinds.add("rsa")
        elif isinstance(key, ec.EllipticCurvePublicKey):
            kinds.add("ec")
    return kinds


def _tls_findings(block: ServerBlock, loaded: list[LoadedPair], profile: Profile) -> list[Finding]:
    offered = profile.offered_versions()
    versions = [v for v in block.protocols.values if v in offered]
    where = block.protocols.where
    if not versions:
        return [finding("tls.protocol_mismatch", block.label,
                        f"ssl_protocols {' '.join(block.protocols.values)} ({where}) shares no version with "
                        f"{profile.id} ({', '.join(offered)}).",
                        fix="Add TLSv1.2: ssl_protocols TLSv1.2 TLSv1.3;",
                        origin_versions=list(block.protocols.values), profile_versions=list(offered))]
    cipher_string = " ".join(block.ciphers.values)
    suites = openssl_suites(cipher_string)
    if suites is None:
        return [finding("config.bad_cipher_string", block.label,
                        f"OpenSSL rejects ssl_ciphers \"{cipher_string}\" ({block.ciphers.where}): no known suite.",
                        ciphers=cipher_string, directive=block.ciphers.where)]
    kinds = _key_kinds(loaded)
    wanted = set(profile.tls12_suites)
    tls12 = "TLSv1.2" in versions
    usable = [s["name"] for s in suites if s["name"] in wanted and (tls12 or s.get("protocol") != "TLSv1.2")
              and (not kinds or _auth_fits(s.get("auth", ""), kinds))]
    if usable:
        return []
    return [finding("tls.no_shared_cipher", block.label,
                    f"ssl_ciphers \"{cipher_string}\" ({block.ciphers.where}) leaves no suite that {profile.id} "
                    f"offers and that fits the certificate key ({', '.join(sorted(kinds)) or 'unknown'}) "
                    f"at {', '.join(versions)}.",
                    nginx_suites=[s["name"] for s in suites][:40], versions=versions, key_types=sorted(kinds))]


def audit_block(block: ServerBlock, profile: Profile, anchors: AnchorIndex, now: dt.datetime,
                warn_days: int = 21) -> tuple[list[Finding], list[LoadedPair]]:
    """Every finding for one TLS server block, and the certificate files as loaded."""
    found: list[Finding] = []
    if not block.pairs:
        found.append(finding("config.no_certificate", block.label,
                             f"The TLS server block at {block.where} has no ssl_certificate; nginx cannot "
                             "complete a handshake for it."))
        return found, []
    loaded: list[LoadedPair] = []
    for pair in block.pairs:
        item = _load(block, pair, found)
        if item is None:
            continue
        loaded.append(item)
        key_findings = _key_findings(block, item)
        found += key_findings
        if any("leaf_position" in f.evidence for f in key_findings):
            continue  # nginx will not load the file as it is; judging its chain would only add noise
        found += _cert_findings(block, item, anchors, now, warn_days, profile.chain_order_fatal)
    found += _tls_findings(block, loaded, profile)
    return found, loaded
