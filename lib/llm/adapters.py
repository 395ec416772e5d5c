"""One adapter per provider API: where to send a chat call, with which headers and body, how
to read its answer (whole or streamed), its usage and its errors, how to list its models, and
which parameters its models take.

``ADAPTERS`` maps a provider id to its adapter; ``adapter(provider)`` falls back to the
OpenAI-compatible one for any other id (an OpenAI-shaped API is what gateways speak). A new
provider is a new class here and one entry in ``ADAPTERS``: the chat client, the model list,
the parameter checks and the playground need no other change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from lib.error_kb import ErrorFacts, facts_from_body
from lib.http import ANTHROPIC_API, OPENAI_API, anthropic_headers, bearer_headers
from lib.llm.types import ChatRequest, ChatResult, NotTaken, Usage

REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
SAMPLING = ("temperature", "top_p", "frequency_penalty", "presence_penalty")

# Context windows (input tokens) of the catalog's OpenAI models, as OpenAI publishes them.
CONTEXT_WINDOW = {
    "gpt-4o": 128_000, "gpt-4o-mini": 128_000, "gpt-4.1": 1_047_576, "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576, "o1": 200_000, "o3": 200_000, "o3-mini": 200_000, "o4-mini": 200_000,
    "gpt-4-turbo": 128_000, "gpt-4": 8_192, "gpt-3.5-turbo": 16_385,
}  # fmt: skip
CLAUDE_WINDOW = 200_000  # every current Claude model


def is_reasoning_model(model: str) -> bool:
    """OpenAI reasoning models take ``max_completion_tokens`` and no sampling parameters."""
    name = model.lower().split("/")[-1]
    return name.startswith(REASONING_PREFIXES)


@dataclass(frozen=True)
class Step:
    """What one streamed event brought: text to show, the end of the answer, or an error
    body (the provider's, sent after the 200)."""

    text: str = ""
    done: bool = False
    error: object | None = None


class ProviderAdapter:
    """The OpenAI Chat Completions API; the other adapters override what differs."""

    id: ClassVar[str] = "openai"
    label: ClassVar[str] = "OpenAI"
    default_base: ClassVar[str] = OPENAI_API + "/v1"
    catalog_vendor: ClassVar[str] = "openai"  # whose rows of the price catalog list its models
    priced: ClassVar[bool] = True  # False: the catalog's prices say nothing of its models
    preferred: ClassVar[tuple[str, ...]] = ("gpt-4o-mini", "gpt-4.1-mini", "gpt-4o")
    max_temperature: ClassVar[float] = 2.0

    # -- where and who --------------------------------------------------------------------
    def headers(self, api_key: str | None, base_url: str) -> dict[str, str]:
        """Authentication headers; Azure OpenAI takes its key in an ``api-key`` header."""
        if api_key and ".openai.azure.com" in base_url:
            return {"api-key": api_key}
        return bearer_headers(api_key)

    def chat_url(self, base_url: str) -> str:
        return base_url.rstrip("/") + "/chat/completions"

    def models_url(self, base_url: str) -> str:
        return base_url.rstrip("/") + "/models"

    def models_params(self) -> dict[str, Any] | None:
        return None

    # -- the call --------------------------------------------------------------------------
    def body(self, req: ChatRequest) -> dict[str, Any]:
        """The JSON body: the system prompt as the first message; ``max_tokens`` sent as
        ``max_completion_tokens`` to reasoning models; usage asked for at the end of a stream."""
        messages = ([{"role": "system", "content": req.system}] if req.system else []) + list(
            req.messages
        )
        body: dict[str, Any] = {"model": req.model, "messages": messages}
        p = dict(req.params)
        if "max_tokens" in p:
            key = "max_completion_tokens" if is_reasoning_model(req.model) else "max_tokens"
            body[key] = p.pop("max_tokens")
        rf = p.pop("response_format", None)
        if rf:
            body["response_format"] = rf
        body.update({k: v for k, v in p.items() if v is not None})
        if req.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    def usage(self, u: dict[str, Any] | None) -> Usage:
        if not u:
            return Usage()
        pd = u.get("prompt_tokens_details") or {}
        cd = u.get("completion_tokens_details") or {}
        return Usage(u.get("prompt_tokens"), pd.get("cached_tokens"), pd.get("cache_write_tokens"),
                     u.get("completion_tokens"), cd.get("reasoning_tokens"))  # fmt: skip

    def read_whole(self, doc: dict[str, Any], res: ChatResult) -> None:
        """Fill ``res`` (text, finish reason, usage) from a whole, unstreamed answer."""
        choice = (doc.get("choices") or [{}])[0]
        res.text = (choice.get("message") or {}).get("content") or ""
        res.finish_reason = choice.get("finish_reason")
        res.usage = self.usage(doc.get("usage"))

    def read_event(self, event: str | None, data: str, res: ChatResult) -> Step:
        """Read one server-sent event into ``res``; the text it adds is returned, not appended.
        Raises ValueError when its data is not JSON."""
        if data == "[DONE]":
            return Step(done=True)
        chunk = json.loads(data)
        if "error" in chunk:  # an error after the 200 (gateways do this)
            return Step(error=chunk)
        res.model = chunk.get("model") or res.model
        if chunk.get("usage"):
            res.usage = self.usage(chunk["usage"])
        text = ""
        for choice in chunk.get("choices") or []:
            if choice.get("finish_reason"):
                res.finish_reason = choice["finish_reason"]
            text += (choice.get("delta") or {}).get("content") or ""
        return Step(text=text)

    def error_facts(self, provider: str, status: int | None, body: object) -> ErrorFacts:
        """What an error body says (OpenAI's ``{"error": {message, type, param, code}}``)."""
        return facts_from_body(provider, status, body)

    # -- its models ------------------------------------------------------------------------
    def context_window(self, model: str, priced_as: str | None) -> int | None:
        """Input tokens the model takes, where known."""
        return CONTEXT_WINDOW.get(priced_as or "")

    def unsupported(self, model: str, name: str) -> NotTaken | None:
        """Why ``model`` does not take parameter ``name``; None when it does."""
        if is_reasoning_model(model):
            if name in SAMPLING:
                return NotTaken("reasoning_sampling", model, name)
            if name == "stop" and model.lower().startswith(("o3", "o4-mini")):
                return NotTaken("no_stop", model, name)
        return None

    def exact_tokens(self, model: str) -> bool:
        """Whether OpenAI's tokenizer counts this model's prompt exactly."""
        return model.lower().startswith(("gpt", "o1", "o3", "o4"))


class CompatibleAdapter(ProviderAdapter):
    """Any OpenAI-compatible server: Azure OpenAI, Ollama, vLLM, LM Studio, a LiteLLM proxy.
    Its models are listed (OpenAI's priced ones when it cannot be reached) but never priced."""

    id = "compatible"
    label = "OpenAI-compatible"
    default_base = "http://localhost:11434/v1"  # Ollama's
    priced = False
    preferred = ()


class AnthropicAdapter(ProviderAdapter):
    """Anthropic's Messages API (``POST /v1/messages``)."""

    id = "anthropic"
    label = "Anthropic"
    default_base = ANTHROPIC_API
    catalog_vendor = "anthropic"
    preferred = ("claude-haiku-4-5", "claude-sonnet-4-5")
    max_temperature = 1.0

    def headers(self, api_key: str | None, base_url: str) -> dict[str, str]:
        return anthropic_headers(api_key)

    def _v1(self, base_url: str, path: str) -> str:
        """``base_url`` with or without its ``/v1``, then ``/v1/<path>``."""
        base = base_url.rstrip("/")
        return base + (f"/{path}" if base.endswith("/v1") else f"/v1/{path}")

    def chat_url(self, base_url: str) -> str:
        return self._v1(base_url, "messages")

    def models_url(self, base_url: str) -> str:
        return self._v1(base_url, "models")

    def models_params(self) -> dict[str, Any] | None:
        return {"limit": 1000}

    def body(self, req: ChatRequest) -> dict[str, Any]:
        """The JSON body: ``max_tokens`` is required (1024 when not given), the system prompt
        apart, ``stop`` sent as ``stop_sequences``, only the sampling parameters it takes."""
        p = dict(req.params)
        body: dict[str, Any] = {"model": req.model, "messages": list(req.messages),
                                "max_tokens": p.pop("max_tokens", 1024)}  # fmt: skip
        if req.system:
            body["system"] = req.system
        if p.get("stop"):
            body["stop_sequences"] = p.pop("stop")
        for k in ("temperature", "top_p", "top_k"):
            if p.get(k) is not None:
                body[k] = p[k]
        if req.stream:
            body["stream"] = True
        return body

    def usage(self, u: dict[str, Any] | None) -> Usage:
        """Prompt tokens are uncached input plus cache reads plus cache writes, as OpenAI
        counts them."""
        u = u or {}
        read, write = u.get("cache_read_input_tokens"), u.get("cache_creation_input_tokens")
        return Usage((u.get("input_tokens") or 0) + (read or 0) + (write or 0), read, write,
                     u.get("output_tokens"))  # fmt: skip

    def read_whole(self, doc: dict[str, Any], res: ChatResult) -> None:
        res.text = "".join(
            b.get("text", "") for b in doc.get("content") or [] if b.get("type") == "text"
        )
        res.usage = self.usage(doc.get("usage"))
        res.finish_reason = doc.get("stop_reason")

    def read_event(self, event: str | None, data: str, res: ChatResult) -> Step:
        doc = json.loads(data)
        kind = event or doc.get("type")
        if kind == "error":
            return Step(error=doc)
        if kind == "message_start":
            msg = doc.get("message") or {}
            usage = self.usage(msg.get("usage"))
            # a stream's cache counts are 0 when absent (a whole answer's stay None)
            usage.cached_tokens = usage.cached_tokens or 0
            usage.cache_write_tokens = usage.cache_write_tokens or 0
            res.usage = usage
            res.model = msg.get("model") or res.model
        elif kind == "content_block_delta":
            delta = doc.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                return Step(text=delta["text"])
        elif kind == "message_delta":
            res.finish_reason = (doc.get("delta") or {}).get("stop_reason") or res.finish_reason
            out = (doc.get("usage") or {}).get("output_tokens")
            if out is not None:
                res.usage.completion_tokens = out
        elif kind == "message_stop":
            return Step(done=True)
        return Step()

    def context_window(self, model: str, priced_as: str | None) -> int | None:
        return (
            CLAUDE_WINDOW
            if model.startswith("claude")
            else super().context_window(model, priced_as)
        )

    def unsupported(self, model: str, name: str) -> NotTaken | None:
        api = "Anthropic's Messages API"
        if name in ("frequency_penalty", "presence_penalty", "seed"):
            return NotTaken("no_such_param", model, name, api)
        if name == "response_format":
            return NotTaken("no_response_format", model, name, api)
        return None

    def exact_tokens(self, model: str) -> bool:
        return False  # Claude's tokenizer is not OpenAI's


ADAPTERS: dict[str, ProviderAdapter] = {
    a.id: a for a in (ProviderAdapter(), AnthropicAdapter(), CompatibleAdapter())
}


def adapter(provider: str) -> ProviderAdapter:
    """The adapter of ``provider``; an unknown id is taken as an OpenAI-compatible API."""
    return ADAPTERS.get(provider) or ADAPTERS["compatible"]
