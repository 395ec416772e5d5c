"""Chat clients over httpx: OpenAI Chat Completions (and any OpenAI-compatible base URL) and
Anthropic's Messages API, streamed (server-sent events) or not.

``ChatRun(request).stream()`` yields the answer's text as it arrives; afterwards
``run.result`` holds the whole answer, the provider's usage, the timings (time to first
token, total, in seconds) and, when something failed, the error with its advice from
``lib.llm.error_kb``. The API key travels in a header only and never appears in a result,
a message or an exception; anything key-shaped in a provider's error text is masked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from lib.llm.error_kb import Advice, ErrorFacts, explain, facts_from_body
from lib.pull.client import retry_after_seconds
from lib.redact import mask_secrets

ANTHROPIC_VERSION = "2023-06-01"
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


def is_reasoning_model(model: str) -> bool:
    """OpenAI reasoning models take ``max_completion_tokens`` and no sampling parameters."""
    name = model.lower().split("/")[-1]
    return name.startswith(REASONING_PREFIXES)


@dataclass(frozen=True)
class ChatRequest:
    provider: str  # "openai" | "anthropic" | "compatible" (any OpenAI-compatible base URL)
    base_url: (
        str  # e.g. https://api.openai.com/v1, https://api.anthropic.com, http://localhost:11434/v1
    )
    model: str
    messages: tuple[dict[str, str], ...]  # {"role": "user" | "assistant", "content": text}
    system: str = ""
    params: dict[str, Any] = field(default_factory=dict)  # validated by lib.llm.params
    stream: bool = True
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 120.0


@dataclass
class Usage:
    prompt_tokens: int | None = None  # cached ones included
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    completion_tokens: int | None = None  # reasoning ones included
    reasoning_tokens: int | None = None


@dataclass
class ChatError:
    advice: Advice
    status: int | None
    message: str  # the provider's own message (or what went wrong on the way)
    retry_after: float | None = None
    code: str | None = None  # the provider's error code, else its error type


@dataclass
class ChatResult:
    text: str = ""
    status: str = "ok"  # ok | error | stopped
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    model: str | None = None
    request_id: str | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    error: ChatError | None = None


def _openai_body(req: ChatRequest) -> dict[str, Any]:
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


def _anthropic_body(req: ChatRequest) -> dict[str, Any]:
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


def _openai_usage(u: dict[str, Any] | None) -> Usage:
    if not u:
        return Usage()
    pd = u.get("prompt_tokens_details") or {}
    cd = u.get("completion_tokens_details") or {}
    return Usage(u.get("prompt_tokens"), pd.get("cached_tokens"), pd.get("cache_write_tokens"),
                 u.get("completion_tokens"), cd.get("reasoning_tokens"))  # fmt: skip


def _sse(lines: Iterator[str]) -> Iterator[tuple[str | None, str]]:
    """(event name, data) of each server-sent event."""
    event, data = None, []
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        yield event, "\n".join(data)


class ChatRun:
    """One call. Iterate ``stream()`` for the text; ``should_stop`` is asked between chunks
    (a stop button) and ends the call with status "stopped", keeping the text so far."""

    def __init__(self, req: ChatRequest, should_stop: Callable[[], bool] | None = None) -> None:
        self.req = req
        self.should_stop = should_stop or (lambda: False)
        self.result = ChatResult(model=req.model)

    def _headers(self) -> dict[str, str]:
        if self.req.provider == "anthropic":
            h = {"anthropic-version": ANTHROPIC_VERSION}
            if self.req.api_key:
                h["x-api-key"] = self.req.api_key
            return h
        if not self.req.api_key:
            return {}
        if (
            ".openai.azure.com" in self.req.base_url
        ):  # Azure OpenAI takes its key in an api-key header
            return {"api-key": self.req.api_key}
        return {"Authorization": f"Bearer {self.req.api_key}"}

    def _url(self) -> str:
        base = self.req.base_url.rstrip("/")
        if self.req.provider == "anthropic":
            return base + ("/messages" if base.endswith("/v1") else "/v1/messages")
        return base + "/chat/completions"

    def _fail(self, facts: ErrorFacts, retry_after: float | None = None) -> None:
        # a provider may echo the key it was sent: nothing key-shaped reaches the result
        facts = replace(facts, message=mask_secrets(facts.message), code=mask_secrets(facts.code)
                        or None, error_type=mask_secrets(facts.error_type) or None)  # fmt: skip
        self.result.status = "error"
        self.result.error = ChatError(explain(facts, retry_after), facts.status,
                                      facts.message or facts.transport or "", retry_after,
                                      facts.code or facts.error_type)  # fmt: skip

    def stream(self) -> Iterator[str]:
        req, res = self.req, self.result
        body = _anthropic_body(req) if req.provider == "anthropic" else _openai_body(req)
        t0 = time.perf_counter()
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(req.timeout_s, connect=10.0)) as http,
                http.stream("POST", self._url(), json=body, headers=self._headers()) as r,
            ):
                res.request_id = r.headers.get("x-request-id") or r.headers.get("request-id")
                if r.status_code >= 400:
                    r.read()
                    try:
                        payload: object = r.json()
                    except ValueError:
                        payload = r.text
                    self._fail(facts_from_body(req.provider, r.status_code, payload),
                               retry_after_seconds(r.headers.get("retry-after")))  # fmt: skip
                    return
                if not req.stream:
                    r.read()
                    self._whole(r.json())
                    if res.text:
                        res.ttft_s = time.perf_counter() - t0
                        yield res.text
                    return
                parts = (
                    self._anthropic_events(r, t0)
                    if req.provider == "anthropic"
                    else self._openai_events(r, t0)
                )
                for text in parts:
                    yield text
                    if self.should_stop():
                        res.status = "stopped"
                        return
        except httpx.TimeoutException:
            self._fail(ErrorFacts(req.provider, None, transport="timeout"))
        except httpx.TransportError:
            if res.text or res.ttft_s is not None:
                self._fail(ErrorFacts(req.provider, 200, transport="stream_cut"))
            else:
                self._fail(ErrorFacts(req.provider, None, transport="connection"))
        finally:
            res.total_s = time.perf_counter() - t0

    def _whole(self, doc: dict[str, Any]) -> None:
        res = self.result
        if self.req.provider == "anthropic":
            res.text = "".join(
                b.get("text", "") for b in doc.get("content") or [] if b.get("type") == "text"
            )
            u = doc.get("usage") or {}
            res.usage = Usage((u.get("input_tokens") or 0) + (u.get("cache_read_input_tokens") or 0)
                              + (u.get("cache_creation_input_tokens") or 0), u.get("cache_read_input_tokens"),
                              u.get("cache_creation_input_tokens"), u.get("output_tokens"))  # fmt: skip
            res.finish_reason = doc.get("stop_reason")
        else:
            choice = (doc.get("choices") or [{}])[0]
            res.text = (choice.get("message") or {}).get("content") or ""
            res.finish_reason = choice.get("finish_reason")
            res.usage = _openai_usage(doc.get("usage"))
        res.model = doc.get("model") or res.model

    def _openai_events(self, r: httpx.Response, t0: float) -> Iterator[str]:
        res, done = self.result, False
        for _event, data in _sse(r.iter_lines()):
            if data == "[DONE]":
                done = True
                break
            chunk = json.loads(data)
            if "error" in chunk:  # an error after the 200 (gateways do this)
                self._fail(facts_from_body(self.req.provider, 200, chunk))
                return
            res.model = chunk.get("model") or res.model
            if chunk.get("usage"):
                res.usage = _openai_usage(chunk["usage"])
            for choice in chunk.get("choices") or []:
                if choice.get("finish_reason"):
                    res.finish_reason = choice["finish_reason"]
                text = (choice.get("delta") or {}).get("content")
                if text:
                    if res.ttft_s is None:
                        res.ttft_s = time.perf_counter() - t0
                    res.text += text
                    yield text
        if not done:
            self._fail(ErrorFacts(self.req.provider, 200, transport="stream_cut"))

    def _anthropic_events(self, r: httpx.Response, t0: float) -> Iterator[str]:
        res, done = self.result, False
        for event, data in _sse(r.iter_lines()):
            doc = json.loads(data)
            kind = event or doc.get("type")
            if kind == "error":
                self._fail(facts_from_body("anthropic", 200, doc))
                return
            if kind == "message_start":
                msg = doc.get("message") or {}
                u = msg.get("usage") or {}
                read, write = (
                    u.get("cache_read_input_tokens") or 0,
                    u.get("cache_creation_input_tokens") or 0,
                )
                res.usage = Usage(
                    (u.get("input_tokens") or 0) + read + write, read, write, u.get("output_tokens")
                )
                res.model = msg.get("model") or res.model
            elif kind == "content_block_delta":
                delta = doc.get("delta") or {}
                if delta.get("type") == "text_delta" and delta.get("text"):
                    if res.ttft_s is None:
                        res.ttft_s = time.perf_counter() - t0
                    res.text += delta["text"]
                    yield delta["text"]
            elif kind == "message_delta":
                res.finish_reason = (doc.get("delta") or {}).get("stop_reason") or res.finish_reason
                out = (doc.get("usage") or {}).get("output_tokens")
                if out is not None:
                    res.usage.completion_tokens = out
            elif kind == "message_stop":
                done = True
                break
        if not done:
            self._fail(ErrorFacts("anthropic", 200, transport="stream_cut"))


def run_chat(req: ChatRequest) -> ChatResult:
    """Make one call to the end and return its result (no stop button)."""
    run = ChatRun(req)
    for _ in run.stream():
        pass
    return run.result
