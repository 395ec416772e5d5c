"""The queries that read raw request rows (the drill-down, exact latency percentiles by key
and user, recent errors and error groups) are bounded by the period: rows planted years
before and after it, which would change every figure if they were read, change nothing.
Every figure is worked out by hand from the log below."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from lib.analytics.errors import ErrorQuery, _errors, _newest, error_groups, recent_errors
from lib.analytics.latency import _source, latency_by, latency_series, latency_totals
from lib.analytics.requests import _from_rollup, request_rows
from lib.filters import Filters
from lib.ingest import import_file, retention
from tests.conftest import write

PERIOD = Filters(preset="custom", start=date(2026, 5, 1), end=date(2026, 5, 3), granularity="day")
NOW = datetime(2026, 5, 10, tzinfo=UTC)
# id, time (UTC), model, key, user, latency (ms), error (http status, code, message) or None
INSIDE = [
    ("a1", "2026-05-01T01:00:00Z", "gpt-4o", "key-a", "u1", 100, None),
    ("a2", "2026-05-01T02:00:00Z", "gpt-4o", "key-a", "u1", 200, None),
    ("a3", "2026-05-01T03:00:00Z", "gpt-4o", "key-a", "u2", 300, None),
    ("a4", "2026-05-01T04:00:00Z", "gpt-4o", "key-a", "u2", 400, None),
    ("b1", "2026-05-02T01:00:00Z", "gpt-4o", "key-b", "u1", 1000, None),
    ("b2", "2026-05-02T02:00:00Z", "gpt-4o-2024-08-06", "key-b", "u2", 3000, None),
    ("e1", "2026-05-02T10:00:00Z", "gpt-4o", "key-a", "u1", None,
     (429, "rate_limit_exceeded", "Rate limit reached for requests")),
    ("e2", "2026-05-03T10:00:00Z", "gpt-4o", "key-b", "u2", None,
     (500, "server_error", "The server had an error while processing your request.")),
]  # fmt: skip
# planted far outside the period, on both sides: slow calls of key-a and u1, a key and a user
# seen nowhere else, and six server errors (read, they would make the largest error group)
OUTSIDE = [
    (f"{side}{i}", f"{year}-01-01T0{i}:00:00Z", "gpt-4o", key, user, 90000, err)
    for side, year in (("old", 2020), ("new", 2031))
    for i, (key, user, err) in enumerate(
        [("key-a", "u1", None), ("key-a", "u1", None), ("key-z", "u9", None)]
        + [("key-b", "u2", (500, "server_error", "The server had an error while processing your request."))] * 6
    )
]  # fmt: skip


def _row(rid, ts, model, key, user, latency, err) -> dict:
    row = {"timestamp": ts, "request_id": rid, "provider": "openai", "model": model, "api_key": key,
           "user": user, "project": "proj", "prompt_tokens": 10, "completion_tokens": 5}  # fmt: skip
    if err:
        row |= {
            "status": "error",
            "http_status": err[0],
            "error_code": err[1],
            "error_message": err[2],
        }
    else:
        row |= {"status": "success", "http_status": 200, "latency_ms": latency}
    return row


@pytest.fixture
def planted(store, tmp_path):
    rows = [_row(*r) for r in INSIDE + OUTSIDE]
    result = import_file(
        store, write(tmp_path, "requests.jsonl", "\n".join(map(json.dumps, rows)) + "\n")
    )
    assert result.rows_new == 8 + 18
    return store


def test_drill_down_lists_the_rows_of_the_period_only(planted):
    rows, total = request_rows(planted, PERIOD, now=NOW)
    # 8 rows in May 1-3, newest first; none of the 18 planted in 2020 and 2031
    assert total == 8
    assert list(rows["request_id"]) == ["e2", "e1", "b2", "b1", "a4", "a3", "a2", "a1"]
    # the model column names the family, the snapshot the source's name
    b2 = rows[rows["request_id"] == "b2"].iloc[0]
    assert (b2["model"], b2["snapshot"]) == ("gpt-4o", "gpt-4o-2024-08-06")
    # a model filter reads the family of every row in the period (another query): the same rows
    by_model, n = request_rows(planted, PERIOD, where={"model": "gpt-4o"}, now=NOW)
    assert n == 8 and by_model.equals(rows)
    # a window of one bar (May 2, UTC) and a page of 2: b1, b2, e1 there; page 1 holds e1's
    # successor in newest-first order (b1)
    bar = (datetime(2026, 5, 2, tzinfo=UTC), datetime(2026, 5, 3, tzinfo=UTC))
    page, n_bar = request_rows(planted, PERIOD, window=bar, page=1, page_size=2)
    assert n_bar == 3 and list(page["request_id"]) == ["b1"]
    keyed, n_key = request_rows(planted, PERIOD, where={"api_key": "key-b"}, now=NOW)
    assert n_key == 3 and list(keyed["request_id"]) == ["e2", "b2", "b1"]
    # a snapshot (the source's model name), as a filter or as the clicked series: only b2
    snap = replace(PERIOD, dims={"snapshot": ("gpt-4o-2024-08-06",)})
    by_snapshot, n_snap = request_rows(planted, snap, now=NOW)
    assert n_snap == 1 and list(by_snapshot["request_id"]) == ["b2"]
    clicked, n_clicked = request_rows(planted, PERIOD, where={"snapshot": "gpt-4o-2024-08-06"},
                                      now=NOW)  # fmt: skip
    assert n_clicked == 1 and list(clicked["request_id"]) == ["b2"]


# Latency buckets: lb = floor(ln(ms) / ln 1.2): 100 → 25 (25.26), 200 → 29 (29.06), 300 → 31
# (31.28), 400 → 32 (32.86), 1000 → 37 (37.89), 3000 → 43 (43.91). A percentile q of n
# latencies is read at rank q × n in the bucket where the running count reaches it, between
# 1.2^lb and 1.2^(lb+1): 1.2^(lb + (rank − count below) / count in the bucket).


def test_percentiles_by_key_and_user_read_the_period_only(planted):
    """By key from the daily histograms by key, by user from the daily ones by user (the
    period is whole UTC days): the planted rows of 2020 and 2031 count nowhere."""
    with planted.read() as cur:
        counts = dict(cur.execute(
            "SELECT 'key', sum(n) FROM agg_latency_key_hourly "
            "UNION ALL SELECT 'key_daily', sum(n) FROM agg_latency_key_daily "
            "UNION ALL SELECT 'user', sum(n) FROM agg_latency_user_daily").fetchall())  # fmt: skip
    # the 6 planted successes are stored too
    assert counts == {"key": 6 + 6, "key_daily": 6 + 6, "user": 6 + 6}
    by_key = latency_by(planted, PERIOD, "api_key", NOW).set_index("api_key")
    # key-a: buckets 25, 29, 31, 32 → p50 at rank 2: bucket 29 (its count reaches 2) read at
    # its end, 1.2^30 (the exact 250); p95 at rank 3.8: bucket 32, 1.2^(32 + 0.8) (exact 385)
    # key-b: buckets 37, 43 → p50 at rank 1: 1.2^38 (exact 2000: the two are far apart);
    # p95 at rank 1.9: 1.2^(43 + 0.9) (exact 2900); key-z (2020, 2031) absent
    assert sorted(by_key.index) == ["key-a", "key-b"]
    assert by_key.loc["key-a", "p50_latency"] == pytest.approx(1.2**30)
    assert by_key.loc["key-a", "p95_latency"] == pytest.approx(1.2**32.8)
    assert by_key.loc["key-b", "p50_latency"] == pytest.approx(1.2**38)
    assert by_key.loc["key-b", "p95_latency"] == pytest.approx(1.2**43.9)
    by_user = latency_by(planted, PERIOD, "user_id", NOW).set_index("user_id")
    # u1: 100, 200, 1000 (buckets 25, 29, 37) → p50 at rank 1.5: 1.2^(29 + 0.5); p95 at rank
    # 2.85: 1.2^(37 + 0.85). u2: 300, 400, 3000 (31, 32, 43) → p95: 1.2^(43 + 0.85)
    assert sorted(by_user.index) == ["u1", "u2"]
    assert by_user.loc["u1", "p50_latency"] == pytest.approx(1.2**29.5)
    assert by_user.loc["u1", "p95_latency"] == pytest.approx(1.2**37.85)
    assert by_user.loc["u2", "p95_latency"] == pytest.approx(1.2**43.85)
    u1 = latency_totals(planted, PERIOD.with_(dims={"user_id": ("u1",)}), NOW)
    assert u1 == {"p50": pytest.approx(1.2**29.5), "p95": pytest.approx(1.2**37.85)}
    # per day and key, the top key first: May 1 key-a (4 calls) 1.2^30; May 2 key-b 1.2^38
    s = latency_series(planted, PERIOD, 0.5, breakdown="api_key", top_n=1, now=NOW)
    got = {
        (b.day, g, k if isinstance(k, str) else None): v for b, g, k, v in s.itertuples(index=False)
    }
    assert got == {(1, "top", "key-a"): pytest.approx(1.2**30),
                   (2, "other", None): pytest.approx(1.2**38)}  # fmt: skip
    # exact on demand, from the rows of the period only: key-a 100, 200, 300, 400 → p50 250,
    # p95 at 0.95 × 3 = 2.85 places up: 300 + 0.85 × 100 = 385; key-b 1000, 3000 → 2000, 2900
    exact = latency_by(planted, PERIOD, "api_key", NOW, exact=True).set_index("api_key")
    assert sorted(exact.index) == ["key-a", "key-b"]
    assert exact.loc["key-a", ["p50_latency", "p95_latency"]].tolist() == pytest.approx([250, 385])
    assert exact.loc["key-b", ["p50_latency", "p95_latency"]].tolist() == pytest.approx(
        [2000, 2900]
    )
    s = latency_series(planted, PERIOD, 0.5, "api_key", top_n=1, now=NOW, exact=True)
    assert {(b.day, g): v for b, g, _k, v in s.itertuples(index=False)} == {
        (1, "top"): pytest.approx(250), (2, "other"): pytest.approx(2000)}  # fmt: skip
    # by the hour, from the hourly histogram by key: the same buckets, so the same estimates
    hourly = latency_by(planted, PERIOD.with_(granularity="hour"), "api_key", NOW)
    assert _source(PERIOD, "api_key", PERIOD.window(NOW), "hour")[0] == "agg_latency_key_hourly"
    assert hourly.set_index("api_key").loc["key-a", "p95_latency"] == pytest.approx(1.2**32.8)


def test_exact_percentiles_from_the_rows_of_the_period_only(planted):
    """A key and a user at once, a user over a period cut elsewhere than 00:00 UTC, or users by
    the hour: no histogram keeps them, the rows of the period give exact percentiles."""
    u1 = PERIOD.with_(dims={"user_id": ("u1",)})
    by_key = latency_by(planted, u1, "api_key", NOW).set_index("api_key")
    # u1 with key-a: 100, 200 → p50 150, p95 = 100 + 0.95 × 100 = 195; with key-b: 1000
    assert by_key.loc["key-a", "p50_latency"] == pytest.approx(150)
    assert by_key.loc["key-a", "p95_latency"] == pytest.approx(195)
    assert by_key.loc["key-b", "p95_latency"] == pytest.approx(1000)
    # in Paris the period is May 1-3 there: 2026-04-30 22:00 to 2026-05-03 22:00 UTC (e2 out):
    # u1: 100, 200, 1000 → p50 200, p95 at rank 1.9: 200 + 0.9 × 800 = 920
    paris = u1.with_(tz="Europe/Paris")
    assert latency_totals(planted, paris, NOW) == {
        "p50": pytest.approx(200),
        "p95": pytest.approx(920),
    }
    # by the hour, u1's calls fall in three hours: each its own latency
    s = latency_series(planted, u1, 0.5, granularity="hour", now=NOW)
    assert sorted(s["value"]) == [pytest.approx(100), pytest.approx(200), pytest.approx(1000)]


def test_each_view_reads_the_smallest_histogram_that_keeps_its_dimensions():
    window = PERIOD.window(NOW)
    assert _source(PERIOD, None, window) == ("agg_latency_hourly", "hour")
    assert _source(PERIOD, "snapshot", window) == ("agg_latency_hourly", "hour")
    assert _source(PERIOD, "project", window) == ("agg_latency_key_daily", "day")
    assert _source(PERIOD, "api_key", window, "hour") == ("agg_latency_key_hourly", "hour")
    assert _source(PERIOD, "user_id", window) == ("agg_latency_user_daily", "day")
    assert _source(PERIOD, "user_id", window, "hour") is None
    assert _source(PERIOD.with_(dims={"api_key": ("k",)}), "user_id", window) is None
    off = (window[0], window[1].replace(hour=5))
    assert _source(PERIOD, "user_id", off) is None
    assert _source(PERIOD, "api_key", off) == ("agg_latency_key_hourly", "hour")


def test_errors_read_the_period_only(planted):
    page = recent_errors(planted, PERIOD, now=NOW)
    # two errors in May 1-3; the twelve planted server errors are not counted
    assert page.total == 2 and [r.request_id for r in page.rows] == ["e2", "e1"]
    groups = error_groups(planted, PERIOD, now=NOW)
    assert (groups.errors, len(groups.groups)) == (2, 2)
    assert sorted(g.count for g in groups.groups) == [1, 1]
    assert [(g.http_status, g.count) for g in groups.groups if g.http_status == 500] == [(500, 1)]


def test_error_rows_scan_filters_on_time(planted):
    """DuckDB gets the period as a filter of the table scan (so its zone maps skip the row
    groups outside the period), not as a filter after reading every row."""
    sql, params = _errors(PERIOD, PERIOD.window(NOW), ErrorQuery())
    with planted.read() as cur:
        plan = "\n".join(
            str(r[1])
            for r in cur.execute(f"EXPLAIN {sql} SELECT count(*) FROM e", params).fetchall()
        )
    # the scan is the plan's last box: the table's name, then its filters (the period's bounds)
    scan = plan[plan.index("error_events") :].replace(" ", "")
    assert "Filters:" in scan and "ts>=" in scan and "ts<" in scan


def test_drill_down_pages_read_the_newest_hours_only(planted):
    """The total and the newest hours a page needs come from the hourly rollup: a page of 2
    needs e2 (May 3, 10:00) and e1 (May 2, 10:00), so the rows are read from May 2, 10:00."""
    window = PERIOD.window(NOW)
    with planted.read() as cur:
        assert _from_rollup(cur, PERIOD, window, None, 2) == (
            8,
            datetime(2026, 5, 2, 10, tzinfo=UTC),
        )
        # the third newest is b2 (May 2, 02:00); more than there are: the whole window
        assert _from_rollup(cur, PERIOD, window, None, 3)[1] == datetime(2026, 5, 2, 2, tzinfo=UTC)
        assert _from_rollup(cur, PERIOD, window, None, 9) == (8, window[0])
        assert _from_rollup(cur, PERIOD, window, {"api_key": "key-a"}, 1) == (
            5, datetime(2026, 5, 2, 10, tzinfo=UTC))  # fmt: skip
        # what the rollup cannot say: users, a window off the hour
        assert _from_rollup(cur, PERIOD.with_(dims={"user_id": ("u1",)}), window, None, 2) is None
        assert _from_rollup(cur, PERIOD, window, {"user_id": "u1"}, 2) is None
        half = (window[0], datetime(2026, 5, 2, 10, 30, tzinfo=UTC))
        assert _from_rollup(cur, PERIOD, half, None, 2) is None
    page, total = request_rows(planted, PERIOD, page=1, page_size=3, now=NOW)
    assert total == 8 and list(page["request_id"]) == ["b1", "a4", "a3"]
    u1, n_u1 = request_rows(planted, PERIOD.with_(dims={"user_id": ("u1",)}), now=NOW)
    assert n_u1 == 4 and list(u1["request_id"]) == ["e1", "b1", "a2", "a1"]


def test_drill_down_after_retention_counts_the_rows_left(planted):
    """The rollup keeps the totals of the rows retention removed: a window reaching before the
    horizon counts the rows themselves. Keeping 32 days before 2026-06-03 removes May 1 (a1-a4)
    and the 2020 rows."""
    retention.apply(planted, 32, role="admin", actor="t", now=datetime(2026, 6, 3, 9, tzinfo=UTC))
    with planted.read() as cur:
        assert _from_rollup(cur, PERIOD, PERIOD.window(NOW), None, 2) is None
    rows, total = request_rows(planted, PERIOD, now=NOW)
    assert total == 4 and list(rows["request_id"]) == ["e2", "e1", "b2", "b1"]
    # a window after the horizon still reads the rollup
    bar = (datetime(2026, 5, 2, tzinfo=UTC), datetime(2026, 5, 3, tzinfo=UTC))
    with planted.read() as cur:
        assert _from_rollup(cur, PERIOD, bar, None, 1) == (3, datetime(2026, 5, 2, 10, tzinfo=UTC))


def test_recent_errors_read_the_newest_hours_only(planted):
    """The errors' hourly rollup gives the total and the hours a page needs: a page of one
    error reads from e2's hour (May 3, 10:00), the second from e1's (May 2, 10:00)."""
    window = PERIOD.window(NOW)
    with planted.read() as cur:
        assert _newest(cur, PERIOD, ErrorQuery(), window, 1) == (
            2,
            datetime(2026, 5, 3, 10, tzinfo=UTC),
        )
        assert _newest(cur, PERIOD, ErrorQuery(), window, 2) == (
            2,
            datetime(2026, 5, 2, 10, tzinfo=UTC),
        )
        server = ErrorQuery(codes=("server_error",))
        assert _newest(cur, PERIOD, server, window, 1) == (1, datetime(2026, 5, 3, 10, tzinfo=UTC))
        # classes and users are not in the rollup: the rows are read
        assert _newest(cur, PERIOD, ErrorQuery(classes=("server",)), window, 1) is None
        assert (
            _newest(cur, PERIOD.with_(dims={"user_id": ("u1",)}), ErrorQuery(), window, 1) is None
        )
    pages = [recent_errors(planted, PERIOD, page=p, page_size=1, now=NOW) for p in (1, 2, 3)]
    assert [(p.page, p.pages, p.total, [r.request_id for r in p.rows]) for p in pages] == [
        (1, 2, 2, ["e2"]), (2, 2, 2, ["e1"]), (2, 2, 2, ["e1"])]  # fmt: skip
    u1 = recent_errors(planted, PERIOD.with_(dims={"user_id": ("u1",)}), now=NOW)
    assert (u1.total, [r.request_id for r in u1.rows]) == (1, ["e1"])
