#!/usr/bin/env bash
# Refresh the screenshots of docs/service-guide.md: Chromium over a seeded season, each role's
# pages, 1000 px wide palette PNGs written to docs/img/guide-*.png (tests/web/test_service_guide.py,
# which checks each page shows the season before it is photographed). Needs scripts/setup.sh --test.
set -euo pipefail
cd "$(dirname "$0")/.."
source .venv/bin/activate
VIGIL_GUIDE_IMG="$PWD/docs/img" python -m pytest -n 0 -q tests/web/test_service_guide.py "$@"
