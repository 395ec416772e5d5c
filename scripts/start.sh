#!/usr/bin/env bash
# Install the app's dependencies into .venv and start Tokenboard.
# On an empty database the app loads demo data so a newcomer sees a full dashboard. On the
# very first start there are no users: the app asks for a one-time setup token, printed
# below in this terminal, to create the first admin.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt
# The key that signs login cookies: a random one is written into the git-ignored secrets file
# when there is none, or when the one there is refused (public, short or weak); it says so.
.venv/bin/python -m lib.auth.keys .streamlit/secrets.toml
exec .venv/bin/python -m streamlit run app.py "$@"
