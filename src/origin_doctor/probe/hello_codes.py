"""TLS code points the hello probe speaks, as data: versions, cipher suites, groups, signature
schemes, alerts. Source: IANA "Transport Layer Security (TLS) Parameters" registry
(https://www.iana.org/assignments/tls-parameters/); OpenSSL-style suite names as `openssl ciphers -V`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

TLS_VERSIONS: Final = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
VERSION_CODES: Final[dict[str, int]] = {
    "SSLv3": 0x0300,  # RFC 6101
    "TLSv1": 0x0301,  # RFC 2246
    "TLSv1.1": 0x0302,  # RFC 4346
    "TLSv1.2": 0x0303,  # RFC 5246
    "TLSv1.3": 0x0304,  # RFC 8446
}
VERSION_NAMES: Final = {code: name for name, code in VERSION_CODES.items()}

# (name, code point, key exchange). Names are OpenSSL's for TLS <= 1.2 and IANA's for TLS 1.3.
# The key exchange says how to read a TLS 1.2 ServerKeyExchange: "ECDHE", "DHE", "RSA" (none sent)
# or "TLS13" (not used with TLS <= 1.2).
# Covered: the 16 suites AWS documents for CloudFront -> origin, the 19 of s2n's
# CloudFront-Upstream policy, the TLS 1.3 suites, and common extras so that a server's choice
# can be named (CHACHA20, DHE, static-RSA GCM/SHA256, RC4-SHA, 3DES variants, CCM for TLS 1.3).
CIPHER_SUITES: Final[tuple[tuple[str, int, str], ...]] = (
    ("TLS_AES_128_GCM_SHA256", 0x1301, "TLS13"),
    ("TLS_AES_256_GCM_SHA384", 0x1302, "TLS13"),
    ("TLS_CHACHA20_POLY1305_SHA256", 0x1303, "TLS13"),
    ("TLS_AES_128_CCM_SHA256", 0x1304, "TLS13"),
    ("TLS_AES_128_CCM_8_SHA256", 0x1305, "TLS13"),
    ("ECDHE-ECDSA-AES256-GCM-SHA384", 0xC02C, "ECDHE"),
    ("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ECDHE"),
    ("ECDHE-ECDSA-AES256-SHA384", 0xC024, "ECDHE"),
    ("ECDHE-ECDSA-AES128-SHA256", 0xC023, "ECDHE"),
    ("ECDHE-ECDSA-AES256-SHA", 0xC00A, "ECDHE"),
    ("ECDHE-ECDSA-AES128-SHA", 0xC009, "ECDHE"),
    ("ECDHE-ECDSA-DES-CBC3-SHA", 0xC008, "ECDHE"),
    ("ECDHE-ECDSA-RC4-SHA", 0xC007, "ECDHE"),
    ("ECDHE-ECDSA-CHACHA20-POLY1305", 0xCCA9, "ECDHE"),
    ("ECDHE-RSA-AES256-GCM-SHA384", 0xC030, "ECDHE"),
    ("ECDHE-RSA-AES128-GCM-SHA256", 0xC02F, "ECDHE"),
    ("ECDHE-RSA-AES256-SHA384", 0xC028, "ECDHE"),
    ("ECDHE-RSA-AES128-SHA256", 0xC027, "ECDHE"),
    ("ECDHE-RSA-AES256-SHA", 0xC014, "ECDHE"),
    ("ECDHE-RSA-AES128-SHA", 0xC013, "ECDHE"),
    ("ECDHE-RSA-DES-CBC3-SHA", 0xC012, "ECDHE"),
    ("ECDHE-RSA-RC4-SHA", 0xC011, "ECDHE"),
    ("ECDHE-RSA-CHACHA20-POLY1305", 0xCCA8, "ECDHE"),
    ("DHE-RSA-AES256-GCM-SHA384", 0x009F, "DHE"),
    ("DHE-RSA-AES128-GCM-SHA256", 0x009E, "DHE"),
    ("DHE-RSA-AES256-SHA256", 0x006B, "DHE"),
    ("DHE-RSA-AES128-SHA256", 0x0067, "DHE"),
    ("DHE-RSA-AES256-SHA", 0x0039, "DHE"),
    ("DHE-RSA-AES128-SHA", 0x0033, "DHE"),
    ("EDH-RSA-DES-CBC3-SHA", 0x0016, "DHE"),
    ("DHE-RSA-CHACHA20-POLY1305", 0xCCAA, "DHE"),
    ("AES256-GCM-SHA384", 0x009D, "RSA"),
    ("AES128-GCM-SHA256", 0x009C, "RSA"),
    ("AES256-SHA256", 0x003D, "RSA"),
    ("AES128-SHA256", 0x003C, "RSA"),
    ("AES256-SHA", 0x0035, "RSA"),
    ("AES128-SHA", 0x002F, "RSA"),
    ("DES-CBC3-SHA", 0x000A, "RSA"),
    ("RC4-SHA", 0x0005, "RSA"),
    ("RC4-MD5", 0x0004, "RSA"),
)
CIPHER_CODES: Final = {name: code for name, code, _ in CIPHER_SUITES}
CIPHER_NAMES: Final = {code: name for name, code, _ in CIPHER_SUITES}
CIPHER_KEY_EXCHANGE: Final = {code: kex for _, code, kex in CIPHER_SUITES}

# Supported groups (RFC 8422, RFC 7919, RFC 8446, draft-kwiatkowski-tls-ecdhe-mlkem).
GROUP_CODES: Final[dict[str, int]] = {
    "P-256": 0x0017,
    "P-384": 0x0018,
    "P-521": 0x0019,
    "X25519": 0x001D,
    "X448": 0x001E,
    "ffdhe2048": 0x0100,
    "ffdhe3072": 0x0101,
    "ffdhe4096": 0x0102,
    "ffdhe6144": 0x0103,
    "ffdhe8192": 0x0104,
    "X25519MLKEM768": 0x11EC,
}
GROUP_NAMES: Final = {code: name for name, code in GROUP_CODES.items()}
GROUP_ALIASES: Final = {
    "secp256r1": "P-256",
    "prime256v1": "P-256",
    "secp384r1": "P-384",
    "secp521r1": "P-521",
    "x25519": "X25519",
    "x448": "X448",
}

# SignatureScheme (RFC 8446 4.2.3) plus the TLS 1.2 hash/signature pairs RFC 5246 7.4.1.4.1 allows.
SIGNATURE_CODES: Final[dict[str, int]] = {
    "rsa_pkcs1_sha1": 0x0201,
    "ecdsa_sha1": 0x0203,
    "rsa_pkcs1_sha224": 0x0301,
    "ecdsa_sha224": 0x0303,
    "rsa_pkcs1_sha256": 0x0401,
    "ecdsa_secp256r1_sha256": 0x0403,
    "rsa_pkcs1_sha384": 0x0501,
    "ecdsa_secp384r1_sha384": 0x0503,
    "rsa_pkcs1_sha512": 0x0601,
    "ecdsa_secp521r1_sha512": 0x0603,
    "rsa_pss_rsae_sha256": 0x0804,
    "rsa_pss_rsae_sha384": 0x0805,
    "rsa_pss_rsae_sha512": 0x0806,
    "ed25519": 0x0807,
    "ed448": 0x0808,
    "rsa_pss_pss_sha256": 0x0809,
    "rsa_pss_pss_sha384": 0x080A,
    "rsa_pss_pss_sha512": 0x080B,
    "dsa_sha1": 0x0202,
    "dsa_sha256": 0x0402,
}
SIGNATURE_NAMES: Final = {code: name for name, code in SIGNATURE_CODES.items()}

# AlertDescription (RFC 8446 6, RFC 5246 7.2, RFC 6066, RFC 7507).
ALERT_NAMES: Final[dict[int, str]] = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    21: "decryption_failed",
    22: "record_overflow",
    30: "decompression_failure",
    40: "handshake_failure",
    41: "no_certificate",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    60: "export_restriction",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    110: "unsupported_extension",
    111: "certificate_unobtainable",
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    114: "bad_certificate_hash_value",
    115: "unknown_psk_identity",
    116: "certificate_required",
    120: "no_application_protocol",
    121: "ech_required",
}

HANDSHAKE_NAMES: Final[dict[int, str]] = {
    0: "HelloRequest",
    1: "ClientHello",
    2: "ServerHello",
    4: "NewSessionTicket",
    8: "EncryptedExtensions",
    11: "Certificate",
    12: "ServerKeyExchange",
    13: "CertificateRequest",
    14: "ServerHelloDone",
    15: "CertificateVerify",
    16: "ClientKeyExchange",
    20: "Finished",
    22: "CertificateStatus",
}

# Record content types (RFC 8446 5.1) and the extension types the probe sends or reads.
CONTENT_CHANGE_CIPHER_SPEC, CONTENT_ALERT, CONTENT_HANDSHAKE, CONTENT_APPLICATION_DATA = 20, 21, 22, 23
EXT_SERVER_NAME, EXT_SUPPORTED_GROUPS, EXT_EC_POINT_FORMATS = 0x0000, 0x000A, 0x000B
EXT_SIGNATURE_ALGORITHMS, EXT_EXTENDED_MASTER_SECRET = 0x000D, 0x0017
EXT_SUPPORTED_VERSIONS, EXT_PSK_MODES, EXT_KEY_SHARE = 0x002B, 0x002D, 0x0033
EXT_RENEGOTIATION_INFO = 0xFF01


def name_or_hex(table: dict[int, str], code: int) -> str:
    """The registry name of a code point, or `0xNNNN` when this table does not know it."""
    return table.get(code, f"0x{code:04X}")


def codes_for(names: Iterable[str], table: dict[str, int], what: str) -> list[int]:
    """Code points for names, in order; ValueError names the first unknown one."""
    codes = []
    for name in names:
        if name not in table:
            raise ValueError(f"unknown {what}: {name!r}")
        codes.append(table[name])
    return codes
