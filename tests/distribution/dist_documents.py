"""Distribution documents in the CloudFront API shape, pointed at the lab's origins and ports.

One distribution holds every case the tests need: the incident (Host forwarded to a shared nginx
port whose ws.lab.test block sends only the leaf), an alias no certificate covers, OriginSslProtocols
the origin rejects, an origin group that fails over, S3/VPC/S3-website/http-only origins, managed,
custom, unknown and legacy Host policies, a missing origin and a missing group member.
"""

from __future__ import annotations

import copy
from typing import Any

ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CUSTOM_HOST_POLICY = "9a3e5c1d-0000-4000-8000-00000000c0de"  # a custom policy whitelisting Host
UNKNOWN_POLICY = "9a3e5c1d-0000-4000-8000-0000000d00d0"  # a custom policy nobody hands us

ALIASES = ["www.lab.test", "ws.lab.test", "shop.lab.test"]


def _items(values: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(values), "Items": values}


def _custom(port: int, policy: str = "https-only", protocols: tuple[str, ...] = ("TLSv1.2",),
            read_timeout: int = 30) -> dict[str, Any]:
    return {"HTTPPort": 80, "HTTPSPort": port, "OriginProtocolPolicy": policy,
            "OriginSslProtocols": _items(list(protocols)), "OriginReadTimeout": read_timeout,
            "OriginKeepaliveTimeout": 5}


def _origin(origin_id: str, domain: str, **config: Any) -> dict[str, Any]:
    origin: dict[str, Any] = {"Id": origin_id, "DomainName": domain, "OriginPath": "",
                              "CustomHeaders": _items([]), "ConnectionAttempts": 3, "ConnectionTimeout": 10}
    origin.update(config)
    return origin


def _behaviour(target: str, pattern: str | None = None, viewer: str = "redirect-to-https",
               **policy: Any) -> dict[str, Any]:
    behaviour: dict[str, Any] = {"TargetOriginId": target, "ViewerProtocolPolicy": viewer}
    if pattern is not None:
        behaviour["PathPattern"] = pattern
    behaviour.update(policy)
    return behaviour


def _legacy(*headers: str) -> dict[str, Any]:
    return {"ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"},
                                "Headers": _items(list(headers))}, "MinTTL": 0}


def _policies(orp: str | None = None, cache: str = CACHING_OPTIMIZED) -> dict[str, Any]:
    found = {"CachePolicyId": cache}
    if orp is not None:
        found["OriginRequestPolicyId"] = orp
    return found


def distribution_config(ports: dict[str, int]) -> dict[str, Any]:
    """A DistributionConfig; `ports` maps lab names to their ports (lab.endpoints)."""
    www, peer, five03 = ports["www.lab.test"], ports["http-ok.lab.test"], ports["origin-503.lab.test"]
    origins = [
        _origin("web", "www.lab.test", OriginPath="/app",
                CustomHeaders=_items([{"HeaderName": "X-Origin-Secret", "HeaderValue": "s3cr3t"}]),
                CustomOriginConfig=_custom(www)),
        _origin("old-tls", "www.lab.test", CustomOriginConfig=_custom(www, protocols=("TLSv1", "TLSv1.1"))),
        _origin("broken", "origin-503.lab.test", ConnectionAttempts=1, ConnectionTimeout=2,
                CustomOriginConfig=_custom(five03)),
        _origin("backup", "http-ok.lab.test", CustomOriginConfig=_custom(peer, read_timeout=5)),
        _origin("mv", "www.lab.test", CustomOriginConfig=_custom(www, policy="match-viewer")),
        _origin("assets", "assets-bucket.s3.us-east-1.amazonaws.com",
                S3OriginConfig={"OriginAccessIdentity": ""}),
        _origin("site", "site-bucket.s3-website-us-east-1.amazonaws.com", CustomOriginConfig=_custom(443)),
        _origin("legacy-http", "www.lab.test", CustomOriginConfig=_custom(www, policy="http-only")),
        _origin("odd-port", "www.lab.test", CustomOriginConfig=_custom(444)),
    ]
    groups = [
        {"Id": "failover", "FailoverCriteria": {"StatusCodes": _items([500, 502, 503, 504])},
         "Members": _items([{"OriginId": "broken"}, {"OriginId": "backup"}])},
        {"Id": "half-group", "FailoverCriteria": {"StatusCodes": _items([503])},
         "Members": _items([{"OriginId": "backup"}, {"OriginId": "gone"}])},
    ]
    ordered = [
        _behaviour("web", "/ws/*", **_policies(ALL_VIEWER)),
        _behaviour("web", "/api/*", **_policies(CUSTOM_HOST_POLICY)),
        _behaviour("web", "/guess/*", **_policies(UNKNOWN_POLICY)),
        _behaviour("web", "/old/*", **_legacy("*")),
        _behaviour("old-tls", "/legacy/*", **_legacy("Origin")),
        _behaviour("failover", "/files/*", **_policies()),
        _behaviour("mv", "/mixed/*", viewer="allow-all", **_policies(ALL_VIEWER_EXCEPT_HOST)),
        _behaviour("assets", "/img/*", **_policies()),
        _behaviour("site", "/site/*", **_policies()),
        _behaviour("legacy-http", "/plain/*", **_policies()),
        _behaviour("ghost", "/ghost/*", **_policies()),
        _behaviour("half-group", "/half/*", **_policies()),
        _behaviour("odd-port", "/odd/*", **_policies()),
    ]
    return {
        "CallerReference": "origin-doctor-tests",
        "Aliases": _items(list(ALIASES)),
        "DefaultRootObject": "",
        "Origins": _items(origins),
        "OriginGroups": _items(groups),
        "DefaultCacheBehavior": _behaviour("web", **_policies(ALL_VIEWER_EXCEPT_HOST)),
        "CacheBehaviors": _items(ordered),
        "Comment": "origin-doctor test distribution",
        "Enabled": True,
    }


def get_distribution_config_output(ports: dict[str, int]) -> dict[str, Any]:
    return {"ETag": "E2QWRUHEXAMPLE", "DistributionConfig": distribution_config(ports)}


def get_distribution_output(ports: dict[str, int], dist_id: str = "E1LABTEST") -> dict[str, Any]:
    return {"ETag": "E2QWRUHEXAMPLE", "Distribution": {
        "Id": dist_id, "ARN": f"arn:aws:cloudfront::123456789012:distribution/{dist_id}", "Status": "Deployed",
        "DomainName": "d111111abcdef8.cloudfront.net", "DistributionConfig": distribution_config(ports)}}


def custom_host_policy() -> dict[str, Any]:
    """`aws cloudfront get-origin-request-policy --id ...` output for CUSTOM_HOST_POLICY."""
    return {"ETag": "E1POLICY", "OriginRequestPolicy": {
        "Id": CUSTOM_HOST_POLICY, "LastModifiedTime": "2026-11-01T00:00:00Z",
        "OriginRequestPolicyConfig": {
            "Comment": "forward Host and auth", "Name": "host-and-auth",
            "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": _items(["Host", "Authorization"])},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "all"}}}}


def ports(lab: Any) -> dict[str, int]:
    """Lab name -> port, for pointing origins at the running lab."""
    return {name: port for name, (_, port) in lab.endpoints.items()}


def lab_args(lab: Any) -> list[str]:
    """The probe options that point a command at the lab: its trust store, clock, addresses, short timeouts."""
    args = ["--ca-bundle", str(lab.ca_bundle), "--at", lab.now.isoformat(), "--connect-timeout", "2",
            "--connect-attempts", "1", "--read-timeout", "2"]
    for entry in lab.resolve_args():
        args += ["--resolve", entry]
    return args


def without(document: dict[str, Any], *path: str | int) -> dict[str, Any]:
    """A deep copy of `document` with the field at `path` removed."""
    changed = copy.deepcopy(document)
    holder: Any = changed
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    return changed
