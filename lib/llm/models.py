"""The model catalog: models the provider lists (its models endpoint) merged with the price
catalog (USD per 1M tokens) and context windows where known.

When the models endpoint cannot be reached (no key, offline, a gateway without one) the list
falls back to the priced models of that provider, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import httpx

from lib.http import USER_AGENT
from lib.llm.adapters import adapter
from lib.pricing.catalog import canonical_model
from lib.store import Store


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
    Anthropic: GET {base}/v1/models), sorted. ``timeout`` in seconds. Raises httpx.HTTPError
    when it cannot be had."""
    api = adapter(provider)
    r = httpx.get(
        api.models_url(base_url),
        headers={"User-Agent": USER_AGENT, **api.headers(api_key, base_url)},
        params=api.models_params(),
        timeout=timeout,
    )
    r.raise_for_status()
    return sorted(
        {m["id"] for m in r.json().get("data") or [] if isinstance(m, dict) and m.get("id")}
    )


def catalog(store: Store, provider: str, listed: list[str] | None) -> list[ModelInfo]:
    """The listed models (or, with ``listed`` None, the models the price catalog has for
    ``provider``) with today's prices (USD per 1M tokens; None for a provider whose models the
    catalog does not price) and context windows, chat models first."""
    api = adapter(provider)
    rows = store.query(
        """SELECT lower(model), arg_max(input_per_mtok, effective_from), arg_max(output_per_mtok, effective_from)
           FROM prices WHERE provider = ? AND effective_from <= current_date GROUP BY 1""",
        [api.catalog_vendor],
    )
    prices = {r[0]: (r[1], r[2]) for r in rows}
    known = set(prices) if api.priced else set()
    ids = listed if listed is not None else sorted(prices)
    out = []
    for mid in ids:
        priced = canonical_model(mid, known) if known else None
        inp, outp = prices.get(priced, (None, None)) if priced else (None, None)
        out.append(
            ModelInfo(mid, priced, inp, outp, api.context_window(mid, priced), listed is not None)
        )
    chat_first = sorted(out, key=lambda m: (any(w in m.id for w in ("embedding", "tts", "whisper", "dall-e",
                                                                        "moderation", "image", "audio")), m.id))  # fmt: skip
    return chat_first


def default_model(provider: str, models: list[ModelInfo]) -> str | None:
    """A sensible first choice: a small current priced model, else the first priced one."""
    for want in adapter(provider).preferred:
        for m in models:
            if m.id == want or m.priced_as == want:
                return m.id
    return next((m.id for m in models if m.priced_as), None)
