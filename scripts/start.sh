#!/usr/bin/env bash
# Install the app's dependencies into .venv and start Tokenboard.
# On an empty database the app loads demo data so a newcomer sees a full dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
