"""Path building and the bundle decision: each broken input with its healthy twin."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from fix_support import NOW, AiaLab, Node, Route

from origin_doctor.analyze.certfacts import AnchorIndex
from origin_doctor.fix.aia import AiaPolicy
from origin_doctor.fix.path import pick_leaf
from origin_doctor.fix.plan import ChainPlan, FetchSettings, plan_chain
from origin_doctor.fix.sources import Candidate
from origin_doctor.profile import load_profile, trust_anchors

NAME = "ws.example.test"


def _anchors(bundle: Path) -> AnchorIndex:
    return AnchorIndex(trust_anchors(load_profile("cloudfront").with_overrides(ca_bundle=bundle)))


def _plan(lab: AiaLab, given: Sequence[Node], extra: Sequence[Node] = (), *, fetch: bool = True,
          timeout: float = 5.0, name: str = NAME) -> ChainPlan:
    candidates = [Candidate(n.cert, "sent") for n in given]
    leaf_cert = pick_leaf([c.cert for c in candidates])
    leaf = next(c for c in candidates if c.cert is leaf_cert)
    return plan_chain(candidates, leaf, [Candidate(n.cert, "file") for n in extra], _anchors(lab.ca_bundle), NOW,
                      name, fetching=FetchSettings(enabled=fetch, policy=AiaPolicy(timeout=timeout)),
                      sources=["the chain sent"])


def test_leaf_only_is_completed_from_aia(aia_lab: AiaLab) -> None:
    plan = _plan(aia_lab, [aia_lab.pki.leaf])
    assert plan.ok, plan.problems
    assert plan.bundle == (aia_lab.pki.leaf.cert, aia_lab.pki.intermediate.cert)
    assert [c.source for c in plan.added] == [f"aia {aia_lab.base}/ca/intermediate.der"]
    assert plan.path.anchor == aia_lab.pki.root.cert and not plan.dropped and not plan.reordered


def test_complete_chain_is_unchanged_and_never_fetches(aia_lab: AiaLab) -> None:
    plan = _plan(aia_lab, [aia_lab.pki.leaf, aia_lab.pki.intermediate])
    assert plan.ok and not (plan.added or plan.dropped or plan.reordered) and plan.aia == ()


def test_intermediates_file_comes_before_aia(aia_lab: AiaLab) -> None:
    plan = _plan(aia_lab, [aia_lab.pki.leaf], [aia_lab.pki.intermediate])
    assert plan.ok and plan.aia == () and plan.added[0].source == "file"


def test_wrong_order_is_reordered(aia_lab: AiaLab) -> None:
    plan = _plan(aia_lab, [aia_lab.pki.intermediate, aia_lab.pki.leaf])
    assert plan.ok and plan.reordered and not plan.added
    assert plan.bundle == (aia_lab.pki.leaf.cert, aia_lab.pki.intermediate.cert)


def test_root_sent_is_dropped(aia_lab: AiaLab) -> None:
    plan = _plan(aia_lab, [aia_lab.pki.leaf, aia_lab.pki.intermediate, aia_lab.pki.root])
    assert plan.ok and [d.reason for d in plan.dropped] == ["root"] and not plan.reordered
    assert aia_lab.pki.root.cert not in plan.bundle


def test_unrelated_certificate_is_dropped(aia_lab: AiaLab) -> None:
    plan = _plan(aia_lab, [aia_lab.pki.leaf, aia_lab.pki.other_intermediate, aia_lab.pki.intermediate])
    assert plan.ok and [(d.cert, d.reason) for d in plan.dropped] == [(aia_lab.pki.other_intermediate.cert, "unrelated")]


def test_unknown_root_is_refused_with_the_reason(aia_lab: AiaLab) -> None:
    pki = aia_lab.pki
    plan = _plan(aia_lab, [pki.other_leaf, pki.other_intermediate, pki.other_root])
    assert not plan.ok
    assert "Unknown Root CA" in plan.problems[0] and "cannot add a root" in plan.problems[0]
    # Without the root at hand, the same verdict, worded for an issuer nobody supplied.
    plan = _plan(aia_lab, [pki.other_leaf, pki.other_intermediate])
    assert not plan.ok and "no bundle can change that" in plan.problems[0]


def test_self_signed_leaf_is_refused(aia_lab: AiaLab) -> None:
    plan = _plan(aia_lab, [aia_lab.pki.self_signed()])
    assert not plan.ok and "self-signed" in plan.problems[0] and "cannot make a self-signed leaf trusted" in plan.problems[0]


def test_expired_intermediate_is_refused_unless_a_current_one_exists(aia_lab: AiaLab) -> None:
    pki = aia_lab.pki
    leaf = pki.issue(pki.lab.expired_intermediate)
    plan = _plan(aia_lab, [leaf, pki.expired_intermediate], fetch=False)
    assert not plan.ok and any("expired" in p and "cannot renew" in p for p in plan.problems)
    assert "Origin Doctor Lab CA Expired" in plan.problems[0]
    twin = _plan(aia_lab, [pki.leaf, pki.intermediate], fetch=False)
    assert twin.ok


def test_two_intermediates_sent_backwards_are_reordered(aia_lab: AiaLab) -> None:
    pki = aia_lab.pki
    leaf = pki.issue(pki.lab.level2)
    level1, level2 = Node.of(pki.lab.level1), Node.of(pki.lab.level2)
    plan = _plan(aia_lab, [leaf, level1, level2], fetch=False)
    assert plan.ok and plan.reordered and plan.bundle == (leaf.cert, level2.cert, level1.cert)


def test_name_not_on_the_leaf_is_refused(aia_lab: AiaLab) -> None:
    plan = _plan(aia_lab, [aia_lab.pki.leaf, aia_lab.pki.intermediate], name="api.example.test")
    assert not plan.ok and "cannot change the names" in plan.problems[0]


@pytest.mark.parametrize(("path", "route", "expected"), [
    ("/ca/garbage", Route(b"garbage garbage"), "not a certificate"),
    ("/ca/huge", Route(b"\x00" * (10 * 1024 * 1024)), "byte cap"),
    ("/ca/to-file", Route(status=302, headers=(("Location", "file:///etc/passwd"),)), "only http and https"),
    ("/ca/slow", Route(b"", delay=3.0), "timed out"),
])
def test_bad_aia_answers_give_a_clear_reason_and_no_bundle(aia_lab: AiaLab, path: str, route: Route,
                                                           expected: str) -> None:
    aia_lab.routes[path] = route
    leaf = aia_lab.leaf_with_aia(path)
    plan = _plan(aia_lab, [leaf], timeout=0.5)
    assert not plan.ok and plan.bundle == (leaf.cert,)
    assert expected in plan.problems[0] and "pass it with --intermediates" in plan.problems[0]


def test_no_fetch_never_asks_aia(aia_lab: AiaLab) -> None:
    plan = _plan(aia_lab, [aia_lab.pki.leaf], fetch=False)
    assert not plan.ok and plan.aia == () and "--no-fetch" in plan.problems[0]
