"""What a playground call costs, from the price catalog (USD; None when the model is unpriced)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from lib.llm.types import Usage
from lib.pricing.catalog import canonical_model, known_models, price_in_force
from lib.store import Store

MTOK = Decimal(1_000_000)


@dataclass(frozen=True)
class Rates:
    """USD per 1M tokens of one model on one day."""

    model: str
    input: Decimal
    cached_input: Decimal
    cache_write: Decimal
    output: Decimal


def rates(store: Store, model: str, on: date | None = None) -> Rates | None:
    """The catalog prices of ``model`` in force on ``on`` (today), or None when unpriced."""
    day = on or datetime.now(UTC).date()
    with store.read() as cur:
        name = canonical_model(model, known_models(cur))
        if name is None:
            return None
        p = price_in_force(cur, name, day)
    if p is None:
        return None
    inp = p["input_per_mtok"]
    return Rates(name, inp, p["cached_input_per_mtok"] or inp, p["cache_write_5m_per_mtok"] or inp,
                 p["output_per_mtok"])  # fmt: skip


def call_cost(r: Rates | None, usage: Usage) -> Decimal | None:
    """USD of one call from its usage: uncached input, cache reads, cache writes, output."""
    if r is None or usage.prompt_tokens is None or usage.completion_tokens is None:
        return None
    cached, written = usage.cached_tokens or 0, usage.cache_write_tokens or 0
    uncached = max(usage.prompt_tokens - cached - written, 0)
    return (uncached * r.input + cached * r.cached_input + written * r.cache_write
            + usage.completion_tokens * r.output) / MTOK  # fmt: skip


def max_cost(r: Rates | None, prompt_tokens: int, max_tokens: int) -> Decimal | None:
    """The most a call can cost: the whole prompt uncached and ``max_tokens`` of output."""
    if r is None:
        return None
    return (prompt_tokens * r.input + max_tokens * r.output) / MTOK
