#!/usr/bin/env bash
# One command for a fresh machine: set up (PostgreSQL, Chromium, venv) and run every check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
source .venv/bin/activate
echo "== ruff"
ruff check src tests benchmarks
ruff format --check src tests benchmarks
echo "== mypy (library and domain layers)"
mypy
echo "== pytest"
set +e
# In parallel (one PostgreSQL server per worker, each started by the fixtures; tests sharing a
# costly fixture grouped on one worker: --dist loadgroup in pyproject); pass -n 0 to
# run serially, e.g. under a debugger.
python -m pytest -n "${VIGIL_TEST_WORKERS:-auto}" "$@"
rc=$?
set -e
# pytest's 5 means "no tests collected": that is a failure of the suite, not a pass.
exit $rc
