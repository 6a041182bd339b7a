"""Side-by-side throughput of `origin-doctor logs`, GoAccess and awk on one generated CloudFront log.

    python bench/logs_bench.py                 # 5,000,000 lines (seeded), plain text
    python bench/logs_bench.py --lines 1000000

Each tool runs as a subprocess under /usr/bin/time -v (wall time measured here, peak RSS from time).
Installs GoAccess (Debian package `goaccess`) with apt-get when it is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from logs_gen import generate  # noqa: E402


@dataclass
class Run:
    tool: str
    seconds: float
    peak_rss_mb: float
    output: str


def measure(tool: str, argv: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> Run:
    """Run under /usr/bin/time -v: a small parent, so the peak RSS is the tool's own (a fork of this
    Python process would carry this process's high-water mark into the child's rusage)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-v", *argv], stdout=out, stderr=subprocess.PIPE, env=env)
        seconds = time.perf_counter() - started
        report = done.stderr.decode(errors="replace")
        if done.returncode not in ok:
            raise SystemExit(f"{tool} failed ({done.returncode}): {report[-800:]}")
        peak_kb = next(int(line.split(":")[1]) for line in report.splitlines()
                       if "Maximum resident set size" in line)  # fmt: skip
        out.seek(0)
        return Run(tool, seconds, peak_kb / 1024, out.read().decode(errors="replace"))


def ensure_goaccess() -> str:
    found = shutil.which("goaccess")
    if found:
        return found
    print("installing goaccess with apt-get ...", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "goaccess"], check=True)
    found = shutil.which("goaccess")
    if not found:
        raise SystemExit("goaccess still missing after apt-get install")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "origin-doctor-bench")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    log = args.workdir / f"cloudfront-{args.lines}-{args.seed}.log"
    if not log.exists():
        started = time.perf_counter()
        generate(log.with_suffix(".tmp"), args.lines, seed=args.seed)
        log.with_suffix(".tmp").rename(log)
        print(f"generated {log} ({log.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    goaccess = ensure_goaccess()
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    runs = [
        measure("origin-doctor logs", [sys.executable, "-m", "origin_doctor", "logs", str(log), "--json"],
                env=env, ok=(0, 1)),  # fmt: skip
        measure("goaccess (CLOUDFRONT)", [goaccess, str(log), "--log-format=CLOUDFRONT", "--no-global-config",
                                          "-o", str(args.workdir / "goaccess.json")]),  # fmt: skip
        measure("awk 5xx count", ["awk", "-F\t", "$9 ~ /^5/ {n++} END {print n+0}", str(log)]),
    ]
    ours = json.loads(runs[0].output)["failures"]["total_5xx"]
    awk_count = int(runs[2].output.strip())
    if ours != awk_count:
        raise SystemExit(f"5xx counts differ: origin-doctor {ours}, awk {awk_count}")
    base = runs[1].seconds
    print(f"\n{args.lines:,} lines, {log.stat().st_size / 1e6:.0f} MB, 5xx: {ours:,} (awk agrees)")
    print(f"{'tool':<24}{'seconds':>9}{'lines/s':>12}{'peak RSS MB':>13}{'speed vs goaccess':>19}")
    for run in runs:
        rate = args.lines / run.seconds
        print(f"{run.tool:<24}{run.seconds:>9.2f}{rate:>12,.0f}{run.peak_rss_mb:>13.1f}{base / run.seconds:>18.2f}x")


if __name__ == "__main__":
    main()
