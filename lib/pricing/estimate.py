"""Estimated cost: tokens × the catalog price in force on the (UTC) day.

Per 1M tokens: uncached input at the input price, cache reads at the cached-input price,
cache writes at the 5-minute / 1-hour write prices (the input price where the catalog has
none), output (reasoning included) at the output price; batch traffic gets the model's batch
discount. A model the catalog cannot price is reported as unpriced, never as free.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lib.pricing.catalog import canonical_model, known_models
from lib.store.db import Cursor

# SQL over columns: input_tokens, cached_input_tokens, cache_write_tokens,
# cache_write_1h_tokens, output_tokens, batch (of the usage) and the price row ``p``.
COST_SQL = """(
    greatest(input_tokens - cached_input_tokens - cache_write_tokens, 0) * p.input_per_mtok
    + cached_input_tokens * coalesce(p.cached_input_per_mtok, p.input_per_mtok)
    + (cache_write_tokens - cache_write_1h_tokens) * coalesce(p.cache_write_5m_per_mtok, p.input_per_mtok)
    + cache_write_1h_tokens * coalesce(p.cache_write_1h_per_mtok, p.cache_write_5m_per_mtok, p.input_per_mtok)
    + output_tokens * p.output_per_mtok
) * 0.000001 * CASE WHEN batch THEN 1 - p.batch_discount ELSE 1 END"""


def model_map(cur: Cursor, models: list[str | None]) -> tuple[list[str], list[str]]:
    """Two parallel lists (usage model, catalog model) for the models that have a price."""
    known = known_models(cur)
    pairs = [(m, canonical_model(m, known)) for m in models if m]
    priced = [(m, c) for m, c in pairs if c]
    return [m for m, _ in priced], [c for _, c in priced]


@dataclass
class Estimate:
    cost_usd: Decimal | None  # None when no token could be priced
    unpriced_models: list[str]


def estimate_counted(cur: Cursor, where: str = "true", params: list | None = None) -> Estimate:
    """Estimated cost of the counted token streams (``counted_hourly``) matching ``where``."""
    params = params or []
    models = [
        r[0]
        for r in cur.execute(
            f"SELECT DISTINCT model FROM counted_hourly WHERE {where}", params
        ).fetchall()
    ]
    usage_models, price_models = model_map(cur, models)
    rows = cur.execute(
        f"""WITH m AS (SELECT unnest(?::VARCHAR[]) AS model, unnest(?::VARCHAR[]) AS price_model),
        u AS (
            SELECT c.model, m.price_model, CAST(to_timestamp(c.hour // 86400 * 86400) AS DATE) AS day,
                   c.batch,
                   sum(c.input_tokens) AS input_tokens, sum(c.cached_input_tokens) AS cached_input_tokens,
                   sum(c.cache_write_tokens) AS cache_write_tokens,
                   sum(c.cache_write_1h_tokens) AS cache_write_1h_tokens,
                   sum(c.output_tokens) AS output_tokens
            FROM counted_hourly c LEFT JOIN m ON c.model = m.model
            WHERE {where}
            GROUP BY ALL
            HAVING sum(c.input_tokens + c.output_tokens) > 0)
        SELECT coalesce(u.model, '(no model)'), sum({COST_SQL}),
               count(*) FILTER (WHERE p.model IS NULL)
        FROM u ASOF LEFT JOIN prices p
          ON lower(p.model) = u.price_model AND u.day >= p.effective_from
        GROUP BY 1 ORDER BY 1""",
        [usage_models, price_models, *params],
    ).fetchall()
    priced = [Decimal(c) for _m, c, _missing in rows if c is not None]
    unpriced_models = [m for m, _c, missing in rows if missing]
    cost = sum(priced, Decimal(0)).quantize(Decimal("1e-10")) if priced else None
    return Estimate(cost, unpriced_models)
