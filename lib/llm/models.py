"""The model catalog: models the provider lists (its models endpoint) merged with the price
catalog (USD per 1M tokens) and context windows where known.

When the models endpoint cannot be reached (no key, offline, a gateway without one) the list
falls back to the priced models of that provider, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import httpx

from lib.llm.chat import ANTHROPIC_VERSION
from lib.pricing.catalog import canonical_model
from lib.store import Store

# Context windows (input tokens) of the catalog's models, as their vendors publish them.
CONTEXT_WINDOW = {
    "gpt-4o": 128_000, "gpt-4o-mini": 128_000, "gpt-4.1": 1_047_576, "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576, "o1": 200_000, "o3": 200_000, "o3-mini": 200_000, "o4-mini": 200_000,
    "gpt-4-turbo": 128_000, "gpt-4": 8_192, "gpt-3.5-turbo": 16_385,
}  # fmt: skip
CLAUDE_WINDOW = 200_000


@dataclass(frozen=True)
class ModelInfo:
    id: str  # the name to send
    priced_as: str | None  # catalog model, None when unpriced
    input_per_mtok: Decimal | None
    output_per_mtok: Decimal | None
    context_window: int | None
    listed: bool  # the provider's models endpoint listed it


def fetch_model_ids(
    provider: str, base_url: str, api_key: str | None, timeout: float = 5.0
) -> list[str]:
    """Model ids from the provider's models endpoint (OpenAI and compatible: GET {base}/models;
    Anthropic: GET {base}/v1/models). Raises httpx.HTTPError when it cannot be had."""
    base = base_url.rstrip("/")
    if provider == "anthropic":
        url = base + ("/models" if base.endswith("/v1") else "/v1/models")
        headers = {
            "anthropic-version": ANTHROPIC_VERSION,
            **({"x-api-key": api_key} if api_key else {}),
        }
    else:
        url = base + "/models"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    r = httpx.get(
        url,
        headers=headers,
        params={"limit": 1000} if provider == "anthropic" else None,
        timeout=timeout,
    )
    r.raise_for_status()
    return sorted(
        {m["id"] for m in r.json().get("data") or [] if isinstance(m, dict) and m.get("id")}
    )


def catalog(store: Store, provider: str, listed: list[str] | None) -> list[ModelInfo]:
    """The listed models (or, with ``listed`` None, the priced models of ``provider``) with
    today's prices and context windows, chat models first."""
    vendor = "anthropic" if provider == "anthropic" else "openai"
    rows = store.query(
        """SELECT lower(model), arg_max(input_per_mtok, effective_from), arg_max(output_per_mtok, effective_from)
           FROM prices WHERE provider = ? AND effective_from <= current_date GROUP BY 1""",
        [vendor],
    )
    prices = {r[0]: (r[1], r[2]) for r in rows}
    known = set(prices) if provider != "compatible" else set()
    ids = listed if listed is not None else sorted(prices)
    out = []
    for mid in ids:
        priced = canonical_model(mid, known) if known else None
        inp, outp = prices.get(priced, (None, None)) if priced else (None, None)
        window = (
            CLAUDE_WINDOW
            if vendor == "anthropic" and mid.startswith("claude")
            else CONTEXT_WINDOW.get(priced or "")
        )
        out.append(ModelInfo(mid, priced, inp, outp, window, listed is not None))
    chat_first = sorted(out, key=lambda m: (any(w in m.id for w in ("embedding", "tts", "whisper", "dall-e",
                                                                        "moderation", "image", "audio")), m.id))  # fmt: skip
    return chat_first


PREFERRED = {
    "openai": ("gpt-4o-mini", "gpt-4.1-mini", "gpt-4o"),
    "anthropic": ("claude-haiku-4-5", "claude-sonnet-4-5"),
}


def default_model(provider: str, models: list[ModelInfo]) -> str | None:
    """A sensible first choice: a small current priced model, else the first priced one."""
    for want in PREFERRED.get(provider, ()):
        for m in models:
            if m.id == want or m.priced_as == want:
                return m.id
    return next((m.id for m in models if m.priced_as), None)
