"""The lab's private PKI: roots, intermediates and leaves minted with `cryptography`, every date
derived from a pinned `now`, plus writers for the PEM files that servers and the engine load.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

KeyKind = Literal["rsa2048", "rsa1024", "ec256", "ec521"]
HashKind = Literal["sha256", "sha1"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

LAB_ORG = "Origin Doctor Lab"
UNKNOWN_ORG = "Unknown Lab Authority"
DAY = timedelta(days=1)

# DER of the AlgorithmIdentifier OIDs sha256WithRSAEncryption and sha1WithRSAEncryption: same length.
_SHA256_RSA_OID = bytes.fromhex("06092a864886f70d01010b")
_SHA1_RSA_OID = bytes.fromhex("06092a864886f70d010105")


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate with its private key and the CA that signed it (None when self-signed)."""

    cert: x509.Certificate
    key: PrivateKey
    issuer: Issued | None

    @property
    def common_name(self) -> str:
        names = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else ""

    def path(self) -> list[x509.Certificate]:
        """This certificate, then each issuer up to and including the self-signed root."""
        certs: list[x509.Certificate] = []
        node: Issued | None = self
        while node is not None:
            certs.append(node.cert)
            node = node.issuer
        return certs

    def chain(self, *, with_root: bool = False) -> list[x509.Certificate]:
        """What a correctly configured server sends: this certificate and its intermediates."""
        certs = self.path()
        if not with_root and len(certs) > 1:
            certs = certs[:-1]
        return certs


@dataclass(frozen=True, slots=True)
class LabPki:
    """Every CA of the lab. `root` is the only trust anchor the engine is given (`--ca-bundle`)."""

    now: datetime
    root: Issued  # "Origin Doctor Lab Root CA"
    intermediate: Issued  # "Origin Doctor Lab CA R3", the issuer of ordinary leaves
    level1: Issued  # root -> "Lab CA Level 1" -> "Lab CA Level 2", for wrong-order chains
    level2: Issued
    expired_intermediate: Issued  # an intermediate whose validity ended yesterday
    unknown_root: Issued  # "Unknown Root CA": outside every trust store the lab hands out
    unknown_intermediate: Issued

    def write_ca_bundle(self, path: Path) -> Path:
        """Write the lab root as a PEM trust store and return its path."""
        return write_chain(path, [self.root.cert])


def mint_pki(now: datetime) -> LabPki:
    """Mint the lab CAs. CA keys are generated once per process and reused (generation is slow)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    root = _self_signed_ca("Origin Doctor Lab Root CA", LAB_ORG, now, _ca_key("root"))
    unknown_root = _self_signed_ca("Unknown Root CA", UNKNOWN_ORG, now, _ca_key("unknown-root"))
    valid_from, valid_to = now - 365 * DAY, now + 3 * 365 * DAY
    level1 = _intermediate(root, "Lab CA Level 1", LAB_ORG, valid_from, valid_to, _ca_key("level1"))
    return LabPki(
        now=now,
        root=root,
        intermediate=_intermediate(
            root, "Origin Doctor Lab CA R3", LAB_ORG, valid_from, valid_to, _ca_key("r3")
        ),
        level1=level1,
        level2=_intermediate(level1, "Lab CA Level 2", LAB_ORG, valid_from, valid_to, _ca_key("level2")),
        expired_intermediate=_intermediate(
            root, "Origin Doctor Lab CA Expired", LAB_ORG, now - 2 * 365 * DAY, now - DAY,
            _ca_key("expired"),
        ),
        unknown_root=unknown_root,
        unknown_intermediate=_intermediate(
            unknown_root, "Unknown CA R1", UNKNOWN_ORG, valid_from, valid_to, _ca_key("unknown-r1")
        ),
    )


def issue_leaf(
    issuer: Issued,
    names: Sequence[str],
    *,
    not_before: datetime,
    not_after: datetime,
    key: KeyKind = "rsa2048",
    hash: HashKind = "sha256",
    ca: bool = False,
    aia_url: str | None = None,
) -> Issued:
    """A server certificate for `names` (SAN DNS names; the first is also the CN) signed by `issuer`."""
    if not names:
        raise ValueError("a leaf needs at least one DNS name")
    leaf_key = leaf_key_of(key)
    builder = _base_builder(_name(names[0], LAB_ORG), issuer.cert.subject, leaf_key, not_before, not_after)
    builder = _add_leaf_extensions(builder, names, leaf_key, ca=ca)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
    )
    if aia_url is not None:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                        x509.UniformResourceIdentifier(aia_url))]
            ),
            critical=False,
        )
    cert = builder.sign(issuer.key, hashes.SHA256())
    if hash == "sha1":
        cert = _resign_with_sha1(cert, issuer.key)
    return Issued(cert=cert, key=leaf_key, issuer=issuer)


def self_signed_leaf(
    names: Sequence[str], *, not_before: datetime, not_after: datetime, key: KeyKind = "rsa2048"
) -> Issued:
    """A server certificate that signs itself (not a CA), as `openssl req -x509` would make."""
    if not names:
        raise ValueError("a leaf needs at least one DNS name")
    leaf_key = leaf_key_of(key)
    subject = _name(names[0], "Self-Signed Origin")
    builder = _base_builder(subject, subject, leaf_key, not_before, not_after)
    builder = _add_leaf_extensions(builder, names, leaf_key, ca=False)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(leaf_key.public_key()), critical=False
    )
    return Issued(cert=builder.sign(leaf_key, hashes.SHA256()), key=leaf_key, issuer=None)


def write_chain(path: Path, certs: Iterable[x509.Certificate]) -> Path:
    """Write certificates as concatenated PEM, in the order given (servers send them so)."""
    path.write_bytes(b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs))
    return path


def write_key(path: Path, key: PrivateKey) -> Path:
    """Write an unencrypted PKCS#8 PEM private key readable only by its owner."""
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


@functools.cache
def leaf_key_of(kind: KeyKind) -> PrivateKey:
    """One key per kind, shared by every leaf in the process: a lab may share keys."""
    if kind == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    if kind == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec521":
        return ec.generate_private_key(ec.SECP521R1())
    raise ValueError(f"unknown key kind {kind!r}")


@functools.cache
def _ca_key(role: str) -> rsa.RSAPrivateKey:
    """A separate RSA-2048 key per CA role (cached per process, so repeated labs start fast)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _base_builder(
    subject: x509.Name, issuer: x509.Name, key: PrivateKey, not_before: datetime, not_after: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _add_leaf_extensions(
    builder: x509.CertificateBuilder, names: Sequence[str], key: PrivateKey, *, ca: bool
) -> x509.CertificateBuilder:
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    return (
        builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=is_rsa,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    )


def _ca_extensions(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    return builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).add_extension(
        x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False,
        ),
        critical=True,
    )


def _self_signed_ca(common_name: str, organization: str, now: datetime, key: rsa.RSAPrivateKey) -> Issued:
    subject = _name(common_name, organization)
    builder = _ca_extensions(_base_builder(subject, subject, key, now - 5 * 365 * DAY, now + 10 * 365 * DAY))
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
    )
    return Issued(cert=builder.sign(key, hashes.SHA256()), key=key, issuer=None)


def _intermediate(
    issuer: Issued, common_name: str, organization: str, not_before: datetime, not_after: datetime,
    key: rsa.RSAPrivateKey,
) -> Issued:
    builder = _base_builder(_name(common_name, organization), issuer.cert.subject, key, not_before, not_after)
    builder = _ca_extensions(builder).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
    )
    return Issued(cert=builder.sign(issuer.key, hashes.SHA256()), key=key, issuer=issuer)


def _resign_with_sha1(cert: x509.Certificate, issuer_key: PrivateKey) -> x509.Certificate:
    """Re-sign a SHA-256/RSA certificate with SHA-1/RSA.

    `cryptography` refuses to build SHA-1 certificates, but old origins still serve them. The two
    algorithm OIDs have the same DER length and an RSA signature keeps its length, so swapping
    the OID in the TBS and the outer AlgorithmIdentifier and replacing the signature keeps every
    DER length intact.
    """
    if not isinstance(issuer_key, rsa.RSAPrivateKey):
        raise ValueError("SHA-1 leaves are only minted under RSA issuers")
    der = cert.public_bytes(serialization.Encoding.DER)
    tbs = cert.tbs_certificate_bytes
    start = der.index(tbs)
    if tbs.count(_SHA256_RSA_OID) != 1:
        raise ValueError("unexpected TBS layout for SHA-1 re-signing")
    sha1_tbs = tbs.replace(_SHA256_RSA_OID, _SHA1_RSA_OID)
    outer_algorithm = der[start + len(tbs) : len(der) - len(cert.signature)]
    signature = issuer_key.sign(sha1_tbs, padding.PKCS1v15(), hashes.SHA1())
    if len(signature) != len(cert.signature):
        raise ValueError("signature length changed while re-signing")
    resigned = der[:start] + sha1_tbs + outer_algorithm.replace(_SHA256_RSA_OID, _SHA1_RSA_OID) + signature
    return x509.load_der_x509_certificate(resigned)
