"""The list prices migration 1 puts in the ``prices`` table (USD per 1M tokens), with the day
they take effect.

The list prices of 2026-11-27 (OpenAI and Anthropic), applied from ``SEED_EFFECTIVE_FROM``
on. They live with the store because a new database gets them when its schema is made
(``Store.migrate``); reading and matching prices is ``lib.pricing``'s job. Plain data: this
module imports nothing of Tokenboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

SEED_EFFECTIVE_FROM = date(2020, 1, 1)
SEED_NOTE = "list price as of 2026-11-27"


@dataclass(frozen=True)
class Price:
    """One catalog row. Prices in USD per 1M tokens; ``None`` = not offered/unknown."""

    provider: str
    model: str
    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write_5m: Decimal | None = None
    cache_write_1h: Decimal | None = None
    batch_discount: Decimal = Decimal("0")
    effective_from: date = SEED_EFFECTIVE_FROM
    note: str = SEED_NOTE


def _d(x: str | None) -> Decimal | None:
    return None if x is None else Decimal(x)


def _openai(model: str, inp: str, cached: str | None, out: str, batch: bool = True) -> Price:
    return Price(
        "openai",
        model,
        Decimal(inp),
        Decimal(out),
        cached_input=_d(cached),
        batch_discount=Decimal("0.5") if batch else Decimal("0"),
    )


def _anthropic(model: str, inp: str, out: str, note: str = SEED_NOTE) -> Price:
    """Anthropic's rule: 5-minute cache write 1.25×, 1-hour write 2×, cache read 0.1× input."""
    i = Decimal(inp)
    return Price(
        "anthropic",
        model,
        i,
        Decimal(out),
        cached_input=i * Decimal("0.1"),
        cache_write_5m=i * Decimal("1.25"),
        cache_write_1h=i * 2,
        batch_discount=Decimal("0.5"),
        note=note,
    )


SEED_PRICES: tuple[Price, ...] = (
    _openai("gpt-4o", "2.50", "1.25", "10.00"),
    _openai("gpt-4o-2024-05-13", "5.00", None, "15.00"),
    _openai("gpt-4o-mini", "0.15", "0.075", "0.60"),
    _openai("gpt-4.1", "2.00", "0.50", "8.00"),
    _openai("gpt-4.1-mini", "0.40", "0.10", "1.60"),
    _openai("gpt-4.1-nano", "0.10", "0.025", "0.40"),
    _openai("o1", "15.00", "7.50", "60.00"),
    _openai("o3", "2.00", "0.50", "8.00"),
    _openai("o3-mini", "1.10", "0.55", "4.40"),
    _openai("o4-mini", "1.10", "0.275", "4.40"),
    _openai("gpt-3.5-turbo", "0.50", None, "1.50"),
    _openai("gpt-4-turbo", "10.00", None, "30.00", batch=False),
    _openai("gpt-4", "30.00", None, "60.00", batch=False),
    _openai("text-embedding-3-small", "0.02", None, "0"),
    _openai("text-embedding-3-large", "0.13", None, "0"),
    _anthropic("claude-3-5-sonnet", "3", "15"),
    _anthropic("claude-3-7-sonnet", "3", "15"),
    _anthropic("claude-sonnet-4", "3", "15"),
    _anthropic("claude-sonnet-4-5", "3", "15"),
    _anthropic("claude-sonnet-4-6", "3", "15"),
    _anthropic("claude-sonnet-5", "2", "10"),
    _anthropic("claude-haiku-4-5", "1", "5"),
    _anthropic("claude-3-5-haiku", "0.80", "4"),
    _anthropic("claude-3-haiku", "0.25", "1.25"),
    _anthropic("claude-opus-4-5", "5", "25"),
    _anthropic("claude-opus-4-6", "5", "25"),
    _anthropic("claude-opus-4-7", "5", "25"),
    _anthropic("claude-opus-4-8", "5", "25"),
    _anthropic("claude-opus-5", "5", "25"),
    _anthropic("claude-opus-5-5", "4", "20"),
    _anthropic("claude-3-opus", "15", "75"),
    _anthropic("claude-opus-4", "15", "75"),
    _anthropic("claude-opus-4-1", "15", "75"),
)


def seed_rows() -> list[list[object]]:
    """``SEED_PRICES`` as rows of the ``prices`` table, its columns in order."""
    return [
        [p.provider, p.model, p.effective_from, p.input, p.cached_input, p.cache_write_5m,
         p.cache_write_1h, p.output, p.batch_discount, p.note]
        for p in SEED_PRICES
    ]  # fmt: skip
