"""The lab's scenario catalogue as data: one row per way an origin can fail (or warn), what the
engine must conclude about it, its healthy twin, and the knobs the lab turns to build it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Needs = Literal["nginx", "peer", "dns", "none"]
LeafKind = Literal[
    "good", "expired", "not_yet_valid", "expires_soon", "rsa1024", "sha1", "ec521",
    "self_signed", "other_name", "untrusted", "expired_ca", "level2",
]
ChainKind = Literal["full", "leaf_only", "wrong_order", "with_root", "with_extra"]
DnsKind = Literal["address", "nxdomain", "no_address", "servfail", "timeout"]

TLS12_13 = ("TLSv1.2", "TLSv1.3")
# Debian's OpenSSL refuses RSA-1024 and SHA-1 certificates at its default security level; an
# old origin runs an OpenSSL that still loads them, which this restores.
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
HEADER_BYTES_OVER_LIMIT = 21_000  # CloudFront's limit is 20,480 bytes of response head
HEADER_BYTES_UNDER_LIMIT = 20_000
RSA_PSS_ONLY = "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512"


@dataclass(frozen=True, slots=True)
class Origin:
    """How the lab builds one origin. Defaults are the healthy origin (www.lab.test)."""

    leaf: LeafKind = "good"
    chain: ChainKind = "full"
    protocols: tuple[str, ...] = TLS12_13
    ciphers: str | None = None
    conf_commands: tuple[tuple[str, str], ...] = ()
    client_cert_required: bool = False
    served_name: str | None = None  # the server block's name, when it is not the scenario's
    reject_unknown_sni: bool = False  # default server answers unknown SNI with a handshake reject
    plain_http: bool = False
    status: int = 200
    share_port_with: str | None = None  # same nginx listener as that scenario, picked by SNI
    peer: str | None = None  # a peers behaviour ("silent", "http_stall", ...) instead of nginx
    peer_tls: bool = True
    peer_header_bytes: int | None = None  # response head size for "http_huge_header"
    closed_port: bool = False
    dns: DnsKind = "address"


@dataclass(frozen=True, slots=True)
class Scenario:
    """One lab origin and the verdict the engine must reach for it (cloudfront profile)."""

    name: str
    description: str
    expect_outcome: str  # "ok", "502", "504", or the origin's own status ("503")
    expect_primary: str | None
    expect_cause: int | None
    expect_codes: tuple[str, ...] = ()  # codes that must also appear (warnings, info)
    twin: str | None = None  # the healthy scenario that differs in one knob
    needs: Needs = "nginx"
    origin: Origin = field(default_factory=Origin)
    websocket_path: str | None = None  # set: the engine also probes a WebSocket upgrade here

    @property
    def expect_generated_by(self) -> str | None:
        if self.expect_outcome == "ok":
            return None
        return "cdn" if self.expect_outcome in ("502", "504") else "origin"


def _row(
    name: str, description: str, outcome: str, primary: str | None, cause: int | None,
    *codes: str, origin: Origin | None = None, twin: str | None = "www.lab.test", needs: Needs = "nginx",
    websocket_path: str | None = None,
) -> Scenario:
    return Scenario(
        name=f"{name}.lab.test", description=description, expect_outcome=outcome, expect_primary=primary,
        expect_cause=cause, expect_codes=codes, twin=twin, needs=needs,
        origin=origin or Origin(),
        websocket_path=websocket_path,
    )


SCENARIOS: tuple[Scenario, ...] = (
    # --- the incident: one nginx address, two names, chosen by SNI ---
    _row("www", "Healthy site: full chain (leaf + R3), TLS 1.2/1.3.", "ok", None, None, twin=None),
    _row("ws", "WebSocket host on the same nginx port as www, but its server block sends only the leaf.",
         "502", "cert.chain_incomplete", 3, websocket_path="/ws",
         origin=Origin(chain="leaf_only", share_port_with="www.lab.test")),
    # --- certificates ---
    _row("expired", "Leaf expired yesterday.", "502", "cert.expired", 3, origin=Origin(leaf="expired")),
    _row("not-yet-valid", "Leaf valid from tomorrow.", "502", "cert.not_yet_valid", 3, origin=Origin(leaf="not_yet_valid")),
    _row("expired-intermediate", "Valid leaf under an intermediate that expired yesterday.",
         "502", "cert.expired", 3, origin=Origin(leaf="expired_ca")),
    _row("self-signed", "Self-signed leaf.", "502", "cert.self_signed", 3, origin=Origin(leaf="self_signed")),
    _row("untrusted-root", "Leaf, 'Unknown CA R1' and its root 'Unknown Root CA', which is outside the trust "
         "store (sending the root keeps this apart from a missing intermediate).",
         "502", "cert.untrusted_root", 3, origin=Origin(leaf="untrusted", chain="with_root")),
    _row("wrong-name", "Certificate for other.lab.test only.", "502", "cert.name_mismatch", 1, origin=Origin(leaf="other_name")),
    _row("wrong-order", "Leaf, Level 1, Level 2: issuers out of order (tolerated by s2n and OpenSSL).",
         "ok", None, None, "cert.chain_order", origin=Origin(leaf="level2", chain="wrong_order")),
    _row("with-root", "Full chain plus the root.", "ok", None, None, "cert.chain_has_root", origin=Origin(chain="with_root")),
    _row("extra-cert", "Full chain plus an unrelated intermediate.", "ok", None, None, "cert.chain_extra", origin=Origin(chain="with_extra")),
    _row("expires-soon", "Leaf expires in 10 days.", "ok", None, None, "cert.expires_soon", origin=Origin(leaf="expires_soon")),
    _row("rsa1024", "RSA-1024 leaf (served by an OpenSSL at security level 0).", "ok", None, None,
         "cert.weak_key", origin=Origin(leaf="rsa1024", ciphers=LEGACY_CIPHERS)),
    _row("sha1", "Leaf signed with SHA-1 (served by an OpenSSL at security level 0).", "ok", None, None,
         "cert.weak_signature", origin=Origin(leaf="sha1", ciphers=LEGACY_CIPHERS)),
    # --- TLS ---
    _row("tls13-only", "nginx allows TLS 1.3 only; CloudFront offers at most TLS 1.2 to origins "
         "(a TLS 1.3 profile such as s2n's 2025 policy would pass).",
         "502", "tls.protocol_mismatch", 2, "profile.divergent", origin=Origin(protocols=("TLSv1.3",))),
    _row("chacha20-only", "TLS 1.2 suites limited to ECDHE-RSA-CHACHA20-POLY1305, which CloudFront does not offer.",
         "502", "tls.no_shared_cipher", 2, origin=Origin(ciphers="ECDHE-RSA-CHACHA20-POLY1305")),
    _row("ecdsa-p521", "ECDSA P-521 leaf; CloudFront offers only P-256, P-384 and X25519.",
         "502", "tls.no_shared_cipher", 2, origin=Origin(leaf="ec521")),
    _row("sni-rejected", "Only a server block for internal.lab.test; the default server rejects other SNI.",
         "502", "tls.sni_rejected", 1, origin=Origin(served_name="internal.lab.test", reject_unknown_sni=True)),
    _row("client-cert", "nginx asks for a client certificate (ssl_verify_client on): the handshake "
         "completes, then nginx answers 400 'No required SSL certificate was sent'.",
         "502", "tls.client_cert_required", 1, origin=Origin(client_cert_required=True)),
    _row("client-cert-strict", "Client certificate enforced in the handshake (OpenSSL VerifyMode Require): "
         "handshake_failure alert after the CertificateRequest.",
         "502", "tls.client_cert_required", 1,
         origin=Origin(client_cert_required=True, conf_commands=(("VerifyMode", "Require"),))),
    _row("rsa-pss-only", "Server signs only with RSA-PSS; CloudFront's TLS 1.2 list has no PSS scheme.",
         "502", "tls.handshake_failed", 1, origin=Origin(conf_commands=(("SignatureAlgorithms", RSA_PSS_ONLY),))),
    _row("plain-http", "Plain HTTP on the port CloudFront reaches with TLS.", "502", "tls.not_tls", 1, origin=Origin(plain_http=True)),
    # --- HTTP from nginx ---
    _row("origin-503", "nginx answers 503 itself; CloudFront passes it through.",
         "503", "http.origin_5xx", None, origin=Origin(status=503)),
    # --- peers: TCP, TLS and HTTP misbehaviour that nginx cannot be told to produce ---
    _row("http-ok", "Healthy TLS peer answering 200.", "ok", None, None, twin=None, needs="peer", origin=Origin(peer="http_ok")),
    _row("no-response", "TLS handshake, then the connection closes without a response.",
         "502", "http.no_response", None, twin="http-ok.lab.test", needs="peer", origin=Origin(peer="http_no_response")),
    _row("malformed", "The response is not HTTP/1.1.", "502", "http.malformed_response", None,
         twin="http-ok.lab.test", needs="peer", origin=Origin(peer="http_malformed")),
    _row("header-under-limit", "Response headers just under 20,480 bytes.", "ok", None, None, twin=None,
         needs="peer", origin=Origin(peer="http_huge_header", peer_header_bytes=HEADER_BYTES_UNDER_LIMIT)),
    _row("huge-header", "Response headers over 20,480 bytes.", "502", "http.header_too_big", None,
         twin="header-under-limit.lab.test", needs="peer",
         origin=Origin(peer="http_huge_header", peer_header_bytes=HEADER_BYTES_OVER_LIMIT)),
    _row("stall", "Headers never arrive within the read timeout.", "504", "http.read_timeout", None,
         twin="http-ok.lab.test", needs="peer", origin=Origin(peer="http_stall")),
    _row("garbage", "The port answers with non-TLS bytes.", "502", "tls.not_tls", 1,
         twin="http-ok.lab.test", needs="peer", origin=Origin(peer="garbage", peer_tls=False)),
    _row("tls-silent", "TCP accepts, the TLS handshake never gets an answer.", "504", "tls.handshake_timeout",
         None, twin="http-ok.lab.test", needs="peer", origin=Origin(peer="silent", peer_tls=False)),
    _row("blackhole", "SYNs unanswered (listen backlog full).", "504", "tcp.timeout", None,
         twin="http-ok.lab.test", needs="peer", origin=Origin(peer="blackhole", peer_tls=False)),
    _row("refused", "Nothing listens on the port.", "502", "tcp.refused", 4,
         twin="http-ok.lab.test", needs="none", origin=Origin(closed_port=True)),
    # --- WebSocket peers ---
    _row("ws-ok", "Healthy WebSocket upgrade and ping.", "ok", None, None, twin=None, needs="peer", websocket_path="/", origin=Origin(peer="ws_ok")),
    _row("ws-bad-accept", "101 with a wrong Sec-WebSocket-Accept.", "502", "ws.bad_accept", None,
         twin="ws-ok.lab.test", needs="peer", websocket_path="/", origin=Origin(peer="ws_bad_accept")),
    # The viewer gets the origin's 400; REPORT.md counts answers below 500 as outcome "ok".
    _row("ws-reject", "The upgrade is answered with 400.", "ok", "ws.upgrade_rejected", None,
         twin="ws-ok.lab.test", needs="peer", websocket_path="/", origin=Origin(peer="ws_reject_400")),
    _row("ws-no-pong", "The upgrade succeeds, pings are never answered.", "504", "ws.timeout", None,
         twin="ws-ok.lab.test", needs="peer", websocket_path="/", origin=Origin(peer="ws_no_pong")),
    # --- DNS, through the lab's name server (the port is the healthy twin's) ---
    _row("resolved", "Resolved by the lab DNS server to 127.0.0.1; healthy nginx origin.", "ok", None, None,
         twin=None, needs="dns"),
    _row("nxdomain", "The name does not exist.", "502", "dns.nxdomain", 5, twin="resolved.lab.test",
         needs="dns", origin=Origin(dns="nxdomain")),
    _row("no-address", "The name exists (TXT) but has no A/AAAA record.", "502", "dns.no_address", 5,
         twin="resolved.lab.test", needs="dns", origin=Origin(dns="no_address")),
    _row("servfail", "The name server answers SERVFAIL.", "502", "dns.servfail", 5, twin="resolved.lab.test",
         needs="dns", origin=Origin(dns="servfail")),
    _row("dns-timeout", "The name server never answers.", "502", "dns.timeout", 5, twin="resolved.lab.test",
         needs="dns", origin=Origin(dns="timeout")),
)

BY_NAME: dict[str, Scenario] = {scenario.name: scenario for scenario in SCENARIOS}


def scenario(name: str) -> Scenario:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no lab scenario named {name!r}") from None
