"""The price catalog: list prices (USD per 1M tokens) with the day they take effect.

A new database is seeded with ``SEED_PRICES`` (``lib.store.seed``: the list prices of
2026-11-27, applied from ``SEED_EFFECTIVE_FROM`` on); edit or add rows with later
``effective_from`` days to record price changes. Dated snapshot names map to their model
(``gpt-4o-mini-2024-07-18`` → ``gpt-4o-mini``) unless the snapshot has a price of its own
(``gpt-4o-2024-05-13``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from lib.store.db import Cursor
from lib.store.seed import SEED_EFFECTIVE_FROM, SEED_NOTE, SEED_PRICES, Price

__all__ = [
    "SEED_EFFECTIVE_FROM",
    "SEED_NOTE",
    "SEED_PRICES",
    "Price",
    "canonical_model",
    "known_models",
    "price_in_force",
]

# Anthropic's newer ids put the family first; older ones put the version first.
_ALIASES = {
    "claude-sonnet-3-5": "claude-3-5-sonnet",
    "claude-sonnet-3-7": "claude-3-7-sonnet",
    "claude-haiku-3-5": "claude-3-5-haiku",
    "claude-haiku-3": "claude-3-haiku",
    "claude-opus-3": "claude-3-opus",
    "claude-3.5-sonnet": "claude-3-5-sonnet",
    "claude-3.7-sonnet": "claude-3-7-sonnet",
    "claude-3.5-haiku": "claude-3-5-haiku",
    "gpt-35-turbo": "gpt-3.5-turbo",
}
_PREFIX_RE = re.compile(r"^(?:[a-z0-9_-]+/)+")  # openai/, anthropic/, azure/, bedrock/...
_VENDOR_DOT_RE = re.compile(r"^(?:(?:us|eu|apac|global)\.)?anthropic\.")  # Bedrock ids
_SUFFIXES = (
    re.compile(r"-v\d+(?::\d+)?$"),  # Bedrock "-v1:0"
    re.compile(r"@\d{8}$"),  # Vertex "@20240620"
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # OpenAI snapshots "-2024-07-18"
    re.compile(r"-\d{8}$"),  # Anthropic snapshots "-20241022"
    re.compile(r"-(?:latest|preview)$"),
)


def canonical_model(name: str | None, known: set[str]) -> str | None:
    """The catalog model a usage model name is priced as, or ``None`` when unpriced.

    Tries the name as given, then without provider prefixes, vendor prefixes, version and
    date suffixes, then known aliases. ``known`` is the set of catalog model names.
    """
    if not name:
        return None
    cand = name.strip().lower()
    if cand in known:
        return cand
    cand = _VENDOR_DOT_RE.sub("", _PREFIX_RE.sub("", cand))
    for _ in range(3):
        if cand in known:
            return cand
        if _ALIASES.get(cand) in known:
            return _ALIASES[cand]
        stripped = cand
        for pattern in _SUFFIXES:
            stripped = pattern.sub("", stripped)
        if stripped == cand:
            break
        cand = stripped
    if cand in known:
        return cand
    return _ALIASES.get(cand) if _ALIASES.get(cand) in known else None


def known_models(cur: Cursor) -> set[str]:
    """Model names present in the catalog (lower case)."""
    return {r[0] for r in cur.execute("SELECT DISTINCT lower(model) FROM prices").fetchall()}


def price_in_force(cur: Cursor, model: str, day: date) -> dict[str, Any] | None:
    """The catalog row (column → value) of ``model`` (a catalog name, any case) in force on
    the UTC ``day``; None when the model has no price by then."""
    found = cur.execute(
        """SELECT * FROM prices WHERE lower(model) = lower(?) AND effective_from <= ?
           ORDER BY effective_from DESC LIMIT 1""",
        [model, day],
    )
    row = found.fetchone()
    return None if row is None else dict(zip(found.columns, row, strict=True))


def catalog_version(cur: Cursor) -> str:
    """A text that changes whenever a price is added, edited or removed: the row count and
    the sum of the rows' hashes (estimates read every row, so any change must show). Used in
    cache keys beside the data version."""
    row = cur.execute("SELECT count(*), coalesce(sum(hash(p)), 0) FROM prices p").fetchone()
    n, total = row if row is not None else (0, 0)  # an aggregate always gives one row
    return f"{n}-{total}"
