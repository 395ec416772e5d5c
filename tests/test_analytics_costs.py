"""Billed against estimated, with hand-computed figures from the OpenAI fixtures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from lib.analytics.costs import by_line_item, by_model, daily
from lib.filters import Filters
from lib.ingest import import_file
from tests.conftest import fixture

NOW = datetime(2024, 11, 10, tzinfo=UTC)
F = Filters(preset="custom", start=date(2024, 11, 1), end=date(2024, 11, 2))


def test_daily_billed_vs_estimated_with_reasons(store):
    import_file(store, fixture("openai_usage_completions.json"))  # Nov 1 usage; Nov 2 empty
    import_file(store, fixture("openai_costs.json"))  # Nov 1: 0.10 + 0.20; Nov 2: 0.70
    d = daily(store, F, NOW)
    assert [str(x) for x in d["day"]] == ["2024-11-01", "2024-11-02"]
    assert list(d["billed"]) == [Decimal("0.3"), Decimal("0.7")]
    # Nov 1 estimate: gpt-4o-mini 435 µ$ + gpt-4o batch 7500 µ$
    assert d["estimated"][0] == Decimal("0.007935")
    assert list(d["note"]) == ["differs", "no_usage"]  # codes: lib.ui.words names them


def test_by_model_and_line_item(store):
    import_file(store, fixture("openai_usage_completions.json"))
    import_file(store, fixture("openai_costs.json"))
    m = by_model(store, F, NOW).set_index("model")
    assert m.loc["gpt-4o", "billed"] == Decimal("0.7") and m.loc[
        "gpt-4o-mini", "billed"
    ] == Decimal("0.3")
    assert m.loc["gpt-4o", "estimated"] == Decimal("0.0075")
    assert m.loc["gpt-4o-mini", "tokens"] == 1500
    li = by_line_item(store, F, NOW)
    assert list(li["line_item"]) == ["gpt-4o, input", "gpt-4o-mini, output", "gpt-4o-mini, input"]
    assert li["billed"].sum() == Decimal("1.0")
