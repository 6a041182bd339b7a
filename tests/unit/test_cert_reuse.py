"""The per-certificate and per-chain reuse in the certificate judge never changes a judgement:
one store shared by many names, times and stores gives what fresh work gives."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from origin_doctor.analyze.cert import check_chain
from origin_doctor.analyze.certfacts import AnchorIndex
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
