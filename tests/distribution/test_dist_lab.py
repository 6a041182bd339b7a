"""`origin-doctor distribution` against the lab: the names CloudFront would send and check, per alias x
behaviour x origin, with every failing row next to a healthy twin."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from dist_documents import (
    ALL_VIEWER,
    ALL_VIEWER_EXCEPT_HOST,
    custom_host_policy,
    distribution_config,
    get_distribution_config_output,
    lab_args,
    ports,
)

from origin_doctor.cli import cli


def run(tmp_path: Path, lab: Any, document: dict[str, Any], *extra: str,
        env: dict[str, str] | None = None) -> tuple[int, str]:
    dist = tmp_path / "dist.json"
    dist.write_text(json.dumps(document, indent=2))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(custom_host_policy()))
    result = CliRunner().invoke(cli, ["distribution", str(dist), "--origin-request-policy", str(policy),
                                      *lab_args(lab), *extra], env=env)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def report(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    code, output = run(tmp_path_factory.mktemp("dist"), lab, get_distribution_config_output(ports(lab)), "--json")
    assert code == 1, output
    document: dict[str, Any] = json.loads(output)
    return document


def _row(report: dict[str, Any], name: str, behaviour: str, origin: str = "web") -> dict[str, Any]:
    rows = report["distribution"]["rows"]
    return next(r for r in rows if (r["viewer_name"], r["behaviour"], r["origin_id"]) == (name, behaviour, origin))


@pytest.mark.parametrize(
    ("name", "behaviour", "sni", "outcome", "primary"),
    [
        # AllViewer forwards Host: each alias is the SNI and the checked name (the incident).
        ("www.lab.test", "/ws/*", "www.lab.test", "ok", None),
        ("ws.lab.test", "/ws/*", "ws.lab.test", "502", "cert.chain_incomplete"),
        ("shop.lab.test", "/ws/*", "shop.lab.test", "502", "cert.name_mismatch"),
        # Healthy twin: AllViewerExceptHostHeader, so CloudFront sends and checks the origin domain.
        ("ws.lab.test", "default (*)", "www.lab.test", "ok", None),
        ("shop.lab.test", "default (*)", "www.lab.test", "ok", None),
        # A custom policy (given as a file) that whitelists Host, and legacy ForwardedValues *.
        ("ws.lab.test", "/api/*", "ws.lab.test", "502", "cert.chain_incomplete"),
        ("ws.lab.test", "/old/*", "ws.lab.test", "502", "cert.chain_incomplete"),
        # A custom policy nobody gave us: assumed not to forward Host (with a warning).
        ("ws.lab.test", "/guess/*", "www.lab.test", "ok", None),
    ],
)
def test_names_checked_per_alias_and_behaviour(report: dict[str, Any], name: str, behaviour: str, sni: str,
                                               outcome: str, primary: str | None) -> None:
    row = _row(report, name, behaviour)
    assert (row["sni"], row["checked_name"], row["outcome"], row["primary"]) == (sni, sni, outcome, primary)
    result = report["results"][row["result"]]
    assert result["target"]["sni"] == sni and result["outcome"] == outcome
    assert result["target"]["path"] == "/app/"  # the origin path prefixes the probe path


def test_origin_ssl_protocols_narrow_the_profile(report: dict[str, Any]) -> None:
    narrowed = _row(report, "www.lab.test", "/legacy/*", "old-tls")
    assert (narrowed["outcome"], narrowed["primary"]) == ("502", "tls.protocol_mismatch")
    twin = _row(report, "www.lab.test", "/mixed/*", "mv")  # same origin and port, TLSv1.2 allowed
    assert (twin["sni"], twin["outcome"]) == ("www.lab.test", "ok")
    result = report["results"][narrowed["result"]]
    assert result["addresses"][0]["tls"]["negotiation"]["result"] == "alert"
    assert not any(f["code"] == "profile.divergent" for f in result["findings"])


def test_origin_group_fails_over(report: dict[str, Any]) -> None:
    primary = _row(report, "ws.lab.test", "/files/*", "broken")
    secondary = _row(report, "ws.lab.test", "/files/*", "backup")
    assert (primary["role"], primary["origin_group"], primary["outcome"]) == ("primary", "failover", "503")
    assert primary["failover"]["fails_over"] is True and primary["failover"]["criteria"] == [500, 502, 503, 504]
    assert (secondary["role"], secondary["outcome"]) == ("secondary", "ok")
    healthy_primary = _row(report, "ws.lab.test", "/half/*", "backup")
    assert healthy_primary["failover"]["fails_over"] is False


def test_config_findings_after_probing(report: dict[str, Any]) -> None:
    found = {(f["code"], f["subject"]) for f in report["distribution"]["config_findings"]}
    assert ("config.host_not_on_certificate", "origin web alias shop.lab.test") in found
    assert ("config.ssl_protocols_rejected", "origin old-tls") in found
    # ws.lab.test is on its certificate (only the intermediate is missing), www.lab.test on its own.
    assert ("config.host_not_on_certificate", "origin web alias ws.lab.test") not in found
    assert ("config.ssl_protocols_rejected", "origin web") not in found
    assert {code for code, _ in found} >= {
        "config.policy_unknown", "config.match_viewer_allow_all", "config.missing_origin",
        "config.group_member_missing", "config.https_to_s3_website", "config.s3_origin",
        "config.http_only_origin", "config.port_not_allowed"}


def test_json_document_shape(report: dict[str, Any]) -> None:
    assert report["schema"] == "origin-doctor/report/1"
    assert report["checked_at"] == "2026-11-29T10:00:00Z"
    section = report["distribution"]
    assert section["aliases"] == ["www.lab.test", "ws.lab.test", "shop.lab.test"]
    web = next(o for o in section["origins"] if o["id"] == "web")
    assert web["custom_headers"] == ["X-Origin-Secret"]  # names only: values are secrets
    behaviours = {b["path_pattern"]: b["host"]["forwarded"] for b in section["behaviours"]}
    assert behaviours["/ws/*"] and not behaviours[None]
    probed = {r["result"] for r in section["rows"] if r["result"] is not None}
    assert probed == set(range(len(report["results"])))  # every probe is used by a row, and made once
    skipped = [r for r in section["rows"] if r["origin_id"] == "assets"]
    assert skipped and all(r["result"] is None and "S3 REST origin" in r["skipped"] for r in skipped)


def _healthy(lab: Any) -> dict[str, Any]:
    config = distribution_config(ports(lab))
    config["Aliases"] = {"Quantity": 1, "Items": ["www.lab.test"]}
    config["Origins"]["Items"] = config["Origins"]["Items"][:1]
    config["Origins"]["Quantity"] = 1
    config["OriginGroups"] = {"Quantity": 0, "Items": []}
    config["CacheBehaviors"]["Items"] = config["CacheBehaviors"]["Items"][:1]
    config["CacheBehaviors"]["Quantity"] = 1
    return {"DistributionConfig": config}


def test_healthy_distribution_exits_0_with_a_table(lab: Any, tmp_path: Path) -> None:
    document = _healthy(lab)
    assert document["DistributionConfig"]["CacheBehaviors"]["Items"][0]["OriginRequestPolicyId"] == ALL_VIEWER
    assert document["DistributionConfig"]["DefaultCacheBehavior"]["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    code, output = run(tmp_path, lab, document, env={"COLUMNS": "160"})
    assert code == 0, output
    assert "CloudFront would serve every origin under every name." in output
    assert re.search(r"www\.lab\.test\s+/ws/\*\s+web\s+forwarded\s+www\.lab\.test\s+ok", output), output


def test_one_alias_more_fails_and_says_why(lab: Any, tmp_path: Path) -> None:
    document = _healthy(lab)
    document["DistributionConfig"]["Aliases"] = {"Quantity": 2, "Items": ["www.lab.test", "ws.lab.test"]}
    code, output = run(tmp_path, lab, document, env={"COLUMNS": "160"})
    assert code == 1, output
    assert "cert.chain_incomplete" in output and "ws.lab.test:" in output


def test_fleet_findings_over_the_probes(report: dict[str, Any]) -> None:
    """Every probe of a distribution is one site: names served different chains show up as fleet findings
    once the fleet analysis is part of the package."""
    try:
        importlib.import_module("origin_doctor.analyze.fleet")
    except ModuleNotFoundError:
        assert report["fleet_findings"] == []
        return
    codes = {f["code"] for f in report["fleet_findings"]}
    assert "fleet.inconsistent_chain" in codes, report["fleet_findings"]


def test_html_report_is_written_next_to_the_json(lab: Any, tmp_path: Path) -> None:
    page = tmp_path / "dist.html"
    code, output = run(tmp_path, lab, get_distribution_config_output(ports(lab)), "--json", "--html", str(page))
    assert code == 1, output
    html = page.read_text("utf-8")
    assert "ws.lab.test" in html and "cert.chain_incomplete" in html
    assert json.loads(output)["schema"] == "origin-doctor/report/1"
