"""Seeded generator of realistic CloudFront standard log files for the logs benchmark."""

from __future__ import annotations

import gzip
import random
import string
import time
from pathlib import Path

FIELDS = (
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
    "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header "
    "cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type "
    "cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte "
    "x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end"
)
EDGES = ("SEA19-C2", "FRA56-P3", "IAD89-C1", "NRT57-P2", "LHR61-P1", "CDG52-C3", "GRU1-C1", "SYD62-P1")
HOSTS = ("www.example.com", "api.example.com", "ws.example.com", "static.example.com", "shop.example.com")
PATHS = ("/", "/index.html", "/api/v1/items", "/api/v1/cart", "/socket", "/img/logo%20big.png",
         "/assets/app.js", "/assets/app.css", "/search", "/login")
AGENTS = ("Mozilla/5.0%20(X11;%20Linux%20x86_64)", "curl/8.5.0", "Mozilla/5.0%20(iPhone)", "okhttp/4.12.0")
OK = (("200", "Hit"), ("200", "Miss"), ("200", "RefreshHit"), ("304", "Hit"), ("404", "Error"),
      ("403", "Error"), ("301", "Redirect"))
FAILURES = (("502", "OriginConnectError"), ("502", "OriginDnsError"), ("504", "OriginCommError"),
            ("502", "OriginReadError"), ("503", "Error"), ("502", "Error"))


def _request_id(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    return "".join(rng.choices(alphabet, k=54)) + "=="


def generate(path: Path, lines: int, seed: int = 7, failure_rate: float = 0.02) -> None:
    """Write `lines` log lines (plus headers) to `path`; gzip when the name ends in .gz."""
    rng = random.Random(seed)
    ids = [_request_id(rng) for _ in range(4096)]
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="ascii", newline="\n") as out:  # type: ignore[operator]
        out.write("#Version: 1.0\n#Fields: " + FIELDS + "\n")
        start = 1_764_374_400  # 2025-11-29T00:00:00Z
        span = 86_400
        batch: list[str] = []
        for n in range(lines):
            t = start + n * span // lines
            tm = time.gmtime(t)
            date = f"{tm.tm_year:04d}-{tm.tm_mon:02d}-{tm.tm_mday:02d}"
            clock = f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"
            host = rng.choice(HOSTS)
            failed = rng.random() < failure_rate
            status, detail = rng.choice(FAILURES) if failed else rng.choice(OK)
            result = "Error" if failed or detail == "Error" else detail
            proto = "wss" if host.startswith("ws.") else "https"
            taken = f"{rng.random() * (30 if detail == 'OriginCommError' else 0.4):.3f}"
            batch.append("\t".join((
                date, clock, rng.choice(EDGES), str(rng.randint(300, 90000)),
                f"198.51.100.{rng.randint(1, 254)}", "GET", "d111111abcdef8.cloudfront.net",
                rng.choice(PATHS), status, "-", rng.choice(AGENTS), "-", "-", result,
                ids[n & 4095][:-10] + f"{n:08x}"[-8:] + "==", host, proto, "387", taken, "-", "TLSv1.3",
                "TLS_AES_128_GCM_SHA256", result, "HTTP/1.1" if proto == "wss" else "HTTP/2.0", "-", "-",
                str(rng.randint(1024, 65535)), taken, detail, "text/html", "507", "-", "-",
            )))
            if len(batch) >= 10_000:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
