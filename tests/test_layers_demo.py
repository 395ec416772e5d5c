"""The demo data's three grains agree with each other (the layer tests are in test_layers.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from lib.demo import load_demo
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
