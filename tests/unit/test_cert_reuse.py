"""The per-certificate and per-chain reuse in the certificate judge never changes a judgement:
one store shared by many names, times and stores gives what fresh work gives."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from origin_doctor.analyze.cert import check_chain
from origin_doctor.analyze.certfacts import AnchorIndex, chain_facts
from origin_doctor.lab import pki

NOW = dt.datetime(2026, 11, 29, 10, 0, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def lab() -> pki.LabPki:
    return pki.mint_pki(NOW)


def der(certs: list[x509.Certificate]) -> tuple[bytes, ...]:
    return tuple(c.public_bytes(serialization.Encoding.DER) for c in certs)


def codes(chain: tuple[bytes, ...], name: str, anchors: AnchorIndex, now: dt.datetime = NOW) -> list[str]:
    return sorted(f.code for f in check_chain(chain, name, anchors, now, "s"))


def test_one_san_chain_judged_per_name_and_time_on_a_shared_store(lab: pki.LabPki) -> None:
    issued = pki.issue_leaf(lab.intermediate, ["a.lab.test", "b.lab.test"], not_before=NOW - DAY,
                            not_after=NOW + 30 * DAY)
    chain = der(issued.chain())
    shared = AnchorIndex((lab.root.cert,))
    assert codes(chain, "a.lab.test", shared) == []
    assert codes(chain, "c.lab.test", shared) == ["cert.name_mismatch"]
    assert codes(chain, "b.lab.test", shared, NOW + 29 * DAY) == ["cert.expires_soon"]
    assert codes(chain, "b.lab.test", shared, NOW + 31 * DAY) == ["cert.expired"]
    # The same chain against another store (the facts are per store, never shared across stores).
    assert codes(chain, "a.lab.test", AnchorIndex((lab.intermediate.cert,))) == ["cert.chain_extra"]
    assert codes(chain, "a.lab.test", shared) == []


def test_the_path_is_built_once_per_chain_and_store(lab: pki.LabPki) -> None:
    issued = pki.issue_leaf(lab.intermediate, ["a.lab.test"], not_before=NOW - DAY, not_after=NOW + 300 * DAY)
    sent = tuple(issued.chain())
    shared = AnchorIndex((lab.root.cert,))
    assert shared.facts_for(sent) is shared.facts_for(tuple(issued.chain()))
    assert AnchorIndex((lab.root.cert,)).facts_for(sent) is not shared.facts_for(sent)


def test_facts_taken_from_the_verifier_equal_the_walked_facts(lab: pki.LabPki) -> None:
    """A chain the verifier accepts as sent plus an anchor skips our own signature walk; what it
    yields is exactly what the walk yields."""
    issued = pki.issue_leaf(lab.intermediate, ["a.lab.test"], not_before=NOW - DAY, not_after=NOW + 300 * DAY)
    fast = AnchorIndex((lab.root.cert,))
    verified = [*issued.chain(), lab.root.cert]
    taken = fast.facts_from_verified(tuple(issued.chain()), verified)
    assert taken is not None
    assert taken == chain_facts(tuple(issued.chain()), AnchorIndex((lab.root.cert,)))
    assert fast.facts_for(tuple(issued.chain())) is taken  # remembered like walked facts


def test_facts_from_the_verifier_refused_where_the_walk_sees_more(lab: pki.LabPki) -> None:
    issued = pki.issue_leaf(lab.intermediate, ["a.lab.test"], not_before=NOW - DAY, not_after=NOW + 300 * DAY)
    with_root = tuple(issued.chain(with_root=True))
    index = AnchorIndex((lab.root.cert,))
    # the root sent too (a chain_has_root finding), the intermediate in the store, another order
    assert index.facts_from_verified(with_root, list(with_root)) is None
    assert AnchorIndex((lab.root.cert, lab.intermediate.cert)).facts_from_verified(
        tuple(issued.chain()), [*issued.chain(), lab.root.cert]) is None
    assert index.facts_from_verified(tuple(issued.chain()[::-1]), [*issued.chain(), lab.root.cert]) is None
    # and the judgement of such a chain is unchanged (the reordered one: the wrong-order scenario)
    assert codes(der(list(with_root)), "a.lab.test", index) == ["cert.chain_has_root"]
