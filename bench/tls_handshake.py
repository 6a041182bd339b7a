"""CPU per TLS handshake: Python's `ssl` (the system OpenSSL) against pyOpenSSL (cryptography's own
OpenSSL build, which the probes use), side by side in one run on the same loopback nginx endpoints.

    PYTHONPATH=src python bench/tls_handshake.py [--endpoints 300] [--rounds 5]

Each round does one sequential pass per library over the same endpoints (blocking sockets, no
verification, TLS 1.2 at most as the `cloudfront` profile, the chain read back as DER) and measures
the process CPU of the pass; the libraries alternate within a round. Prints CPU per handshake and
the per-round ratio. The endpoints are scan_bench's: ECDSA leaves under one RSA intermediate.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import ssl
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_bench import start_fleet  # noqa: E402  (a sibling script, not a package)

Endpoints = list[tuple[str, int]]
_FIVE_SECONDS = struct.pack("ll", 5, 0)


def blocking_with_deadline(raw: socket.socket) -> socket.socket:
    """pyOpenSSL wants a blocking socket; the kernel's send and receive timeouts keep a deadline."""
    raw.settimeout(None)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _FIVE_SECONDS)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _FIVE_SECONDS)
    return raw


def stdlib_pass(targets: Endpoints) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    for name, port in targets:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname=name) as tls:
            chain = tls._sslobj.get_unverified_chain()  # type: ignore[attr-defined]  # public from 3.13
            assert [c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]


def pyopenssl_pass(targets: Endpoints) -> None:
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_verify(SSL.VERIFY_NONE)
    context.set_max_proto_version(SSL.TLS1_2_VERSION)
    for name, port in targets:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            tls = SSL.Connection(context, blocking_with_deadline(raw))
            tls.set_tlsext_host_name(name.encode("ascii"))
            tls.set_connect_state()
            tls.do_handshake()
            chain = tls.get_peer_cert_chain(as_cryptography=True) or []
            assert [c.public_bytes(serialization.Encoding.DER) for c in chain]
            tls.shutdown()


def cpu_per_handshake(run: Callable[[Endpoints], None], targets: Endpoints) -> float:
    started = time.process_time()
    run(targets)
    return (time.process_time() - started) / len(targets) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tls-bench-"))
    server, targets, _ = start_fleet(work, args.endpoints, 8)
    try:
        stdlib_pass(targets[:20])  # warm both paths up
        pyopenssl_pass(targets[:20])
        ratios, stdlib_us, pyopenssl_us = [], [], []
        for round_number in range(args.rounds):
            passes = [("stdlib", stdlib_pass), ("pyopenssl", pyopenssl_pass)]
            if round_number % 2:
                passes.reverse()
            measured = {label: cpu_per_handshake(run, targets) for label, run in passes}
            stdlib_us.append(measured["stdlib"])
            pyopenssl_us.append(measured["pyopenssl"])
            ratios.append(measured["pyopenssl"] / measured["stdlib"])
            print(f"round {round_number + 1}: ssl {measured['stdlib']:.0f} us, pyOpenSSL {measured['pyopenssl']:.0f} us "
                  f"CPU per handshake (ratio {ratios[-1]:.2f})")
        print(f"median: ssl {statistics.median(stdlib_us):.0f} us, pyOpenSSL {statistics.median(pyopenssl_us):.0f} us, "
              f"pyOpenSSL/ssl {statistics.median(ratios):.2f}")
        print(f"ssl links {ssl.OPENSSL_VERSION}; pyOpenSSL runs {SSL.OpenSSL_version(SSL.OPENSSL_VERSION).decode()}")
    finally:
        server.stop()  # type: ignore[attr-defined]
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
