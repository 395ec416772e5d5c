"""Retention frees space inside the file; ``compact`` gives it back to the disk. Measured on 90
days of demo data (about 100,000 request rows), 32 days kept: the CHECKPOINT after the delete
leaves the file about as large (DuckDB reuses freed blocks; here the rows share row groups with
kept ones), the compacted file is smaller, with the same rows, contents and totals."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from lib.demo import load_demo
from lib.ingest import retention
from lib.store import Store
from lib.store.facts import checkpoint
from tests.conftest import run_cli
from tests.test_backup import contents

END = datetime(2026, 11, 30, tzinfo=UTC)


def on_disk(path: str) -> int:
    wal = path + ".wal"
    return os.path.getsize(path) + (os.path.getsize(wal) if os.path.exists(wal) else 0)


@pytest.mark.slow
def test_compact_after_retention_shrinks_the_file(tmp_path):
    db = str(tmp_path / "big.duckdb")
    with Store(db) as s:
        load_demo(s, days=90, scale=2.0, end=END)
        checkpoint(s)
        rows = s.scalar("SELECT count(*) FROM request_events")
        result = retention.apply(s, 32, role="admin", actor="ada", now=END)
        assert result.plan.rows > rows / 2  # 58 of the 90 days go
        kept = contents(s)
    after_retention = on_disk(db)
    summary = run_cli("summary", "--json", "--db", db)
    done = run_cli("compact", "--db", db)
    assert done.returncode == 0, done.stderr
    compacted = on_disk(db)
    print(f"\nrequest rows {rows:,}, removed {result.plan.rows:,}; file {result.bytes_before:,} B "
          f"before retention, {after_retention:,} B after it, {compacted:,} B compacted")  # fmt: skip
    assert compacted < after_retention * 0.9
    with Store(db) as s:
        assert contents(s) == kept
    again = run_cli("summary", "--json", "--db", db)
    assert json.loads(again.stdout) == json.loads(summary.stdout)


def test_compact_refuses_what_is_not_a_local_file(tmp_path):
    done = run_cli("compact", "--db", str(tmp_path / "missing.duckdb"))
    assert done.returncode == 1 and "There is no database file" in done.stderr
    assert "Traceback" not in done.stderr
