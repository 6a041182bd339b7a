"""Host forwarding per behaviour, the rows and deduplicated probes, per-origin settings and the
configuration findings that need no network."""

from __future__ import annotations

import pytest
from dist_documents import (
    ALL_VIEWER,
    CUSTOM_HOST_POLICY,
    UNKNOWN_POLICY,
    custom_host_policy,
    get_distribution_config_output,
    get_distribution_output,
)

from origin_doctor.distribution.check import custom_policy_ids, host_decisions
from origin_doctor.distribution.findings import static_findings
from origin_doctor.distribution.model import Behaviour, HeaderPolicy
from origin_doctor.distribution.parse import parse_distribution, parse_policies
from origin_doctor.distribution.plan import ProbeSettings, build_plan, probe_path
from origin_doctor.distribution.policies import host_forwarding

PORTS = {"www.lab.test": 4443, "http-ok.lab.test": 5443, "origin-503.lab.test": 6443}


def _behaviour(orp: str | None = None, cache: str | None = None,
               legacy: tuple[str, ...] | None = None) -> Behaviour:
    return Behaviour("/x/*", "web", "https-only", cache, orp, legacy)


def _custom(behavior: str, *headers: str, kind: str = "origin_request") -> HeaderPolicy:
    return HeaderPolicy("c1", "custom", kind, behavior, headers)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("behaviour", "policies", "forwarded"),
    [
        (_behaviour(ALL_VIEWER), [], True),
        (_behaviour("b689b0a8-53d0-40ab-baf2-68738e2966ac"), [], False),  # AllViewerExceptHostHeader
        (_behaviour("33f36d7e-f396-46d9-90e0-52428a34d9dc"), [], True),  # AllViewerAndCloudFrontHeaders-2022-06
        (_behaviour("bf0718e1-ba1e-49d1-88b1-f726733018ae"), [], True),  # HostHeaderOnly
        (_behaviour("59781a5b-3903-41f3-afcb-af62929ccde1"), [], False),  # CORS-CustomOrigin
        (_behaviour("88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"), [], False),  # CORS-S3Origin
        (_behaviour("acba4595-bd28-49b8-b9fe-13317c0390fa"), [], False),  # UserAgentRefererHeaders
        (_behaviour("775133bc-15f2-49f9-abea-afb2e0bf67d2"), [], False),  # Elemental-MediaTailor
        (_behaviour(cache="658327ea-f89d-4fab-a63d-7e88639e58f6"), [], False),  # CachingOptimized
        (_behaviour(cache="83da9c7e-98b4-4e11-a168-04f0df8e2c65"), [], True),  # UseOriginCacheControlHeaders
        (_behaviour("c1"), [_custom("whitelist", "host", "Authorization")], True),
        (_behaviour("c1"), [_custom("whitelist", "Origin")], False),
        (_behaviour("c1"), [_custom("allViewer")], True),
        (_behaviour("c1"), [_custom("allViewerAndWhitelistCloudFront", "CloudFront-Viewer-Country")], True),
        (_behaviour("c1"), [_custom("allExcept", "Host")], False),
        (_behaviour("c1"), [_custom("allExcept", "Cookie")], True),
        (_behaviour("c1"), [_custom("none")], False),
        (_behaviour(cache="c1"), [_custom("whitelist", "Host", kind="cache")], True),
        (_behaviour(legacy=("*",)), [], True),
        (_behaviour(legacy=("Origin", "HOST")), [], True),
        (_behaviour(legacy=("Origin",)), [], False),
        (_behaviour(legacy=()), [], False),
        (_behaviour(), [], False),
    ],
)
def test_host_forwarding(behaviour: Behaviour, policies: list[HeaderPolicy], forwarded: bool) -> None:
    decision = host_forwarding(behaviour, {p.id: p for p in policies})
    assert decision.forwarded is forwarded, decision.reason
    assert not decision.unknown_policies


def test_unknown_custom_policy_is_assumed_not_forwarding() -> None:
    decision = host_forwarding(_behaviour("c9", cache="658327ea-f89d-4fab-a63d-7e88639e58f6"), {})
    assert not decision.forwarded and decision.unknown_policies == ("c9",)
    assert "assumed not to forward Host" in decision.reason
    # A managed policy that forwards Host decides, whatever the unknown one does.
    decision = host_forwarding(_behaviour("c9", cache="83da9c7e-98b4-4e11-a168-04f0df8e2c65"), {})
    assert decision.forwarded and not decision.unknown_policies


def _plan(fixed: tuple[str, ...] = (), with_policy: bool = True):  # type: ignore[no-untyped-def]
    dist = parse_distribution(get_distribution_config_output(PORTS), "d.json")
    policies = parse_policies(custom_host_policy(), "p.json") if with_policy else []
    decisions = host_decisions(dist, policies)
    return dist, decisions, build_plan(dist, decisions, fixed)


def test_rows_cover_every_alias_behaviour_and_origin() -> None:
    dist, _, plan = _plan()
    members = {"failover": 2, "half-group": 2}
    expected = sum(members.get(b.target_origin_id, 1) for b in dist.behaviours) * len(dist.aliases)
    assert len(plan.rows) == expected


def test_sni_and_checked_name_follow_host_forwarding() -> None:
    _, _, plan = _plan()
    checked = {(r.viewer_name, r.behaviour.label): r.checked_name for r in plan.rows if r.origin_id == "web"}
    assert checked[("ws.lab.test", "/ws/*")] == "ws.lab.test"  # AllViewer
    assert checked[("ws.lab.test", "/api/*")] == "ws.lab.test"  # custom policy whitelisting Host
    assert checked[("ws.lab.test", "/old/*")] == "ws.lab.test"  # legacy ForwardedValues *
    assert checked[("ws.lab.test", "default (*)")] == "www.lab.test"  # AllViewerExceptHostHeader
    assert checked[("ws.lab.test", "/guess/*")] == "www.lab.test"  # unknown policy: assumed not forwarded


def test_identical_probes_are_made_once() -> None:
    _, _, plan = _plan()
    targets = [(p.target.origin, p.target.port, p.target.sni, p.target.host_header, p.target.path, p.settings)
               for p in plan.probes]
    assert len(targets) == len(set(targets))
    web = [p for p in plan.probes if p.target.origin == "www.lab.test" and p.target.port == 4443]
    # origin web (/app): www (also the forwarded www alias), ws, shop; old-tls and mv: www only.
    assert sorted((p.target.sni, p.settings.ssl_protocols, p.target.path) for p in web) == sorted([
        ("www.lab.test", ("TLSv1.2",), "/app/"), ("ws.lab.test", ("TLSv1.2",), "/app/"),
        ("shop.lab.test", ("TLSv1.2",), "/app/"), ("www.lab.test", ("TLSv1", "TLSv1.1"), "/"),
        ("www.lab.test", ("TLSv1.2",), "/")])


def test_per_origin_settings_and_user_flags() -> None:
    _, _, plan = _plan()
    broken = next(p for p in plan.probes if p.target.origin == "origin-503.lab.test")
    assert broken.settings == ProbeSettings(("TLSv1.2",), 2.0, 1, 30.0)
    _, _, plan = _plan(fixed=("connect_timeout", "read_timeout", "ssl_protocols"))
    broken = next(p for p in plan.probes if p.target.origin == "origin-503.lab.test")
    assert broken.settings == ProbeSettings(None, None, 1, None)


def test_rows_that_are_not_probed_say_why() -> None:
    _, _, plan = _plan()
    skipped = {r.origin_id: r.skipped for r in plan.rows if r.skipped}
    assert set(skipped) == {"assets", "site", "legacy-http", "ghost", "gone", "odd-port"}
    assert "S3 REST origin" in (skipped["assets"] or "")
    assert "serve HTTP only" in (skipped["site"] or "")


def test_probe_path_prefixes_the_origin_path() -> None:
    assert [probe_path(p) for p in ("", "/", "/app", "/app/v1/")] == ["/", "/", "/app/", "/app/v1/"]


def test_static_findings() -> None:
    dist, decisions, _ = _plan(with_policy=False)
    found = static_findings(dist, decisions)
    by_code: dict[str, list[str]] = {}
    for f in found:
        by_code.setdefault(f.code, []).append(f.subject)
    assert by_code == {
        "config.s3_origin": ["origin assets"],
        "config.https_to_s3_website": ["origin site"],
        "config.http_only_origin": ["origin legacy-http"],
        "config.port_not_allowed": ["origin odd-port"],
        "config.group_member_missing": ["origin group half-group"],
        "config.policy_unknown": ["behaviour /api/*", "behaviour /guess/*"],
        "config.match_viewer_allow_all": ["behaviour /mixed/*"],
        "config.missing_origin": ["behaviour /ghost/*"],
    }
    assert custom_policy_ids(dist) == [(CUSTOM_HOST_POLICY, "origin_request"), (UNKNOWN_POLICY, "origin_request")]


def test_ip_origin_is_a_config_finding() -> None:
    document = get_distribution_config_output(PORTS)
    document["DistributionConfig"]["Origins"]["Items"][0]["DomainName"] = "192.0.2.10"
    dist = parse_distribution(document, "d.json")
    found = static_findings(dist, host_decisions(dist, []))
    assert [f.subject for f in found if f.code == "config.ip_origin"] == ["origin web"]


def test_without_aliases_the_distribution_name_is_the_viewer_name() -> None:
    document = get_distribution_config_output(PORTS)
    document["DistributionConfig"]["Aliases"] = {"Quantity": 0}
    dist = parse_distribution(document, "d.json")
    plan = build_plan(dist, host_decisions(dist, []), ())
    forwarded = [r for r in plan.rows if r.behaviour.label == "/ws/*"]
    assert [(r.viewer_name, r.probe) for r in forwarded] == [(None, None)]
    assert "domain name is unknown" in (forwarded[0].skipped or "")
    default = next(r for r in plan.rows if r.behaviour.path_pattern is None)
    assert default.probe is not None and default.probe.target.sni == "www.lab.test"

    full = get_distribution_output(PORTS)
    full["Distribution"]["DistributionConfig"]["Aliases"] = {"Quantity": 0}
    dist = parse_distribution(full, "d.json")
    plan = build_plan(dist, host_decisions(dist, []), ())
    (row,) = [r for r in plan.rows if r.behaviour.label == "/ws/*"]
    assert row.probe is not None and row.probe.target.sni == "d111111abcdef8.cloudfront.net"


def test_wildcard_alias_is_not_sent_as_sni() -> None:
    document = get_distribution_config_output(PORTS)
    document["DistributionConfig"]["Aliases"] = {"Quantity": 1, "Items": ["*.lab.test"]}
    dist = parse_distribution(document, "d.json")
    plan = build_plan(dist, host_decisions(dist, []), ())
    (forwarded,) = [r for r in plan.rows if r.behaviour.label == "/ws/*"]
    assert forwarded.probe is None and "wildcard alias" in (forwarded.skipped or "")
    (default,) = [r for r in plan.rows if r.behaviour.path_pattern is None]
    assert default.probe is not None and default.probe.target.sni == "www.lab.test"
