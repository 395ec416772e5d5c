"""Retention: request rows older than N days go, the rollups (the pages' totals) stay.

Fixture: one request log source, three imports over five UTC days (2025-01-01 … 01-05), today
2025-02-05, N = 32 (the least allowed) → rows dated before 2025-01-04 00:00 UTC go.

    A: req-1 (01-01), req-2 (01-01), req-3 (01-02), req-4 (01-04)
    B: req-3 (again: a duplicate, B claims A's row), req-5 (01-03), req-6 (01-05)
    C: req-7 (01-03), req-8 (01-05)

Request i has 10·i input tokens and i output tokens.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lib.auth.roles import PermissionDeniedError
from lib.ingest import import_file, retention, undo_import
from lib.store import Store
from lib.store.audit import entries
from tests.conftest import write

TODAY = datetime(2025, 2, 5, 9, 30, tzinfo=UTC)
ROLLUPS = ("agg_hourly", "agg_user_daily", "agg_error_hourly", "agg_latency_hourly",
           "agg_latency_key_hourly", "agg_latency_user_daily", "agg_error_group_hourly",
           "agg_latency_key_daily", "token_streams")  # fmt: skip
WHEN = {1: "01T10", 2: "01T11", 3: "02T10", 4: "04T10", 5: "03T10", 6: "05T10", 7: "03T12",
        8: "05T12"}  # fmt: skip


def log(tmp_path: Path, name: str, ids: list[int]) -> str:
    lines = ["timestamp,request_id,model,user,status,latency_ms,input_tokens,output_tokens"]
    for i in ids:
        lines.append(f"2025-01-{WHEN[i]}:00:00Z,req-{i},gpt-4o-mini,u{i % 2},success,"
                     f"{100 * i},{10 * i},{i}")  # fmt: skip
    return write(tmp_path, name, "\n".join(lines) + "\n")


def totals(store: Store) -> tuple[int, int, int]:
    """(requests, input tokens, output tokens) the pages count (counted_hourly)."""
    row = store.query(
        "SELECT coalesce(sum(requests), 0), coalesce(sum(input_tokens), 0), "
        "coalesce(sum(output_tokens), 0) FROM counted_hourly"
    )[0]
    return int(row[0]), int(row[1]), int(row[2])


def rollups(store: Store) -> dict[str, object]:
    return {t: store.query(f"SELECT count(*), sum(hash({t})) FROM {t}")[0] for t in ROLLUPS}


@pytest.fixture
def three(store: Store, tmp_path: Path):
    a = import_file(store, log(tmp_path, "a.csv", [1, 2, 3, 4]))
    b = import_file(store, log(tmp_path, "b.csv", [3, 5, 6]))
    c = import_file(store, log(tmp_path, "c.csv", [7, 8]))
    assert (b.rows_new, b.rows_duplicate) == (2, 1)
    return store, a.import_id, b.import_id, c.import_id


def test_preview_counts_by_hand(three):
    store, a, b, c = three
    plan = retention.preview(store, 32, now=TODAY)
    assert plan.before_day == date(2025, 1, 4)  # 2025-02-05 − 32 days
    # gone: A's req-1, req-2, req-3; B's req-5; C's req-7 = 5 rows; B's claim on req-3 = 1
    assert plan.tables == {"request_events": 5, "event_claims": 1}
    cuts = {x.import_id: x for x in plan.imports}
    assert set(cuts) == {a, b, c}
    assert (cuts[a].rows, cuts[a].rows_left, cuts[a].claimed, cuts[a].claimers) == (3, 1, 1, (b,))
    assert (cuts[b].rows, cuts[b].rows_left, cuts[b].claimers) == (1, 1, ())
    assert (cuts[c].rows, cuts[c].rows_left) == (1, 1)
    assert cuts[a].first_ts == datetime(2025, 1, 1, 10, tzinfo=UTC)
    assert cuts[a].last_ts == datetime(2025, 1, 2, 10, tzinfo=UTC)
    assert plan.first_ts == datetime(2025, 1, 1, 10, tzinfo=UTC)
    assert plan.last_ts == datetime(2025, 1, 3, 12, tzinfo=UTC)  # req-7
    # 8 requests (ids 1–8), input 10·(1+…+8) = 360, output 36
    assert (plan.totals.requests, plan.totals.input_tokens, plan.totals.output_tokens) == (
        8,
        360,
        36,
    )
    # a preview changes nothing
    assert store.scalar("SELECT count(*) FROM request_events") == 8
    # N = 37: before 2024-12-30: nothing goes
    assert retention.preview(store, 37, now=TODAY).rows == 0


def test_apply_keeps_every_rollup_and_is_audited(three):
    store, *_ids = three
    before = rollups(store)
    result = retention.apply(store, 32, role="admin", actor="ada", now=TODAY, from_ip="10.0.0.1")
    assert result.plan.rows == 5
    assert store.scalar("SELECT count(*) FROM request_events") == 3  # req-4, req-6, req-8
    assert store.scalar("SELECT min(ts) FROM request_events") == datetime(
        2025, 1, 4, 10, tzinfo=UTC
    )
    assert store.scalar("SELECT count(*) FROM event_claims") == 0
    assert rollups(store) == before
    assert totals(store) == (8, 360, 36)
    assert retention.horizon(store) == date(2025, 1, 4)
    (entry,) = entries(store, actions=("retention_applied",))
    assert (entry.actor, entry.from_ip, entry.detail["rows"], entry.detail["before_day"]) == (
        "ada", "10.0.0.1", 5, "2025-01-04")  # fmt: skip
    # the file sizes are measured (a local file)
    assert result.bytes_before and result.bytes_after
    # applied again: nothing more goes, and no second entry
    assert retention.apply(store, 32, role="admin", actor="ada", now=TODAY).plan.rows == 0
    assert len(entries(store, actions=("retention_applied",))) == 1


def test_undo_of_a_partly_removed_import(three, tmp_path):
    store, a, b, c = three
    retention.apply(store, 32, role="admin", actor="ada", now=TODAY)
    # C (req-7 removed, req-8 left, nobody else holds them): its undo takes all of C out
    undo_import(store, c)
    # A + B: ids 1–6: 6 requests, input 10·21 = 210, output 21
    assert totals(store) == (6, 210, 21)
    # A: B also contained req-3, which retention removed: B's share could not be handed over
    with pytest.raises(retention.RetentionError, match=f"Undo import #{b} first"):
        undo_import(store, a)
    assert totals(store) == (6, 210, 21)  # nothing changed
    # B first (its rows 5, 6: 11 requests' worth of tokens: input 110, output 11), then A
    undo_import(store, b)
    assert totals(store) == (4, 100, 10)  # A alone: ids 1–4
    undo_import(store, a)
    assert totals(store) == (0, 0, 0)


def test_reimport_after_retention_does_not_count_removed_rows_twice(three, tmp_path):
    store, *_ids = three
    retention.apply(store, 32, role="admin", actor="ada", now=TODAY)
    again = import_file(store, log(tmp_path, "a_again.csv", [1, 2, 3, 4]))
    # req-1..3 are before the cut: left out (noted); req-4 is a duplicate of A's
    assert again.rows_new == 0
    assert any("before 2025-01-04" in n for n in again.notes)
    assert totals(store) == (8, 360, 36)
    # a new row after the cut still counts: req-9 on 2025-01-05
    WHEN[9] = "05T13"
    new = import_file(store, log(tmp_path, "d.csv", [9]))
    assert new.rows_new == 1
    assert totals(store) == (9, 450, 45)


def test_roles_and_the_setting(three):
    store, *_ = three
    with pytest.raises(PermissionDeniedError):
        retention.apply(store, 32, role="analyst", actor="ann", now=TODAY)
    with pytest.raises(PermissionDeniedError):
        retention.set_days(store, 40, role="analyst", actor="ann")
    assert store.scalar("SELECT count(*) FROM request_events") == 8
    assert retention.preview(store, 32, now=TODAY).rows == 5  # reading is every settings reader's
    assert retention.days_setting(store) is None  # none by default
    for bad in ("0", "-3", "31", "32.5", "abc", "40000"):
        with pytest.raises(retention.RetentionError, match="Retention \\(days\\)"):
            retention.set_days(store, bad, role="admin", actor="ada")
    assert retention.set_days(store, "32", role="admin", actor="ada") == 32
    assert retention.days_setting(store) == 32
    # the worker's daily call: applies once a UTC day
    first = retention.apply_due(store, TODAY)
    assert first is not None and first.plan.rows == 5
    assert retention.apply_due(store, TODAY.replace(hour=23)) is None
    nxt = retention.apply_due(store, datetime(2025, 2, 6, 0, 5, tzinfo=UTC))
    assert nxt is not None and nxt.plan.before_day == date(2025, 1, 5)
    assert nxt.plan.rows == 1  # req-4 (2025-01-04)
    assert retention.set_days(store, None, role="admin", actor="ada") is None
    assert retention.apply_due(store, datetime(2025, 2, 7, tzinfo=UTC)) is None


def test_the_worker_applies_the_setting_once_a_day(three):
    from lib.notices import PollResult
    from lib.worker.loop import Worker

    store, *_ids = three
    retention.set_days(store, 32, role="admin", actor="ada")
    w = Worker(store, clock=lambda: TODAY, notifier=lambda n: [], pull=None,
               poll_status=lambda: PollResult((), (), (), TODAY), after_imports=False)  # fmt: skip
    report = w.run_once()
    assert report is not None and "retention" not in report.errors
    assert store.scalar("SELECT count(*) FROM request_events") == 3  # 8 − 5 removed
    assert totals(store) == (8, 360, 36)
    (entry,) = entries(store, actions=("retention_applied",))
    assert entry.actor == "worker"
    w.run_once()  # the same UTC day: not again
    assert len(entries(store, actions=("retention_applied",))) == 1


def test_storage_facts_rows_per_table_and_import(three):
    from lib.store.facts import facts, kind_of

    store, a, b, c = three
    retention.apply(store, 32, role="admin", actor="ada", now=TODAY)
    f = facts(store)
    assert f.kind == "file" and f.location == store.path
    assert f.file_bytes and f.file_bytes > 0 and f.wal_bytes is not None
    assert f.total_bytes == f.file_bytes + f.wal_bytes
    tables = dict(f.tables)
    assert tables["request_events"] == 3 and tables["imports"] == 3
    assert tables["retention_drops"] == 4  # A, B, C removed rows + A's rows B also contained
    per = {i.import_id: (i.request_rows, i.removed_rows) for i in f.imports}
    # A: req-4 left, req-1..3 removed; B: req-6 left, req-5 removed; C: req-8 left, req-7 removed
    assert per == {a: (1, 3), b: (1, 1), c: (1, 1)}
    assert f.schema_version >= 25
    assert (kind_of(":memory:"), kind_of("md:team?motherduck_token=x")) == ("memory", "motherduck")
