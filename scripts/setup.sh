#!/usr/bin/env bash
# Set up everything Vigil needs on a fresh Debian machine, idempotently.
#   scripts/setup.sh          the demo: system libraries for PDF rendering + Python venv
#   scripts/setup.sh --test   also PostgreSQL 15 + PostGIS, Chromium, poppler (for the tests)
# Installs only from Debian packages and PyPI. Safe to run again: skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-demo}"
debs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [[ "$mode" == "--test" ]]; then
  debs+=(postgresql-15 postgresql-15-postgis-3 chromium poppler-utils)
fi

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PY="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.vigil-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
echo "setup: ready"
