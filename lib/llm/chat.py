"""Chat clients over httpx: OpenAI Chat Completions (and any OpenAI-compatible base URL) and
Anthropic's Messages API, streamed (server-sent events) or not.

``ChatRun(request).stream()`` yields the answer's text as it arrives; afterwards
``run.result`` holds the whole answer, the provider's usage, the timings (time to first
token, total, in seconds) and, when something failed, the error with its advice from
``lib.error_kb``. The API key travels in a header only and never appears in a result,
a message or an exception; anything key-shaped in a provider's error text is masked.

What differs between providers (address, headers, body, reading the answer) is the
provider's adapter in ``lib.llm.adapters``; this module runs the call the same way for all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx

from lib.error_kb import ErrorFacts, explain
from lib.http import USER_AGENT, rate_limits, retry_after_seconds
from lib.llm.adapters import adapter as adapter_of
from lib.llm.adapters import is_reasoning_model
from lib.llm.types import ChatError, ChatRequest, ChatResult, Usage
from lib.redact import mask_secrets

__all__ = [
    "ChatError",
    "ChatRequest",
    "ChatResult",
    "ChatRun",
    "Usage",
    "is_reasoning_model",
    "run_chat",
]


def _sse(lines: Iterator[str]) -> Iterator[tuple[str | None, str]]:
    """(event name, data) of each server-sent event."""
    event: str | None = None
    data: list[str] = []
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
        self.adapter = adapter_of(req.provider)
        self.should_stop = should_stop or (lambda: False)
        self.result = ChatResult(model=req.model)

    def _headers(self) -> dict[str, str]:
        return {
            "User-Agent": USER_AGENT,
            **self.adapter.headers(self.req.api_key, self.req.base_url),
        }

    def _fail(self, facts: ErrorFacts, retry_after: float | None = None) -> None:
        # a provider may echo the key it was sent: nothing key-shaped reaches the result
        facts = replace(facts, message=mask_secrets(facts.message), code=mask_secrets(facts.code)
                        or None, error_type=mask_secrets(facts.error_type) or None)  # fmt: skip
        self.result.status = "error"
        self.result.error = ChatError(explain(facts, retry_after), facts.status,
                                      facts.message or facts.transport or "", retry_after,
                                      facts.code or facts.error_type)  # fmt: skip

    def stream(self) -> Iterator[str]:
        req, res, api = self.req, self.result, self.adapter
        t0 = time.perf_counter()
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(req.timeout_s, connect=10.0)) as http,
                http.stream(
                    "POST", api.chat_url(req.base_url), json=api.body(req), headers=self._headers()
                ) as r,
            ):
                res.request_id = r.headers.get("x-request-id") or r.headers.get("request-id")
                limits = rate_limits(r.headers)
                res.rate_limits = limits if any(limits) else None
                if r.status_code >= 400:
                    r.read()
                    try:
                        payload: object = r.json()
                    except ValueError:
                        payload = r.text
                    self._fail(api.error_facts(req.provider, r.status_code, payload),
                               retry_after_seconds(r.headers.get("retry-after")))  # fmt: skip
                    return
                if not req.stream:
                    r.read()
                    self._whole(r.json())
                    if res.text:
                        res.ttft_s = time.perf_counter() - t0
                        yield res.text
                    return
                for text in self._events(r, t0):
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
        self.adapter.read_whole(doc, self.result)
        self.result.model = doc.get("model") or self.result.model

    def _events(self, r: httpx.Response, t0: float) -> Iterator[str]:
        """The text of each event as it comes; a stream that ends before its last event is
        a failure ("stream_cut"), an error event is the provider's error."""
        res = self.result
        for event, data in _sse(r.iter_lines()):
            step = self.adapter.read_event(event, data, res)
            if step.error is not None:
                self._fail(self.adapter.error_facts(self.req.provider, 200, step.error))
                return
            if step.text:
                if res.ttft_s is None:
                    res.ttft_s = time.perf_counter() - t0
                res.text += step.text
                yield step.text
            if step.done:
                return
        self._fail(ErrorFacts(self.req.provider, 200, transport="stream_cut"))


def run_chat(req: ChatRequest) -> ChatResult:
    """Make one call to the end and return its result (no stop button)."""
    run = ChatRun(req)
    for _ in run.stream():
        pass
    return run.result
