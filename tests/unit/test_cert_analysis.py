"""The pure certificate judge over the lab PKI, at a pinned time. Every failing case has a
healthy twin that differs in one knob."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from origin_doctor.analyze.cert import check_chain
from origin_doctor.analyze.certfacts import AnchorIndex
from origin_doctor.lab import pki
from origin_doctor.model import Severity

NOW = dt.datetime(2026, 11, 29, 10, 0, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
NAME = "www.lab.test"


@pytest.fixture(scope="module")
def lab() -> pki.LabPki:
    return pki.mint_pki(NOW)


def der(certs: list[x509.Certificate]) -> tuple[bytes, ...]:
    return tuple(c.public_bytes(serialization.Encoding.DER) for c in certs)


def leaf(lab: pki.LabPki, issuer: pki.Issued | None = None, **kw: object) -> pki.Issued:
    options: dict[str, object] = {"not_before": NOW - 30 * DAY, "not_after": NOW + 300 * DAY}
    options.update(kw)
    names = options.pop("names", [NAME])
    return pki.issue_leaf(issuer or lab.intermediate, names, **options)  # type: ignore[arg-type]


def codes(lab: pki.LabPki, chain: list[x509.Certificate], name: str = NAME, now: dt.datetime = NOW,
          warn_days: int = 21) -> dict[str, Severity]:
    found = check_chain(der(chain), name, AnchorIndex((lab.root.cert,)), now, "subject", warn_days)
    return {f.code: f.severity for f in found}


def test_healthy_chain_has_no_findings(lab: pki.LabPki) -> None:
    assert codes(lab, leaf(lab).chain()) == {}


def test_leaf_only_is_incomplete_and_names_the_missing_issuer(lab: pki.LabPki) -> None:
    issued = leaf(lab)
    found = check_chain(der([issued.cert]), NAME, AnchorIndex((lab.root.cert,)), NOW, "s")
    assert [f.code for f in found] == ["cert.chain_incomplete"]
    assert found[0].evidence["missing_issuer"] == lab.intermediate.cert.subject.rfc4514_string()
    assert "Origin Doctor Lab CA R3" in found[0].fix


def test_aia_url_is_named_in_the_fix(lab: pki.LabPki) -> None:
    issued = leaf(lab, aia_url="http://ca.lab.test/r3.der")
    found = check_chain(der([issued.cert]), NAME, AnchorIndex((lab.root.cert,)), NOW, "s")
    assert "http://ca.lab.test/r3.der" in found[0].fix


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(dt.timedelta(seconds=-1), {}), (dt.timedelta(seconds=1), {"cert.expired": Severity.FAIL})],
    ids=["one-second-before-expiry", "one-second-after-expiry"],
)
def test_expiry_boundary(lab: pki.LabPki, offset: dt.timedelta, expected: dict[str, Severity]) -> None:
    issued = leaf(lab)
    at = issued.cert.not_valid_after_utc + offset
    assert codes(lab, issued.chain(), now=at, warn_days=0) == expected


def test_not_yet_valid(lab: pki.LabPki) -> None:
    assert "cert.not_yet_valid" in codes(lab, leaf(lab, not_before=NOW + DAY).chain())


def test_expired_intermediate_is_named(lab: pki.LabPki) -> None:
    issued = leaf(lab, issuer=lab.expired_intermediate)
    found = check_chain(der(issued.chain()), NAME, AnchorIndex((lab.root.cert,)), NOW, "s")
    expired = [f for f in found if f.code == "cert.expired"]
    assert expired and expired[0].evidence["role"] == "intermediate"


def test_expires_soon_is_a_warning(lab: pki.LabPki) -> None:
    assert codes(lab, leaf(lab, not_after=NOW + 10 * DAY).chain()) == {"cert.expires_soon": Severity.WARN}
    assert codes(lab, leaf(lab, not_after=NOW + 10 * DAY).chain(), warn_days=5) == {}


def test_self_signed(lab: pki.LabPki) -> None:
    own = pki.self_signed_leaf([NAME], not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    assert codes(lab, [own.cert]) == {"cert.self_signed": Severity.FAIL}


def test_untrusted_root(lab: pki.LabPki) -> None:
    issued = leaf(lab, issuer=lab.unknown_intermediate)
    assert codes(lab, issued.chain()) == {"cert.untrusted_root": Severity.FAIL}
    # with the unknown root sent as well, it is still the root that is untrusted
    assert "cert.untrusted_root" in codes(lab, issued.chain(with_root=True))


def test_name_mismatch_lists_the_names(lab: pki.LabPki) -> None:
    issued = leaf(lab, names=["other.lab.test"])
    found = check_chain(der(issued.chain()), NAME, AnchorIndex((lab.root.cert,)), NOW, "s")
    assert [f.code for f in found] == ["cert.name_mismatch"]
    assert found[0].evidence["certificate_names"] == "other.lab.test"


def test_wildcard_covers_one_label(lab: pki.LabPki) -> None:
    issued = leaf(lab, names=["*.lab.test"])
    assert codes(lab, issued.chain(), name="ws.lab.test") == {}
    assert "cert.name_mismatch" in codes(lab, issued.chain(), name="a.ws.lab.test")


def test_wrong_order_is_a_warning(lab: pki.LabPki) -> None:
    issued = leaf(lab, issuer=lab.level2)
    right = issued.chain()  # leaf, level2, level1
    assert codes(lab, right) == {}
    assert codes(lab, [right[0], right[2], right[1]]) == {"cert.chain_order": Severity.WARN}


def test_root_and_extra_certificates(lab: pki.LabPki) -> None:
    issued = leaf(lab)
    assert codes(lab, issued.chain(with_root=True)) == {"cert.chain_has_root": Severity.INFO}
    assert codes(lab, [*issued.chain(), lab.unknown_intermediate.cert]) == {"cert.chain_extra": Severity.WARN}


def test_weak_key_and_signature(lab: pki.LabPki) -> None:
    assert codes(lab, leaf(lab, key="rsa1024").chain()) == {"cert.weak_key": Severity.WARN}
    assert codes(lab, leaf(lab, hash="sha1").chain()) == {"cert.weak_signature": Severity.WARN}


def test_garbage_certificate_is_a_finding_not_an_exception(lab: pki.LabPki) -> None:
    found = check_chain((b"\x30\x03garbage",), NAME, AnchorIndex((lab.root.cert,)), NOW, "s")
    assert [f.code for f in found] == ["cert.unparsable"]
    assert [f.code for f in check_chain((), NAME, AnchorIndex((lab.root.cert,)), NOW, "s")] == ["cert.unparsable"]


def test_hundred_certificate_chain_is_bounded(lab: pki.LabPki) -> None:
    issued = leaf(lab)
    chain = [issued.cert] + [lab.unknown_intermediate.cert] * 99 + [lab.intermediate.cert]
    found = codes(lab, chain)
    assert "cert.chain_extra" in found and "cert.chain_incomplete" not in found


def test_strict_verifier_objection_alone_is_a_policy_warning(lab: pki.LabPki) -> None:
    import trustme

    ca = trustme.CA()  # trustme marks subjectAltName critical next to a non-empty subject
    issued = ca.issue_cert(NAME)
    chain = [x509.load_pem_x509_certificate(p.bytes()) for p in issued.cert_chain_pems]
    root = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    found = check_chain(der(chain), NAME, AnchorIndex((root,)), NOW, "s")
    assert {f.code: f.severity for f in found} == {"cert.policy_violation": Severity.WARN}


def test_leaf_issued_by_a_non_ca_is_rejected_by_the_verifier(lab: pki.LabPki) -> None:
    not_a_ca = leaf(lab, names=["issuer.lab.test"])  # basicConstraints CA:false, yet it signs
    issued = leaf(lab, issuer=not_a_ca)
    found = check_chain(der([issued.cert, not_a_ca.cert, lab.intermediate.cert]), NAME,
                        AnchorIndex((lab.root.cert,)), NOW, "s")
    assert [f.code for f in found] == ["cert.rejected"]
    assert found[0].severity is Severity.FAIL and found[0].evidence["verifier"]
