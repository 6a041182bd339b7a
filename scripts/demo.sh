#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run the built-in demo: local origins that reproduce the incident.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/origin-doctor demo "$@"
