#!/usr/bin/env bash
# Install what the checks need into .venv, then run every check: lint, format, the layer
# contracts (import-linter), types (mypy), all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements-dev.txt
# The end-to-end tests drive Debian's chromium; install it when missing and we may.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "== installing chromium for the browser tests"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "== ruff check"; .venv/bin/python -m ruff check .
echo "== ruff format --check"; .venv/bin/python -m ruff format --check .
echo "== lint-imports"; .venv/bin/lint-imports
echo "== mypy"; .venv/bin/python -m mypy
# Three workers (pytest-xdist), each test file on one of them (its module fixtures, such as a
# served app, are made once). Three on 2 cores: the browser tests spend part of their time
# waiting for a page, and a third worker fills it (the whole suite in 12 min 18 s against
# 13 min 50 s to 14 min 6 s with two workers, measured on the same machine).
# --durations: the 15 slowest tests in every run, to see where the time limit is spent.
echo "== pytest"; .venv/bin/python -m pytest -n 3 --dist loadfile --durations=15 "$@"
