"""Judge the TLS negotiation: the profile's exact ClientHello, plus the extra hellos made to tell
the cause of a failure apart (only TLS 1.3? only suites, curves or signature schemes outside the
profile? the name sent as SNI?)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from origin_doctor.codes import finding
from origin_doctor.model import Finding
from origin_doctor.probe.hello import HelloResult
from origin_doctor.profile import Profile

# Names of the diagnostic hellos the engine makes when the profile's hello fails.
WITH_TLS13 = "with_tls13"  # the profile plus TLS 1.3
ALL_SUITES = "all_suites"  # the profile's versions, every known TLS<=1.2 suite
ALL_GROUPS = "all_groups"  # the profile plus P-521 and X448
ALL_SIGALGS = "all_sigalgs"  # the profile plus RSA-PSS and EdDSA schemes
NO_SNI = "no_sni"  # the profile's hello without a server name
TLS12_ANY = "tls12_any"  # TLS 1.0-1.2 with every known suite, group and signature scheme
LEGACY_VERSIONS = "legacy_versions"  # TLS 1.0-1.2 with the profile's own suites, groups and schemes


@dataclass(frozen=True, slots=True)
class Negotiation:
    profile_hello: HelloResult
    diagnostics: Mapping[str, HelloResult]
    other_profile: str | None = None
    other_hello: HelloResult | None = None


def _accepted(result: HelloResult | None) -> bool:
    return result is not None and result.kind == "accepted"


def _alert_text(result: HelloResult) -> str:
    if result.kind == "alert":
        return f"alert '{result.alert}'"
    if result.kind == "closed":
        return "the connection closed without an alert"
    return result.detail or result.kind


def check_negotiation(neg: Negotiation, subject: str, profile: Profile, sni: str | None) -> list[Finding]:
    hello = neg.profile_hello
    found: list[Finding] = []
    offered = ", ".join(profile.offered_versions())
    if hello.kind == "accepted":
        if hello.client_cert_requested and profile.client_cert_request_fatal:
            found.append(finding(
                "tls.client_cert_required", subject,
                "The origin asks for a client certificate; CloudFront does not send one unless origin mTLS "
                "is configured (the 2023 guide says it drops such requests; current behaviour is not documented).",
                version=hello.version, cipher=hello.cipher))
    elif hello.kind == "not_tls":
        first = hello.first_bytes[:40].decode("latin-1", "replace")
        found.append(finding(
            "tls.not_tls", subject,
            f"The port answers, but not with TLS: it sent {first!r}.",
            fix="Enable TLS on this port (nginx: 'listen 443 ssl;' with ssl_certificate), or set the origin "
                "protocol policy to HTTP only and the HTTP port to this one.",
            first_bytes=first))
    elif hello.kind == "timeout":
        found.append(finding(
            "tls.handshake_timeout", subject,
            "TCP connects, but the origin never answers the ClientHello.", detail=hello.detail))
    elif hello.kind in ("refused", "error"):
        found.append(finding(
            "tls.handshake_failed", subject, f"The TLS probe could not run: {hello.detail}.", detail=hello.detail))
    else:
        found.append(_explain_failure(neg, subject, profile, sni, offered))
    found += _divergence(neg, subject, profile)
    return found


def _explain_failure(neg: Negotiation, subject: str, profile: Profile, sni: str | None, offered: str) -> Finding:
    hello, diag = neg.profile_hello, neg.diagnostics
    alert = _alert_text(hello)
    evidence = {"alert": hello.alert, "offered_versions": offered, "sni": sni}
    if hello.alert == "unrecognized_name" or (_accepted(diag.get(NO_SNI)) and hello.alert != "protocol_version"):
        return finding(
            "tls.sni_rejected", subject,
            f"The origin rejects the server name '{sni}' that CloudFront sends ({alert}).",
            fix=f"Add a server block / listener certificate for '{sni}' on the origin, or make it the default.",
            **evidence)
    legacy = diag.get(LEGACY_VERSIONS)
    if _accepted(legacy) and legacy is not None and legacy.version not in profile.offered_versions():
        # The distribution's OriginSslProtocols (--ssl-protocols) leaves out what the origin speaks.
        return finding(
            "tls.protocol_mismatch", subject,
            f"The origin speaks {legacy.version}, which this origin's allowed protocols ({offered}) leave out.",
            fix=f"Add {legacy.version} to the distribution's OriginSslProtocols, or enable {offered} on the origin.",
            origin_versions=legacy.version, **evidence)
    with13 = diag.get(WITH_TLS13)
    only13 = (_accepted(with13) and with13 is not None and with13.version == "TLSv1.3"
              and not profile.offers_tls13 and not _accepted(diag.get(TLS12_ANY)))
    if only13:
        return finding(
            "tls.protocol_mismatch", subject,
            f"The origin speaks only TLS 1.3; CloudFront offers {offered} to origins ({alert}).",
            fix="Allow TLS 1.2 on the origin (nginx: 'ssl_protocols TLSv1.2 TLSv1.3;').",
            origin_versions="TLSv1.3", **evidence)
    if hello.alert == "protocol_version":
        return finding(
            "tls.protocol_mismatch", subject,
            f"The origin accepts none of the TLS versions CloudFront offers ({offered}).",
            **evidence)
    suites = diag.get(ALL_SUITES)
    if _accepted(suites) and suites is not None:
        return finding(
            "tls.no_shared_cipher", subject,
            f"The origin accepts none of the profile's cipher suites; given a wider list it picks {suites.cipher}, "
            "which CloudFront does not offer.",
            origin_cipher=suites.cipher, origin_version=suites.version, **evidence)
    groups = diag.get(ALL_GROUPS)
    if _accepted(groups) and groups is not None:
        return finding(
            "tls.no_shared_cipher", subject,
            f"The origin needs the key-exchange group or certificate curve {groups.group or 'outside the profile'}; "
            f"CloudFront offers only {', '.join(profile.groups)}.",
            fix="Serve an RSA or ECDSA P-256/P-384 certificate and allow the curves X25519/P-256 "
                "(nginx: ssl_ecdh_curve X25519:prime256v1:secp384r1;).",
            origin_group=groups.group, **evidence)
    sigalgs = diag.get(ALL_SIGALGS)
    if _accepted(sigalgs) and sigalgs is not None:
        return finding(
            "tls.handshake_failed", subject,
            "No signature algorithm in common: the origin signs only with "
            f"{sigalgs.signature_algorithm or 'a scheme outside the profile (e.g. RSA-PSS)'}, which CloudFront's "
            "origin list lacks (whether CloudFront really fails here is not documented).",
            fix="Allow RSA PKCS#1 v1.5 or ECDSA signatures on the origin (remove a SignatureAlgorithms restriction).",
            origin_signature_algorithm=sigalgs.signature_algorithm, **evidence)
    wide = diag.get(TLS12_ANY)
    if _accepted(wide) and wide is not None:
        return finding(
            "tls.no_shared_cipher", subject,
            f"The origin needs a combination of suite, curve and signature scheme outside the profile "
            f"(given everything it picks {wide.cipher}, {wide.group or '-'}, {wide.signature_algorithm or '-'}).",
            origin_cipher=wide.cipher, origin_group=wide.group, **evidence)
    return finding(
        "tls.handshake_failed", subject,
        f"The origin ends the handshake with CloudFront's ClientHello ({alert}), and no wider offer succeeded.",
        detail=hello.detail, **evidence)


def _divergence(neg: Negotiation, subject: str, profile: Profile) -> list[Finding]:
    if neg.other_hello is None or neg.other_profile is None:
        return []
    mine, other = _accepted(neg.profile_hello), _accepted(neg.other_hello)
    if mine == other:
        return []
    works, fails = (profile.id, neg.other_profile) if mine else (neg.other_profile, profile.id)
    return [finding(
        "profile.divergent", subject,
        f"The origin's TLS negotiation succeeds under the '{works}' profile and fails under '{fails}'; "
        "which policy a distribution uses cannot be seen from outside.",
        works_under=works, fails_under=fails,
        other_version=neg.other_hello.version, other_cipher=neg.other_hello.cipher)]
