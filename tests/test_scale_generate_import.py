"""Generating and importing at any size: the demo's request log is generated and written day
by day in time order (memory of one day, not of the whole log), and an import of one day
reads and rewrites only that day (its duplicate check and its rollups)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from lib.demo import load_demo
from lib.demo.exports import _litellm_select, write_litellm
from lib.demo.traffic import request_log_sql, utc_days
from lib.errors import StoreError
from lib.ingest import import_file
from lib.store import Store
from tests.conftest import write

END = datetime(2026, 6, 1, 7, tzinfo=UTC)


def test_demo_log_is_the_same_rows_in_time_order_in_one_or_several_files(tmp_path):
    with Store(str(tmp_path / "g.duckdb")) as s, s.read() as cur:
        whole = request_log_sql(20_000, 14, END)
        cur.execute(f"COPY ({_litellm_select(whole)}) TO '{tmp_path}/all.csv' (HEADER)")
        (one,) = write_litellm(cur, 20_000, 14, END, str(tmp_path))
        days = utc_days(cur, 20_000, 14, END)
        split_dir = tmp_path / "split"
        split_dir.mkdir()
        split = write_litellm(cur, 20_000, 14, END, str(split_dir), max_rows=6_000)
    # 14 days before 2026-06-01 07:00 start on 2026-05-18 07:00: 15 UTC days, two partial
    assert len(days) == 15 and days[0][:2] == (0, 17) and days[-1][:2] == (329, 336)
    everything = (tmp_path / "all.csv").read_text().splitlines()
    with open(one) as fh:
        lines = fh.read().splitlines()
    assert lines[0] == everything[0] and sorted(lines) == sorted(everything)
    assert len(lines) - 1 == sum(n for *_, n in days)
    start_times = [line.split(",")[7] for line in lines[1:]]  # startTime
    assert start_times == sorted(start_times)
    # files of whole days, ≤ 6,000 rows each (a day here has ≤ ~2,000), the same rows in all
    assert os.path.basename(split[0]) == "litellm_spend_logs_2026-05-18_2026-05-21.csv"
    parts = [open(p).read().splitlines() for p in split]  # noqa: SIM115
    assert all(p[0] == everything[0] and len(p) - 1 <= 6_000 for p in parts)
    assert sorted(x for p in parts for x in p[1:]) == sorted(everything[1:])
    firsts = [p[1].split(",")[7] for p in parts]
    lasts = [p[-1].split(",")[7] for p in parts]
    assert all(a[:10] < b[:10] for a, b in zip(lasts, firsts[1:], strict=False))


def _sorted_at_once_runs_out(store: Store, n: int, path: str) -> None:
    """The log of ``n`` requests sorted in one statement (how the demo wrote it before)."""
    whole = _litellm_select(request_log_sql(n, 30, END))
    with pytest.raises(StoreError, match="Out of Memory"), store.read() as cur:
        cur.execute(f"COPY ({whole}) TO '{path}' (HEADER)")


def test_demo_log_is_written_under_64MB_where_one_sort_of_it_runs_out(tmp_path):
    with Store(str(tmp_path / "g.duckdb"), memory_limit="64MB") as s:
        _sorted_at_once_runs_out(s, 300_000, str(tmp_path / "all.csv"))
        with s.read() as cur:
            (path,) = write_litellm(cur, 300_000, 30, END, str(tmp_path))
            expected = sum(n for *_, n in utc_days(cur, 300_000, 30, END))
    with open(path) as fh:
        assert sum(1 for _ in fh) - 1 == expected
    assert abs(expected - 300_000) < 100  # rounding per hour


def test_demo_loads_800k_requests_under_256MB(tmp_path):
    with Store(str(tmp_path / "d.duckdb"), memory_limit="256MB") as s:
        _sorted_at_once_runs_out(s, 800_000, str(tmp_path / "all.csv"))
        # 50,000 × 48 × 30 / 90 = 800,000 requests
        results = load_demo(s, days=30, scale=48, end=END)
        assert results[0].rows_new == s.scalar("SELECT count(*) FROM request_events")
        assert abs(results[0].rows_new - 800_000) < 100
        assert s.scalar("SELECT count(*) FROM usage_buckets") > 0


HEAD = "timestamp,request_id,model,api_key,input_tokens,output_tokens\n"
DAY1 = 1_735_689_600  # 2025-01-01 00:00 UTC
ROLLUPS = {  # table: its time column (epoch seconds of the hour or day)
    "agg_hourly": "hour",
    "agg_user_daily": "day",
    "agg_error_hourly": "hour",
    "agg_latency_hourly": "hour",
    "agg_latency_key_hourly": "hour",
    "agg_latency_key_daily": "day",
    "agg_latency_user_daily": "day",
    "agg_error_group_hourly": "hour",
}


def _other_days(store: Store, day: int) -> dict[str, list[tuple]]:
    """Every rollup row (and stream) of days other than ``day`` (epoch seconds), sorted."""
    out = {}
    for table, col in ROLLUPS.items():
        out[table] = sorted(
            store.query(f"SELECT * FROM {table} WHERE {col} // 86400 <> ?", [day // 86400]),
            key=repr,
        )
    out["token_streams"] = sorted(
        store.query("SELECT * FROM token_streams WHERE day <> ?", [day // 86400]), key=repr
    )
    return out


def test_an_import_of_one_day_checks_and_rewrites_only_that_day(store, tmp_path):
    first = import_file(store, write(tmp_path, "a.csv", HEAD
        + "2025-01-01T09:00:00Z,r1,gpt-4o,k1,10,1\n"
        + "2025-01-02T10:00:00Z,r5,gpt-4o,k1,50,5\n"
        + "2025-01-03T11:00:00Z,r9,gpt-4o,k2,90,9\n"))  # fmt: skip
    assert first.rows_new == 3
    # a stale stream of day 1 (as if left by a bug): an import of day 2 must not even read it
    store_day1 = DAY1 // 86400
    with store.write() as cur:
        cur.execute(
            "UPDATE token_streams SET stated_errors = NOT stated_errors WHERE day = ?", [store_day1]
        )
    before = _other_days(store, DAY1 + 86400)
    second = import_file(store, write(tmp_path, "b.csv", HEAD
        + "2025-01-02T10:00:00Z,r5,gpt-4o,k1,50,5\n"     # stored in day 2: a duplicate
        + "2025-01-02T12:00:00Z,r9,gpt-4o,k2,90,9\n"     # r9 is stored on day 3: not looked at
        + "2025-01-02T13:00:00Z,r7,gpt-4o,k2,70,7\n"))  # fmt: skip
    # the duplicate check saw day 2's rows only (2025-01-02 10:00 to 13:00): r5 is dropped,
    # r9 (stored at 2025-01-03 11:00, outside the range) is a new event, r7 too
    assert (second.rows_read, second.rows_new, second.rows_duplicate) == (3, 2, 1)
    assert store.scalar("SELECT count(*) FROM event_claims WHERE import_id = ?",
                        [second.import_id]) == 1  # fmt: skip
    # every rollup row of days 1 and 3 byte-identical, the stale stream of day 1 included
    assert _other_days(store, DAY1 + 86400) == before
    # day 2 now: r5 once (50 in) + r9 and r7 of this import (90 + 70 in) = 210 input tokens
    assert (
        store.scalar(
            "SELECT sum(input_tokens) FROM agg_hourly WHERE hour // 86400 = ?", [store_day1 + 1]
        )
        == 210
    )
    assert store.scalar("SELECT count(*) FROM token_streams WHERE day = ?", [store_day1 + 1]) == 1
