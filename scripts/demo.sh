#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run the built-in demo: local origins that reproduce the incident.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian installs nginx under /usr/sbin, which a non-login shell may leave off PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
./scripts/setup.sh
exec .venv/bin/origin-doctor demo "$@"
