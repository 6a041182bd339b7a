"""The example alert rules only use metrics the exporter really exports."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from origin_doctor.metrics import ScanCounters, Snapshot, SnapshotCollector

ROOT = Path(__file__).resolve().parents[2]


def exported_names() -> set[str]:
    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    snapshot = Snapshot(results=(), started=now, duration_seconds=1.0, judged_at=now, profile="cloudfront")
    names: set[str] = set()
    for family in SnapshotCollector(lambda: snapshot, ScanCounters()).collect():
        names.add(family.name + ("_total" if family.type == "counter" else ""))
    return names


def test_alert_rules_use_exported_metrics() -> None:
    rules = yaml.safe_load((ROOT / "docs" / "alerts.yml").read_text())["groups"][0]["rules"]
    assert {r["alert"] for r in rules} >= {"OriginChainBroken", "OriginCertificateExpiresSoon", "OriginFleetInconsistent"}
    names = exported_names()
    for rule in rules:
        used = set(re.findall(r"\borigin_doctor_[a-z_]+", rule["expr"]))
        assert used and used <= names, (rule["alert"], used - names)


def test_exporter_doc_lists_every_metric() -> None:
    page = (ROOT / "docs" / "exporter.md").read_text()
    for name in exported_names():
        assert name in page, name
