"""Shared fixtures: a real DuckDB file per test, the fixture files, small helpers."""

from __future__ import annotations

import json
import os
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
