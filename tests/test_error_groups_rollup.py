"""The Errors page's groups, codes and rates read ``agg_error_group_hourly`` (migration 28) for a
window on whole UTC hours, and the error rows otherwise: both give the same answers.

The log (``LOG``, made with ``random.Random(SEED)``): 400 errors over two UTC days, every one with
a user (u1 or u2), several per hour and group, each at its own second, with Retry-After waits
from a few values; 100 successes. Filtering on both users keeps every row but makes the page
read the rows (the rollup keeps no users): the two answers must be equal, field for field."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from lib.analytics.errors import (
    ErrorQuery,
    _grouped_ok,
    error_codes,
    error_groups,
    error_rates,
)
from lib.filters import Filters
from lib.ingest import import_file, retention
from tests.conftest import write

SEED = 20261201
NOW = datetime(2026, 5, 10, tzinfo=UTC)
PERIOD = Filters(preset="custom", start=date(2026, 5, 1), end=date(2026, 5, 2), granularity="hour")
BOTH_USERS = {"user_id": ("u1", "u2")}
# (provider, model, status, code, type, message with a number that varies, waits it may state)
KINDS = [
    ("openai", "gpt-4o", 429, "rate_limit_exceeded", None, "Rate limit reached. Please try again in {n}s.",
     [1000, 2000, 20000]),
    ("openai", "gpt-4o-2024-08-06", 429, "insufficient_quota", None,
     "You exceeded your current quota (request {n}).", []),
    ("openai", "gpt-4o-mini", 500, "server_error", None, "The server had an error ({n}).", [None]),
    ("anthropic", "claude-sonnet-4-5", 529, None, "overloaded_error", "Overloaded", [None, 5000]),
    ("openai", "gpt-4o-mini", 400, "context_length_exceeded", None,
     "This model's maximum context length is 128000 tokens. However, you requested {n} tokens.", []),
]  # fmt: skip


def make_log(folder) -> str:
    rng = random.Random(SEED)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    seconds = rng.sample(range(2 * 86400), 500)  # each row at its own second: no ties
    rows = []
    for i, s in enumerate(seconds):
        ts = (start + timedelta(seconds=s)).isoformat().replace("+00:00", "Z")
        base = {"timestamp": ts, "request_id": f"r{i}", "user": f"u{1 + i % 2}",
                "api_key": rng.choice(["key-a", "key-b", "key-c"]),
                "project": rng.choice(["proj-x", "proj-y", None]),
                "prompt_tokens": 10, "completion_tokens": 0}  # fmt: skip
        if i < 100:
            rows.append({**base, "provider": "openai", "model": "gpt-4o", "status": "success",
                         "http_status": 200, "completion_tokens": 5})  # fmt: skip
            continue
        provider, model, status, code, typ, message, waits = rng.choice(KINDS[:3] * 3 + KINDS[3:])
        rows.append({**base, "provider": provider, "model": model, "status": "error",
                     "http_status": status, "error_code": code, "error_type": typ,
                     "error_message": message.format(n=rng.randint(1, 99)),
                     "retry_after_ms": rng.choice(waits) if waits else None})  # fmt: skip
    return write(folder, "log.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")


@pytest.fixture
def logged(store, tmp_path):
    result = import_file(store, make_log(tmp_path))
    assert result.rows_new == 500
    # several errors per hour and group, so the rollup really merges rows
    assert store.scalar("SELECT count(*) FROM agg_error_group_hourly") < 400
    assert store.scalar("SELECT sum(errors) FROM agg_error_group_hourly") == 400
    return store


def test_the_rollup_is_read_where_it_holds_every_error(logged):
    window = PERIOD.window(NOW)
    with logged.read() as cur:
        assert _grouped_ok(cur, PERIOD, window)
        assert not _grouped_ok(cur, PERIOD.with_(dims=BOTH_USERS), window)
        off_the_hour = (window[0] + timedelta(minutes=30), window[1])
        assert not _grouped_ok(cur, PERIOD, off_the_hour)
        kolkata = PERIOD.with_(tz="Asia/Kolkata")  # UTC+05:30: days start at 18:30 UTC
        assert not _grouped_ok(cur, kolkata, kolkata.window(NOW))
    # retention removed rows before May 2: a window from May 1 reads the rows that are left
    retention.apply(logged, 32, role="admin", actor="t", now=datetime(2026, 6, 3, 9, tzinfo=UTC))
    with logged.read() as cur:
        assert retention.horizon_of(cur) == date(2026, 5, 2)
        assert not _grouped_ok(cur, PERIOD, window)
        may_2 = PERIOD.with_(start=date(2026, 5, 2))
        assert _grouped_ok(cur, may_2, may_2.window(NOW))


@pytest.mark.parametrize(
    "dims, q",
    [
        ({}, ErrorQuery()),
        ({"model": ("gpt-4o",)}, ErrorQuery()),
        ({"api_key": ("key-a", "key-c")}, ErrorQuery()),
        ({"project": ("proj-x",)}, ErrorQuery.of(classes=["rate_limit", "quota"])),
        ({}, ErrorQuery.of(codes=["rate_limit_exceeded", "server_error"])),
        ({"provider": ("anthropic",)}, ErrorQuery.of(classes=["overloaded"])),
    ],
)
@pytest.mark.parametrize("granularity", ["hour", "day"])
def test_rollup_and_rows_give_the_same_page(logged, dims, q, granularity):
    f = PERIOD.with_(dims=dims, granularity=granularity)
    rows = f.with_(dims={**dims, **BOTH_USERS})
    grouped = error_groups(logged, f, q, limit=50, now=NOW)
    assert grouped.errors > 0
    assert grouped == error_groups(logged, rows, q, limit=50, now=NOW)
    assert error_codes(logged, f, q, now=NOW) == error_codes(logged, rows, q, now=NOW)
    assert error_rates(logged, f, q, by="class", now=NOW) == error_rates(
        logged, rows, q, by="class", now=NOW
    )
    assert error_rates(logged, f, q, by="code", now=NOW) == error_rates(
        logged, rows, q, by="code", now=NOW
    )


def test_median_wait_over_hours(store, tmp_path):
    # one group: waits 1 s and 1 s at 10:xx, 4 s at 11:05, 2 s at 12:05, none at 12:30. The
    # four waits in order are 1, 1, 2, 4 s: the median is (1 + 2) / 2 = 1.5 s. The rollup holds
    # them in three rows (10:00 with two errors of 1 s). With a fifth wait of 9 s: 1, 1, 2, 4, 9,
    # the median is 2 s.
    def rows(waits: list[tuple[str, int | None]]) -> str:
        out = [{"timestamp": f"2026-05-01T{t}:00Z", "request_id": f"w{i}", "provider": "openai",
                "model": "gpt-4o", "status": "error", "http_status": 429,
                "error_code": "rate_limit_exceeded", "error_message": f"Slow down ({i})",
                "retry_after_ms": w, "prompt_tokens": 1, "completion_tokens": 0}
               for i, (t, w) in enumerate(waits)]  # fmt: skip
        return "\n".join(json.dumps(r) for r in out) + "\n"

    four = [("10:05", 1000), ("10:40", 1000), ("11:05", 4000), ("12:05", 2000), ("12:30", None)]
    import_file(store, write(tmp_path, "four.jsonl", rows(four)))
    assert (
        store.scalar("SELECT count(*) FROM agg_error_group_hourly WHERE retry_after_ms = 1000") == 1
    )
    (g,) = error_groups(store, PERIOD, now=NOW).groups
    assert (g.count, g.retry_after_n, g.retry_after_ms) == (5, 4, 1500.0)
    assert g.sample == "Slow down (4)"  # the newest message, 12:30
    assert (g.first_seen, g.last_seen) == (
        datetime(2026, 5, 1, 10, 5, tzinfo=UTC),
        datetime(2026, 5, 1, 12, 30, tzinfo=UTC),
    )
    import_file(store, write(tmp_path, "five.jsonl", rows([*four, ("13:00", 9000)])))
    (g,) = error_groups(store, PERIOD, now=NOW).groups
    assert (g.count, g.retry_after_n, g.retry_after_ms) == (6, 5, 2000.0)
