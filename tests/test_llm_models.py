"""The model catalog: the provider's list merged with prices and context windows."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from lib.llm.models import catalog, fetch_model_ids
from tests.chat_api_server import ANTHROPIC_KEY, OPENAI_KEY, ChatApi


@pytest.fixture
def api():
    with ChatApi() as server:
        yield server


def test_listed_models_get_prices_and_context(store, api):
    ids = fetch_model_ids("openai", f"{api.url}/v1", OPENAI_KEY)
    assert ids == [
        "busy",
        "ctx",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
        "my-finetune",
        "o3-mini",
        "text-embedding-3-small",
    ]
    models = {m.id: m for m in catalog(store, "openai", ids)}
    snap = models["gpt-4o-mini-2024-07-18"]
    assert (snap.priced_as, snap.input_per_mtok, snap.output_per_mtok, snap.context_window, snap.listed) == (
        "gpt-4o-mini", Decimal("0.15"), Decimal("0.60"), 128_000, True,
    )  # fmt: skip
    assert models["my-finetune"].priced_as is None and models["my-finetune"].input_per_mtok is None
    assert [m.id for m in catalog(store, "openai", ids)][
        -1
    ] == "text-embedding-3-small"  # chat models first


def test_anthropic_list_and_fallback(store, api):
    ids = fetch_model_ids("anthropic", api.url, ANTHROPIC_KEY)
    (haiku,) = catalog(store, "anthropic", ids)
    assert (haiku.priced_as, haiku.input_per_mtok, haiku.context_window) == (
        "claude-haiku-4-5",
        Decimal("1"),
        200_000,
    )
    with pytest.raises(httpx.HTTPError):
        fetch_model_ids("openai", f"{api.url}/v1", "sk-wrong")
    fallback = catalog(store, "openai", None)  # unreachable: the priced OpenAI models
    assert "gpt-4o-mini" in [m.id for m in fallback] and not any(m.listed for m in fallback)


def test_a_sensible_default_model(store, api):
    from lib.llm.models import default_model

    ids = fetch_model_ids("openai", f"{api.url}/v1", OPENAI_KEY)
    assert (
        default_model("openai", catalog(store, "openai", ids)) == "gpt-4o-mini"
    )  # not "busy", first by name
    assert default_model("compatible", catalog(store, "compatible", ["llama3"])) is None
