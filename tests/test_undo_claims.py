"""Undo gives back the rows a later, still active import also contained: import A (ids 0–19),
import B (ids 10–29: half duplicates of A), undo A → B holds all its 20 rows, as if B alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.ingest import import_file, undo_import
from lib.store import Store
from tests.conftest import write

ROLLUPS = ("agg_hourly", "agg_user_daily", "agg_error_hourly", "agg_latency_hourly")


def log(tmp_path: Path, name: str, ids: range, source: str = "gw") -> str:
    """A request log with one row per id: id i has i+1 input tokens, one hour apart."""
    lines = ["timestamp,request_id,model,user,status,latency_ms,input_tokens,output_tokens"]
    for i in ids:
        status = "error" if i % 7 == 0 else "success"
        lines.append(f"2025-01-01T{i % 24:02d}:00:00Z,req-{i},gpt-4o-mini,u{i % 3},{status},"
                     f"{100 + i},{i + 1},{2 * i}")  # fmt: skip
    return write(tmp_path, name, "\n".join(lines) + "\n")


def state(store: Store) -> dict[str, object]:
    """Rows and token totals of the request events and of every rollup."""
    out: dict[str, object] = {
        "events": store.query(
            "SELECT count(*), sum(input_tokens), sum(output_tokens), "
            "count(*) FILTER (WHERE status = 'error') FROM request_events"
        )[0]
    }
    for t in ("agg_hourly", "agg_user_daily"):
        out[t] = store.query(
            f"SELECT sum(requests), sum(input_tokens), sum(output_tokens), sum(errors), "
            f"sum(latency_n) FROM {t}"
        )[0]
    out["agg_error_hourly"] = store.scalar("SELECT sum(errors) FROM agg_error_hourly")
    out["agg_error_group_hourly"] = store.query(
        "SELECT sum(errors), sum(hash(g)) FROM (SELECT * EXCLUDE (import_id, source, errors), "
        "sum(errors) AS errors FROM agg_error_group_hourly GROUP BY ALL) g"
    )[0]
    for t in ("agg_latency_hourly", "agg_latency_key_hourly", "agg_latency_key_daily",
              "agg_latency_user_daily"):  # fmt: skip
        # the histogram as one set of (time, dimensions, bucket, count): rows handed over by
        # an undo are added as rows of their own, which add up
        out[t] = store.query(
            f"SELECT count(*), sum(n), sum(hash(g)) FROM (SELECT * EXCLUDE (import_id, source, n), "
            f"sum(n) AS n FROM {t} GROUP BY ALL) g"
        )[0]
    return out


def b_alone(tmp_path: Path) -> dict[str, object]:
    with Store(str(tmp_path / "alone.duckdb")) as s:
        import_file(s, log(tmp_path, "b_alone.csv", range(10, 30)))
        return state(s)


def empty(tmp_path: Path) -> dict[str, object]:
    with Store(str(tmp_path / "empty.duckdb")) as s:
        return state(s)


def test_undoing_the_first_import_gives_its_shared_rows_to_the_second(store, tmp_path):
    a = import_file(store, log(tmp_path, "a.csv", range(0, 20)))
    b = import_file(store, log(tmp_path, "b.csv", range(10, 30)))
    assert (b.rows_new, b.rows_duplicate) == (10, 10)
    res = undo_import(store, a.import_id)
    assert res.rows_removed == 10 and res.rows_kept == 10
    assert state(store) == b_alone(tmp_path)
    assert (
        store.scalar("SELECT count(*) FROM request_events WHERE import_id = ?", [b.import_id]) == 20
    )
    assert store.scalar("SELECT count(*) FROM agg_hourly WHERE import_id = ?", [a.import_id]) == 0
    # B still undoes to nothing
    undo_import(store, b.import_id)
    assert state(store) == empty(tmp_path)


@pytest.mark.parametrize("order", ["a_then_b", "b_then_a"])
def test_undoing_both_leaves_nothing(store, tmp_path, order):
    a = import_file(store, log(tmp_path, "a.csv", range(0, 20)))
    b = import_file(store, log(tmp_path, "b.csv", range(10, 30)))
    first, second = (a, b) if order == "a_then_b" else (b, a)
    undo_import(store, first.import_id)
    undo_import(store, second.import_id)
    assert state(store) == empty(tmp_path)
    assert store.scalar("SELECT count(*) FROM event_claims") == 0


def test_undoing_the_second_import_leaves_the_first_whole(store, tmp_path):
    a = import_file(store, log(tmp_path, "a.csv", range(0, 20)))
    b = import_file(store, log(tmp_path, "b.csv", range(10, 30)))
    undo_import(store, b.import_id)
    with Store(str(tmp_path / "a_alone.duckdb")) as s:
        import_file(s, log(tmp_path, "a_alone.csv", range(0, 20)))
        assert state(store) == state(s)
    undo_import(store, a.import_id)
    assert state(store) == empty(tmp_path)


def test_the_earliest_active_claimer_gets_the_rows(store, tmp_path):
    a = import_file(store, log(tmp_path, "a.csv", range(0, 20)))
    b = import_file(store, log(tmp_path, "b.csv", range(10, 30)))
    c = import_file(store, log(tmp_path, "c.csv", range(15, 35)))  # 15–29 stored already
    assert (c.rows_new, c.rows_duplicate) == (5, 15)
    undo_import(store, a.import_id)  # ids 10–19 go to B (B claimed them before C did)
    assert (
        store.scalar("SELECT count(*) FROM request_events WHERE import_id = ?", [b.import_id]) == 20
    )
    undo_import(store, b.import_id)  # ids 15–29 go to C; 10–14 had no other claimer
    assert store.scalar("SELECT list(DISTINCT import_id) FROM request_events") == [c.import_id]
    with Store(str(tmp_path / "c_alone.duckdb")) as s:
        import_file(s, log(tmp_path, "c_alone.csv", range(15, 35)))
        assert state(store) == state(s)
    undo_import(store, c.import_id)
    assert state(store) == empty(tmp_path)


def test_claims_stay_within_one_source(store, tmp_path):
    a = import_file(store, log(tmp_path, "a.csv", range(0, 20)), source="one")
    import_file(store, log(tmp_path, "b.csv", range(10, 30)), source="two")  # no duplicates
    assert store.scalar("SELECT count(*) FROM event_claims") == 0
    res = undo_import(store, a.import_id)
    assert (res.rows_removed, res.rows_kept) == (20, 0)
    assert state(store) == b_alone(tmp_path)
    assert store.scalar("SELECT count(*) FROM request_events") == 20


def test_a_migration_missing_below_the_newest_is_applied(db_path):
    with Store(db_path) as s, s.write() as cur:
        cur.execute("DROP TABLE event_claims")
        cur.execute("DELETE FROM schema_version WHERE version = 7")
        cur.execute("INSERT INTO schema_version VALUES (99, 'from another branch', now())")
    with Store(db_path) as s:
        assert s.scalar("SELECT count(*) FROM event_claims") == 0
        assert s.schema_version() == 99
