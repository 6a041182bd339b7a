from __future__ import annotations

import pytest

from origin_doctor.codes import finding
from origin_doctor.verdict import decide, headline


def f(code: str, **evidence: object):  # type: ignore[no-untyped-def]
    return finding(code, "127.0.0.1:443 sni=x", "summary", **evidence)


@pytest.mark.parametrize(
    ("codes", "outcome", "generated_by", "primary", "cause"),
    [
        ([], "ok", None, None, None),
        (["cert.expires_soon", "cert.chain_order"], "ok", None, None, None),
        (["cert.chain_incomplete"], "502", "cdn", "cert.chain_incomplete", 3),
        # the first failure in pipeline order is the root cause, whatever the list order
        (["http.origin_5xx", "cert.expired", "tls.protocol_mismatch"], "502", "cdn", "tls.protocol_mismatch", 2),
        (["tcp.timeout"], "504", "cdn", "tcp.timeout", None),
        (["dns.nxdomain", "tcp.refused"], "502", "cdn", "dns.nxdomain", 5),
        (["http.read_timeout"], "504", "cdn", "http.read_timeout", None),
    ],
)
def test_root_cause_and_outcome(codes: list[str], outcome: str, generated_by: str | None,
                                primary: str | None, cause: int | None) -> None:
    verdict = decide([f(c) for c in codes])
    assert verdict.outcome == outcome
    assert verdict.generated_by == generated_by
    assert (verdict.primary.code if verdict.primary else None) == primary
    assert verdict.cause == cause


def test_origin_5xx_is_passed_through() -> None:
    verdict = decide([f("http.origin_5xx", status=503)])
    assert (verdict.outcome, verdict.generated_by) == ("503", "origin")
    assert "pass through the origin's 503" in headline(verdict)


def test_headline_names_cause() -> None:
    assert headline(decide([f("cert.chain_incomplete")])) == (
        "CloudFront would answer 502: an intermediate is missing from what the origin sends (AWS cause 3)."
    )


def test_rejected_upgrade_below_500_is_ok_for_the_viewer_but_still_a_failure() -> None:
    verdict = decide([f("ws.upgrade_rejected", status=400)])
    assert (verdict.outcome, verdict.generated_by) == ("ok", None)
    assert verdict.failed and verdict.primary is not None and verdict.primary.code == "ws.upgrade_rejected"
