"""Reading distribution and policy documents: the three API shapes, and one-line errors naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from dist_documents import (
    CUSTOM_HOST_POLICY,
    custom_host_policy,
    distribution_config,
    get_distribution_config_output,
    get_distribution_output,
    without,
)

from origin_doctor.cli import cli
from origin_doctor.distribution.parse import json_path_at, load_json, parse_distribution, parse_policies
from origin_doctor.errors import InputError

PORTS = {"www.lab.test": 4443, "http-ok.lab.test": 5443, "origin-503.lab.test": 6443}


def test_three_shapes_give_the_same_distribution() -> None:
    config_output = parse_distribution(get_distribution_config_output(PORTS), "a.json")
    full = parse_distribution(get_distribution_output(PORTS), "b.json")
    bare = parse_distribution(distribution_config(PORTS), "c.json")
    assert config_output.origins == full.origins == bare.origins
    assert config_output.behaviours == full.behaviours == bare.behaviours
    assert (full.id, full.domain_name) == ("E1LABTEST", "d111111abcdef8.cloudfront.net")
    assert config_output.id is None


def test_origin_fields_are_read() -> None:
    dist = parse_distribution(get_distribution_config_output(PORTS), "d.json")
    web, old, broken = dist.origin("web"), dist.origin("old-tls"), dist.origin("broken")
    assert web is not None and old is not None and broken is not None
    assert (web.path, web.https_port, web.protocol_policy, web.ssl_protocols) == ("/app", 4443, "https-only", ("TLSv1.2",))
    assert web.custom_headers == (("X-Origin-Secret", "s3cr3t"),)
    assert old.ssl_protocols == ("TLSv1", "TLSv1.1")
    assert (broken.connection_attempts, broken.connection_timeout) == (1, 2.0)
    assert dist.origin("assets") is not None and dist.origin("assets").kind == "s3"  # type: ignore[union-attr]
    group = dist.group("failover")
    assert group is not None and group.members == ("broken", "backup")
    assert group.failover_status_codes == (500, 502, 503, 504)
    assert dist.behaviours[-1].path_pattern is None  # the default behaviour comes last
    legacy = next(b for b in dist.behaviours if b.path_pattern == "/old/*")
    assert legacy.legacy_headers == ("*",) and legacy.cache_policy_id is None


def test_vpc_origin() -> None:
    config = distribution_config(PORTS)
    config["Origins"]["Items"].append({"Id": "private", "DomainName": "internal-alb.example",
                                       "VpcOriginConfig": {"VpcOriginId": "vo_1", "OriginReadTimeout": 20}})
    config["Origins"]["Quantity"] += 1
    origin = parse_distribution(config, "v.json").origin("private")
    assert origin is not None and origin.kind == "vpc" and origin.read_timeout == 20


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("DistributionConfig", "Origins", "Items", 1, "DomainName"),
         "DistributionConfig.Origins.Items[1].DomainName: missing"),
        (("DistributionConfig", "DefaultCacheBehavior"), "DistributionConfig.DefaultCacheBehavior: missing"),
        (("DistributionConfig", "CacheBehaviors", "Items", 2, "TargetOriginId"),
         "DistributionConfig.CacheBehaviors.Items[2].TargetOriginId: missing"),
        (("DistributionConfig", "OriginGroups", "Items", 0, "FailoverCriteria"),
         "DistributionConfig.OriginGroups.Items[0].FailoverCriteria: missing"),
        (("DistributionConfig", "Origins", "Items", 0, "CustomOriginConfig", "OriginProtocolPolicy"),
         "DistributionConfig.Origins.Items[0].CustomOriginConfig.OriginProtocolPolicy: missing"),
    ],
)
def test_missing_field_is_named(path: tuple[str | int, ...], message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_distribution(without(get_distribution_config_output(PORTS), *path), "dist.json")
    assert str(caught.value) == f"dist.json: {message}"


def _edit(change: Any) -> dict[str, Any]:
    document = get_distribution_config_output(PORTS)
    change(document["DistributionConfig"])
    return document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["Origins"]["Items"][0]["CustomOriginConfig"].update(HTTPSPort="443"),
         "Origins.Items[0].CustomOriginConfig.HTTPSPort: expected a number, got a string"),
        (lambda c: c["Origins"]["Items"][1]["CustomOriginConfig"]["OriginSslProtocols"].update(
            Items=["TLSv1", "TLSv1.3"]),
         "Origins.Items[1].CustomOriginConfig.OriginSslProtocols.Items[1]: 'TLSv1.3' is not one of"),
        (lambda c: c["Origins"].update(Quantity=12),
         "DistributionConfig.Origins: Quantity is 12 but Items holds 9 (truncated or edited?)"),
        (lambda c: c["Origins"]["Items"][2].update(ConnectionAttempts=5),
         "Origins.Items[2].ConnectionAttempts: 5 is outside 1-3"),
        (lambda c: c["DefaultCacheBehavior"].update(ViewerProtocolPolicy="sometimes"),
         "DefaultCacheBehavior.ViewerProtocolPolicy: 'sometimes' is not one of"),
        (lambda c: c["Origins"]["Items"][3].pop("CustomOriginConfig"),
         "Origins.Items[3]: needs CustomOriginConfig, S3OriginConfig or VpcOriginConfig"),
        (lambda c: c.update(Origins=[]), "DistributionConfig.Origins: expected an object with Quantity and Items"),
        (lambda c: c["Origins"]["Items"][0]["CustomHeaders"]["Items"][0].update(HeaderName="X Secret"),
         "Origins.Items[0].CustomHeaders.Items[0].HeaderName: 'X Secret' is not a valid header name"),
        (lambda c: c["Origins"]["Items"][0]["CustomHeaders"]["Items"][0].update(HeaderValue="a\r\nInjected: 1"),
         "Origins.Items[0].CustomHeaders.Items[0].HeaderValue: contains a line break or NUL"),
    ],
)
def test_wrong_field_is_named(change: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_distribution(_edit(change), "dist.json")
    assert message in str(caught.value)
    assert str(caught.value).startswith("dist.json: ")


def test_not_a_distribution() -> None:
    with pytest.raises(InputError, match="not a CloudFront distribution"):
        parse_distribution({"ETag": "x"}, "x.json")
    with pytest.raises(InputError, match="expected a JSON object, got a list"):
        parse_distribution([], "x.json")


def test_truncated_json_names_the_open_field() -> None:
    text = json.dumps(get_distribution_config_output(PORTS), indent=1)
    cut = text.index('"DomainName": "origin-503.lab.test"') + len('"DomainName": "orig')
    with pytest.raises(InputError) as caught:
        load_json(text[:cut], "dist.json")
    message = str(caught.value)
    assert message.startswith("dist.json: not valid JSON (truncated?) in DistributionConfig.Origins.Items[2].DomainName")
    assert "\n" not in message


def test_json_path_at() -> None:
    text = '{"a": {"b": [1, {"c": "x,y"}, {"d": [true, ' + '{"e": 1'
    assert json_path_at(text, len(text)) == "a.b[2].d[1].e"
    assert json_path_at('{"k\\"q": [', 10) == 'k\\"q[0]'


def test_policy_documents() -> None:
    (policy,) = parse_policies(custom_host_policy(), "p.json")
    assert (policy.id, policy.kind, policy.forwards_host) == (CUSTOM_HOST_POLICY, "origin_request", True)
    listing = {"OriginRequestPolicyList": {"Quantity": 1, "Items": [
        {"Type": "custom", "OriginRequestPolicy": custom_host_policy()["OriginRequestPolicy"]}]}}
    assert parse_policies(listing, "l.json") == [policy]
    cache = {"CachePolicy": {"Id": "c1", "CachePolicyConfig": {"Name": "by-host", "ParametersInCacheKeyAndForwardedToOrigin": {
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["host"]}}}}}}
    (cached,) = parse_policies(cache, "c.json")
    assert (cached.kind, cached.forwards_host) == ("cache", True)
    with pytest.raises(InputError, match="has no Id"):
        parse_policies({"OriginRequestPolicyConfig": {}}, "cfg.json")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"DistributionConfig": {"Origins": {"Quantity": 1, "Items": [{"Id": "a", ', "not valid JSON (truncated?) in DistributionConfig.Origins.Items[0]"),
        ("[1, 2", "not valid JSON (truncated?)"),
        ('{"DistributionConfig": {"Origins": {"Quantity": 0, "Items": []}}}', "DistributionConfig.Origins: no origins"),
    ],
)
def test_cli_bad_file_is_one_line_exit_2(tmp_path: Path, content: str, needle: str) -> None:
    dist = tmp_path / "dist.json"
    dist.write_text(content)
    result = CliRunner().invoke(cli, ["distribution", str(dist)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {dist}: ") and needle in result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "give either DIST.json or --id ID"),
        (["x.json", "--id", "E1"], "give either DIST.json or --id ID"),
        (["x.json", "--endpoint-url", "http://127.0.0.1:1"], "only apply with --id"),
        (["missing.json"], "missing.json: no such file"),
    ],
)
def test_cli_usage_errors(args: list[str], needle: str) -> None:
    result = CliRunner().invoke(cli, ["distribution", *args])
    assert result.exit_code == 2
    assert needle in result.output and result.output.count("\n") == 1
