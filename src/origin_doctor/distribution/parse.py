"""Read the AWS API shapes (get-distribution, get-distribution-config, a bare DistributionConfig, and
origin request / cache policy documents) into the model; every error names the file and field path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from origin_doctor.distribution.model import Behaviour, Distribution, HeaderPolicy, Origin, OriginGroup
from origin_doctor.errors import InputError

ORIGIN_SSL_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")  # API_OriginSslProtocols enum
PROTOCOL_POLICIES = ("http-only", "https-only", "match-viewer")
VIEWER_POLICIES = ("allow-all", "https-only", "redirect-to-https")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token (RFC 9110)


class _Field:
    """A JSON value with the path that leads to it, so that every complaint can name the field."""

    def __init__(self, value: Any, path: str, source: str) -> None:
        self.value, self.path, self.source = value, path, source

    def fail(self, problem: str) -> InputError:
        return InputError(f"{self.source}: {self.path or '(document)'}: {problem}")

    def _child_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(key) not in (None, "")

    def get(self, key: str, *, required: bool = True) -> _Field | None:
        if not isinstance(self.value, dict):
            raise self.fail(f"expected an object, got {_kind(self.value)}")
        child = _Field(self.value.get(key), self._child_path(key), self.source)
        if child.value is None:
            if required:
                raise child.fail("missing")
            return None
        return child

    def need(self, key: str) -> _Field:
        child = self.get(key)
        assert child is not None
        return child

    def text(self, key: str, default: str | None = None) -> str:
        child = self.get(key, required=default is None)
        if child is None:
            return default or ""
        if not isinstance(child.value, str):
            raise child.fail(f"expected a string, got {_kind(child.value)}")
        return child.value

    def optional_text(self, key: str) -> str | None:
        child = self.get(key, required=False)
        if child is None or child.value == "":
            return None
        if not isinstance(child.value, str):
            raise child.fail(f"expected a string, got {_kind(child.value)}")
        return child.value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        child = self.get(key, required=False)
        if child is None:
            return default
        if isinstance(child.value, bool) or not isinstance(child.value, int | float):
            raise child.fail(f"expected a number, got {_kind(child.value)}")
        if not low <= child.value <= high:
            raise child.fail(f"{child.value} is outside {low:g}-{high:g}")
        return float(child.value)

    def items(self, key: str, *, required: bool = False) -> Iterator[_Field]:
        """The `Items` of a {Quantity, Items} list; Quantity must match when both are given."""
        holder = self.get(key, required=required)
        if holder is None:
            return
        if not isinstance(holder.value, dict):
            raise holder.fail(f"expected an object with Quantity and Items, got {_kind(holder.value)}")
        listed = holder.get("Items", required=False)
        values: list[Any] = []
        if listed is not None:
            if not isinstance(listed.value, list):
                raise listed.fail(f"expected a list, got {_kind(listed.value)}")
            values = listed.value
        quantity = holder.value.get("Quantity")
        if quantity is not None and (not isinstance(quantity, int) or quantity != len(values)):
            raise holder.fail(f"Quantity is {quantity!r} but Items holds {len(values)} (truncated or edited?)")
        for index, value in enumerate(values):
            yield _Field(value, f"{holder.path}.Items[{index}]", self.source)

    def strings(self, key: str) -> tuple[str, ...]:
        found = []
        for item in self.items(key):
            if not isinstance(item.value, str):
                raise item.fail(f"expected a string, got {_kind(item.value)}")
            found.append(item.value)
        return tuple(found)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def load_json(text: str, source: str) -> Any:
    """Parse JSON; a syntax error (a truncated download, say) names the field it happened in."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(f"{source}: not valid JSON: nested too deeply") from None
    except json.JSONDecodeError as exc:
        where = json_path_at(text, exc.pos)
        ended = not text[exc.pos:].strip() or exc.msg.startswith("Unterminated string")
        truncated = " (truncated?)" if ended else ""
        inside = f" in {where}" if where else ""
        raise InputError(f"{source}: not valid JSON{truncated}{inside} at line {exc.lineno} column {exc.colno}: "
                         f"{exc.msg}") from None


def json_path_at(text: str, position: int) -> str:
    """The field path (Origins.Items[1].DomainName) open at `position` in a JSON text."""
    stack: list[list[Any]] = []  # [container, key-or-index, expecting_key]
    index = 0
    end = min(position, len(text))
    while index < end:
        char = text[index]
        if char == '"':
            close = index + 1
            while close < len(text) and text[close] != '"':
                close += 2 if text[close] == "\\" else 1
            if stack and stack[-1][0] == "obj" and stack[-1][2]:
                stack[-1][1] = text[index + 1:close]
                stack[-1][2] = False
            index = close + 1
            continue
        if char == "{":
            stack.append(["obj", None, True])
        elif char == "[":
            stack.append(["arr", 0, False])
        elif char in "}]" and stack:
            stack.pop()
        elif char == "," and stack:
            if stack[-1][0] == "arr":
                stack[-1][1] += 1
            else:
                stack[-1][2] = True
        index += 1
    path = ""
    for kind, key, _ in stack:
        if kind == "arr":
            path += f"[{key}]"
        elif key is not None:
            path += f".{key}" if path else key
    return path


def parse_distribution(document: Any, source: str) -> Distribution:
    """Any of: get-distribution output, get-distribution-config output, a bare DistributionConfig."""
    root = _Field(document, "", source)
    if not isinstance(document, dict):
        raise root.fail(f"expected a JSON object, got {_kind(document)}")
    dist_id: str | None = None
    domain: str | None = None
    if "Distribution" in document:
        wrapper = root.need("Distribution")
        dist_id, domain = wrapper.optional_text("Id"), wrapper.optional_text("DomainName")
        config = wrapper.need("DistributionConfig")
    elif "DistributionConfig" in document:
        config = root.need("DistributionConfig")
    elif "Origins" in document or "DefaultCacheBehavior" in document:
        config = root
    else:
        raise root.fail("not a CloudFront distribution (expected Distribution, DistributionConfig or Origins)")
    origins = tuple(_origin(item) for item in config.items("Origins", required=True))
    if not origins:
        raise config.need("Origins").fail("no origins")
    groups = tuple(_group(item) for item in config.items("OriginGroups"))
    ordered = [_behaviour(item, default=False) for item in config.items("CacheBehaviors")]
    default = _behaviour(config.need("DefaultCacheBehavior"), default=True)
    return Distribution(
        id=dist_id, domain_name=domain,
        aliases=tuple(a.lower().rstrip(".") for a in config.strings("Aliases")),
        origins=origins, groups=groups, behaviours=(*ordered, default), source=source,
    )


def _origin(item: _Field) -> Origin:
    origin_id, domain = item.text("Id"), item.text("DomainName").lower().rstrip(".")
    if not domain:
        raise item.need("DomainName").fail("empty")
    headers = tuple(_custom_header(h) for h in item.items("CustomHeaders"))
    common: dict[str, Any] = dict(
        id=origin_id, domain=domain, path=item.text("OriginPath", ""), custom_headers=headers,
        connection_attempts=int(item.number("ConnectionAttempts", 3, 1, 3)),
        connection_timeout=item.number("ConnectionTimeout", 10, 1, 10),
    )
    if item.has("CustomOriginConfig"):
        custom = item.need("CustomOriginConfig")
        policy = custom.text("OriginProtocolPolicy")
        if policy not in PROTOCOL_POLICIES:
            raise custom.need("OriginProtocolPolicy").fail(f"{policy!r} is not one of {', '.join(PROTOCOL_POLICIES)}")
        protocols = custom.strings("OriginSslProtocols")
        for index, version in enumerate(protocols):
            if version not in ORIGIN_SSL_PROTOCOLS:
                field = f"{custom.path}.OriginSslProtocols.Items[{index}]"
                raise InputError(f"{item.source}: {field}: {version!r} is not one of {', '.join(ORIGIN_SSL_PROTOCOLS)}")
        return Origin(
            kind="custom", **common,
            http_port=int(custom.number("HTTPPort", 80, 1, 65535)),
            https_port=int(custom.number("HTTPSPort", 443, 1, 65535)),
            protocol_policy=policy, ssl_protocols=protocols,
            read_timeout=custom.number("OriginReadTimeout", 30, 1, 180),
            keepalive_timeout=custom.number("OriginKeepaliveTimeout", 5, 1, 180),
            ip_address_type=custom.optional_text("IpAddressType"),
        )
    if item.has("VpcOriginConfig"):
        vpc = item.need("VpcOriginConfig")
        return Origin(kind="vpc", **common, read_timeout=vpc.number("OriginReadTimeout", 30, 1, 180),
                      keepalive_timeout=vpc.number("OriginKeepaliveTimeout", 5, 1, 180))
    if item.has("S3OriginConfig") or ".s3." in f".{domain}" or domain.endswith(".amazonaws.com"):
        return Origin(kind="s3", **common, https_port=443, protocol_policy="match-viewer")
    raise item.fail("needs CustomOriginConfig, S3OriginConfig or VpcOriginConfig")


def _custom_header(item: _Field) -> tuple[str, str]:
    name, value = item.text("HeaderName"), item.text("HeaderValue", "")
    if not _HEADER_NAME.fullmatch(name):
        raise item.need("HeaderName").fail(f"{name!r} is not a valid header name")
    if any(c in value for c in "\r\n\0"):
        raise item.need("HeaderValue").fail("contains a line break or NUL")
    return name, value


def _group(item: _Field) -> OriginGroup:
    criteria = item.need("FailoverCriteria")
    codes = []
    for code in criteria.items("StatusCodes", required=True):
        if isinstance(code.value, bool) or not isinstance(code.value, int):
            raise code.fail(f"expected a status code, got {_kind(code.value)}")
        codes.append(code.value)
    members = []
    for member in item.items("Members", required=True):
        members.append(member.text("OriginId"))
    return OriginGroup(id=item.text("Id"), members=tuple(members), failover_status_codes=tuple(codes))


def _behaviour(item: _Field, *, default: bool) -> Behaviour:
    viewer = item.text("ViewerProtocolPolicy")
    if viewer not in VIEWER_POLICIES:
        raise item.need("ViewerProtocolPolicy").fail(f"{viewer!r} is not one of {', '.join(VIEWER_POLICIES)}")
    cache_policy = item.optional_text("CachePolicyId")
    legacy: tuple[str, ...] | None = None
    if cache_policy is None:
        forwarded = item.get("ForwardedValues", required=False)
        legacy = forwarded.strings("Headers") if forwarded is not None else ()
    return Behaviour(
        path_pattern=None if default else item.text("PathPattern"),
        target_origin_id=item.text("TargetOriginId"),
        viewer_protocol_policy=viewer,
        cache_policy_id=cache_policy,
        origin_request_policy_id=item.optional_text("OriginRequestPolicyId"),
        legacy_headers=legacy,
    )


def parse_policies(document: Any, source: str) -> list[HeaderPolicy]:
    """get-origin-request-policy / get-cache-policy output, or the list-* outputs (custom and managed)."""
    root = _Field(document, "", source)
    if not isinstance(document, dict):
        raise root.fail(f"expected a JSON object, got {_kind(document)}")
    found: list[HeaderPolicy] = []
    for key in ("OriginRequestPolicy", "CachePolicy"):
        if key in document:
            found.append(_policy(root.need(key), key))
    for list_key, key in (("OriginRequestPolicyList", "OriginRequestPolicy"), ("CachePolicyList", "CachePolicy")):
        if list_key in document:
            for entry in root.items(list_key):
                found.append(_policy(entry.need(key), key))
    if not found:
        if "OriginRequestPolicyConfig" in document or "CachePolicyConfig" in document:
            raise root.fail("a *-policy-config document has no Id; save `aws cloudfront get-origin-request-policy "
                            "--id ID` (or get-cache-policy) output instead")
        raise root.fail("expected OriginRequestPolicy, CachePolicy or a list of them")
    return found


def _policy(policy: _Field, key: str) -> HeaderPolicy:
    if key == "OriginRequestPolicy":
        config = policy.need("OriginRequestPolicyConfig")
        headers = config.need("HeadersConfig")
        kind = "origin_request"
    else:
        config = policy.need("CachePolicyConfig")
        headers = config.need("ParametersInCacheKeyAndForwardedToOrigin").need("HeadersConfig")
        kind = "cache"
    return HeaderPolicy(id=policy.text("Id"), name=config.text("Name", "?"), kind=kind,  # type: ignore[arg-type]
                        header_behavior=headers.text("HeaderBehavior"), headers=headers.strings("Headers"))
