#!/usr/bin/env bash
# The whole check, as CI runs it: install what is needed, then format check, lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(scripts/bootstrap.sh --dev | tail -n 1)
export OMP_THREAD_LIMIT=1
echo "== ruff format --check"; "$UV" run --frozen ruff format --check src tests bench samples scripts
echo "== ruff check";          "$UV" run --frozen ruff check src tests bench samples scripts
echo "== mypy";                "$UV" run --frozen mypy
echo "== pytest"
# pytest exits 5 when no test was collected: that is a failure here too.
"$UV" run --frozen pytest -q "$@"
