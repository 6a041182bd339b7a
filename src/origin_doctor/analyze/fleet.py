"""Fleet findings (pure): compare what the addresses of one name, the names of one site and the
names behind one origin address serve; name the odd ones out and the host that already gets it right.

`FleetAnalysis` is fed one TargetResult at a time and keeps only compact per-group variants
(chain fingerprints, a few example hosts, counts), so memory follows distinct sites and chains,
not the number of targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from origin_doctor.codes import finding
from origin_doctor.model import Finding, Severity, Stage, parse_ip
from origin_doctor.result import TargetResult

MAX_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class Served:
    """What one address of one target served, reduced to what fleet comparisons need."""

    host: str  # "name:port"
    address: str
    chain: tuple[str, ...]  # SHA-256 of each certificate as sent, leaf first
    leaf_issuer: str | None
    intermediates: frozenset[str]  # subjects of the certificates sent after the leaf
    leaf_names: tuple[str, ...]
    leaf_not_after: str | None
    tls_version: str | None
    hello: str | None  # how the server answered the profile's ClientHello
    broken: tuple[str, ...]  # codes of failing certificate findings on this address

    @property
    def label(self) -> str:
        return f"{self.host} ({self.address})"

    def serves_issuer_of(self, other: Served) -> bool:
        return other.leaf_issuer is not None and other.leaf_issuer in self.intermediates


def site_of(name: str, explicit: str | None = None) -> str:
    """The site a name belongs to: an explicit `site:`, else its last two labels (a simple
    registered-domain rule: 'ws.example.com' -> 'example.com'; IP literals stand alone)."""
    if explicit:
        return explicit
    if parse_ip(name.strip("[]")) is not None:
        return name
    labels = [label for label in name.lower().rstrip(".").split(".") if label]
    return ".".join(labels[-2:]) if labels else name


def served_by(result: TargetResult) -> list[Served]:
    """The comparable facts of each address of `result` that got as far as a certificate."""
    target = result.target
    host = f"{target.name}:{target.port}"
    served: list[Served] = []
    for address in result.addresses:
        tls = address.tls or {}
        chain = tls.get("chain") or []
        if not chain:
            continue
        leaf = chain[0]
        served.append(Served(
            host=host,
            address=address.address,
            chain=tuple(str(cert.get("sha256")) for cert in chain),
            leaf_issuer=leaf.get("issuer"),
            intermediates=frozenset(str(cert.get("subject")) for cert in chain[1:]),
            leaf_names=tuple(sorted(leaf.get("names") or ())),
            leaf_not_after=leaf.get("not_after"),
            tls_version=tls.get("version"),
            hello=(tls.get("negotiation") or {}).get("result"),
            broken=tuple(sorted({f.code for f in address.findings
                                 if f.stage is Stage.CERT and f.severity is Severity.FAIL})),
        ))
    return served


@dataclass
class _Variant:
    """Every member of a group that served the same thing: one sample, a count, a few labels."""

    sample: Served
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, served: Served) -> None:
        self.count += 1
        if len(self.examples) < MAX_EXAMPLES and served.label not in self.examples:
            self.examples.append(served.label)


@dataclass
class _AddressGroup:
    """Names behind one origin address: broken chains by missing issuer, and who serves each issuer."""

    broken: dict[str, _Variant] = field(default_factory=dict)
    broken_sites: dict[str, set[str]] = field(default_factory=dict)
    sources: dict[str, tuple[str, Served]] = field(default_factory=dict)  # issuer -> (site, good member)


class FleetAnalysis:
    """Accumulates results; `findings()` compares them."""

    def __init__(self) -> None:
        self._sites: dict[str, dict[tuple[Any, ...], _Variant]] = {}
        self._addresses: dict[tuple[str, int], _AddressGroup] = {}
        self._name_findings: list[Finding] = []

    def add(self, result: TargetResult) -> None:
        served = served_by(result)
        if not served:
            return
        self._name_findings += compare_addresses(served)
        site = site_of(result.target.name, result.target.site)
        variants = self._sites.setdefault(site, {})
        for item in served:
            key = (item.chain, item.broken, item.tls_version, item.hello)
            variants.setdefault(key, _Variant(item)).add(item)
            self._add_to_address(site, result.target.port, item)

    def _add_to_address(self, site: str, port: int, item: Served) -> None:
        group = self._addresses.setdefault((item.address, port), _AddressGroup())
        if item.leaf_issuer is None:
            return
        if item.broken:
            group.broken.setdefault(item.leaf_issuer, _Variant(item)).add(item)
            group.broken_sites.setdefault(item.leaf_issuer, set()).add(site)
        else:
            for issuer in item.intermediates:
                group.sources.setdefault(issuer, (site, item))

    def findings(self) -> list[Finding]:
        found = list(self._name_findings)
        for site, variants in sorted(self._sites.items()):
            found += compare_site(site, list(variants.values()))
        for (address, port), group in sorted(self._addresses.items()):
            found += _compare_address_group(address, port, group)
        return found


def fleet_findings(results: Iterable[TargetResult]) -> list[Finding]:
    analysis = FleetAnalysis()
    for result in results:
        analysis.add(result)
    return analysis.findings()


def compare_addresses(served: list[Served]) -> list[Finding]:
    """The addresses of one name (round-robin DNS): a bad node is the odd one out."""
    if len({s.address for s in served}) < 2:
        return []
    host = served[0].host
    found: list[Finding] = []
    broken = [s for s in served if s.broken]
    good = [s for s in served if not s.broken]
    if broken and good and {s.chain for s in broken} != {s.chain for s in good}:
        source = _best_source(broken[0], good)
        found.append(_chain_finding(host, broken, source, f"Addresses of {host} send different chains"))
    elif len({s.chain[0] for s in served}) > 1 or len({s.leaf_not_after for s in served}) > 1:
        odd = _minority(served, lambda s: (s.chain[0], s.leaf_not_after))
        found.append(finding(
            "fleet.inconsistent_certificate", host,
            f"The addresses of {host} serve different leaf certificates; the odd ones out: "
            f"{', '.join(s.address for s in odd)}.",
            odd_addresses=[s.address for s in odd],
            leaves={s.address: {"sha256": s.chain[0], "not_after": s.leaf_not_after} for s in served}))
    if len({(s.tls_version, s.hello) for s in served}) > 1:
        odd = _minority(served, lambda s: (s.tls_version, s.hello))
        found.append(finding(
            "fleet.inconsistent_tls", host,
            f"The addresses of {host} answer the same ClientHello differently; the odd ones out: "
            f"{', '.join(s.address for s in odd)}.",
            odd_addresses=[s.address for s in odd],
            behaviour={s.address: {"version": s.tls_version, "hello": s.hello} for s in served}))
    return found


def compare_site(site: str, variants: list[_Variant]) -> list[Finding]:
    """The names of one site: a broken chain next to a good one, and a renewal that missed some names."""
    found: list[Finding] = []
    broken = [v for v in variants if v.sample.broken]
    good = [v for v in variants if not v.sample.broken]
    hosts = {label.split(" ", 1)[0] for v in variants for label in v.examples}
    if broken and good and len(hosts) > 1:
        source = _best_source(broken[0].sample, [v.sample for v in good])
        labels = [label for v in broken for label in v.examples]
        count = sum(v.count for v in broken)
        found.append(_chain_finding(site, [v.sample for v in broken], source,
                                    f"Names of the site {site} send different chains", labels, count))
    behaviours = {(v.sample.tls_version, v.sample.hello) for v in variants}
    if len(behaviours) > 1 and len(hosts) > 1:
        counts: dict[tuple[str | None, str | None], int] = {}
        for v in variants:
            key = (v.sample.tls_version, v.sample.hello)
            counts[key] = counts.get(key, 0) + v.count
        usual = max(counts, key=lambda k: counts[k])
        odd = [label for v in variants if (v.sample.tls_version, v.sample.hello) != usual for label in v.examples]
        found.append(finding(
            "fleet.inconsistent_tls", site,
            f"Names of the site {site} answer the same ClientHello differently: most negotiate "
            f"{usual[0] or '-'} ({usual[1] or '-'}), but not {', '.join(odd[:MAX_EXAMPLES])}.",
            odd_hosts=odd[:MAX_EXAMPLES], usual={"version": usual[0], "hello": usual[1]}))
    by_identity: dict[tuple[str, ...], list[_Variant]] = {}
    for variant in good:
        by_identity.setdefault(variant.sample.leaf_names, []).append(variant)
    for names, same in sorted(by_identity.items()):
        dates = {v.sample.leaf_not_after for v in same}
        if len(dates) < 2 or len({v.sample.host for v in same}) < 2:
            continue  # one name only: compare_addresses reports its nodes
        newest = max(d for d in dates if d is not None)
        stale = [label for v in same if v.sample.leaf_not_after != newest for label in v.examples]
        found.append(finding(
            "fleet.inconsistent_certificate", site,
            f"The certificate for {', '.join(names[:3])} was renewed on some hosts of {site} but not on "
            f"{', '.join(stale)} (newest expires {newest}).",
            stale_hosts=stale, newest_not_after=newest,
            expiries={v.examples[0]: v.sample.leaf_not_after for v in same if v.examples}))
    return found


def _compare_address_group(address: str, port: int, group: _AddressGroup) -> list[Finding]:
    """Names of other sites behind one address: a sibling already serves the missing intermediate."""
    found: list[Finding] = []
    for issuer, variant in sorted(group.broken.items()):
        source_site, source = group.sources.get(issuer, ("", None))
        if source is None or group.broken_sites.get(issuer) == {source_site}:
            continue  # nobody serves it, or only the broken site itself (compare_site reports that)
        found.append(_chain_finding(f"{address}:{port}", [variant.sample], source,
                                    f"Names behind {address}:{port} send different chains",
                                    variant.examples, variant.count))
    return found


def _chain_finding(subject: str, broken: list[Served], source: Served, opening: str,
                   labels: list[str] | None = None, count: int | None = None) -> Finding:
    labels = labels if labels is not None else [s.label for s in broken][:MAX_EXAMPLES]
    count = count if count is not None else len(broken)
    more = f" and {count - len(labels)} more" if count > len(labels) else ""
    codes = sorted({code for s in broken for code in s.broken})
    return finding(
        "fleet.inconsistent_chain", subject,
        f"{opening}: {', '.join(labels)}{more} fail ({', '.join(codes)}), while {source.label} "
        f"already serves a good chain.",
        fix=(f"Install the chain that {source.host} serves on {', '.join(dict.fromkeys(label.split(' ')[0] for label in labels))}: "
             f"the same leaf-plus-intermediates bundle (origin-doctor fix-chain builds it)."),
        broken_hosts=labels, broken_count=count, broken_codes=codes,
        fix_source={"host": source.host, "address": source.address, "chain_sha256": list(source.chain)},
        broken_chains=[list(s.chain) for s in broken[:MAX_EXAMPLES]],
    )


def _best_source(broken: Served, good: list[Served]) -> Served:
    """The good member most like the broken one: same leaf, then one sending the missing issuer."""
    same_leaf = [g for g in good if g.chain[0] == broken.chain[0]]
    serves_issuer = [g for g in good if g.serves_issuer_of(broken)]
    return (same_leaf or serves_issuer or good)[0]


def _minority(served: list[Served], key: Any) -> list[Served]:
    counts: dict[Any, int] = {}
    for item in served:
        counts[key(item)] = counts.get(key(item), 0) + 1
    majority = max(counts, key=lambda k: counts[k])
    return [s for s in served if key(s) != majority]
