#!/usr/bin/env bash
# Install what the checks need into .venv, then run every check: lint, format, all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements-dev.txt
echo "== ruff check"; .venv/bin/python -m ruff check .
echo "== ruff format --check"; .venv/bin/python -m ruff format --check .
echo "== pytest"; .venv/bin/python -m pytest "$@"
