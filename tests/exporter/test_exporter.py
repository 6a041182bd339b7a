"""The exporter served for real on a loopback port against the lab: /metrics scraped over HTTP and
read with Prometheus' own text parser, /probe, the status page, and a bounded stop."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from origin_doctor.exporter import Exporter
from origin_doctor.lab.checking import lab_options, lab_target

GOOD, BROKEN, EXPIRED = "www.lab.test", "ws.lab.test", "expired.lab.test"


def fetch(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    matches = [v for (n, ls), v in metrics.items() if n == name and set(labels.items()) <= ls]
    assert len(matches) == 1, (name, labels, matches)
    return matches[0]


@pytest.fixture
def exporter(lab) -> Iterator[Exporter]:  # type: ignore[no-untyped-def]
    targets = [lab_target(lab, name, websocket=False) for name in (GOOD, BROKEN, EXPIRED)]
    running = Exporter(targets, lab_options(lab), interval=3600, concurrency=8, probe_timeout=20)
    running.start("127.0.0.1", 0)
    try:
        assert running.wait_for_scan(1, timeout=60), "the first scan did not finish"
        yield running
    finally:
        running.stop()


def base(exporter: Exporter) -> str:
    host, port = exporter.address
    return f"http://{host}:{port}"


def test_metrics_for_a_good_and_a_broken_origin(exporter: Exporter, lab) -> None:  # type: ignore[no-untyped-def]
    status, content_type, text = fetch(base(exporter) + "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    metrics = samples(text)
    assert value(metrics, "origin_doctor_probe_success", target=GOOD) == 1
    assert value(metrics, "origin_doctor_probe_success", target=BROKEN) == 0
    assert value(metrics, "origin_doctor_predicted_status", target=GOOD) == 200
    assert value(metrics, "origin_doctor_predicted_status", target=BROKEN) == 502
    assert value(metrics, "origin_doctor_finding", target=BROKEN, code="cert.chain_incomplete", severity="fail") == 1
    assert value(metrics, "origin_doctor_primary_finding", target=BROKEN, code="cert.chain_incomplete") == 1
    assert not [k for k in metrics if k[0] == "origin_doctor_primary_finding" and ("target", GOOD) in k[1]]
    for phase in ("connect", "tls", "http"):
        assert value(metrics, "origin_doctor_phase_duration_seconds", target=GOOD, phase=phase) >= 0
    assert value(metrics, "origin_doctor_tls_version_info", target=GOOD, version="TLSv1.2") == 1
    assert value(metrics, "origin_doctor_cert_expiry_days", target=GOOD) > 21
    assert value(metrics, "origin_doctor_targets") == 3
    assert value(metrics, "origin_doctor_targets_failing") == 2
    assert value(metrics, "origin_doctor_scans_total") == 1
    assert abs(value(metrics, "origin_doctor_last_run_timestamp_seconds") - time.time()) < 120
    assert 0 < value(metrics, "origin_doctor_scan_duration_seconds") < 60
    # Labels never carry evidence or summaries: only these names appear.
    allowed = {"target", "address", "code", "severity", "cause", "position", "phase", "version", "subject"}
    assert {label for _, labels in metrics for label, _ in labels} <= allowed


def test_expired_certificate_still_exports_its_not_after(exporter: Exporter, lab) -> None:  # type: ignore[no-untyped-def]
    metrics = samples(fetch(base(exporter) + "/metrics")[2])
    assert value(metrics, "origin_doctor_finding", target=EXPIRED, code="cert.expired", severity="fail") == 1
    not_after = value(metrics, "origin_doctor_cert_not_after_timestamp_seconds", target=EXPIRED, position="0")
    assert not_after < lab.now.timestamp()
    assert value(metrics, "origin_doctor_cert_expiry_days", target=EXPIRED) < 0
    # its healthy twin's leaf is in the future
    assert value(metrics, "origin_doctor_cert_not_after_timestamp_seconds", target=GOOD, position="0") > lab.now.timestamp()


def test_probe_endpoint(exporter: Exporter) -> None:
    status, _, text = fetch(base(exporter) + f"/probe?target={BROKEN}",
                            headers={"X-Prometheus-Scrape-Timeout-Seconds": "15"})
    assert status == 200
    metrics = samples(text)
    assert value(metrics, "origin_doctor_probe_success", target=BROKEN) == 0
    assert value(metrics, "origin_doctor_predicted_status", target=BROKEN) == 502
    assert value(metrics, "origin_doctor_probe_timeout_seconds") == pytest.approx(14.5)
    assert value(metrics, "origin_doctor_probe_timed_out") == 0
    good = samples(fetch(base(exporter) + f"/probe?target={GOOD}")[2])
    assert value(good, "origin_doctor_probe_success", target=GOOD) == 1


def test_probe_answers_within_the_scrape_timeout(exporter: Exporter, lab) -> None:  # type: ignore[no-untyped-def]
    port = lab.endpoints["blackhole.lab.test"][1]  # connections are never answered
    started = time.monotonic()
    status, _, text = fetch(base(exporter) + f"/probe?target=blackhole.lab.test:{port}",
                            headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"})
    assert status == 200 and time.monotonic() - started < 2
    metrics = samples(text)
    assert value(metrics, "origin_doctor_probe_timeout_seconds") == pytest.approx(1.5)
    assert value(metrics, "origin_doctor_probe_success", target="blackhole.lab.test") == 0
    assert value(metrics, "origin_doctor_predicted_status", target="blackhole.lab.test") == 504


@pytest.mark.parametrize("query", ["target=not%20a%20host!", "target=%3Cscript%3E", "", "target=",
                                   "target=a.test&target=b.test"])
def test_probe_with_a_bad_target_is_a_clear_400(exporter: Exporter, query: str) -> None:
    status, content_type, text = fetch(base(exporter) + "/probe?" + query)
    assert status == 400 and content_type.startswith("text/plain")
    assert text.startswith("bad request: ") and text.count("\n") == 1
    assert "Traceback" not in text


def test_probe_with_a_bad_timeout_header_is_a_400(exporter: Exporter) -> None:
    status, _, text = fetch(base(exporter) + f"/probe?target={GOOD}",
                            headers={"X-Prometheus-Scrape-Timeout-Seconds": "soon"})
    assert status == 400 and "X-Prometheus-Scrape-Timeout-Seconds" in text


def test_status_page_is_the_html_report_of_the_last_run(exporter: Exporter) -> None:
    status, content_type, page = fetch(base(exporter) + "/")
    assert status == 200 and content_type.startswith("text/html")
    assert page.startswith("<!DOCTYPE html>")
    assert "2 of 3 targets would fail" in page and "Origin Doctor Lab CA R3" in page
    assert fetch(base(exporter) + "/nothing-here")[0] == 404


def test_stops_cleanly_within_a_bounded_time(lab) -> None:  # type: ignore[no-untyped-def]
    running = Exporter([lab_target(lab, GOOD, websocket=False)], lab_options(lab), interval=3600)
    host, port = running.start("127.0.0.1", 0)
    assert fetch(f"http://{host}:{port}/metrics")[0] == 200  # answers while the first scan may still run
    started = time.monotonic()
    running.stop(timeout=10)
    assert time.monotonic() - started < 10
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=2)


class RecordingExporter(Exporter):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.spans: list[tuple[float, float]] = []

    async def scan(self):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        try:
            return await super().scan()
        finally:
            self.spans.append((started, time.monotonic()))


def test_rescans_on_the_interval_and_never_overlaps(lab) -> None:  # type: ignore[no-untyped-def]
    running = RecordingExporter([lab_target(lab, GOOD, websocket=False)], lab_options(lab), interval=1.0)
    running.start("127.0.0.1", 0)
    try:
        assert running.wait_for_scan(3, timeout=30)
    finally:
        running.stop()
    spans = running.spans[:3]
    for (_, previous_end), (next_start, _) in zip(spans, spans[1:], strict=False):
        assert next_start >= previous_end
        # start-to-start is the interval with at most 10% jitter (plus scheduling slack)
    starts = [s for s, _ in spans]
    for earlier, later in zip(starts, starts[1:], strict=False):
        assert 0.85 <= later - earlier <= 1.6


def test_status_page_before_the_first_scan(lab) -> None:  # type: ignore[no-untyped-def]
    waiting = Exporter([lab_target(lab, GOOD, websocket=False)], lab_options(lab), interval=3600)
    page = waiting.status_page().decode()
    assert "the first scan is still running" in page and "No targets in this report." in page
    metrics = samples(waiting.metrics_page().decode())
    assert value(metrics, "origin_doctor_scans_total") == 0
    assert not [name for name, _ in metrics if name == "origin_doctor_last_run_timestamp_seconds"]
