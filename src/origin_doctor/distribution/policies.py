"""Does a cache behaviour forward the viewer's Host to the origin? Managed policies by their published
IDs, custom policies from files or the API, and legacy ForwardedValues.

When Host is forwarded, CloudFront sends the viewer's name as SNI and checks it on the origin's
certificate; otherwise it uses the origin domain (background 1.6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from origin_doctor.distribution.model import Behaviour, HeaderPolicy

# Managed origin request policies: name and whether their headers include Host. IDs and settings from
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html
MANAGED_ORIGIN_REQUEST: dict[str, tuple[str, bool]] = {
    "216adef6-5c7f-47e4-b989-5492eafa07d3": ("AllViewer", True),  # all viewer headers
    "33f36d7e-f396-46d9-90e0-52428a34d9dc": ("AllViewerAndCloudFrontHeaders-2022-06", True),
    "b689b0a8-53d0-40ab-baf2-68738e2966ac": ("AllViewerExceptHostHeader", False),
    "59781a5b-3903-41f3-afcb-af62929ccde1": ("CORS-CustomOrigin", False),  # Origin only
    "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf": ("CORS-S3Origin", False),
    "775133bc-15f2-49f9-abea-afb2e0bf67d2": ("Elemental-MediaTailor-PersonalizedManifests", False),
    "bf0718e1-ba1e-49d1-88b1-f726733018ae": ("HostHeaderOnly", True),
    "acba4595-bd28-49b8-b9fe-13317c0390fa": ("UserAgentRefererHeaders", False),
}

# Managed cache policies: headers in the cache key are forwarded to the origin too
# (API_CachePolicyHeadersConfig). IDs and cache-key headers from
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
MANAGED_CACHE: dict[str, tuple[str, bool]] = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": ("CachingOptimized", False),
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": ("CachingOptimizedForUncompressedObjects", False),
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": ("CachingDisabled", False),
    "08627262-05a9-4f76-9ded-b50ca2e3a84f": ("Elemental-MediaPackage", False),  # Origin only
    "2e54312d-136d-493c-8eb9-b001f22f67d2": ("Amplify", True),
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": ("UseOriginCacheControlHeaders", True),  # host, origin, x-*-method*
    "4cc15a8a-d715-48a4-82b8-cc0b614638fe": ("UseOriginCacheControlHeaders-QueryStrings", True),
    "4d1d2f1d-3a71-49ad-9e08-7ea5d843a556": ("Amplify-Default", True),
    "a6bad946-36c3-4c33-aa98-362c74a7fb13": ("Amplify-DefaultNoCookies", True),
    "1c6db51a-a33f-469a-8245-dae26771f530": ("Amplify-ImageOptimization", True),
    "7e5fad67-ee98-4ad0-b05a-394999eefc1a": ("Amplify-StaticContent", True),
}


@dataclass(frozen=True, slots=True)
class HostDecision:
    forwarded: bool
    reason: str
    unknown_policies: tuple[str, ...] = ()  # custom policies we could not read (assumed not to forward Host)

    def to_dict(self) -> dict[str, object]:
        return {"forwarded": self.forwarded, "reason": self.reason, "unknown_policies": list(self.unknown_policies)}


@dataclass(frozen=True, slots=True)
class _Verdict:
    forwards: bool | None  # None: unknown
    text: str


def _judge(policy_id: str, kind: str, known: Mapping[str, HeaderPolicy]) -> _Verdict:
    managed = (MANAGED_ORIGIN_REQUEST if kind == "origin_request" else MANAGED_CACHE).get(policy_id)
    label = "origin request policy" if kind == "origin_request" else "cache policy"
    if managed is not None:
        name, forwards = managed
        return _Verdict(forwards, f"managed {label} {name} {'forwards' if forwards else 'does not forward'} Host")
    custom = known.get(policy_id)
    if custom is None:
        return _Verdict(None, f"custom {label} {policy_id} is unknown")
    how = custom.header_behavior + (f" {', '.join(custom.headers)}" if custom.headers else "")
    verb = "forwards" if custom.forwards_host else "does not forward"
    return _Verdict(custom.forwards_host, f"custom {label} {custom.name} ({how}) {verb} Host")


def host_forwarding(behaviour: Behaviour, known: Mapping[str, HeaderPolicy]) -> HostDecision:
    """`known`: custom policies by ID (files given with --origin-request-policy/--cache-policy, or fetched)."""
    if behaviour.legacy_headers is not None:
        listed = {h.lower() for h in behaviour.legacy_headers}
        if "*" in listed:
            return HostDecision(True, "legacy ForwardedValues forwards all headers (*), Host included")
        if "host" in listed:
            return HostDecision(True, "legacy ForwardedValues whitelists Host")
        return HostDecision(False, "legacy ForwardedValues does not whitelist Host")
    verdicts = []
    if behaviour.origin_request_policy_id:
        verdicts.append((behaviour.origin_request_policy_id, _judge(behaviour.origin_request_policy_id,
                                                                    "origin_request", known)))
    if behaviour.cache_policy_id:
        verdicts.append((behaviour.cache_policy_id, _judge(behaviour.cache_policy_id, "cache", known)))
    forwarding = [v for _, v in verdicts if v.forwards]
    if forwarding:
        return HostDecision(True, forwarding[0].text)
    unknown = tuple(policy_id for policy_id, v in verdicts if v.forwards is None)
    if unknown:
        return HostDecision(False, "; ".join(v.text for _, v in verdicts) + ": assumed not to forward Host", unknown)
    if not verdicts:
        return HostDecision(False, "no origin request or cache policy: CloudFront sends the origin domain as Host")
    return HostDecision(False, "; ".join(v.text for _, v in verdicts))


def managed_policy_ids() -> frozenset[str]:
    return frozenset(MANAGED_ORIGIN_REQUEST) | frozenset(MANAGED_CACHE)
