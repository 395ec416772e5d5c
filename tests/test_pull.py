"""Pulls from the admin usage and cost APIs, against a local server that speaks them."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from lib.auth.roles import PermissionDeniedError
from lib.ingest import REPORT_PLANNERS
from lib.pull.client import PullError, RetryPolicy, retry_after_seconds
from lib.pull.sources import ADMIN_APIS, PROVIDERS, pull
from tests.admin_api_server import ANTHROPIC_KEY, DAY, OPENAI_KEY, AdminApi
from tests.conftest import snapshot

D1 = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
D2 = D1 + DAY
TODAY = date(2026, 3, 10)
FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05)
COMPLETIONS = "/v1/organization/usage/completions"
COSTS = "/v1/organization/costs"


def _completion(model: str, inp: int, out: int, n: int) -> dict:
    return {"object": "organization.usage.completions.result", "input_tokens": inp, "output_tokens": out,
            "num_model_requests": n, "input_cached_tokens": 0, "project_id": "proj_a", "user_id": None,
            "api_key_id": "key_a", "model": model, "batch": False}  # fmt: skip


def _cost(usd: float | Decimal, item: str) -> dict:
    return {"object": "organization.costs.result", "amount": {"value": usd, "currency": "usd"},
            "line_item": item, "project_id": "proj_a"}  # fmt: skip


@pytest.fixture
def api(monkeypatch):
    with AdminApi(page_size=2) as server:
        server.data[COMPLETIONS] = {
            D1: [_completion("gpt-4o-mini-2024-07-18", 1000, 100, 10)],
            D2: [_completion("gpt-4o-2024-08-06", 2000, 200, 5)],
        }
        server.data[COSTS] = {
            D1: [_cost(0.5, "gpt-4o-mini, input")],
            D2: [_cost(1.25, "gpt-4o, input")],
        }
        monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)
        monkeypatch.setenv("OPENAI_ADMIN_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", ANTHROPIC_KEY)
        monkeypatch.setenv("ANTHROPIC_ADMIN_BASE_URL", server.url)
        yield server


def _totals(store) -> tuple:
    return (
        store.scalar("SELECT sum(requests) FROM counted_hourly"),
        store.scalar("SELECT sum(input_tokens) FROM counted_hourly"),
        store.scalar("SELECT sum(output_tokens) FROM counted_hourly"),
        store.scalar("SELECT sum(amount) FROM live_costs"),
    )


def _openai(store, api, start=date(2026, 3, 1), end=date(2026, 3, 3), **kw):
    return pull(store, "openai", start, end, role="analyst", policy=FAST, today=TODAY, **kw)


def test_openai_pull_pages_through_and_imports(store, api):
    result = _openai(store, api)
    # 3 days at 2 buckets per page: 2 pages for each of completions, embeddings and costs
    assert (result.pages, result.retries) == (6, 0)
    assert [r.format for r in result.imports] == ["openai_usage", "openai_usage", "openai_costs"]
    # named by provider, report and days; that it is a pull is its origin, not a file-name suffix
    assert result.imports[0].file_name == "openai completions usage 2026-03-01..2026-03-03"
    assert {r.origin for r in result.imports} == {"pull"}
    assert store.query("SELECT DISTINCT origin, content_hash FROM imports") == [("pull", None)]
    assert _totals(store) == (15, 3000, 300, Decimal("1.75"))
    calls = [r for r in api.requests if r["path"] == COMPLETIONS]
    assert calls[0]["query"]["start_time"] == [str(D1)]
    assert calls[0]["query"]["end_time"] == [str(D1 + 3 * DAY)]  # end day included, exclusive bound
    assert calls[0]["query"]["group_by"] == [
        "project_id",
        "user_id",
        "api_key_id",
        "model",
        "batch",
    ]
    assert "page" not in calls[0]["query"] and calls[1]["query"]["page"]  # the cursor is sent back
    assert all(r["headers"]["Authorization"] == f"Bearer {OPENAI_KEY}" for r in api.requests)


def test_a_second_pull_of_the_same_days_doubles_nothing(store, api):
    _openai(store, api)
    again = _openai(store, api)
    assert _totals(store) == (15, 3000, 300, Decimal("1.75"))
    assert sum(r.rows_new for r in again.imports) == 0
    # a later pull of days without traffic imports (empty buckets, costs included) and keeps totals
    quiet = _openai(store, api, date(2026, 3, 5), date(2026, 3, 6))
    assert [r.format for r in quiet.imports] == ["openai_usage", "openai_usage", "openai_costs"]
    assert _totals(store) == (15, 3000, 300, Decimal("1.75"))


def test_money_keeps_every_digit_the_api_sends(store, api):
    # Amounts as the API writes them, with more significant digits than a float holds (17):
    # 20 (all decimals) and 23 (18 decimals). cost_items.amount is DECIMAL(38, 20): every digit
    # up to the 20th decimal is kept, so both are stored exactly. Read as floats they would be
    # 0.13080438340307526 and 12345.123456789011 (off by 1.2e-18 and 1.3e-12).
    small, large = Decimal("0.13080438340307526123"), Decimal("12345.123456789012345678")
    api.data[COSTS] = {D1: [_cost(small, "gpt-4o-mini, input")],
                       D2: [_cost(large, "gpt-4o, input")]}  # fmt: skip
    _openai(store, api)
    assert store.query("SELECT amount FROM live_costs ORDER BY amount") == [(small,), (large,)]
    # 0.13080438340307526123 + 12345.123456789012345678 = 12345.25426117241542093923
    assert store.scalar("SELECT sum(amount) FROM live_costs") == Decimal(
        "12345.25426117241542093923"
    )


def test_retry_after_is_respected_then_backoff(store, api):
    api.faults[COMPLETIONS] = [
        (429, {"Retry-After": "2"}, {"error": {"message": "Rate limit reached", "type": "requests",
                                               "param": None, "code": "rate_limit_exceeded"}}),
        (503, {}, {"error": {"message": "overloaded", "type": "server_error", "param": None, "code": None}}),
    ]  # fmt: skip
    waits: list[float] = []
    result = _openai(store, api, sleep=waits.append)
    # the server's 2 s first; then backoff: 0.01 × 2¹ × jitter in [0.5, 1]
    assert waits[0] == 2.0 and 0.01 <= waits[1] <= 0.02 and len(waits) == 2
    assert result.retries == 2
    assert _totals(store) == (15, 3000, 300, Decimal("1.75"))


def test_retry_after_really_waits(store, api):
    api.faults[COSTS] = [(429, {"Retry-After": "1"}, {"error": {"message": "slow down", "type": "requests",
                                                                "param": None, "code": None}})]  # fmt: skip
    t0 = time.monotonic()
    _openai(store, api)
    assert time.monotonic() - t0 >= 1.0


def test_exhausted_retries_import_nothing(store, api):
    body = {
        "error": {
            "message": "The server had an error",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    api.faults[COSTS] = [(500, {}, body)] * 4  # the first try and 3 retries
    before = snapshot(store)
    with pytest.raises(
        PullError, match=r"still failed after 3 retries \(HTTP 500: The server had an error"
    ):
        _openai(store, api, sleep=lambda _s: None)
    # completions and embeddings were fetched, but nothing is imported unless every report came
    assert snapshot(store) == before


def test_a_long_retry_after_gives_up_with_a_clear_message(store, api):
    api.faults[COMPLETIONS] = [(429, {"Retry-After": "3600"}, {"error": {"message": "quota", "type": "requests",
                                                                          "param": None, "code": None}})]  # fmt: skip
    with pytest.raises(PullError, match="asks to wait 3600 s"):
        _openai(store, api)


def test_refused_key_is_explained_and_never_echoed(store, api, monkeypatch):
    wrong = "sk-admin-WRONG-secret-value"
    monkeypatch.setenv("OPENAI_ADMIN_KEY", wrong)
    with pytest.raises(PullError) as err:
        _openai(store, api)
    text = str(err.value)
    assert "HTTP 401" in text and "admin key was refused" in text and "invalid_api_key" in text
    assert wrong not in text and "WRONG" not in repr(err.value.__cause__)


def test_missing_key_names_the_setting(store, api, monkeypatch, tmp_path):
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY")
    monkeypatch.setattr("lib.config.SECRETS_FILE", tmp_path / "none.toml")
    with pytest.raises(PullError, match="ANTHROPIC_ADMIN_KEY"):
        pull(store, "anthropic", date(2026, 3, 1), date(2026, 3, 1), role="admin", today=TODAY)


def test_a_viewer_cannot_pull_and_bad_periods_are_refused(store, api):
    with pytest.raises(PermissionDeniedError):
        pull(store, "openai", date(2026, 3, 1), date(2026, 3, 2), role="viewer", today=TODAY)
    with pytest.raises(PullError, match=r"starts .* after it ends"):
        _openai(store, api, date(2026, 3, 3), date(2026, 3, 1))
    with pytest.raises(PullError, match="future"):
        _openai(store, api, date(2026, 4, 1), date(2026, 4, 2))
    with pytest.raises(
        PullError, match=r"Unknown provider 'gemini': expected one of openai, anthropic"
    ):
        pull(store, "gemini", date(2026, 3, 1), date(2026, 3, 2), role="admin", today=TODAY)
    assert api.requests == []


def test_anthropic_pull(store, api):
    api.data["/v1/organizations/usage_report/messages"] = {D1: [{
        "uncached_input_tokens": 100, "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "cache_read_input_tokens": 50, "output_tokens": 30, "api_key_id": "apikey_01", "workspace_id": None,
        "model": "claude-sonnet-4-5-20250929", "service_tier": "standard"}]}  # fmt: skip
    api.data["/v1/organizations/cost_report"] = {D1: [{
        "currency": "USD", "amount": "150.5", "workspace_id": None, "description": "Claude Sonnet 4.5 usage",
        "cost_type": "tokens", "model": "claude-sonnet-4-5-20250929", "token_type": "output_tokens"}]}  # fmt: skip
    result = pull(store, "anthropic", date(2026, 3, 1), date(2026, 3, 2), role="admin", policy=FAST,
                  today=TODAY)  # fmt: skip
    assert [r.format for r in result.imports] == ["anthropic_usage", "anthropic_cost"]
    # input = uncached + cache reads; no request count in Anthropic's report; 150.5 cents = $1.505
    assert _totals(store) == (None, 150, 30, Decimal("1.505"))
    first = api.requests[0]
    assert first["headers"]["x-api-key"] == ANTHROPIC_KEY
    assert first["headers"]["anthropic-version"] == "2023-06-01"
    assert first["query"]["starting_at"] == ["2026-03-01T00:00:00Z"]
    assert first["query"]["ending_at"] == ["2026-03-03T00:00:00Z"]
    assert "model" in first["query"]["group_by[]"]


def test_one_adapter_per_provider():
    # the registry is the list of providers; each names its settings and pulls reports that
    # the import engine has a planner for (a missing one would fail only after fetching)
    assert PROVIDERS == ("openai", "anthropic")
    assert [(a.key_setting, a.base_setting, a.label) for a in ADMIN_APIS.values()] == [
        ("OPENAI_ADMIN_KEY", "OPENAI_ADMIN_BASE_URL", "OpenAI admin API"),
        ("ANTHROPIC_ADMIN_KEY", "ANTHROPIC_ADMIN_BASE_URL", "Anthropic admin API"),
    ]
    assert all(ep.fmt in REPORT_PLANNERS for a in ADMIN_APIS.values() for ep in a.endpoints)


def test_retry_after_values():
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("1.5") == 1.5
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_seconds(later, now) == 30.0
    assert retry_after_seconds("-5") == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_data_page_pulls_and_never_shows_the_key(app_env, api):
    from lib.store import Store
    from tests.conftest import app_test, login

    at = login(app_test("pages/7_Data.py"), "ana")
    assert not at.exception
    assert any("OpenAI admin key: set" in c.value for c in at.caption)
    at.date_input(key="pull_period").set_value((date(2026, 3, 1), date(2026, 3, 3)))
    at.button(key="pull_go").click()
    at.run()
    assert not at.exception
    assert not at.error
    assert [s.value.replace("\\", "").split(":")[0] for s in at.success] == [  # md-escaped
        "openai completions usage 2026-03-01..2026-03-03",
        "openai embeddings usage 2026-03-01..2026-03-03",
        "openai costs 2026-03-01..2026-03-03",
    ]
    shown = [
        e.value
        for kind in ("caption", "markdown", "success", "info", "error")
        for e in at.get(kind)
    ]
    assert shown and not any(OPENAI_KEY in str(v) or ANTHROPIC_KEY in str(v) for v in shown)
    with Store(app_env) as s:
        assert _totals(s) == (15, 3000, 300, Decimal("1.75"))
    at.run()
    assert any("openai: data up to 2026-03-04" in c.value for c in at.caption)


def test_viewers_see_no_pull(app_env, api):
    from tests.conftest import app_test, login

    at = login(app_test("pages/7_Data.py"), "vic")
    assert "Pull from the provider APIs" not in [h.value for h in at.subheader]
