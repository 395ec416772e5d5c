"""Shared fixtures: a real DuckDB file per test, the fixture files, small helpers."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from lib.store import Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "test.duckdb")


@pytest.fixture
def store(db_path: str):
    s = Store(db_path)
    yield s
    s.close()


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def write(tmp_path: Path, name: str, content: str | bytes | object) -> str:
    """Write a file for one test; dicts and lists become JSON."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return str(path)


def snapshot(store: Store) -> dict[str, object]:
    """Everything an import could change, to prove a failed one changed nothing."""
    out: dict[str, object] = {}
    for table in (
        "request_events",
        "usage_buckets",
        "cost_items",
        "bucket_coverage",
        "agg_hourly",
        "agg_user_daily",
        "agg_error_hourly",
    ):
        out[table] = store.query(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM {table}")[0]
    out["imports_ok"] = store.scalar("SELECT count(*) FROM imports WHERE status = 'ok'")
    return out


def older_copy(store: Store, path: str, version: int) -> str:
    """A database at ``path`` migrated up to ``version`` only, holding ``store``'s request
    events (and the error events and latency histogram by key and hour it holds once its schema
    has them; as rows stored before the later migrations): opening it with ``Store`` runs the
    migrations after ``version`` over them."""
    import duckdb

    from lib.store.migrations import MIGRATIONS

    con = duckdb.connect(path)
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, description VARCHAR, "
                "applied_at TIMESTAMPTZ NOT NULL)")  # fmt: skip
    for v, description, sql in MIGRATIONS:
        if v <= version:
            con.execute(sql)
            con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [v, description])
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    # and the tables later migrations build from: error_events (26), the key histogram (27)
    for table in ("request_events", "error_events", "agg_latency_key_hourly"):
        if table not in tables:
            continue
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        with store.read() as cur:
            rows = cur.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
        if rows:
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})", rows)
    con.close()
    return path


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m lib.cli`` in a child process from the project root."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "lib.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
    )


def openai_buckets(buckets: dict[int, list[dict]], width: int = 86400) -> dict:
    """An OpenAI usage/costs API page: {bucket start (Unix s): results of that bucket}."""
    return {
        "object": "page",
        "has_more": False,
        "next_page": None,
        "data": [
            {"object": "bucket", "start_time": s, "end_time": s + width, "results": list(r)}
            for s, r in sorted(buckets.items())
        ],
    }


def openai_page(*results: dict, start: int = 1730419200, width: int = 86400) -> dict:
    """One OpenAI usage/costs API page with a single bucket holding ``results``."""
    return openai_buckets({start: list(results)}, width)


PASSWORDS = {"ada": "admin-password-1", "ana": "analyst-password-1", "vic": "viewer-password-1"}
ROLES_OF = {"ada": "admin", "ana": "analyst", "vic": "viewer"}
COOKIE_KEY = secrets.token_urlsafe(48)  # random per run: a key written in the repo is refused


def write_users(path: Path) -> Path:
    """A users file with one admin, one analyst and one viewer (cheap bcrypt rounds)."""
    import bcrypt
    import yaml

    users = {
        u: {"name": u.capitalize(), "email": f"{u}@example.com", "roles": [ROLES_OF[u]],
            "password": bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}
        for u, p in PASSWORDS.items()
    }  # fmt: skip
    path.write_text(yaml.safe_dump({"credentials": {"usernames": users}}), encoding="utf-8")
    return path


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """Environment for AppTest: its own database, users file and cookie key; no demo data."""
    db = str(tmp_path / "app.duckdb")
    monkeypatch.setenv("TOKENBOARD_DB", db)
    monkeypatch.setenv("TOKENBOARD_USERS", str(write_users(tmp_path / "users.yaml")))
    monkeypatch.setenv("TOKENBOARD_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.setenv("TOKENBOARD_DEMO", "0")
    # no background worker in AppTests (a test that wants it turns it on), no status page polled
    monkeypatch.setenv("TOKENBOARD_WORKER", "0")
    monkeypatch.setenv("TOKENBOARD_STATUS_PAGES", "none")
    return db


def app_test(script: str = "app.py"):
    """An AppTest of the whole app (entry point app.py) that will open ``script``."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if script != "app.py":
        at.switch_page(script)
    return at


def shown(markdown: str) -> str:
    """The text a reader sees in Markdown made with ``lib.ui.markup.md``: escapes removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def submit(at, values: dict[str, str], button: str):
    """Type ``values`` ({label: text}) into the text inputs of those labels, click the button
    labelled ``button`` and run; returns the AppTest after the rerun."""
    fields = {t.label: t for t in at.text_input}
    for label, value in values.items():
        fields[label].input(value)
    next(b for b in at.button if b.label == button).click()
    return at.run()


def login(at, username: str, password: str | None = None, lang: str = "en"):
    """Fill and submit the login form (its words in ``lang``); returns the AppTest after the
    rerun."""
    from lib.i18n.catalog import translate

    at.run()
    password = password if password is not None else PASSWORDS[username]
    words = {translate("Username", lang): username, translate("Password", lang): password}
    return submit(at, words, translate("Log in", lang))
