"""One write path for facts: the import engine is the only writer of request events, usage
buckets, cost lines and the import ledger, whatever the facts came from (a file, records a
caller knows, a playground run), and it runs its callbacks after every committed import."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from lib.auth.roles import PermissionDeniedError
from lib.errors import InputError
from lib.ingest import (
    ImportResult,
    import_file,
    import_plan,
    import_records,
    on_import_committed,
    undo_import,
)
from lib.store import Store
from lib.store.migrations import MIGRATIONS
from tests.conftest import fixture, openai_page, snapshot, write

LIB = Path(__file__).resolve().parent.parent / "lib"
FACTS = ("request_events", "usage_buckets", "cost_items")
WRITE = re.compile(r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+(\{|\w+)")


def _writes() -> dict[str, set[str]]:
    """Table (or ``{`` for a name filled in at run time) -> the modules of lib/ whose SQL writes
    it. Migrations change the schema, not the data, and are left out."""
    found: dict[str, set[str]] = {}
    for path in sorted(LIB.rglob("*.py")):
        rel = path.relative_to(LIB.parent).as_posix()
        if rel == "lib/store/migrations.py":
            continue
        for m in WRITE.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(m.group(1), set()).add(rel)
    return found


def _inserts(table: str) -> set[str]:
    pattern = re.compile(rf"\bINSERT\s+(?:OR\s+\w+\s+)?INTO\s+{table}\b")
    return {
        path.relative_to(LIB.parent).as_posix()
        for path in LIB.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    }


def test_one_module_inserts_each_kind_of_fact_and_the_engine_alone_writes_them():
    assert _inserts("request_events") == {"lib/ingest/requests.py"}
    assert _inserts("usage_buckets") == {"lib/ingest/buckets.py"}
    assert _inserts("cost_items") == {"lib/ingest/buckets.py"}
    writes = _writes()
    for table in FACTS:  # deletes and updates too (duplicates, replacement, undo)
        assert writes[table] and all(m.startswith("lib/ingest/") for m in writes[table]), table
    # the ledger has one writer
    assert writes["imports"] == {"lib/ingest/ledger.py"}
    # table names filled in at run time: only the engine (undo) and the rollups use them
    assert writes["{"] <= {"lib/ingest/undo.py", "lib/store/rollups.py"}


# -- the hook after every committed import ---------------------------------------------------
LOG = "timestamp,request_id,model,input_tokens,output_tokens\n" + "".join(
    f"2025-01-01T0{h}:00:00Z,r{h},gpt-4o-mini,100,10\n" for h in range(3)
)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_callbacks_run_after_the_commit_and_a_failing_one_changes_nothing(store, tmp_path):
    seen: list[tuple[ImportResult, str, int]] = []

    def record(result: ImportResult) -> None:
        # a cursor of its own sees only committed data: the import and its rows are there
        status = store.scalar("SELECT status FROM imports WHERE import_id = ?", [result.import_id])
        rows = store.scalar("SELECT count(*) FROM request_events WHERE import_id = ?",
                            [result.import_id])  # fmt: skip
        seen.append((result, status, rows))

    def fail(result: ImportResult) -> None:
        raise RuntimeError("the alert could not be sent")

    after: list[int] = []
    handler = _Records()
    logger = logging.getLogger("tokenboard")
    logger.addHandler(handler)
    stop = [on_import_committed(fail), on_import_committed(record),
            on_import_committed(lambda r: after.append(r.import_id))]  # fmt: skip
    try:
        r = import_file(store, write(tmp_path, "log.csv", LOG))
        # a failed import runs no callback
        with pytest.raises(InputError):
            import_file(store, fixture("bad_number.csv"))
    finally:
        for unregister in stop:
            unregister()
        logger.removeHandler(handler)
    assert r.rows_new == 3  # 3 rows, none seen before
    [(result, status, rows)] = seen
    assert result is r and (status, rows) == ("ok", 3)
    assert (result.import_id, result.source, result.origin) == (1, "generic_request", "file")
    assert (result.period_start, result.period_end) == (
        datetime(2025, 1, 1, 0, tzinfo=UTC),
        datetime(2025, 1, 1, 2, tzinfo=UTC),
    )
    assert after == [1]  # the callback after the failing one still ran
    # the failing callback is logged, naming the import; the import stays
    [logged] = handler.records
    assert "import #1" in logged.getMessage() and logged.exc_info is not None
    assert store.scalar("SELECT sum(input_tokens) FROM agg_hourly") == 300  # 3 × 100
    # unregistered: a later import calls nobody
    import_file(store, write(tmp_path, "log2.csv", LOG.replace(",r", ",s")))
    assert len(seen) == 1 and after == [1]


# -- records a caller knows: no file, no detection ------------------------------------------
def _cost(value: float, item: str) -> dict:
    return {"object": "organization.costs.result", "amount": {"value": value, "currency": "usd"},
            "line_item": item, "project_id": "proj_a"}  # fmt: skip


def test_pages_in_memory_import_as_the_same_pages_saved_in_a_file(store, tmp_path, db_path):
    # floats as an HTTP client decodes them: 0.1 + 0.2 must be 0.3, not 0.30000000000000004
    page = openai_page(_cost(0.1, "gpt-4o-mini, input"), _cost(0.2, "gpt-4o-mini, output"))
    r = import_records(store, [page], fmt="openai_costs", display="openai costs", origin="pull")
    assert (r.format, r.source, r.grain, r.rows_new, r.origin) == (
        "openai_costs", "openai_costs", "cost", 2, "pull")  # fmt: skip
    assert store.scalar("SELECT sum(amount) FROM live_costs") == Decimal("0.3")
    # the same page from a file: the same rows; a repeat of the same days replaces, never adds
    other = Store(str(tmp_path / "other.duckdb"))
    try:
        import_file(other, write(tmp_path, "costs.json", page))
        cols = "bucket_start, bucket_end, provider, project, line_item, model, amount, currency"
        q = f"SELECT {cols} FROM cost_items ORDER BY line_item"
        assert store.query(q) == other.query(q)
    finally:
        other.close()
    again = import_records(store, [page], fmt="openai_costs", display="again", origin="pull")
    assert (again.rows_new, again.rows_duplicate) == (0, 2)
    assert store.scalar("SELECT sum(amount) FROM live_costs") == Decimal("0.3")
    assert store.query("SELECT origin, content_hash FROM imports ORDER BY import_id") == [
        ("pull", None),
        ("pull", None),
    ]


def test_bad_records_are_refused_and_recorded_with_their_origin(store):
    before = snapshot(store)
    page = openai_page(_cost(0.1, "x"))
    del page["data"][0]["start_time"]
    with pytest.raises(InputError, match="start_time"):
        import_records(store, [page], fmt="openai_costs", display="broken pull", origin="pull")
    assert snapshot(store) == before
    assert store.query("SELECT file_name, status, origin FROM imports") == [
        ("broken pull", "failed", "pull")
    ]
    with pytest.raises(ValueError, match="origin"):
        import_records(store, [page], fmt="openai_costs", display="x", origin="email")
    with pytest.raises(ValueError, match="format"):
        import_records(store, [page], fmt="no_such_format", display="x", origin="pull")


def _row(request_id: str, tokens: int, ts: datetime) -> dict:
    return {"ts": ts, "request_id": request_id, "provider": "openai", "model": "gpt-4o-mini",
            "project": "p", "api_key": None, "user_id": "ana", "status": "success",
            "http_status": 200, "error_code": None, "error_type": None, "error_message": None,
            "latency_ms": 120, "input_tokens": tokens, "cached_input_tokens": 0,
            "cache_write_tokens": 0, "output_tokens": 1, "reasoning_tokens": 0, "client_ip": None,
            "origin": None, "cost_usd": Decimal("0.0000001500"), "batch": False}  # fmt: skip


def test_canonical_rows_follow_the_same_duplicate_rules_as_a_file(store, tmp_path):
    t = datetime(2025, 1, 1, 5, tzinfo=UTC)
    first = import_records(store, [_row("g1", 10, t), _row("g2", 20, t)], fmt="gateway",
                           grain="request", display="journal 1", origin="gateway")  # fmt: skip
    assert (first.source, first.rows_new, first.rows_duplicate) == ("gateway", 2, 0)
    # g2 again (with other values: named in the notes, the first kept) and g3 new
    again = import_records(store, [_row("g2", 99, t), _row("g3", 30, t)], fmt="gateway",
                           grain="request", display="journal 2", origin="gateway")  # fmt: skip
    assert (again.rows_new, again.rows_duplicate) == (1, 1)
    assert "repeat a request id" in again.notes[0] and "'g2'" in again.notes[0]
    assert store.scalar("SELECT sum(input_tokens) FROM agg_hourly") == 10 + 20 + 30
    assert store.scalar("SELECT sum(cost_usd) FROM agg_hourly") == Decimal(
        "0.00000045"
    )  # 3 × 1.5e-7
    # undoing the first hands g2 to the second import, which also contained it
    res = undo_import(store, first.import_id)
    assert (res.rows_removed, res.rows_kept) == (1, 1)
    assert store.scalar("SELECT sum(input_tokens) FROM agg_hourly") == 20 + 30


def test_a_plan_made_elsewhere_is_imported_as_is(store, tmp_path):
    from lib.importers.detect import plan_file

    path = write(tmp_path, "log.csv", LOG)
    with store.read() as cur:
        plan = plan_file(path, cur, display="previewed log.csv")
    r = import_plan(store, plan, origin="upload", role="analyst")
    assert (r.file_name, r.origin, r.rows_new) == ("previewed log.csv", "upload", 3)
    assert store.scalar("SELECT origin FROM imports") == "upload"


# -- the playground: one run, one import -----------------------------------------------------
def test_a_playground_run_is_a_one_row_import(store):
    from lib.llm.chat import ChatRequest, ChatResult, Usage
    from lib.playground.history import recent_runs, record_run

    req = ChatRequest("openai", "http://x/v1", "gpt-4o-mini", ({"role": "user", "content": "hi"},))
    ok = ChatResult(text="Hello", usage=Usage(12, 2, 0, 3, 0), total_s=0.5, model="gpt-4o-mini")
    # a cost with more than 10 decimals is kept to 10, as the database would round it
    one = record_run(store, "ana", req, ok, Decimal("0.000003456789015"), keep_text=False)
    two = record_run(store, "ana", req, ok, None, keep_text=False, role="analyst")
    assert one.cost_usd == Decimal("0.0000034568")
    rows = store.query("""SELECT import_id, file_name, format, source, grain, origin, rows_read,
                                 rows_new, rows_duplicate FROM imports ORDER BY 1""")  # fmt: skip
    assert rows == [
        (1, "Playground run #1", "playground", "playground", "request", "playground", 1, 1, 0),
        (2, "Playground run #2", "playground", "playground", "request", "playground", 1, 1, 0),
    ]
    assert store.query("SELECT request_id, cost_usd FROM request_events ORDER BY 1") == [
        ("playground-1", Decimal("0.0000034568")),
        ("playground-2", None),
    ]
    # the ledger's list without them, for a page that lists files and pulls
    from lib.ingest.ledger import history

    assert [r.origin for r in history(store)] == ["playground", "playground"]
    assert history(store, origins=["file", "upload", "pull"]) == []
    # each run can be undone alone; its history row stays
    undo_import(store, 1)
    assert store.scalar("SELECT sum(requests) FROM agg_hourly") == 1
    assert list(recent_runs(store, "ana")["run_id"]) == [two.run_id, one.run_id]
    # a viewer may not use the playground: nothing is stored
    with pytest.raises(PermissionDeniedError):
        record_run(store, "vic", req, ok, None, keep_text=False, role="viewer")
    assert store.scalar("SELECT count(*) FROM playground_runs") == 2


# -- the origin column, from the names of version 12 -----------------------------------------
def test_origins_are_read_from_the_old_names_and_the_suffix_dropped(tmp_path):
    path = str(tmp_path / "v12.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, description VARCHAR, "
                "applied_at TIMESTAMPTZ NOT NULL)")  # fmt: skip
    for version, description, sql in MIGRATIONS:
        if version <= 12:
            con.execute(sql)
            con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, description])
    t = datetime(2025, 1, 1, tzinfo=UTC)
    for iid, name, fmt, source, demo in (
        (1, "usage.json", "openai_usage", "openai_usage", False),
        (2, "openai costs 2026-03-01..2026-03-03 (API pull).json", "openai_costs", "openai_costs", False),
        (3, "Playground runs", "playground", "playground", False),
        (4, "litellm_spend_logs.csv", "litellm", "litellm", True),
    ):  # fmt: skip
        con.execute("INSERT INTO imports (import_id, file_name, format, source, grain, started_at, "
                    "status, is_demo) VALUES (?, ?, ?, ?, 'request', ?, 'ok', ?)",
                    [iid, name, fmt, source, t, demo])  # fmt: skip
    con.execute("""INSERT INTO request_events (import_id, source, event_key, ts, request_id, provider,
                   status, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens,
                   reasoning_tokens, batch)
                   VALUES (3, 'playground', hash('playground', 7), ?, 'playground-7', 'openai',
                   'success', 1, 0, 0, 1, 0, false)""", [t])  # fmt: skip
    con.close()
    with Store(path) as s:
        assert s.query("SELECT import_id, origin, file_name FROM imports ORDER BY 1") == [
            (1, "file", "usage.json"),
            (2, "pull", "openai costs 2026-03-01..2026-03-03"),
            (3, "playground", "Playground runs"),
            (4, "demo", "litellm_spend_logs.csv"),
        ]
        # the old playground event is keyed like the new ones: hash of its request id
        assert s.scalar("SELECT event_key = hash('playground-7') FROM request_events") is True
