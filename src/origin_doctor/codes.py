"""The finding catalogue: every public code, its severity, stage, CDN answer and generic fix.

Codes are a public contract (../shared/docs/REPORT.md): add freely, never rename or remove.
Analyzers build findings only through `finding()`, so severity and stage come from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from origin_doctor.model import Finding, Severity, Stage

FAIL, WARN, INFO = Severity.FAIL, Severity.WARN, Severity.INFO


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    severity: Severity
    cdn_answer: str | None  # "502", "504", "origin" (passes the origin's status), "ok", or None
    cause: int | None  # number in AWS's list of six 502 causes
    meaning: str
    fix: str
    deprecated: bool = False

    @property
    def stage(self) -> Stage:
        return Stage(self.code.split(".", 1)[0])


def _c(
    code: str, severity: Severity, answer: str | None, cause: int | None, meaning: str, fix: str
) -> CodeInfo:
    return CodeInfo(code, severity, answer, cause, meaning, fix)


_ROWS: tuple[CodeInfo, ...] = (
    # --- configuration (no network needed) ---
    _c("config.ip_origin", WARN, None, None,
       "the origin is an IP address; CloudFront refuses IP addresses as origin domain names",
       "Give the origin a DNS name (an A/AAAA record) and use that name as the origin domain."),
    # --- DNS ---
    _c("dns.nxdomain", FAIL, "502", 5, "the origin name does not exist",
       "Create the DNS record for the origin name, or correct the origin domain on the distribution."),
    _c("dns.no_address", FAIL, "502", 5, "the name exists but has no A/AAAA record",
       "Add an A or AAAA record (or a CNAME to a name that has one) for the origin name."),
    _c("dns.servfail", FAIL, "502", 5, "the resolver or authority failed or refused",
       "Check the zone's authoritative servers and DNSSEC signatures; the name must resolve in public DNS."),
    _c("dns.timeout", FAIL, "502", 5, "no DNS answer in time",
       "Make sure the authoritative name servers answer over UDP and TCP from the internet."),
    # --- TCP ---
    _c("tcp.refused", FAIL, "502", 4, "nothing listens on the port (reset)",
       "Start the service on the origin port, or point the distribution's HTTPS port at the port that listens."),
    _c("tcp.timeout", FAIL, "504", None,
       "connection attempts unanswered (firewall drop, private address)",
       "Allow CloudFront's origin-facing address ranges (managed prefix list) in the firewall or security group."),
    _c("tcp.unreachable", FAIL, "502", 4, "no route to the address",
       "Give the origin a publicly routable address; CloudFront cannot reach private networks without a VPC origin."),
    # --- TLS ---
    _c("tls.not_tls", FAIL, "502", 1, "the port answers, but not with TLS (plain HTTP on the TLS port)",
       "Enable TLS on this port (nginx: 'listen 443 ssl;'), or set the origin protocol policy to HTTP only."),
    _c("tls.protocol_mismatch", FAIL, "502", 2, "no TLS version in common with the profile",
       "Allow TLS 1.2 on the origin (nginx: 'ssl_protocols TLSv1.2 TLSv1.3;')."),
    _c("tls.no_shared_cipher", FAIL, "502", 2,
       "a version in common, but no cipher suite the origin can use with what the CDN offers",
       "Enable an ECDHE-RSA/ECDHE-ECDSA AES-GCM suite on the origin "
       "(nginx: 'ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256;') "
       "and the curves P-256/X25519."),
    _c("tls.sni_rejected", FAIL, "502", 1, "the origin rejects the server name the CDN sends",
       "Add a server block (or listener certificate) for the name the CDN sends as SNI, or a default certificate."),
    _c("tls.client_cert_required", FAIL, "502", 1, "the origin demands a client certificate",
       "Stop requiring client certificates for CloudFront's connections, or configure origin mTLS on the distribution."),
    _c("tls.handshake_failed", FAIL, "502", 1,
       "any other handshake failure, e.g. no signature algorithm in common",
       "Compare the origin's TLS settings with the profile (origin-doctor explain tls.handshake_failed)."),
    _c("tls.handshake_timeout", FAIL, "504", None, "TCP connects, the TLS handshake never completes",
       "Check that the process on the port speaks TLS and is not overloaded; look for a proxy swallowing the hello."),
    # --- certificates ---
    _c("cert.chain_incomplete", FAIL, "502", 3, "an intermediate is missing from what the origin sends",
       "Serve the leaf followed by its intermediate(s): cat leaf.crt intermediate.pem > fullchain.crt "
       "(nginx: ssl_certificate fullchain.crt;). origin-doctor fix-chain builds the file."),
    _c("cert.chain_order", WARN, "ok", 3, "sent in the wrong order (AWS lists it as a 502 cause; s2n and OpenSSL tolerate it)",
       "Serve the leaf first, then each issuer in turn."),
    _c("cert.expired", FAIL, "502", 3, "a certificate in the path has expired",
       "Renew the certificate and reload the origin."),
    _c("cert.not_yet_valid", FAIL, "502", 3, "a certificate in the path is not valid yet",
       "Check the origin's clock and the certificate's notBefore; serve a currently valid certificate."),
    _c("cert.self_signed", FAIL, "502", 3, "the leaf is self-signed",
       "Use a certificate from a CA on Mozilla's list (for example ACM for load balancers, or Let's Encrypt)."),
    _c("cert.untrusted_root", FAIL, "502", 3, "the path ends at a root outside the profile's trust store",
       "Use a certificate that chains to a CA in Mozilla's root program; private CAs are not accepted."),
    _c("cert.name_mismatch", FAIL, "502", 1,
       "the name the CDN checks (origin domain, or the forwarded Host) is not on the certificate",
       "Reissue the certificate with the checked name in its subjectAltName, or change the origin domain."),
    _c("cert.expires_soon", WARN, "ok", None, "a certificate in the path expires within the warning window",
       "Renew the certificate before it expires."),
    _c("cert.weak_key", WARN, "ok", None, "RSA under 2048 bits", "Reissue with an RSA 2048+ or ECDSA P-256 key."),
    _c("cert.weak_signature", WARN, "ok", None, "SHA-1 or weaker signature in the path",
       "Reissue the certificate signed with SHA-256 or better."),
    _c("cert.chain_has_root", INFO, "ok", None, "the origin also sends its root (harmless, wasteful)",
       "Drop the root from the served bundle."),
    _c("cert.chain_extra", WARN, "ok", None, "the origin sends certificates that are not on the path",
       "Serve only the leaf and the intermediates on its path."),
    _c("cert.unparsable", FAIL, "502", 3, "the origin sends a certificate that cannot be parsed",
       "Serve a well-formed PEM/DER certificate chain."),
    _c("cert.rejected", FAIL, "502", 3,
       "the X.509 path verifier rejects the chain for a reason not named by another code",
       "Read the verifier's message in the evidence; reissue the certificate with standard extensions."),
    _c("cert.policy_violation", WARN, "ok", None,
       "the chain breaks a strict web-PKI extension rule that OpenSSL-style clients tolerate",
       "Reissue the certificate with standard extensions (e.g. a non-critical subjectAltName)."),
    # --- HTTP ---
    _c("http.no_response", FAIL, "502", None, "the origin closes the connection without a response",
       "Check the origin's error log for the request; make sure it answers HTTP/1.1 requests for this Host."),
    _c("http.malformed_response", FAIL, "502", None, "the response is not valid HTTP/1.1",
       "Fix the application or proxy that writes the response; the status line and headers must be HTTP/1.1."),
    _c("http.header_too_big", FAIL, "502", None, "response headers over CloudFront's 20,480-byte limit",
       "Shrink the response headers (cookies, CSP, debug headers) below 20,480 bytes."),
    _c("http.read_timeout", FAIL, "504", None, "no response (or a stall) within the origin read timeout",
       "Make the origin answer faster, or raise the distribution's origin response timeout."),
    _c("http.origin_5xx", FAIL, "origin", None, "the origin itself answers 5xx; CloudFront passes it through",
       "Look at the origin application's logs for this request: the error is the origin's, not the CDN's."),
    # --- WebSocket ---
    _c("ws.upgrade_rejected", FAIL, "origin", None, "the WebSocket upgrade is not answered with 101",
       "Proxy the upgrade (nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
       "proxy_set_header Connection \"upgrade\";) and serve the WebSocket on this path."),
    _c("ws.bad_accept", FAIL, "502", None, "101 with a wrong Sec-WebSocket-Accept",
       "Let the WebSocket server compute Sec-WebSocket-Accept; do not rewrite it in a proxy."),
    _c("ws.timeout", FAIL, "504", None, "the upgrade or the first ping got no answer within the deadline",
       "Check that the WebSocket server answers pings and is not stalled behind a buffering proxy."),
    # --- cross-target ---
    _c("fleet.inconsistent_chain", FAIL, None, 3,
       "names or addresses of one site send different chains, and some are broken",
       "Install the good host's chain on the broken ones (origin-doctor fix-chain)."),
    _c("fleet.inconsistent_certificate", WARN, None, None,
       "addresses or names of one site serve different leaf certificates or expiry dates",
       "Deploy the same certificate to every node behind the name."),
    _c("fleet.inconsistent_tls", WARN, None, 2,
       "addresses or names of one site differ in TLS versions or SNI behaviour",
       "Apply the same TLS configuration on every node behind the name."),
    _c("profile.divergent", WARN, None, 2, "works under one CloudFront policy and fails under another",
       "Make the origin accept TLS 1.2 with one of the documented suites, so that both policies work."),
    _c("internal.error", FAIL, None, None, "origin-doctor itself failed on this target (a bug; please report it)",
       "Run again with --debug and report the traceback."),
)

CATALOGUE: dict[str, CodeInfo] = {row.code: row for row in _ROWS}


def register(*rows: CodeInfo) -> None:
    """Add codes owned by another module (edge functions, logs, distribution checks)."""
    for row in rows:
        if row.code in CATALOGUE and CATALOGUE[row.code] != row:
            raise ValueError(f"code {row.code} is already registered differently")
        CATALOGUE[row.code] = row


def info(code: str) -> CodeInfo:
    return CATALOGUE[code]


def finding(code: str, subject: str, summary: str, fix: str | None = None, **evidence: Any) -> Finding:
    """Build a Finding whose severity and stage come from the catalogue."""
    row = CATALOGUE[code]
    return Finding(
        code=code,
        severity=row.severity,
        stage=row.stage,
        subject=subject,
        summary=summary,
        evidence=evidence,
        fix=fix if fix is not None else row.fix,
    )
