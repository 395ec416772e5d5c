"""Price catalog: model names, effective dates, unpriced models."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lib.ingest import import_file
from lib.pricing.catalog import SEED_PRICES, canonical_model
from lib.summary import totals
from tests.conftest import write

KNOWN = {p.model for p in SEED_PRICES}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),  # a snapshot with its own price
        ("gpt-4o-2024-11-20", "gpt-4o"),
        ("openai/gpt-4.1-mini", "gpt-4.1-mini"),
        ("GPT-4o", "gpt-4o"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("anthropic/claude-haiku-4-5", "claude-haiku-4-5"),
        ("anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku"),
        ("claude-opus-4-1@20250805", "claude-opus-4-1"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("gpt-35-turbo", "gpt-3.5-turbo"),
        ("llama-3-70b", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_model(name, expected):
    assert canonical_model(name, KNOWN) == expected


def test_seed_prices_match_the_reference():
    by_model = {p.model: p for p in SEED_PRICES}
    mini = by_model["gpt-4o-mini"]
    assert (mini.input, mini.cached_input, mini.output, mini.batch_discount) == (
        Decimal("0.15"),
        Decimal("0.075"),
        Decimal("0.60"),
        Decimal("0.5"),
    )
    sonnet = by_model["claude-sonnet-4-5"]
    assert (sonnet.cache_write_5m, sonnet.cache_write_1h, sonnet.cached_input) == (
        Decimal("3.75"),
        Decimal("6"),
        Decimal("0.30"),
    )
    assert by_model["gpt-4"].batch_discount == 0  # no batch price listed


def test_price_in_force_that_day_and_unpriced_models(store, tmp_path):
    text = (
        "timestamp,model,input_tokens,output_tokens\n"
        "2026-03-01 10:00,gpt-4o-mini,1000000,0\n"
        "2026-03-02 10:00,gpt-4o-mini,1000000,0\n"
        "2026-03-02 11:00,my-local-llama,500,500\n"
    )
    import_file(store, write(tmp_path, "p.csv", text))
    assert totals(store).estimated_cost_usd == Decimal("0.30")  # 2 × 1M × $0.15
    with store.write() as cur:
        cur.execute(
            "INSERT INTO prices (provider, model, effective_from, input_per_mtok, output_per_mtok) "
            "VALUES ('openai', 'gpt-4o-mini', ?, 0.10, 0.40)",
            [date(2026, 3, 2)],
        )
    t = totals(store)
    assert t.estimated_cost_usd == Decimal("0.25")  # $0.15 on March 1, $0.10 from March 2
    assert t.unpriced_models == ["my-local-llama"]


def test_nothing_priced_is_null_not_zero(store, tmp_path):
    import_file(
        store, write(tmp_path, "u.csv", "timestamp,model,input_tokens\n2026-01-01,mystery,10\n")
    )
    t = totals(store)
    assert t.estimated_cost_usd is None
    assert t.unpriced_models == ["mystery"]
