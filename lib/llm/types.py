"""What a chat call is given and what it gives back, the same for every provider.

Plain data: the provider adapters (``lib.llm.adapters``) fill these, the chat client
(``lib.llm.chat``) runs the call, the playground stores and shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lib.error_kb import Advice


@dataclass(frozen=True)
class ChatRequest:
    provider: str  # an id of lib.llm.adapters.ADAPTERS: "openai" | "anthropic" | "compatible"
    base_url: (
        str  # e.g. https://api.openai.com/v1, https://api.anthropic.com, http://localhost:11434/v1
    )
    model: str
    messages: tuple[dict[str, str], ...]  # {"role": "user" | "assistant", "content": text}
    system: str = ""
    params: dict[str, Any] = field(default_factory=dict)  # validated by lib.llm.params
    stream: bool = True
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 120.0  # seconds for the whole answer (10 s to connect)


@dataclass
class Usage:
    """Tokens of one call as the provider counted them; None when it did not say."""

    prompt_tokens: int | None = None  # cached ones included
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    completion_tokens: int | None = None  # reasoning ones included
    reasoning_tokens: int | None = None


@dataclass
class ChatError:
    advice: Advice
    status: int | None  # HTTP status; None when no answer came
    message: str  # the provider's own message (or what went wrong on the way)
    retry_after: float | None = None  # seconds, from the Retry-After header
    code: str | None = None  # the provider's error code, else its error type


@dataclass
class ChatResult:
    text: str = ""
    status: str = "ok"  # ok | error | stopped
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    model: str | None = None
    request_id: str | None = None
    ttft_s: float | None = None  # seconds to the first text
    total_s: float | None = None  # seconds for the whole call
    error: ChatError | None = None
    # (requests, tokens) per minute the response's rate-limit headers stated (None: not stated)
    rate_limits: tuple[int | None, int | None] | None = None


# Why a model does not take a parameter (``NotTaken.code``):
# reasoning_sampling: an OpenAI reasoning model takes only the default sampling;
# no_stop: the model takes no stop sequences; no_such_param: the API has no such parameter;
# no_response_format: the API has no response format (ask for JSON in the system prompt).
NotTakenCode = Literal["reasoning_sampling", "no_stop", "no_such_param", "no_response_format"]
_NOT_TAKEN = {
    "reasoning_sampling": "{model} is a reasoning model: it takes only the default sampling.",
    "no_stop": "{model} does not take stop sequences.",
    "no_such_param": "{api} has no such parameter.",
    "no_response_format": "{api} has no response format: ask for JSON in the system prompt.",
}


@dataclass(frozen=True)
class NotTaken:
    """Why ``model`` does not take parameter ``param``: a code a page words; ``api`` names the
    provider's API where the code is about it ("Anthropic's Messages API"). ``str()`` is the
    English sentence (command line, logs)."""

    code: NotTakenCode
    model: str
    param: str
    api: str = ""

    def __str__(self) -> str:
        return _NOT_TAKEN[self.code].format(model=self.model, api=self.api)
