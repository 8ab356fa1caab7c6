#!/usr/bin/env bash
# One command for a fresh machine: set up, import London 2022, summarise, forecast, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export VIGIL_DATA_DIR="${VIGIL_DATA_DIR:-$PWD/vigil-data}"
source .venv/bin/activate
python -m vigil.demo "$@"
