"""The Errors page's queries (lib.analytics.errors) over a small hand-made request log imported
through lib.ingest.import_file into a real DuckDB file; every count is worked out by hand."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from lib.analytics.errors import (
    ErrorQuery,
    advice_of,
    error_codes,
    error_groups,
    error_rates,
    recent_errors,
)
from lib.error_kb import classify
from lib.filters import Filters
from lib.ingest import import_file
from tests.conftest import write

RATE = "Rate limit reached for gpt-4o in organization {org} on tokens per min (TPM): Limit 30000, Used {used}, Requested {req}. Please try again in {wait}."  # fmt: skip
# id, time (UTC), provider, model, key, project, status, code, type, message
ERRORS = [
    ("R0", "2026-04-30T23:00:00Z", "openai", "gpt-4o", "key-a", "proj-x", 429, "rate_limit_exceeded", None,
     RATE.format(org="org-ZZZ000", used=100, req=5, wait="3s")),  # before the period (in it from Paris)
    ("R1", "2026-05-01T10:00:00Z", "openai", "gpt-4o", "key-a", "proj-x", 429, "rate_limit_exceeded", None,
     RATE.format(org="org-AAA111", used=29500, req=1200, wait="1.4s")),
    ("Q1", "2026-05-01T12:00:00Z", "openai", "gpt-4o", "key-a", "proj-x", 429, "insufficient_quota", None,
     "You exceeded your current quota, please check your plan and billing details."),
    ("N1", "2026-05-01T15:00:00Z", "openai", "gpt-4o", "key-a", "proj-x", 408, None, "Timeout",
     "litellm.Timeout: APITimeoutError - Request timed out."),
    ("C1", "2026-05-02T08:00:00Z", "openai", "gpt-4o", "key-b", "proj-x", 400, "context_length_exceeded", None,
     "This model's maximum context length is 128000 tokens. However, you requested 130001 tokens."),
    ("R2", "2026-05-02T11:00:00Z", "openai", "gpt-4o-2024-08-06", "key-b", "proj-x", 429, "rate_limit_exceeded",
     None, RATE.format(org="org-BBB222", used=28000, req=3300, wait="22ms")),
    ("R3", "2026-05-02T12:00:00Z", "openai", "gpt-4o-mini", "key-a", "proj-y", 429, "rate_limit_exceeded", None,
     RATE.format(org="org-CCC333", used=29999, req=7, wait="2s")),
    ("S1", "2026-05-02T20:00:00Z", "openai", "gpt-4o", "key-b", "proj-y", 500, "server_error", None,
     "The server had an error while processing your request. Sorry about that!"),
    ("O1", "2026-05-03T09:00:00Z", "anthropic", "claude-sonnet-4-5", "key-c", "proj-y", 529, None,
     "overloaded_error", "Overloaded"),
    ("O2", "2026-05-03T09:30:00Z", "anthropic", "claude-sonnet-4-5", "key-c", "proj-y", 529, None,
     "overloaded_error", "Overloaded"),
    ("B1", "2026-05-03T10:00:00Z", "bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "key-c", "proj-z", 400,
     None, "ThrottlingException", "Too many requests, please wait before trying again."),
]  # fmt: skip
# successes: 3 on May 1, 2 on May 2, 1 on May 3 (UTC)
SUCCESSES = ["2026-05-01T01:00:00Z", "2026-05-01T02:00:00Z", "2026-05-01T03:00:00Z",
             "2026-05-02T01:00:00Z", "2026-05-02T02:00:00Z", "2026-05-03T01:00:00Z"]  # fmt: skip
# Per UTC day in the period (May 1-3): requests 3+3=6, 2+4=6, 1+3=4; errors 3 (R1 Q1 N1),
# 4 (C1 R2 R3 S1), 3 (O1 O2 B1) = 10. Classes: rate_limit R1 R2 R3 B1 = 4, quota Q1, overloaded
# O1 O2, client C1, server S1, network N1 (408).
PERIOD = Filters(preset="custom", start=date(2026, 5, 1), end=date(2026, 5, 3), granularity="day")
NOW = datetime(2026, 5, 10, tzinfo=UTC)


def write_log(folder) -> str:
    """The log above (ERRORS and SUCCESSES) as a JSON Lines file in ``folder``; its path."""
    rows = [{"timestamp": ts, "request_id": rid, "provider": p, "model": m, "api_key": k, "project": pr,
             "status": "error", "http_status": st, "error_code": code, "error_type": typ, "error_message": msg,
             "prompt_tokens": 10, "completion_tokens": 0}
            for rid, ts, p, m, k, pr, st, code, typ, msg in ERRORS]  # fmt: skip
    rows += [{"timestamp": ts, "request_id": f"ok{i}", "provider": "openai", "model": "gpt-4o", "api_key": "key-a",
              "project": "proj-x", "status": "success", "http_status": 200, "prompt_tokens": 10,
              "completion_tokens": 5} for i, ts in enumerate(SUCCESSES)]  # fmt: skip
    return write(folder, "requests.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")


@pytest.fixture
def store_with_errors(store, tmp_path):
    path = write_log(tmp_path)
    result = import_file(store, path)
    assert result.rows_new == len(ERRORS) + len(SUCCESSES) == 17
    return store


def _ids(page) -> list[str]:
    return [r.request_id for r in page.rows]


def test_recent_errors_newest_first_paged_and_filtered(store_with_errors):
    s = store_with_errors
    first = recent_errors(s, PERIOD, page=1, page_size=4, now=NOW)
    assert (first.total, first.pages) == (10, 3)  # R0 is before the period
    assert _ids(first) == ["B1", "O2", "O1", "S1"]
    assert _ids(recent_errors(s, PERIOD, page=2, page_size=4, now=NOW)) == ["R3", "R2", "C1", "N1"]
    last = recent_errors(s, PERIOD, page=3, page_size=4, now=NOW)
    assert _ids(last) == ["Q1", "R1"]
    assert (
        recent_errors(s, PERIOD, page=99, page_size=4, now=NOW).page == 3
    )  # past the end: the last
    row = first.rows[0]
    assert (row.provider, row.model, row.snapshot, row.api_key, row.project) == (
        "bedrock", "claude-3-5-sonnet", "anthropic.claude-3-5-sonnet-20240620-v1:0", "key-c", "proj-z")  # fmt: skip
    assert (row.http_status, row.error_type, row.status_class) == (
        400,
        "ThrottlingException",
        "rate_limit",
    )
    assert row.ts == datetime(2026, 5, 3, 10, tzinfo=UTC)
    # the class in SQL is the class in Python, row by row
    every = recent_errors(s, PERIOD, page_size=100, now=NOW).rows
    assert all(
        r.status_class == classify(r.http_status, r.error_code, r.error_type, r.message)
        for r in every
    )
    # rate limits and quotas (429s and Bedrock's throttling): B1 R3 R2 Q1 R1
    q = ErrorQuery.of(["rate_limit", "quota", "not-a-class"])
    assert q.classes == ("quota", "rate_limit")
    assert _ids(recent_errors(s, PERIOD, q, now=NOW)) == ["B1", "R3", "R2", "Q1", "R1"]
    assert _ids(
        recent_errors(s, PERIOD, ErrorQuery.of(codes=["rate_limit_exceeded"]), now=NOW)
    ) == ["R3", "R2", "R1"]
    # a global filter: key-a has R1 Q1 N1 R3
    keyed = PERIOD.with_(dims={"api_key": ("key-a",)})
    assert _ids(recent_errors(s, keyed, now=NOW)) == ["R3", "N1", "Q1", "R1"]
    # the model family filter keeps the snapshot gpt-4o-2024-08-06 (R2): R1 Q1 N1 C1 R2 S1
    assert recent_errors(s, PERIOD.with_(dims={"model": ("gpt-4o",)}), now=NOW).total == 6


def test_advice_once_per_fingerprint_of_a_page(store_with_errors):
    rows = recent_errors(store_with_errors, PERIOD, page_size=100, now=NOW).rows
    advice = advice_of(rows)
    assert len(advice) == 7  # R1 R2 R3 share one fingerprint; O1 O2 another; 5 singles
    by_id = {r.request_id: advice[r.fingerprint] for r in rows}
    assert by_id["R2"] is by_id["R1"] and by_id["R1"].title == "Rate limit reached"
    assert by_id["B1"].title == "Throttled by Bedrock" and by_id["N1"].status_class == "network"


def test_error_codes_for_the_code_filter(store_with_errors):
    # no code: N1 O1 O2 B1 = 4; rate_limit_exceeded R1 R2 R3 = 3; then the singles by name
    assert error_codes(store_with_errors, PERIOD, now=NOW) == [
        (None, 4), ("rate_limit_exceeded", 3), ("context_length_exceeded", 1), ("insufficient_quota", 1),
        ("server_error", 1)]  # fmt: skip
    # within the classes asked for only (quota: Q1)
    assert error_codes(store_with_errors, PERIOD, ErrorQuery(("quota",)), now=NOW) == [
        ("insufficient_quota", 1)
    ]


def test_groups_by_fingerprint(store_with_errors):
    found = error_groups(store_with_errors, PERIOD, now=NOW)
    assert (found.errors, found.total_groups) == (10, 7)
    assert found.days == [date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3)]
    # largest first, then the most recent: rate limits (3), overloaded (2), then B1 S1 C1 N1 Q1
    titles = [g.advice.title for g in found.groups]
    assert titles == ["Rate limit reached", "Provider overloaded", "Throttled by Bedrock", "Provider error",
                      "Prompt too long for the model", "Request timed out", "Spend limit or quota reached"]  # fmt: skip
    rate = found.groups[0]
    assert (rate.count, rate.status_class, rate.http_status, rate.error_code) == (
        3,
        "rate_limit",
        429,
        "rate_limit_exceeded",
    )
    assert (rate.first_seen, rate.last_seen) == (
        datetime(2026, 5, 1, 10, tzinfo=UTC),
        datetime(2026, 5, 2, 12, tzinfo=UTC),
    )
    assert rate.trend == [1, 2, 0]  # R1 on May 1; R2, R3 on May 2
    assert rate.sample == RATE.format(
        org="org-CCC333", used=29999, req=7, wait="2s"
    )  # R3, the newest
    # models: gpt-4o (R1, and R2's snapshot) 2, gpt-4o-mini 1; keys: key-a (R1, R3) 2, key-b 1;
    # projects: proj-x (R1, R2) 2, proj-y 1
    assert (rate.models, rate.keys, rate.projects) == (2, 2, 2)
    assert [(s.value, s.count) for s in rate.top_models] == [("gpt-4o", 2), ("gpt-4o-mini", 1)]
    assert [(s.value, s.count) for s in rate.top_keys] == [("key-a", 2), ("key-b", 1)]
    assert [(s.value, s.count) for s in rate.top_projects] == [("proj-x", 2), ("proj-y", 1)]
    assert (
        rate.advice.retry
        and rate.advice.doc_url == "https://platform.openai.com/docs/guides/error-codes"
    )
    over = found.groups[1]
    assert (over.count, over.trend, over.status_class, over.provider) == (
        2,
        [0, 0, 2],
        "overloaded",
        "anthropic",
    )
    assert over.advice.doc_url == "https://docs.anthropic.com/en/api/errors"
    # top=1 names one value per dimension; limit=2 keeps two groups, the totals stay
    two = error_groups(store_with_errors, PERIOD, limit=2, top=1, now=NOW)
    assert len(two.groups) == 2 and two.total_groups == 7
    assert [(s.value, s.count) for s in two.groups[0].top_models] == [("gpt-4o", 2)]
    # only the 429 classes: rate limits (R1 R2 R3 + B1 in its own group) and the quota
    q = error_groups(store_with_errors, PERIOD, ErrorQuery(("quota", "rate_limit")), now=NOW)
    assert [(g.count, g.status_class) for g in q.groups] == [
        (3, "rate_limit"),
        (1, "rate_limit"),
        (1, "quota"),
    ]


def test_groups_in_the_reporting_zone(store_with_errors):
    # May 1-3 in Paris (UTC+2) is Apr 30 22:00 to May 3 22:00 UTC: R0 (Apr 30 23:00 UTC, May 1
    # 01:00 in Paris) joins the rate limits on May 1
    paris = PERIOD.with_(tz="Europe/Paris")
    rate = error_groups(store_with_errors, paris, now=NOW).groups[0]
    assert (rate.count, rate.trend) == (4, [2, 2, 0])
    assert rate.first_seen == datetime(2026, 4, 30, 23, tzinfo=UTC)


def test_error_rates_by_class_and_code(store_with_errors):
    by_class = error_rates(store_with_errors, PERIOD, now=NOW)
    assert by_class.buckets == [datetime(2026, 5, 1), datetime(2026, 5, 2), datetime(2026, 5, 3)]
    assert by_class.requests == [6, 6, 4]
    got = {s.key: s.errors for s in by_class.series}
    assert list(got) == ["client", "rate_limit", "quota", "overloaded", "server", "network"]
    assert got == {"client": [0, 1, 0], "rate_limit": [1, 2, 1], "quota": [1, 0, 0], "overloaded": [0, 0, 2],
                   "server": [0, 1, 0], "network": [1, 0, 0]}  # fmt: skip
    assert by_class.errors == [3, 4, 3]
    rl = next(s for s in by_class.series if s.key == "rate_limit")
    assert by_class.rate(rl) == [100 / 6, 200 / 6, 25.0]  # 1 of 6, 2 of 6, 1 of 4
    # by code, the 2 largest and the rest: no code (N1; O1 O2 B1) 4, rate_limit_exceeded 3, then
    # Q1 + C1 S1 merged
    by_code = error_rates(store_with_errors, PERIOD, by="code", top_codes=2, now=NOW)
    assert [(s.key, s.other, s.errors) for s in by_code.series] == [
        (None, False, [1, 0, 3]), ("rate_limit_exceeded", False, [1, 2, 0]), (None, True, [1, 2, 0])]  # fmt: skip
    # per hour on May 3: 24 buckets; requests at 01:00 (1), 09:00 (O1 O2), 10:00 (B1)
    day3 = PERIOD.with_(start=date(2026, 5, 3), end=date(2026, 5, 3), granularity="hour")
    hourly = error_rates(store_with_errors, day3, now=NOW)
    assert len(hourly.buckets) == 24
    assert [(b.hour, n) for b, n in zip(hourly.buckets, hourly.requests, strict=True) if n] == [
        (1, 1),
        (9, 2),
        (10, 1),
    ]
    # a user filter counts requests from the raw rows (the hourly rollup keeps no users): none here
    assert error_rates(
        store_with_errors, PERIOD.with_(dims={"user_id": ("u1",)}), now=NOW
    ).requests == [0, 0, 0]
    # the class filter narrows the errors, never the requests
    only = error_rates(store_with_errors, PERIOD, ErrorQuery(("overloaded",)), now=NOW)
    assert [s.key for s in only.series] == ["overloaded"] and only.requests == [6, 6, 4]


def test_error_rates_per_month_and_in_the_reporting_zone(store_with_errors):
    # one month bucket: 16 requests, 10 errors
    month = error_rates(store_with_errors, PERIOD.with_(granularity="month"), now=NOW)
    assert (month.buckets, month.requests, month.errors) == ([datetime(2026, 5, 1)], [16], [10])
    # in Paris (UTC+2) R0 (Apr 30 23:00 UTC) is on May 1: 7 requests and 4 errors that day;
    # S1 (May 2 20:00 UTC, 22:00 in Paris) stays on May 2
    paris = error_rates(store_with_errors, PERIOD.with_(tz="Europe/Paris"), now=NOW)
    assert (paris.requests, paris.errors) == ([7, 6, 4], [4, 4, 3])


def test_retry_after_seen_per_group(store, tmp_path):
    # three rate-limit errors of one fingerprint (only the numbers differ): two answers said how
    # long to wait, 1 s and 3 s; the median of those two is 2,000 ms
    rows = [{"timestamp": f"2026-05-01T1{i}:00:00Z", "request_id": f"w{i}", "provider": "openai",
             "model": "gpt-4o", "status": "error", "http_status": 429, "error_code": "rate_limit_exceeded",
             "error_message": f"Rate limit reached. Please try again in {i}s.", "retry_after_ms": wait,
             "prompt_tokens": 1, "completion_tokens": 0}
            for i, wait in enumerate([1000, 3000, None])]  # fmt: skip
    import_file(
        store, write(tmp_path, "waits.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    )
    (g,) = error_groups(store, PERIOD, now=NOW).groups
    assert (g.count, g.retry_after_n, g.retry_after_ms) == (3, 2, 2000.0)


def test_error_rates_in_a_half_hour_zone(store, tmp_path):
    # Asia/Kolkata is UTC+05:30: a success at 18:40 UTC and an error at 18:50 UTC on May 1 are
    # both on May 2 there (00:10 and 00:20). The hourly rollup's 18:00 UTC hour starts at 23:30
    # on May 1: the requests are counted from the rows instead, so the day holds both
    rows = [{"timestamp": "2026-05-01T18:40:00Z", "request_id": "k1", "provider": "openai", "model": "gpt-4o",
             "status": "success", "http_status": 200, "prompt_tokens": 1, "completion_tokens": 1},
            {"timestamp": "2026-05-01T18:50:00Z", "request_id": "k2", "provider": "openai", "model": "gpt-4o",
             "status": "error", "http_status": 500, "error_code": "server_error", "error_message": "boom",
             "prompt_tokens": 1, "completion_tokens": 0}]  # fmt: skip
    import_file(
        store, write(tmp_path, "kolkata.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    )
    two_days = Filters(preset="custom", start=date(2026, 5, 1), end=date(2026, 5, 2), granularity="day",
                       tz="Asia/Kolkata")  # fmt: skip
    r = error_rates(store, two_days, now=NOW)
    assert (r.buckets, r.requests, r.errors) == (
        [datetime(2026, 5, 1), datetime(2026, 5, 2)], [0, 2], [0, 1])  # fmt: skip
