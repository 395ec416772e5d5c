"""The page clock and the one cache of query results: keyed by the data version, the price
catalog's version, the filters and their window, so an import or a price change shows at
once, and a test can set the time the pages see."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lib.analytics.versions import versions
from lib.filters import Filters
from lib.ingest import import_file
from lib.store import Store
from tests.conftest import app_test, fixture, login

DAY = {"period": "custom", "from": "2024-11-01", "to": "2024-11-01"}


def test_versions_follow_imports_and_prices(store):
    before = versions(store)
    import_file(store, fixture("openai_usage_completions.json"))
    imported = versions(store)
    assert imported.data != before.data and imported.prices == before.prices
    with store.write() as cur:
        cur.execute(
            "UPDATE prices SET output_per_mtok = output_per_mtok + 1 WHERE model = 'gpt-4o-mini'"
        )
    repriced = versions(store)
    assert repriced.prices != imported.prices and repriced.data == imported.data
    with store.write() as cur:  # back to the same prices: the same version
        cur.execute(
            "UPDATE prices SET output_per_mtok = output_per_mtok - 1 WHERE model = 'gpt-4o-mini'"
        )
    assert versions(store) == imported


def _estimate(at) -> str:
    return next(m.value for m in at.metric if m.label == "Estimated (USD)")


def test_a_price_change_shows_at_once(app_env):
    with Store(app_env) as s:
        import_file(s, fixture("openai_usage_completions.json"))  # Nov 1: gpt-4o-mini and gpt-4o
    at = app_test("pages/2_Costs.py")
    at.query_params.update(DAY)
    at = login(at, "vic")
    # gpt-4o-mini 435 µ$ + gpt-4o batch 7,500 µ$ = $0.007935
    assert _estimate(at) == "$0.01"
    with Store(app_env) as s, s.write() as cur:
        # behind the ledger's back (no import, no price change): input and output tokens 1000×
        # (cached input left as is), so a recomputed page would say $7.95; the cache says $0.01
        cur.execute(
            "UPDATE agg_hourly SET input_tokens = input_tokens * 1000, "
            "output_tokens = output_tokens * 1000"
        )
    at.run()
    assert _estimate(at) == "$0.01"  # the same, from the cache
    with Store(app_env) as s, s.write() as cur:
        cur.execute(
            "UPDATE agg_hourly SET input_tokens = input_tokens // 1000, "
            "output_tokens = output_tokens // 1000"
        )
    with Store(app_env) as s, s.write() as cur:
        # gpt-4o at 100× its prices: the batch half of 7,500 µ$ becomes 0.75 $
        cur.execute("""UPDATE prices SET input_per_mtok = input_per_mtok * 100,
                                         output_per_mtok = output_per_mtok * 100
                       WHERE model = 'gpt-4o'""")
    at.run()
    assert _estimate(at) == "$0.75"  # 0.000435 + 0.75: no import happened, the prices changed


def test_the_page_clock_can_be_set(app_env, monkeypatch):
    with Store(app_env) as s:
        import_file(s, fixture("openai_usage_completions.json"))
    monkeypatch.setenv("TOKENBOARD_NOW", "2024-11-02T15:45:10Z")
    at = app_test("pages/1_Usage.py")
    at.query_params["period"] = "7d"
    at = login(at, "vic")
    # the last 7 days of 2024-11-02 (UTC): Oct 27 to the end of Nov 2
    caption = next(c.value for c in at.caption if c.value.startswith("Last 7 days"))
    assert "2024-10-27 00:00 → 2024-11-03 00:00 UTC" in caption
    assert next(m.value for m in at.metric if m.label == "Requests") == "8"
    at.session_state["tb_now"] = "2024-12-20T08:00:00+00:00"  # a session's own clock wins
    at.run()
    caption = next(c.value for c in at.caption if c.value.startswith("No usage") or "→" in c.value)
    assert "2024-12-14 00:00 → 2024-12-21 00:00 UTC" in caption
    assert not at.metric  # nothing in that week


def test_the_window_not_the_minute_is_the_key():
    from lib.ui.state import _keyable

    f = Filters(preset="custom", start=date(2024, 11, 1), end=date(2024, 11, 1))
    a, b = datetime(2024, 11, 5, 10, 1, tzinfo=UTC), datetime(2024, 11, 5, 10, 2, tzinfo=UTC)
    assert _keyable(f.window(a)) == _keyable(f.window(b))
    assert _keyable(Filters(preset="24h").window(a)) != _keyable(Filters(preset="24h").window(b))
    assert _keyable(f) == _keyable(Filters.from_query(f.to_query()))
