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
# A random key to sign login cookies, made once and kept in the git-ignored secrets file.
.venv/bin/python - <<'PY'
import os, pathlib, secrets, tomllib
path = pathlib.Path(".streamlit/secrets.toml")
data = tomllib.loads(path.read_text()) if path.exists() else {}
if not os.environ.get("TOKENBOARD_COOKIE_KEY") and not data.get("auth", {}).get("cookie_key"):
    path.parent.mkdir(exist_ok=True)
    with path.open("a") as fh:
        fh.write(f'\n[auth]\ncookie_key = "{secrets.token_urlsafe(48)}"\n')
    path.chmod(0o600)
    print("Created a cookie key in .streamlit/secrets.toml")
PY
exec .venv/bin/python -m streamlit run app.py "$@"
