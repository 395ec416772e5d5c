"""lib.http: the retry policy, Retry-After, the providers' headers, all shared by llm and pull."""

from __future__ import annotations

from datetime import UTC, datetime

from lib.http import (
    ANTHROPIC_VERSION,
    RETRIED,
    RetryPolicy,
    anthropic_headers,
    bearer_headers,
    retry_after_seconds,
)


def test_backoff_doubles_from_the_base_and_stops_at_the_cap():
    p = RetryPolicy(base_delay=1.0, max_delay=60.0)
    # 1 × 2^0 = 1 s, 1 × 2^3 = 8 s, each times the jitter factor
    assert p.backoff(0, rand=1.0) == 1.0
    assert p.backoff(3, rand=0.5) == 4.0  # 8 × 0.5
    assert p.backoff(10, rand=1.0) == 60.0  # 1024 s capped at 60
    assert all(0.5 <= p.backoff(0) <= 1.0 for _ in range(50))  # jitter in [0.5, 1]


def test_retry_after_seconds_and_http_dates():
    now = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(" 7 ") == 7.0
    # an HTTP date 90 s after now
    assert retry_after_seconds("Mon, 02 Mar 2026 12:01:30 GMT", now) == 90.0
    assert retry_after_seconds("Mon, 02 Mar 2026 11:00:00 GMT", now) == 0.0  # past: no wait
    assert retry_after_seconds("") is None and retry_after_seconds("in a while") is None


def test_what_is_retried():
    assert {429, 529, 503} <= RETRIED and not {400, 401, 403, 404} & RETRIED


def test_provider_headers():
    assert bearer_headers("sk-x") == {"Authorization": "Bearer sk-x"} and bearer_headers(None) == {}
    assert anthropic_headers("sk-ant-x") == {
        "anthropic-version": "2023-06-01",
        "x-api-key": "sk-ant-x",
    }
    assert anthropic_headers(None) == {"anthropic-version": ANTHROPIC_VERSION}


def test_rate_limits_read_from_the_providers_headers():
    import httpx

    from lib.http import rate_limits

    openai = httpx.Headers(
        {"X-RateLimit-Limit-Requests": "5000", "x-ratelimit-limit-tokens": "800000"}
    )
    assert rate_limits(openai) == (5000, 800000)
    both = {"anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-tokens-limit": "40000",
            "anthropic-ratelimit-input-tokens-limit": "30000"}  # fmt: skip
    assert rate_limits(both) == (50, 40000)  # the combined limit wins over a part
    parts = {"anthropic-ratelimit-output-tokens-limit": "8000"}
    assert rate_limits(parts) == (None, 8000)
    assert rate_limits(
        {"x-ratelimit-limit-requests": "lots", "x-ratelimit-limit-tokens": "-3"}
    ) == (None, None)
    assert rate_limits({}) == (None, None)
