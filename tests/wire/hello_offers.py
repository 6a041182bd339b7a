"""The offers the hello tests use: CloudFront's documented origin profile, s2n's CloudFront-Upstream
policies, and the code points they must turn into on the wire."""

from __future__ import annotations

from dataclasses import replace

from origin_doctor.probe.hello import HelloOffer

# The 16 suites of AWS's CloudFront -> origin page, in its table order, and their code points.
CLOUDFRONT_SUITES = (
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA",
    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA",
    "AES256-SHA", "AES128-SHA", "DES-CBC3-SHA", "RC4-MD5",
)  # fmt: skip
CLOUDFRONT_SUITE_CODES = [
    0xC02C, 0xC024, 0xC00A, 0xC02B, 0xC023, 0xC009, 0xC030, 0xC028,
    0xC014, 0xC02F, 0xC027, 0xC013, 0x0035, 0x002F, 0x000A, 0x0004,
]  # fmt: skip
# s2n CloudFront-Upstream (19 suites, s2n preference order).
S2N_UPSTREAM_SUITES = (
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
    "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
    "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "AES256-GCM-SHA384", "AES128-GCM-SHA256",
    "AES256-SHA", "AES128-SHA256", "AES128-SHA", "DES-CBC3-SHA", "RC4-MD5",
)  # fmt: skip
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
CLOUDFRONT_GROUPS = ("X25519", "P-256", "P-384")
CLOUDFRONT_SIGALGS = (
    "rsa_pkcs1_sha256", "rsa_pkcs1_sha384", "rsa_pkcs1_sha512", "rsa_pkcs1_sha224",
    "ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "ecdsa_secp521r1_sha512", "ecdsa_sha224",
    "rsa_pkcs1_sha1", "ecdsa_sha1",
)  # fmt: skip
CLOUDFRONT_SIGALG_CODES = [0x0401, 0x0501, 0x0601, 0x0301, 0x0403, 0x0503, 0x0603, 0x0303, 0x0201, 0x0203]
PSS_SIGALGS = ("rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512")
CLOUDFRONT = HelloOffer(
    ("TLSv1", "TLSv1.1", "TLSv1.2"), CLOUDFRONT_SUITES, CLOUDFRONT_GROUPS, CLOUDFRONT_SIGALGS, "origin.test"
)
S2N_UPSTREAM = HelloOffer(
    ("TLSv1", "TLSv1.1", "TLSv1.2"), S2N_UPSTREAM_SUITES, CLOUDFRONT_GROUPS, CLOUDFRONT_SIGALGS, "origin.test"
)
S2N_UPSTREAM_2025 = HelloOffer(
    ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    TLS13_SUITES + S2N_UPSTREAM_SUITES,
    CLOUDFRONT_GROUPS,
    PSS_SIGALGS + CLOUDFRONT_SIGALGS,
    "origin.test",
)
RANDOM = bytes(range(32))


def with_(offer: HelloOffer, **changes: object) -> HelloOffer:
    return replace(offer, **changes)  # type: ignore[arg-type]
