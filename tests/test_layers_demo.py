"""The demo data's three grains agree with each other (the layer tests are in test_layers.py)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from lib.demo import load_demo
from lib.demo.exports import usage_and_cost_files
from lib.summary import totals


def test_demo_grains_agree(store):
    results = load_demo(store, days=14, scale=0.3, end=datetime(2026, 11, 1, tzinfo=UTC))
    assert [r.format for r in results] == [
        "litellm_spend_logs",
        "openai_usage",
        "openai_costs",
        "anthropic_usage",
        "anthropic_cost",
    ]
    assert store.scalar("SELECT bool_and(is_demo) FROM imports") is True
    # Usage pulls and the gateway log describe the same traffic: same tokens per provider.
    rows = store.query(
        """SELECT provider, grain, sum(input_tokens), sum(cached_input_tokens), sum(output_tokens)
           FROM agg_hourly GROUP BY ALL ORDER BY 1, 2"""
    )
    by = {(p, g): (i, c, o) for p, g, i, c, o in rows}
    for provider in ("openai", "anthropic"):
        assert by[(provider, "request")] == by[(provider, "usage")]
    # OpenAI's usage pull counts requests, failed ones included, like the gateway log.
    assert store.scalar(
        "SELECT sum(requests) FROM agg_hourly WHERE grain='usage' AND provider='openai'"
    ) == store.scalar("SELECT count(*) FROM request_events WHERE provider = 'openai'")
    # The bill agrees with the gateway's stated cost to within the rounding of each line item.
    billed = store.scalar("SELECT sum(amount) FROM live_costs")
    stated = store.scalar("SELECT sum(cost_usd) FROM request_events")
    lines = store.scalar("SELECT count(*) FROM live_costs")
    assert abs(billed - stated) <= Decimal("0.005") * lines
    t = totals(store)
    # ...and the estimate from the price catalog agrees with the bill within 1 %.
    assert abs(t.estimated_cost_usd - t.stated_cost_usd) < t.stated_cost_usd * Decimal("0.01")
    assert t.unpriced_models == []
    assert 0.005 < t.errors / store.scalar("SELECT count(*) FROM request_events") < 0.08
    assert {s for _p, s, _d in t.streams} == {"openai_usage", "anthropic_usage"}


def test_demo_reports_are_written_per_provider(tmp_path):
    # one day of each provider: 1,000 input tokens (200 cached) and 100 output tokens
    day = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    rows = [("openai", day, "gpt-4o-mini-2024-07-18", "search", "k1", 3, 1000, 200, 100),
            ("anthropic", day, "claude-haiku-4-5-20251001", "search", "k2", 2, 1000, 200, 100)]  # fmt: skip
    names = [os.path.basename(p) for p in usage_and_cost_files(str(tmp_path), rows)]
    assert names == ["openai_usage_completions.json", "openai_costs.json",
                     "anthropic_usage_report.json", "anthropic_cost_report.json"]  # fmt: skip
    with pytest.raises(ValueError, match="no reports for provider 'mistral'"):
        usage_and_cost_files(str(tmp_path), [("mistral", day, *rows[0][2:])])
