"""Prompt token estimates before a call.

OpenAI models: exact token counts with OpenAI's own BPE tables (o200k_base for the GPT-4o,
GPT-4.1, GPT-5 and o-series families, cl100k_base for GPT-4 and GPT-3.5), bundled by the
``bpe-openai`` package, so nothing is downloaded at run time (tiktoken fetches its tables from
the internet on first use), plus the chat format's overhead of 3 tokens per message and 3 to
prime the reply. Other models: the same count, marked approximate (their tokenizers differ).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from lib.llm.adapters import adapter

CL100K_PREFIXES = ("gpt-4-", "gpt-3.5", "gpt-35")
PER_MESSAGE = 3
REPLY_PRIMER = 3


@dataclass(frozen=True)
class TokenEstimate:
    tokens: int
    exact: bool  # False: another vendor's tokenizer, counted with OpenAI's as an approximation
    encoding: str


@cache
def _encoding(name: str) -> Any:  # a bpe_openai encoding
    import bpe_openai

    return bpe_openai.get_encoding(name)


def encoding_name(model: str) -> str:
    name = model.lower().split("/")[-1]
    return "cl100k_base" if name == "gpt-4" or name.startswith(CL100K_PREFIXES) else "o200k_base"


def count_prompt(
    provider: str, model: str, system: str, messages: list[dict[str, str]]
) -> TokenEstimate:
    """Tokens the prompt (system prompt and conversation) will take."""
    enc_name = encoding_name(model)
    enc = _encoding(enc_name)
    parts = ([system] if system else []) + [m.get("content") or "" for m in messages]
    tokens = REPLY_PRIMER + sum(PER_MESSAGE + len(enc.encode(p)) for p in parts)
    return TokenEstimate(tokens, adapter(provider).exact_tokens(model), enc_name)
