#!/usr/bin/env bash
# Everything a fresh machine needs: Debian packages (nginx for the lab and tests) and a virtualenv
# in .venv with origin-doctor and its test tools. Safe to run again; it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian installs nginx under /usr/sbin, which a non-login shell may leave off PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

missing=()
while read -r pkg bin; do
  [ -z "$pkg" ] || [ "${pkg#\#}" != "$pkg" ] && continue
  command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
done < scripts/debian-packages.txt
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts the packaged nginx on port 80; the lab runs its own instances, so stop that one.
  $SUDO systemctl stop nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
