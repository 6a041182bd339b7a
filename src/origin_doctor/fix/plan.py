"""Decide the bundle: the path, verified with the profile's own chain check, and what changed
against the chain given (added, dropped, reordered). When no bundle can work, say why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from origin_doctor.analyze.cert import check_chain
from origin_doctor.analyze.certfacts import AnchorIndex, aia_ca_issuers, is_self_signed, name_of
from origin_doctor.fix.aia import AiaFetch, AiaPolicy, fetch
from origin_doctor.fix.path import PathResult, build_path, fingerprint
from origin_doctor.fix.sources import Candidate
from origin_doctor.model import Finding, Severity

# Why adding or removing certificates cannot repair a chain that fails with this code.
NO_BUNDLE_CAN_FIX = {
    "cert.self_signed": "A bundle only carries certificates; it cannot make a self-signed leaf trusted. "
                        "Have a CA on Mozilla's list issue the certificate.",
    "cert.untrusted_root": "The path ends at a root outside the profile's trust store, and a bundle cannot add a "
                           "root to the CDN's store. Use a certificate from a CA in Mozilla's root program.",
    "cert.expired": "A bundle cannot renew a certificate: renew the expired one (for an intermediate, get the CA's "
                    "current intermediate and pass it with --intermediates, or reissue the leaf).",
    "cert.not_yet_valid": "A bundle cannot change a certificate's validity dates; wait, or fix the issuing clock.",
    "cert.name_mismatch": "A bundle cannot change the names on the leaf; reissue the leaf with the checked name.",
    "cert.chain_incomplete": "The leaf's issuer was found in none of the sources; pass it with --intermediates FILE.",
}


@dataclass(frozen=True, slots=True)
class Dropped:
    cert: x509.Certificate
    reason: str  # "root", "unrelated", "duplicate"


@dataclass(frozen=True, slots=True)
class ChainPlan:
    name: str
    given: tuple[Candidate, ...]
    path: PathResult
    verification: tuple[Finding, ...]
    aia: tuple[AiaFetch, ...] = ()
    added: tuple[Candidate, ...] = ()
    dropped: tuple[Dropped, ...] = ()
    reordered: bool = False
    problems: tuple[str, ...] = field(default=())  # why no bundle is written; empty when it is

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bundle(self) -> tuple[x509.Certificate, ...]:
        return tuple(c.cert for c in self.path.path)

    @property
    def leaf(self) -> x509.Certificate:
        return self.path.path[0].cert

    def pem(self, certs: Sequence[x509.Certificate] | None = None) -> str:
        chosen = self.bundle if certs is None else certs
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chosen)


@dataclass(frozen=True, slots=True)
class FetchSettings:
    enabled: bool = True
    policy: AiaPolicy = AiaPolicy()
    max_fetches: int = 4  # AIA URLs asked per run, redirects not counted


def _diff(given: Sequence[Candidate], path: PathResult, anchors: AnchorIndex
          ) -> tuple[tuple[Candidate, ...], tuple[Dropped, ...], bool]:
    given_keys = [fingerprint(c.cert) for c in given]
    path_keys = [fingerprint(c.cert) for c in path.path]
    added = tuple(c for c, k in zip(path.path, path_keys, strict=True) if k not in given_keys)
    dropped: list[Dropped] = []
    seen: set[bytes] = set()
    for candidate, key in zip(given, given_keys, strict=True):
        if key in seen:
            dropped.append(Dropped(candidate.cert, "duplicate"))
        elif key not in path_keys:
            is_root = anchors.contains(candidate.cert) or is_self_signed(candidate.cert)
            dropped.append(Dropped(candidate.cert, "root" if is_root else "unrelated"))
        seen.add(key)
    kept_order = list(dict.fromkeys(k for k in given_keys if k in path_keys))
    expected = [k for k in path_keys if k in kept_order]
    reordered = kept_order != expected or (bool(given_keys) and given_keys[0] != path_keys[0])
    return added, tuple(dropped), reordered


def _problems(path: PathResult, verification: Sequence[Finding], aia: Sequence[AiaFetch],
              sources: Sequence[str]) -> tuple[str, ...]:
    fails = [f for f in verification if f.severity is Severity.FAIL]
    problems: list[str] = []
    if path.missing_issuer is not None:
        stuck = path.missing_issuer
        issuer = stuck.issuer.rfc4514_string()
        if stuck is path.path[0].cert:
            text = f"The leaf's issuer '{issuer}' was found nowhere: looked in {', '.join(sources)}."
        else:
            text = (f"The path reaches '{name_of(stuck)}', whose issuer '{issuer}' is neither in the trust store "
                    f"nor in any source ({', '.join(sources)}).")
        for attempt in aia:
            if attempt.error:
                text += f" AIA {attempt.url}: {attempt.error}."
        if not aia_ca_issuers(stuck):
            text += f" '{name_of(stuck)}' names no AIA 'CA Issuers' URL."
        if stuck is path.path[0].cert:
            text += " " + NO_BUNDLE_CAN_FIX["cert.chain_incomplete"]
        else:
            text += (" If that issuer is a root, the CDN does not trust it and no bundle can change that; "
                     "if it is an intermediate, pass it with --intermediates FILE.")
        problems.append(text)
        fails = [f for f in fails if f.code not in ("cert.chain_incomplete", "cert.untrusted_root")]
    for failure in fails:
        why = NO_BUNDLE_CAN_FIX.get(failure.code, "The profile's verifier rejects the best path; no bundle of "
                                                  "these certificates can pass.")
        problems.append(f"{failure.summary} {why}")
    return tuple(dict.fromkeys(problems))


def plan_chain(given: Sequence[Candidate], leaf: Candidate, extra: Sequence[Candidate], anchors: AnchorIndex,
               now: dt.datetime, name: str, *, warn_days: int = 21, order_fatal: bool = False,
               fetching: FetchSettings = FetchSettings(), sources: Sequence[str] = ("the chain given",)
               ) -> ChainPlan:
    """The bundle for `leaf`, looking at `given` first, then `extra` (in order), then AIA."""
    attempts: list[AiaFetch] = []

    def fetch_issuer(cert: x509.Certificate) -> list[Candidate]:
        found: list[Candidate] = []
        for url in aia_ca_issuers(cert):
            if len(attempts) >= fetching.max_fetches:
                break
            result = fetch(url, fetching.policy)
            attempts.append(result)
            found += [Candidate(c, f"aia {url}") for c in result.certs]
        return found

    pool = [c for c in given if c is not leaf] + list(extra)
    path = build_path(leaf, pool, anchors, now, fetch_issuer if fetching.enabled else None)
    chain_der = tuple(c.cert.public_bytes(serialization.Encoding.DER) for c in path.path)
    verification = check_chain(chain_der, name, anchors, now, f"bundle for {name}", warn_days, order_fatal)
    all_sources = [*sources, "AIA" if fetching.enabled else "AIA (not asked: --no-fetch)"]
    problems = _problems(path, verification, attempts, all_sources)
    added, dropped, reordered = _diff(given, path, anchors)
    return ChainPlan(name, tuple(given), path, tuple(verification), tuple(attempts), added, dropped, reordered,
                     problems)
