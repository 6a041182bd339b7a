"""The probes' OpenSSL clients: built on pyOpenSSL, but set up as Python's ssl sets up a client."""

from __future__ import annotations

import ssl

from OpenSSL import SSL

from origin_doctor.profile import OPENSSL_MISSING, load_profile, permissive_context, profile_context


def test_the_probe_clients_carry_pythons_client_options() -> None:
    """The OpenSSL options Python's ssl gives a client context (its interoperability workarounds
    among them), less SSLv3, which the version range already excludes, and server preference,
    which only a server reads."""
    python_client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).options
    server_side_only = ssl.OP_NO_SSLv3 | ssl.OP_CIPHER_SERVER_PREFERENCE
    # fresh contexts: pyOpenSSL refuses set_options(), even of nothing, on one already in use
    for context in (permissive_context.__wrapped__(), profile_context.__wrapped__(load_profile("cloudfront"))):
        assert context.set_options(0) == python_client & ~server_side_only


def test_the_profile_client_offers_exactly_the_profiles_suites_that_openssl_has() -> None:
    """OpenSSL silently drops suites it lacks from a cipher string; the profile client must offer
    every other TLS 1.2 suite of the profile and nothing else (TLS 1.3 suites aside)."""
    for name in ("cloudfront", "cloudfront-2025"):
        profile = load_profile(name)
        offered = SSL.Connection(profile_context(profile), None).get_cipher_list()
        tls12 = {suite for suite in offered if not suite.startswith("TLS_")}
        assert tls12 == set(profile.tls12_suites) - OPENSSL_MISSING, name
