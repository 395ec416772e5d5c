"""The store (migrations, locking, configuration) and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from lib.config import resolve_db_path
from lib.errors import DatabaseBusyError, StoreError
from lib.store import Store
from lib.store.migrations import MIGRATIONS
from tests.conftest import ROOT, fixture, run_cli

SUMMARY_KEYS = {
    "rows",
    "requests",
    "errors",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "stated_cost_usd",
    "estimated_cost_usd",
    "billed_other_currencies",  # per ISO code, never added to the USD figures
}


def test_migrations_are_applied_once_and_recorded(db_path):
    with Store(db_path) as s:
        assert s.schema_version() == MIGRATIONS[-1][0]
        assert s.scalar("SELECT count(*) FROM prices") > 30
    with Store(db_path) as s:  # reopening applies nothing twice
        assert s.scalar("SELECT count(*) FROM schema_version") == len(MIGRATIONS)
        assert s.scalar("SELECT count(*) FROM prices WHERE model = 'gpt-4o-mini'") == 1


def test_database_location_order(monkeypatch, tmp_path):
    monkeypatch.delenv("TOKENBOARD_DB", raising=False)
    assert resolve_db_path("x.duckdb") == "x.duckdb"
    monkeypatch.setenv("TOKENBOARD_DB", "md:team_db")
    assert resolve_db_path(None) == "md:team_db"  # used as given
    assert resolve_db_path("y.duckdb") == "y.duckdb"


def test_read_only_store_refuses_writes(db_path):
    Store(db_path).close()
    with (
        Store(db_path, read_only=True) as s,
        pytest.raises(StoreError, match="read-only"),
        s.write(),
    ):
        pass


def test_write_errors_are_wrapped_and_rolled_back(store):
    with pytest.raises(StoreError, match="failed"), store.write() as cur:
        cur.execute("INSERT INTO settings VALUES ('a', 'b')")
        cur.execute("SELECT * FROM no_such_table")
    assert store.scalar("SELECT count(*) FROM settings") == 0


HOLDER = """
import sys, time
from lib.store import Store
s = Store(sys.argv[1])
print("ready", flush=True)
time.sleep(60)
"""


def test_a_database_held_by_another_process_gets_a_plain_message(db_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db_path], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseBusyError) as info:
            Store(db_path)
        msg = str(info.value)
        assert f"process {holder.pid}" in msg and "--db" in msg and "Data page" in msg
        cli = run_cli("import", fixture("generic_requests.jsonl"), "--db", db_path)
        assert cli.returncode == 1
        assert "Traceback" not in cli.stderr
        assert cli.stderr.count("\n") == 1 and cli.stderr.startswith("error: The database")
    finally:
        holder.kill()
        holder.wait()


def test_cli_import_summary_imports_undo(db_path):
    r = run_cli(
        "import",
        fixture("openai_usage_completions.json"),
        fixture("openai_costs.json"),
        "--db",
        db_path,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and "import #1" in lines[0] and "openai_costs" in lines[1]
    assert "recognised" in r.stderr  # progress goes to stderr
    s = run_cli("summary", "--json", "--db", db_path)
    data = json.loads(s.stdout)
    assert set(data) == SUMMARY_KEYS
    assert data == {
        "rows": 5,
        "requests": 8,
        "errors": None,
        "input_tokens": 3000,
        "cached_input_tokens": 200,
        "output_tokens": 1500,
        "stated_cost_usd": "1.00",
        "estimated_cost_usd": "0.007935",
        "billed_other_currencies": {},
    }
    text = run_cli("summary", "--db", db_path).stdout
    assert "Stated cost (USD):    1.00" in text and "openai: openai_usage" in text
    hist = run_cli("imports", "--db", db_path).stdout
    assert "openai_usage" in hist and "openai_costs" in hist
    u = run_cli("undo", "2", "--db", db_path)
    assert u.returncode == 0 and "3 rows removed" in u.stdout
    assert (
        json.loads(run_cli("summary", "--json", "--db", db_path).stdout)["stated_cost_usd"] is None
    )


def test_cli_failed_file_exits_non_zero_with_one_line(db_path):
    r = run_cli(
        "import",
        fixture("generic_requests.jsonl"),
        fixture("bad_number.csv"),
        "--db",
        db_path,
        "--quiet",
    )
    assert r.returncode == 1
    assert r.stdout.count("import #") == 1  # the good file still imported
    assert r.stderr.strip().splitlines() == [
        "error: bad_number.csv, line 3, field 'input_tokens': a value cannot be read; found 'abc'; "
        "expected a whole number ≥ 0"
    ]


def test_cli_empty_database_summary_is_all_null(db_path):
    data = json.loads(run_cli("summary", "--json", "--db", db_path).stdout)
    empty = {"rows": 0, "billed_other_currencies": {}}
    assert data == {k: empty.get(k) for k in SUMMARY_KEYS}


def test_cli_uses_tokenboard_db_from_environment(tmp_path):
    path = str(tmp_path / "env.duckdb")
    r = run_cli("import", fixture("generic_requests.jsonl"), env={"TOKENBOARD_DB": path})
    assert r.returncode == 0, r.stderr
    assert json.loads(run_cli("summary", "--json", "--db", path).stdout)["requests"] == 2


def test_cli_bad_arguments(db_path):
    r = run_cli(
        "import", fixture("generic_requests.jsonl"), "--format", "nonsense", "--db", db_path
    )
    assert r.returncode == 2
    start = time.perf_counter()
    r = run_cli("undo", "42", "--db", db_path)
    assert r.returncode == 1 and r.stderr.strip() == "error: There is no import #42."
    assert time.perf_counter() - start < 30


def test_content_hash_full_and_sampled(tmp_path, monkeypatch):
    import hashlib

    import lib.ingest.fingerprint as ingest

    path = tmp_path / "f.bin"
    data = bytes(range(256)) * 40_000  # 10 MB
    path.write_bytes(data)
    assert ingest.content_hash(str(path)) == hashlib.sha256(data).hexdigest()
    monkeypatch.setattr(ingest, "FULL_HASH_LIMIT", 1024)
    sampled = ingest.content_hash(str(path))
    assert sampled.startswith("sampled:") and ingest.content_hash(str(path)) == sampled
    changed = bytearray(data)
    changed[5 * 1024 * 1024] ^= 1  # a byte inside one of the sampled slices
    path.write_bytes(bytes(changed))
    assert ingest.content_hash(str(path)) != sampled
    assert ingest.content_hash(str(tmp_path / "missing")) is None
