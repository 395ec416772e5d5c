"""Every view with a user filter: each dimension breakdown over a real DuckDB file, and the
Overview page with ``?user_id=…`` (the per-user rollup has no API key column; this crashed)."""

from __future__ import annotations

from datetime import date

import pytest

from lib.analytics.usage import BREAKDOWNS, METRICS, breakdown_table, series, tops, totals
from lib.filters import Filters
from lib.ingest import import_file
from lib.store import Store
from tests.conftest import app_test, fixture, login

MARCH = {"preset": "custom", "start": date(2025, 3, 1), "end": date(2025, 3, 2)}


@pytest.fixture
def logs(store):
    import_file(store, fixture("litellm_spend_logs.csv"))  # users alice and bob, keys
    return store


@pytest.mark.parametrize("dim", list(BREAKDOWNS))
@pytest.mark.parametrize("users", [("alice",), ("alice", "bob")])
def test_every_breakdown_with_a_user_filter(logs, dim, users):
    f = Filters(**MARCH, dims={"user_id": users})
    table = breakdown_table(logs, f, dim)
    assert dim in table.columns and len(table) >= 1
    everyone = totals(logs, f)
    assert table["requests"].sum() == everyone["requests"]
    assert series(logs, f, "requests", dim)["value"].sum() == everyone["requests"]
    assert series(logs, f, "p95_latency", dim) is not None


@pytest.mark.parametrize("users", [("alice",), ("bob",)])
def test_tops_with_a_user_filter(logs, users):
    f = Filters(**MARCH, dims={"user_id": users})
    out = tops(logs, f, ("model", "project", "api_key", "provider"))
    assert set(out) == {"model", "project", "api_key", "provider"}
    assert out["model"]["requests"].sum() == 1  # alice: one request, bob: one
    assert out["api_key"]["requests"].sum() == 1


def test_a_key_breakdown_under_a_user_filter_says_keys_are_not_split(logs):
    f = Filters(**MARCH, dims={"user_id": ("alice",)})
    table = breakdown_table(logs, f, "api_key", latency=False)
    assert list(table["api_key"]) == ["(all keys)"]


@pytest.mark.parametrize("metric", [m for m in METRICS if METRICS[m].quantile is None])
def test_every_metric_by_key_with_a_user_filter(logs, metric):
    f = Filters(**MARCH, dims={"user_id": ("alice",), "api_key": ("prod-key",)})
    assert not series(logs, f, metric, "api_key").empty


def test_overview_with_a_user_in_the_link(app_env):
    with Store(app_env) as s:
        import_file(s, fixture("litellm_spend_logs.csv"))
    at = app_test()
    at.query_params.update({"period": "custom", "from": "2025-03-01", "to": "2025-03-02",
                            "user_id": "alice"})  # fmt: skip
    at = login(at, "ana")
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    values = {m.label: m.value for m in at.metric}
    assert values["Requests"] == "1"
    assert at.multiselect(key="f_user_id").value == ["alice"]
