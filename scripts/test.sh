#!/usr/bin/env bash
# The test command: set up everything (scripts/setup.sh), lint, type-check, then run the tests
# in parallel. The tests start their own servers (nginx, TLS peers, a DNS server) on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian installs nginx under /usr/sbin, which a non-login shell may leave off PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
./scripts/setup.sh
.venv/bin/ruff check src tests
.venv/bin/mypy
.venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" -q "$@"
