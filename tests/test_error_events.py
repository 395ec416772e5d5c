"""``error_events`` (migration 26) holds exactly the error rows of ``request_events``, with the
import that holds each, through imports with duplicates, undo (rows handed to the import that
also contained them), retention and the migration of an older database; ``agg_error_group_hourly``
(migration 28) holds them grouped per hour and keeps, as every rollup, what retention removed.

The log: one row per id i, on 2025-01-(1 + i // 10) at hour i % 24; id i is an error when
i % 7 == 0. A holds ids 0-29, B ids 10-39: errors 0, 7, 14, 21, 28 (A) and 14, 21, 28, 35 (B),
of which 14, 21 and 28 are stored once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lib.ingest import import_file, retention, undo_import
from lib.store import Store
from lib.store.rollups import ERROR_EVENT_COLUMNS
from tests.conftest import older_copy, write

COLS = ", ".join(ERROR_EVENT_COLUMNS)


def log(tmp_path: Path, name: str, ids: range) -> str:
    lines = ["timestamp,request_id,model,user,status,http_status,error_code,error_message,"
             "latency_ms,input_tokens,output_tokens"]  # fmt: skip
    for i in ids:
        err = i % 7 == 0
        status, http, code, msg = (
            ("error", "429", "rate_limit_exceeded", f"Rate limit reached for req-{i}")
            if err
            else ("success", "", "", "")
        )
        lines.append(f"2025-01-{1 + i // 10:02d}T{i % 24:02d}:00:00Z,req-{i},gpt-4o-mini,u{i % 3},"
                     f"{status},{http},{code},{msg},{100 + i},{i + 1},{2 * i}")  # fmt: skip
    return write(tmp_path, name, "\n".join(lines) + "\n")


def stored(store: Store) -> tuple[list[tuple], list[tuple]]:
    """(error_events, the error rows of request_events), both as sorted rows of its columns."""
    mirror = store.query(f"SELECT {COLS} FROM error_events ORDER BY event_key")
    rows = store.query(
        f"SELECT {COLS} FROM request_events WHERE status = 'error' ORDER BY event_key"
    )
    return mirror, rows


GROUP_COLS = """import_id, source, hour, provider, model, snapshot, project, api_key, http_status,
    error_code, error_type, error_fingerprint, retry_after_ms, errors, first_ts, last_ts,
    last_message"""


def grouped(store: Store) -> tuple[list[tuple], list[tuple]]:
    """(agg_error_group_hourly, error_events grouped the same way), both sorted."""
    rollup = store.query(f"SELECT {GROUP_COLS} FROM agg_error_group_hourly ORDER BY ALL")
    regrouped = store.query(
        f"""SELECT {GROUP_COLS} FROM (
            SELECT import_id, source, (epoch_ms(ts) // 3600000) * 3600 AS hour, provider,
                   model_family(model) AS model, model AS snapshot, project, api_key, http_status,
                   error_code, error_type, error_fingerprint, retry_after_ms, count(*) AS errors,
                   min(ts) AS first_ts, max(ts) AS last_ts,
                   arg_max(error_message, ts) AS last_message
            FROM error_events GROUP BY ALL) ORDER BY ALL"""
    )
    return rollup, regrouped


def held(store: Store) -> dict[str, int]:
    """request id -> the import holding it, in error_events."""
    return dict(store.query("SELECT request_id, import_id FROM error_events"))


def test_error_events_follow_imports_undo_and_retention(store, tmp_path):
    a = import_file(store, log(tmp_path, "a.csv", range(0, 30)))
    b = import_file(store, log(tmp_path, "b.csv", range(10, 40)))
    assert (b.rows_new, b.rows_duplicate) == (10, 20)
    mirror, rows = stored(store)
    assert mirror == rows
    assert held(store) == {"req-0": a.import_id, "req-7": a.import_id, "req-14": a.import_id,
                           "req-21": a.import_id, "req-28": a.import_id, "req-35": b.import_id}  # fmt: skip
    rollup, regrouped = grouped(store)
    # six errors, each alone in its hour (ids 0, 7, 14, 21, 28, 35: hours 0, 7, 14, 21, 4, 11)
    assert rollup == regrouped and len(rollup) == 6
    assert [r[13] for r in rollup] == [1] * 6
    # the fingerprint made at import groups the six messages (ids replaced) into one
    assert store.scalar("SELECT count(DISTINCT error_fingerprint) FROM error_events") == 1
    assert store.scalar("SELECT count(error_fingerprint) FROM error_events") == 6

    undo_import(store, a.import_id)  # 14, 21, 28 go to B, which also contained them
    mirror, rows = stored(store)
    assert mirror == rows
    assert held(store) == {"req-14": b.import_id, "req-21": b.import_id, "req-28": b.import_id,
                           "req-35": b.import_id}  # fmt: skip
    rollup, regrouped = grouped(store)
    assert rollup == regrouped and {r[0] for r in rollup} == {b.import_id}

    # keep 32 days before 2025-02-04: rows before 2025-01-03 go (ids below 20: error 14)
    retention.apply(store, 32, role="admin", actor="t", now=datetime(2025, 2, 4, 9, tzinfo=UTC))
    mirror, rows = stored(store)
    assert mirror == rows
    assert sorted(held(store)) == ["req-21", "req-28", "req-35"]
    # the rollup keeps the error retention removed (14), as every rollup keeps its totals
    assert store.scalar("SELECT sum(errors) FROM agg_error_group_hourly") == 4

    undo_import(store, b.import_id)
    assert stored(store) == ([], [])
    assert grouped(store) == ([], [])


@pytest.mark.parametrize(
    "version, kept",
    [(26, stored), (28, grouped)],
    ids=["26 copies the error rows", "28 groups the error rows"],
)
def test_migrations_over_the_error_rows_already_stored(store, tmp_path, version, kept):
    """A database from before migration ``version`` gets what an import makes: the error
    rows (26), their groups per hour (28). The five errors of ids 0-29 are each alone in
    their hour."""
    import_file(store, log(tmp_path, "a.csv", range(0, 30)))
    expected, _ = kept(store)
    assert len(expected) == 5
    old = older_copy(store, str(tmp_path / f"v{version - 1}.duckdb"), version - 1)
    with Store(old) as s:
        assert s.schema_version() >= version
        assert kept(s) == (expected, expected)
