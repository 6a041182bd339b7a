"""Judge a chain as sent against a profile's trust store, a name and a time, the way CloudFront
does: no intermediate fetching, Mozilla's roots, the origin domain or forwarded Host as the name.

Our own facts (certfacts.py) name the cause; cryptography's verifier has the last word, and its
message is kept as evidence.
"""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.x509 import verification

from origin_doctor.analyze.certfacts import (
    AnchorIndex,
    ChainFacts,
    aia_ca_issuers,
    common_names,
    dns_names,
    has_san,
    key_description,
    name_matches,
    name_of,
    parse_chain,
    signature_hash,
)
from origin_doctor.codes import finding
from origin_doctor.model import Finding, Severity, parse_ip

WEAK_HASHES = {"sha1", "md5", "md2", "md4", "unsupported"}


def _role(facts: ChainFacts, cert: x509.Certificate) -> str:
    if cert is facts.leaf:
        return "leaf"
    if facts.anchor is not None and cert is facts.anchor:
        return "root"
    return "intermediate"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date_findings(facts: ChainFacts, subject: str, now: dt.datetime, warn_days: int) -> list[Finding]:
    found: list[Finding] = []
    checked = facts.path_certs() + ([facts.anchor] if facts.anchor is not None and facts.anchor not in facts.sent else [])
    for cert in checked:
        role, who = _role(facts, cert), name_of(cert)
        after, before = cert.not_valid_after_utc, cert.not_valid_before_utc
        if now > after:
            days = (now - after).days
            found.append(finding(
                "cert.expired", subject,
                f"The {role} certificate '{who}' expired on {_iso(after)} ({days} days ago).",
                fix=f"Renew the {role} certificate '{who}' and serve the new one"
                + (" with its intermediate(s)." if role == "leaf" else "; reissue the leaf under a valid intermediate."),
                certificate=who, role=role, not_after=_iso(after), checked_at=_iso(now)))
        elif now < before:
            found.append(finding(
                "cert.not_yet_valid", subject,
                f"The {role} certificate '{who}' is not valid before {_iso(before)}.",
                certificate=who, role=role, not_before=_iso(before), checked_at=_iso(now)))
        elif after - now <= dt.timedelta(days=warn_days) and role != "root":
            days = (after - now).days
            found.append(finding(
                "cert.expires_soon", subject,
                f"The {role} certificate '{who}' expires on {_iso(after)}, in {days} days.",
                certificate=who, role=role, not_after=_iso(after), days_left=days, warn_days=warn_days))
    return found


def _name_findings(facts: ChainFacts, name: str, subject: str) -> list[Finding]:
    leaf = facts.leaf
    names = dns_names(leaf)
    literal = _ip(name)
    if has_san(leaf):
        ok = any((literal is not None and _ip(n) == literal) or name_matches(n, name) for n in names)
        basis = "subjectAltName"
    else:
        names = common_names(leaf)
        ok = any(name_matches(n, name) for n in names)
        basis = "subject CN (no subjectAltName; whether CloudFront accepts a CN-only certificate is not documented)"
    if ok:
        return []
    shown = ", ".join(names) if names else "(none)"
    return [finding(
        "cert.name_mismatch", subject,
        f"The certificate does not cover '{name}', the name CloudFront checks; it covers: {shown}.",
        fix=f"Serve a certificate whose subjectAltName includes '{name}' (or a wildcard one label above it), "
            "or point the origin domain / forwarded Host at a name the certificate covers.",
        checked_name=name, certificate_names=shown, basis=basis)]


def _ip(text: str) -> str | None:
    ip = parse_ip(text)
    return None if ip is None else str(ip)


def _path_findings(facts: ChainFacts, subject: str, name: str) -> list[Finding]:
    leaf = facts.leaf
    if facts.leaf_self_signed and facts.anchor is None:
        return [finding(
            "cert.self_signed", subject,
            f"The leaf '{name_of(leaf)}' is self-signed; CloudFront accepts only certificates from CAs on Mozilla's list.",
            certificate=name_of(leaf), sent=len(facts.sent))]
    if facts.missing_issuer is not None and len(facts.path) == 1:
        aia = aia_ca_issuers(leaf)
        issuer_name = _cn_of_dn(leaf.issuer)
        stem = name.lstrip("*.") or "leaf"
        fix = (f"Serve the leaf followed by the intermediate '{issuer_name}': "
               f"cat {stem}.crt '{issuer_name}.pem' > {stem}-fullchain.crt and point ssl_certificate at "
               f"{stem}-fullchain.crt (origin-doctor fix-chain {name} writes the file).")
        if aia:
            fix += f" The CA publishes that intermediate at {aia[0]}."
        sent_desc = "only its leaf" if len(facts.sent) == 1 else f"{len(facts.sent)} certificates, none of them the leaf's issuer"
        return [finding(
            "cert.chain_incomplete", subject,
            f"The origin sends {sent_desc}; the issuer '{issuer_name}' is missing. "
            "Browsers fill the gap; CloudFront does not.",
            fix=fix, sent=len(facts.sent), missing_issuer=facts.missing_issuer,
            leaf=name_of(leaf), aia_ca_issuers=aia[0] if aia else None)]
    if facts.anchor is None:
        end = facts.sent[facts.path[-1]]
        if facts.ends_self_signed_untrusted:
            summary = f"The chain ends at the root '{name_of(end)}', which is not in the trust store."
        else:
            summary = (f"The chain ends at '{name_of(end)}', whose issuer '{_cn_of_dn(end.issuer)}' is not in the "
                       "trust store (if that issuer is an intermediate, the origin must send it too).")
        return [finding("cert.untrusted_root", subject, summary,
                        path_end=end.subject.rfc4514_string(), missing_issuer=facts.missing_issuer)]
    return []


def _cn_of_dn(name: x509.Name) -> str:
    from cryptography.x509.oid import NameOID

    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else name.rfc4514_string()


def _shape_findings(facts: ChainFacts, subject: str, order_fatal: bool) -> list[Finding]:
    found: list[Finding] = []
    if facts.out_of_order:
        sent_order = " > ".join(name_of(c) for c in facts.sent)
        right_order = " > ".join(name_of(c) for c in facts.path_certs())
        f = finding(
            "cert.chain_order", subject,
            f"The chain is sent out of order ({sent_order}); the right order is {right_order}. "
            "AWS lists this as a 502 cause; OpenSSL and s2n rebuild the order.",
            sent_order=sent_order, expected_order=right_order)
        if order_fatal:
            f = _escalate(f)
        found.append(f)
    for position in facts.extra:
        cert = facts.sent[position]
        if position in facts.extra_roots:
            found.append(finding(
                "cert.chain_has_root", subject,
                f"The origin also sends the root '{name_of(cert)}' (harmless, wasteful).",
                certificate=name_of(cert), position=position))
        else:
            found.append(finding(
                "cert.chain_extra", subject,
                f"The origin sends '{name_of(cert)}', which is not on the path from the leaf to a trusted root.",
                certificate=name_of(cert), position=position))
    return found


def _escalate(f: Finding) -> Finding:
    from dataclasses import replace

    return replace(f, severity=Severity.FAIL)


def _strength_findings(facts: ChainFacts, subject: str) -> list[Finding]:
    found: list[Finding] = []
    for cert in facts.path_certs():
        description, bits = key_description(cert)
        if description.startswith("RSA") and bits is not None and bits < 2048:
            found.append(finding("cert.weak_key", subject,
                                 f"'{name_of(cert)}' has a {bits}-bit RSA key.", certificate=name_of(cert), bits=bits))
        digest = signature_hash(cert)
        if digest in WEAK_HASHES and cert is not facts.anchor:
            found.append(finding("cert.weak_signature", subject,
                                 f"'{name_of(cert)}' is signed with {digest.upper()}.",
                                 certificate=name_of(cert), hash=digest))
    return found


def _verify(facts: ChainFacts, anchors: AnchorIndex, name: str, now: dt.datetime, strict: bool) -> str | None:
    """cryptography's verdict; None when it accepts the chain."""
    return _verify_sent(facts.sent, anchors, name, now, strict)[1]


def _verify_sent(sent: tuple[x509.Certificate, ...], anchors: AnchorIndex, name: str, now: dt.datetime,
                 strict: bool) -> tuple[list[x509.Certificate] | None, str | None]:
    """cryptography's verdict on the chain as sent: (the verified path, None) or (None, objection)."""
    if not anchors.anchors:
        return None, "empty trust store"
    literal = _ip(name)
    subject_name: verification.Subject = (
        x509.IPAddress(ipaddress.ip_address(literal)) if literal else x509.DNSName(name)
    )
    builder = verification.PolicyBuilder().store(anchors.store).time(now)
    if not strict:
        lenient_ca = verification.ExtensionPolicy.permit_all().require_present(
            x509.BasicConstraints, verification.Criticality.AGNOSTIC, None
        )
        builder = builder.extension_policies(
            ca_policy=lenient_ca,
            ee_policy=verification.ExtensionPolicy.permit_all().require_present(
                x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None
            ),
        )
    try:
        verified = builder.build_server_verifier(subject_name).verify(sent[0], list(sent[1:]))
    except verification.VerificationError as exc:
        return None, str(exc)
    except ValueError as exc:
        return None, f"verifier refused the input: {exc}"
    return verified, None


def _facts_and_verdict(sent: tuple[x509.Certificate, ...], anchors: AnchorIndex, name: str,
                       now: dt.datetime) -> tuple[ChainFacts, str | None]:
    """The chain's facts and the strict verifier's objection (None: accepted). The verifier runs
    first: when it accepts the chain as sent plus an anchor, the facts follow from its path."""
    known = anchors.known_facts(sent)
    verified, objection = _verify_sent(sent, anchors, name, now, strict=True)
    if known is not None:
        return known, objection
    if verified is not None:
        simple = anchors.facts_from_verified(sent, verified)
        if simple is not None:
            return simple, None
    return anchors.facts_for(sent), objection


def _verifier_findings(facts: ChainFacts, anchors: AnchorIndex, name: str, now: dt.datetime, subject: str,
                       found: list[Finding], strict: str | None) -> list[Finding]:
    """The verifier has the last word where our facts found nothing fatal.

    Its default (web PKI) extension rules are stricter than OpenSSL-style clients such as
    CloudFront's, so an objection that disappears with permissive extension rules is a warning.
    `strict` is its objection under the default rules (None: accepted).
    """
    if strict is None:
        return []
    fails = [i for i, f in enumerate(found) if f.severity is Severity.FAIL]
    if fails:
        first = found[fails[0]]
        found[fails[0]] = Finding(first.code, first.severity, first.stage, first.subject, first.summary,
                                  {**first.evidence, "verifier": strict}, first.fix)
        return []
    if any(f.code in ("cert.weak_key", "cert.weak_signature") for f in found):
        return []
    lenient = _verify(facts, anchors, name, now, strict=False)
    if lenient is None:
        return [finding("cert.policy_violation", subject,
                        f"The chain breaks a web-PKI extension rule: {strict}. OpenSSL-style clients "
                        "(CloudFront's included, as far as is documented) accept it.", verifier=strict)]
    return [finding("cert.rejected", subject, f"The X.509 path verifier rejects the chain: {lenient}",
                    verifier=lenient)]


def check_chain(
    chain: tuple[bytes, ...],
    name: str,
    anchors: AnchorIndex,
    now: dt.datetime,
    subject: str,
    warn_days: int = 21,
    order_fatal: bool = False,
) -> list[Finding]:
    """All certificate findings for one chain as sent."""
    parsed = parse_chain(chain)
    if not chain:
        return [finding("cert.unparsable", subject, "The origin sent no certificate.", sent=0)]
    if parsed.unparsable:
        bad = ", ".join(str(p) for p in parsed.unparsable)
        if not parsed.certs or parsed.unparsable[0] == 0:
            return [finding("cert.unparsable", subject,
                            f"The certificate at position {bad} of the chain cannot be parsed.",
                            positions=bad, sent=len(chain))]
    facts, strict = _facts_and_verdict(parsed.certs, anchors, name, now)
    found = _path_findings(facts, subject, name)
    found += _date_findings(facts, subject, now, warn_days)
    found += _name_findings(facts, name, subject)
    found += _shape_findings(facts, subject, order_fatal)
    found += _strength_findings(facts, subject)
    found += _verifier_findings(facts, anchors, name, now, subject, found, strict)
    return found


def chain_not_after(chain: tuple[bytes, ...]) -> dt.datetime | None:
    parsed = parse_chain(chain)
    return parsed.certs[0].not_valid_after_utc if parsed.certs else None
