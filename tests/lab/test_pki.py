"""The lab PKI mints exactly the certificates the scenarios rely on, dated from the pinned now."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from origin_doctor.lab.pki import (
    DAY,
    Issued,
    LabPki,
    issue_leaf,
    mint_pki,
    self_signed_leaf,
    write_chain,
    write_key,
)

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pki() -> LabPki:
    return mint_pki(NOW)


def _leaf(pki: LabPki, **kwargs: object) -> Issued:
    options: dict[str, object] = {"not_before": NOW - 30 * DAY, "not_after": NOW + 60 * DAY}
    options.update(kwargs)
    return issue_leaf(pki.intermediate, ["a.lab.test", "b.lab.test"], **options)  # type: ignore[arg-type]


def _verify(pki: LabPki, leaf: Issued, chain: list[x509.Certificate], name: str = "a.lab.test") -> int:
    verifier = (
        PolicyBuilder().store(Store([pki.root.cert])).time(NOW).build_server_verifier(x509.DNSName(name))
    )
    return len(verifier.verify(leaf.cert, chain))


def test_ca_names_and_issuer_links(pki: LabPki) -> None:
    assert pki.root.common_name == "Origin Doctor Lab Root CA"
    assert pki.intermediate.common_name == "Origin Doctor Lab CA R3"
    assert pki.level1.common_name == "Lab CA Level 1"
    assert pki.level2.common_name == "Lab CA Level 2"
    assert pki.unknown_root.common_name == "Unknown Root CA"
    assert pki.root.cert.issuer == pki.root.cert.subject
    assert pki.intermediate.cert.issuer == pki.root.cert.subject
    assert pki.level2.cert.issuer == pki.level1.cert.subject
    assert pki.level1.cert.issuer == pki.root.cert.subject
    assert pki.unknown_intermediate.cert.issuer == pki.unknown_root.cert.subject
    pki.intermediate.cert.verify_directly_issued_by(pki.root.cert)
    pki.level2.cert.verify_directly_issued_by(pki.level1.cert)
    for ca in (pki.root, pki.intermediate, pki.level1, pki.level2, pki.unknown_root):
        assert ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_cas_have_separate_keys(pki: LabPki) -> None:
    cas = (pki.root, pki.intermediate, pki.level1, pki.level2, pki.expired_intermediate,
           pki.unknown_root, pki.unknown_intermediate)
    assert len({ca.cert.public_key().public_numbers() for ca in cas}) == len(cas)  # type: ignore[union-attr]


def test_ca_dates_derive_from_now(pki: LabPki) -> None:
    for ca in (pki.root, pki.intermediate, pki.level1, pki.level2):
        assert ca.cert.not_valid_before_utc < NOW < ca.cert.not_valid_after_utc
    assert pki.expired_intermediate.cert.not_valid_after_utc == NOW - DAY
    again = mint_pki(NOW)
    assert again.root.cert.not_valid_before_utc == pki.root.cert.not_valid_before_utc


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        mint_pki(datetime(2026, 11, 29))


def test_leaf_has_sans_eku_ski_aki_and_verifies(pki: LabPki) -> None:
    leaf = _leaf(pki, aia_url="http://127.0.0.1:9/r3.der")
    san = leaf.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["a.lab.test", "b.lab.test"]
    eku = leaf.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not leaf.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    aki = leaf.cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = pki.intermediate.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    aia = leaf.cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [d.access_location.value for d in aia] == ["http://127.0.0.1:9/r3.der"]
    assert leaf.cert.not_valid_before_utc == NOW - 30 * DAY
    assert leaf.cert.not_valid_after_utc == NOW + 60 * DAY
    assert _verify(pki, leaf, leaf.chain()[1:]) == 3


def test_leaf_without_intermediate_does_not_verify(pki: LabPki) -> None:
    leaf = _leaf(pki)
    with pytest.raises(VerificationError):
        _verify(pki, leaf, [])


def test_leaf_keys_are_shared_and_sized(pki: LabPki) -> None:
    first, second = _leaf(pki), _leaf(pki)
    assert first.key is second.key
    assert isinstance(first.key, rsa.RSAPrivateKey) and first.key.key_size == 2048
    weak = _leaf(pki, key="rsa1024")
    assert isinstance(weak.key, rsa.RSAPrivateKey) and weak.key.key_size == 1024
    p521 = _leaf(pki, key="ec521")
    assert isinstance(p521.key, ec.EllipticCurvePrivateKey) and p521.key.curve.name == "secp521r1"
    p256 = _leaf(pki, key="ec256")
    assert isinstance(p256.key, ec.EllipticCurvePrivateKey) and p256.key.curve.name == "secp256r1"
    assert _verify(pki, p256, p256.chain()[1:]) == 3


def test_sha1_leaf_is_really_signed_with_sha1(pki: LabPki) -> None:
    leaf = _leaf(pki, hash="sha1")
    assert isinstance(leaf.cert.signature_hash_algorithm, hashes.SHA1)
    issuer_key = pki.intermediate.key.public_key()
    assert isinstance(issuer_key, rsa.RSAPublicKey)
    issuer_key.verify(leaf.cert.signature, leaf.cert.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA1())
    assert isinstance(_leaf(pki).cert.signature_hash_algorithm, hashes.SHA256)  # negative control


def test_self_signed_leaf(pki: LabPki) -> None:
    leaf = self_signed_leaf(["self.lab.test"], not_before=NOW - DAY, not_after=NOW + DAY)
    assert leaf.issuer is None and leaf.cert.issuer == leaf.cert.subject
    assert not leaf.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf.cert.verify_directly_issued_by(leaf.cert)
    assert leaf.chain() == [leaf.cert]


def test_chains_and_paths(pki: LabPki) -> None:
    deep = issue_leaf(pki.level2, ["deep.lab.test"], not_before=NOW - DAY, not_after=NOW + DAY)
    assert deep.chain() == [deep.cert, pki.level2.cert, pki.level1.cert]
    assert deep.chain(with_root=True)[-1] == pki.root.cert
    assert _verify(pki, deep, [pki.level1.cert, pki.level2.cert], "deep.lab.test") == 4  # any order


def test_writers(pki: LabPki, tmp_path: Path) -> None:
    leaf = _leaf(pki)
    chain_path = write_chain(tmp_path / "chain.pem", leaf.chain())
    assert x509.load_pem_x509_certificates(chain_path.read_bytes()) == leaf.chain()
    key_path = write_key(tmp_path / "key.pem", leaf.key)
    assert key_path.stat().st_mode & 0o077 == 0
    assert b"BEGIN PRIVATE KEY" in key_path.read_bytes()
    bundle = pki.write_ca_bundle(tmp_path / "root.pem")
    assert x509.load_pem_x509_certificates(bundle.read_bytes()) == [pki.root.cert]
