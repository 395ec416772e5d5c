"""Prompt token estimates (OpenAI's BPE tables, offline) and call costs from the catalog."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lib.llm.chat import Usage
from lib.llm.cost import call_cost, max_cost, rates
from lib.llm.tokens import _encoding, count_prompt, encoding_name

SENTENCE = "Hello world, how are you?"


def test_token_counts_use_openais_tables():
    # o200k_base: Hello | world | , | how | are | you | ?  (ids as OpenAI's tiktoken gives them)
    assert _encoding("o200k_base").encode(SENTENCE) == [13225, 2375, 11, 1495, 553, 481, 30]
    assert (encoding_name("gpt-4o-mini-2024-07-18"), encoding_name("o3-mini"), encoding_name("gpt-4-0613"),
            encoding_name("gpt-3.5-turbo")) == ("o200k_base", "o200k_base", "cl100k_base", "cl100k_base")  # fmt: skip
    # 3 to prime the reply + per message (3 + 7 tokens)
    one = count_prompt("openai", "gpt-4o-mini", "", [{"role": "user", "content": SENTENCE}])
    assert (one.tokens, one.exact) == (13, True)
    two = count_prompt("openai", "gpt-4o", SENTENCE, [{"role": "user", "content": SENTENCE}])
    assert two.tokens == 23
    claude = count_prompt(
        "anthropic", "claude-haiku-4-5", "", [{"role": "user", "content": SENTENCE}]
    )
    assert (claude.tokens, claude.exact) == (13, False)


def test_call_cost_from_usage(store):
    mini = rates(store, "gpt-4o-mini-2024-07-18", date(2026, 3, 1))
    assert (mini.model, mini.input, mini.cached_input, mini.output) == (
        "gpt-4o-mini", Decimal("0.15"), Decimal("0.075"), Decimal("0.60"),
    )  # fmt: skip
    # 10 uncached × 0.15 + 2 cached × 0.075 + 3 output × 0.60 = 3.45 per 1M
    assert call_cost(mini, Usage(12, 2, None, 3, 0)) == Decimal("0.00000345")
    # the most a 13-token prompt with max 100 output tokens can cost: 13 × 0.15 + 100 × 0.60 per 1M
    assert max_cost(mini, 13, 100) == Decimal("0.00006195")
    sonnet = rates(store, "claude-sonnet-4-5-20250929", date(2026, 3, 1))
    # 20 uncached × 3 + 5 read × 0.30 + 4 output × 15 = 121.5 per 1M
    assert call_cost(sonnet, Usage(25, 5, 0, 4)) == Decimal("0.0001215")


def test_unpriced_or_incomplete_gives_none(store):
    assert rates(store, "llama3:8b") is None
    assert call_cost(None, Usage(1, 0, 0, 1)) is None and max_cost(None, 1, 1) is None
    mini = rates(store, "gpt-4o-mini")
    assert call_cost(mini, Usage(12, None, None, None)) is None  # a cut stream sent no usage
