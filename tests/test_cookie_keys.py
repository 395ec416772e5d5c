"""The cookie key: every key written in the repository or the login library is refused, so a
cookie forged with one opens nothing; the start script replaces a refused key."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest

from lib.auth import sessions
from lib.auth.keys import (
    AuthConfigError,
    _library_root,
    _text_files,
    ensure_cookie_key,
    refusal,
    strength_bits,
)
from lib.store import Store
from tests.conftest import ROOT

_QUOTED = re.compile(r"""["'`]([^"'`\s]{6,200})["'`]""")
_ASSIGNED = re.compile(r"""(?i)(?:key|secret|signature)\w*\s*[=:]\s*["']?([^"'\s#]{6,200})""")


def repository_keys() -> set[str]:
    """Every string in the repository's and the login library's text files that could be
    used as a key: quoted strings and values assigned to names with key/secret/signature."""
    found: set[str] = set()
    for root in (ROOT, _library_root()):
        for path in _text_files(root):
            if "fixtures" in path.parts or path.stat().st_size > 2_000_000:
                continue
            text = path.read_text(encoding="utf-8", errors="ignore")
            found.update(_QUOTED.findall(text))
            found.update(_ASSIGNED.findall(text))
    return found


def example_key() -> str:
    text = (ROOT / ".streamlit" / "secrets.toml.example").read_text()
    return re.search(r'^cookie_key\s*=\s*"([^"]*)"', text, re.M).group(1)


def test_every_key_in_the_repository_is_refused_and_forges_nothing(tmp_path):
    keys = repository_keys() | {example_key(), "replace-with-a-long-random-string"}
    assert len(keys) > 500  # the scan really read the repository
    accepted = [k for k in keys if refusal(k) is None]
    assert accepted == []
    # and with a real key configured, a cookie forged with any of them opens nothing
    real = secrets.token_urlsafe(48)
    with Store(str(tmp_path / "s.duckdb")) as store:
        now = datetime.now(UTC)
        token = sessions.start(store, "ada", now)
        for k in keys:
            claims = {"username": "ada", "exp_date": time.time() + 9e5}
            for forged in (
                sessions.cookie_value(token, k),  # our format, signed with the public key
                jwt.encode(claims, k or "-", "HS256"),  # the login library's cookie format
            ):
                assert sessions.token_from_cookie(forged, real) is None
        # the genuine cookie still works: the refusals above are not a broken check
        assert sessions.token_from_cookie(sessions.cookie_value(token, real), real) == token


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "missing"),
        ("   ", "missing"),
        ("some_signature_key", "public"),
        ("replace-with-a-long-random-string", "public"),  # the old example's placeholder
        ("short-but-random-Xy7", "short"),
        ("a" * 64, "weak"),
        ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP", "weak"),  # a run
        ("Xy7-Qp2_" * 6, "weak"),  # a repeated block
        ("0123456789" * 4, "weak"),
        ("passwordpasswordpassword12345678", "weak"),
    ],
)
def test_weak_and_public_keys_are_refused(key, why):
    assert refusal(key) == why


def test_random_keys_pass():
    for _ in range(50):
        assert refusal(secrets.token_urlsafe(48)) is None
        assert refusal(secrets.token_hex(32)) is None
    assert strength_bits(secrets.token_urlsafe(48)) > 250


def _secrets_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_start_replaces_a_refused_key_and_keeps_a_good_one(tmp_path, monkeypatch):
    monkeypatch.delenv("TOKENBOARD_COOKIE_KEY", raising=False)
    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text()
    # the example copied as it says, with the placeholder filled in by a careless user
    path = _secrets_file(
        tmp_path,
        example.replace('cookie_key = ""', 'cookie_key = "replace-with-a-long-random-string"'),
    )
    said = ensure_cookie_key(path)
    assert said and "Replaced" in said
    import tomllib

    data = tomllib.loads(path.read_text())
    new = data["auth"]["cookie_key"]
    assert refusal(new) is None
    assert data["TOKENBOARD_DB"] == "data/tokenboard.duckdb"  # the rest is kept
    assert path.stat().st_mode & 0o777 == 0o600
    assert ensure_cookie_key(path) is None  # a good key stays
    assert tomllib.loads(path.read_text())["auth"]["cookie_key"] == new


@pytest.mark.parametrize(
    "text",
    ["", 'TOKENBOARD_DB = "x.duckdb"\n', "[auth]\n# no key yet\n", '[auth]\ncookie_key = ""\n'],
)
def test_start_creates_a_missing_key(tmp_path, monkeypatch, text):
    monkeypatch.delenv("TOKENBOARD_COOKIE_KEY", raising=False)
    path = _secrets_file(tmp_path, text)
    assert "Created" in ensure_cookie_key(path)
    import tomllib

    assert refusal(tomllib.loads(path.read_text())["auth"]["cookie_key"]) is None


def test_start_stops_on_a_refused_key_in_the_environment(tmp_path):
    path = _secrets_file(tmp_path, "")
    env = {"TOKENBOARD_COOKIE_KEY": "some_key", "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "lib.auth.keys", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1
    assert "TOKENBOARD_COOKIE_KEY" in run.stderr and "Traceback" not in run.stderr
    with pytest.raises(AuthConfigError):
        import os

        os.environ["TOKENBOARD_COOKIE_KEY"] = "some_key"
        try:
            ensure_cookie_key(path)
        finally:
            del os.environ["TOKENBOARD_COOKIE_KEY"]


def test_the_start_script_runs_the_key_check():
    text = (ROOT / "scripts" / "start.sh").read_text()
    assert "-m lib.auth.keys" in text
    assert text.index("-m lib.auth.keys") < text.index("streamlit run")
