"""AIA fetching against a real loopback HTTP server: every hostile answer ends in a clear
message, fast, and each has a healthy twin that differs in one knob."""

from __future__ import annotations

import time

from fix_support import AiaLab, Route, p7

from origin_doctor.fix.aia import AiaPolicy, fetch


def test_der_answer_gives_the_intermediate(aia_lab: AiaLab) -> None:
    result = fetch(aia_lab.base + "/ca/intermediate.der")
    assert result.ok and [c.subject for c in result.certs] == [aia_lab.pki.intermediate.cert.subject]


def test_pkcs7_der_and_pem_answers_parse(aia_lab: AiaLab) -> None:
    aia_lab.routes["/ca/bundle.p7c"] = Route(p7(aia_lab.pki.intermediate))
    aia_lab.routes["/ca/intermediate.pem"] = Route(aia_lab.pki.intermediate.pem)
    assert fetch(aia_lab.base + "/ca/bundle.p7c").certs[0] == aia_lab.pki.intermediate.cert
    assert fetch(aia_lab.base + "/ca/intermediate.pem").certs[0] == aia_lab.pki.intermediate.cert


def test_garbage_is_named_as_not_a_certificate(aia_lab: AiaLab) -> None:
    aia_lab.routes["/ca/garbage"] = Route(b"<html>this is not a certificate</html>")
    result = fetch(aia_lab.base + "/ca/garbage")
    assert not result.ok and not result.certs
    assert "not a certificate in DER, PEM or PKCS#7" in (result.error or "")


def test_ten_megabytes_are_refused_by_length_and_by_reading(aia_lab: AiaLab) -> None:
    huge = b"\x30" * (10 * 1024 * 1024)
    aia_lab.routes["/ca/huge"] = Route(huge)
    aia_lab.routes["/ca/huge-unsized"] = Route(huge, send_length=False)
    declared = fetch(aia_lab.base + "/ca/huge")
    assert not declared.ok and "over the 65536-byte cap" in (declared.error or "")
    started = time.monotonic()
    streamed = fetch(aia_lab.base + "/ca/huge-unsized")
    assert not streamed.ok and "over the 65536-byte cap" in (streamed.error or "")
    assert time.monotonic() - started < 5


def test_redirect_to_file_scheme_is_refused_and_http_redirect_followed(aia_lab: AiaLab) -> None:
    aia_lab.routes["/ca/to-file"] = Route(status=302, headers=(("Location", "file:///etc/passwd"),))
    aia_lab.routes["/ca/to-http"] = Route(status=302, headers=(("Location", "/ca/intermediate.der"),))
    refused = fetch(aia_lab.base + "/ca/to-file")
    assert not refused.ok and "only http and https" in (refused.error or "")
    assert refused.hops == (aia_lab.base + "/ca/to-file",)
    followed = fetch(aia_lab.base + "/ca/to-http")
    assert followed.ok and len(followed.hops) == 2


def test_redirect_loop_stops_after_a_few_hops(aia_lab: AiaLab) -> None:
    aia_lab.routes["/ca/loop"] = Route(status=301, headers=(("Location", "/ca/loop"),))
    result = fetch(aia_lab.base + "/ca/loop", AiaPolicy(max_redirects=3))
    assert not result.ok and "more than 3 redirects" in (result.error or "")
    assert len(result.hops) == 4


def test_a_stalled_answer_times_out_without_hanging(aia_lab: AiaLab) -> None:
    aia_lab.routes["/ca/slow"] = Route(aia_lab.pki.intermediate.der, delay=3.0)
    started = time.monotonic()
    result = fetch(aia_lab.base + "/ca/slow", AiaPolicy(timeout=0.5))
    assert not result.ok and "timed out" in (result.error or "")
    assert time.monotonic() - started < 2.0


def test_other_schemes_and_disallowed_hosts_are_never_requested(aia_lab: AiaLab) -> None:
    assert "only http and https" in (fetch("ldap://127.0.0.1/cn=ca").error or "")
    assert "only http and https" in (fetch("file:///etc/passwd").error or "")
    blocked = fetch(aia_lab.base + "/ca/intermediate.der", AiaPolicy(allowed_hosts=("*.ca.example",)))
    assert not blocked.ok and "not allowed by --aia-allow" in (blocked.error or "") and blocked.hops == ()
    allowed = fetch(aia_lab.base + "/ca/intermediate.der", AiaPolicy(allowed_hosts=("127.0.0.*",)))
    assert allowed.ok


def test_http_error_status_is_reported(aia_lab: AiaLab) -> None:
    result = fetch(aia_lab.base + "/ca/missing")
    assert not result.ok and "HTTP 404" in (result.error or "")
