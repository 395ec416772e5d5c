"""Estimated cost: tokens × the catalog price in force on the (UTC) day.

Per 1M tokens: uncached input at the input price, cache reads at the cached-input price,
cache writes at the 5-minute / 1-hour write prices (the input price where the catalog has
none), output (reasoning included) at the output price; batch traffic gets the model's batch
discount. A model the catalog cannot price is reported as unpriced, never as free.
"""

from __future__ import annotations

from lib.pricing.catalog import canonical_model, known_models
from lib.store.db import Cursor

# SQL over columns: input_tokens, cached_input_tokens, cache_write_tokens,
# cache_write_1h_tokens, output_tokens, batch (of the usage) and the price row ``p``.
# LIST_COST_SQL: USD at list prices before any batch discount; COST_SQL: what is paid.
LIST_COST_SQL = """(
    greatest(input_tokens - cached_input_tokens - cache_write_tokens, 0) * p.input_per_mtok
    + cached_input_tokens * coalesce(p.cached_input_per_mtok, p.input_per_mtok)
    + (cache_write_tokens - cache_write_1h_tokens) * coalesce(p.cache_write_5m_per_mtok, p.input_per_mtok)
    + cache_write_1h_tokens * coalesce(p.cache_write_1h_per_mtok, p.cache_write_5m_per_mtok, p.input_per_mtok)
    + output_tokens * p.output_per_mtok
) * 0.000001"""
BATCH_FACTOR_SQL = "CASE WHEN batch THEN 1 - p.batch_discount ELSE 1 END"
COST_SQL = f"{LIST_COST_SQL} * {BATCH_FACTOR_SQL}"


def model_map(cur: Cursor, models: list[str | None]) -> tuple[list[str], list[str]]:
    """Two parallel lists (usage model, catalog model) for the models that have a price."""
    known = known_models(cur)
    pairs = [(m, canonical_model(m, known)) for m in models if m]
    priced = [(m, c) for m, c in pairs if c]
    return [m for m, _ in priced], [c for _, c in priced]
