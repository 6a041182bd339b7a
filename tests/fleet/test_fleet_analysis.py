"""Fleet comparisons as pure functions over result data: every inconsistent row has a consistent twin."""

from __future__ import annotations

from origin_doctor.analyze.fleet import MAX_EXAMPLES, FleetAnalysis, fleet_findings, site_of
from origin_doctor.codes import finding
from origin_doctor.model import Target
from origin_doctor.result import AddressResult, TargetResult
from origin_doctor.verdict import decide

R3 = "CN=Lab CA R3,O=Lab"
ROOT = "CN=Lab Root,O=Lab"


def _cert(name: str, issuer: str = R3, not_after: str = "2027-02-27T10:00:00Z", tag: str = "") -> dict[str, object]:
    return {"subject": f"CN={name},O=Lab", "issuer": issuer, "sha256": f"sha-{name}{tag}",
            "names": [name], "not_after": not_after}


INTERMEDIATE = {"subject": R3, "issuer": ROOT, "sha256": "sha-r3", "names": [], "not_after": "2029-01-01T00:00:00Z"}


def _address(address: str, chain: list[dict[str, object]], version: str = "TLSv1.2",
             hello: str = "accepted") -> AddressResult:
    found = ()
    if len(chain) == 1:
        found = (finding("cert.chain_incomplete", f"{address}:443", "leaf only", sent=1),)
    return AddressResult(address, 443, tls={"chain": chain, "version": version, "negotiation": {"result": hello}},
                         findings=found)


def _result(name: str, *addresses: AddressResult, site: str | None = None) -> TargetResult:
    found = tuple(f for a in addresses for f in a.findings)
    return TargetResult(Target(name=name, origin=name, site=site), decide(found), found, addresses)


def _codes(results: list[TargetResult]) -> list[str]:
    return [f.code for f in fleet_findings(results)]


def test_site_rule() -> None:
    assert site_of("ws.example.com") == "example.com"
    assert site_of("example.com") == "example.com"
    assert site_of("a.b.example.com", "explicit") == "explicit"
    assert site_of("127.0.0.1") == "127.0.0.1"


def test_the_incident_names_ws_and_points_at_www() -> None:
    www = _result("www.example.com", _address("192.0.2.1", [_cert("www.example.com"), INTERMEDIATE]))
    ws = _result("ws.example.com", _address("192.0.2.1", [_cert("ws.example.com")]))
    (chain,) = fleet_findings([www, ws])
    assert chain.code == "fleet.inconsistent_chain" and chain.subject == "example.com"
    assert chain.evidence["broken_hosts"] == ["ws.example.com:443 (192.0.2.1)"]
    assert chain.evidence["fix_source"]["host"] == "www.example.com:443"
    assert "www.example.com:443" in chain.fix and "ws.example.com:443" in chain.fix


def test_healthy_twin_of_the_incident_has_no_finding() -> None:
    www = _result("www.example.com", _address("192.0.2.1", [_cert("www.example.com"), INTERMEDIATE]))
    ws = _result("ws.example.com", _address("192.0.2.1", [_cert("ws.example.com"), INTERMEDIATE]))
    assert _codes([www, ws]) == []


def test_all_broken_is_not_an_inconsistency() -> None:
    www = _result("www.example.com", _address("192.0.2.1", [_cert("www.example.com")]))
    ws = _result("ws.example.com", _address("192.0.2.1", [_cert("ws.example.com")]))
    assert _codes([www, ws]) == []


def test_round_robin_bad_node_and_its_twin() -> None:
    leaf = _cert("rr.example.com")
    bad = _result("rr.example.com", _address("192.0.2.1", [leaf, INTERMEDIATE]), _address("192.0.2.2", [leaf]))
    (chain,) = fleet_findings([bad])
    assert chain.subject == "rr.example.com:443"
    assert chain.evidence["broken_hosts"] == ["rr.example.com:443 (192.0.2.2)"]
    assert chain.evidence["fix_source"]["address"] == "192.0.2.1"
    good = _result("rr.example.com", _address("192.0.2.1", [leaf, INTERMEDIATE]),
                   _address("192.0.2.2", [leaf, INTERMEDIATE]))
    assert _codes([good]) == []


def test_round_robin_stale_certificate_and_tls_differences() -> None:
    new, old = _cert("rr.example.com"), _cert("rr.example.com", not_after="2026-12-01T00:00:00Z", tag="-old")
    nodes = [_address("192.0.2.1", [new, INTERMEDIATE]), _address("192.0.2.2", [new, INTERMEDIATE]),
             _address("192.0.2.3", [old, INTERMEDIATE], version="TLSv1")]
    found = fleet_findings([_result("rr.example.com", *nodes)])
    assert [f.code for f in found] == ["fleet.inconsistent_certificate", "fleet.inconsistent_tls"]
    assert found[0].evidence["odd_addresses"] == ["192.0.2.3"]
    assert found[1].evidence["odd_addresses"] == ["192.0.2.3"]


def test_renewal_missed_on_one_name_of_a_site() -> None:
    shared_new = {**_cert("example.com"), "names": ["example.com", "www.example.com"]}
    shared_old = {**shared_new, "sha256": "sha-old", "not_after": "2026-12-01T00:00:00Z"}
    www = _result("www.example.com", _address("192.0.2.1", [shared_new, INTERMEDIATE]))
    apex = _result("example.com", _address("192.0.2.9", [shared_old, INTERMEDIATE]))
    (stale,) = fleet_findings([www, apex])
    assert stale.code == "fleet.inconsistent_certificate"
    assert stale.evidence["stale_hosts"] == ["example.com:443 (192.0.2.9)"]
    assert _codes([www, _result("example.com", _address("192.0.2.9", [shared_new, INTERMEDIATE]))]) == []


def test_names_of_other_sites_behind_one_address_are_a_fix_source() -> None:
    good = _result("shop.customer-a.com", _address("192.0.2.7", [_cert("shop.customer-a.com"), INTERMEDIATE]))
    bad = _result("shop.customer-b.com", _address("192.0.2.7", [_cert("shop.customer-b.com")]))
    (chain,) = fleet_findings([good, bad])
    assert chain.subject == "192.0.2.7:443"
    assert chain.evidence["fix_source"]["host"] == "shop.customer-a.com:443"
    elsewhere = _result("shop.customer-a.com", _address("192.0.2.8", [_cert("shop.customer-a.com"), INTERMEDIATE]))
    assert _codes([elsewhere, bad]) == []


def test_memory_follows_variants_not_targets() -> None:
    analysis = FleetAnalysis()
    for i in range(500):
        analysis.add(_result(f"n{i}.example.com", _address("192.0.2.1", [_cert("w.example.com"), INTERMEDIATE])))
        analysis.add(_result(f"b{i}.example.com", _address("192.0.2.1", [_cert("w.example.com")])))
    (chain,) = [f for f in analysis.findings() if f.subject == "example.com"]
    assert chain.evidence["broken_count"] == 500
    assert len(chain.evidence["broken_hosts"]) == MAX_EXAMPLES
    assert "and 495 more" in chain.summary


def test_one_name_of_a_site_with_an_older_tls_setup() -> None:
    names = ["a.example.com", "b.example.com", "c.example.com"]
    usual = [_result(n, _address("192.0.2.1", [_cert(n), INTERMEDIATE])) for n in names]
    odd = _result("old.example.com", _address("192.0.2.5", [_cert("old.example.com"), INTERMEDIATE], version="TLSv1"))
    (tls,) = fleet_findings([*usual, odd])
    assert tls.code == "fleet.inconsistent_tls" and tls.subject == "example.com"
    assert tls.evidence["odd_hosts"] == ["old.example.com:443 (192.0.2.5)"]
    assert tls.evidence["usual"] == {"version": "TLSv1.2", "hello": "accepted"}
