"""A local server that speaks OpenAI's Chat Completions API and Anthropic's Messages API as
documented (server-sent events, the final usage chunk, ``[DONE]``, error bodies), for the
playground tests. The model name picks the behaviour; every request body is recorded."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.local_server import LocalServer, QuietHandler

OPENAI_KEY = "sk-test-chat-0123456789"
ANTHROPIC_KEY = "sk-ant-test-0123456789"
WORDS = ["Hel", "lo", " world"]
OPENAI_USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15,
                "prompt_tokens_details": {"cached_tokens": 2},
                "completion_tokens_details": {"reasoning_tokens": 0}}  # fmt: skip


# Rate-limit headers as the providers' rate-limit pages show them (OpenAI: x-ratelimit-*;
# Anthropic: anthropic-ratelimit-*, input and output tokens apart): 60 requests and 150,000
# tokens a minute; 50 requests and 30,000 + 8,000 tokens a minute.
OPENAI_RATE_HEADERS = {"x-ratelimit-limit-requests": "60", "x-ratelimit-limit-tokens": "150000",
                       "x-ratelimit-remaining-requests": "59", "x-ratelimit-reset-requests": "1s"}  # fmt: skip
ANTHROPIC_RATE_HEADERS = {"anthropic-ratelimit-requests-limit": "50",
                          "anthropic-ratelimit-input-tokens-limit": "30000",
                          "anthropic-ratelimit-output-tokens-limit": "8000"}  # fmt: skip


def _oa_error(message: str, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class ChatApi(LocalServer):
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if (
                    self.path == "/v1/models"
                    and self.headers.get("Authorization") == f"Bearer {OPENAI_KEY}"
                ):
                    ids = (
                        "gpt-4o-mini",
                        "gpt-4o-mini-2024-07-18",
                        "gpt-4o",
                        "o3-mini",
                        "ctx",  # answers 400 context_length_exceeded
                        "busy",  # answers 429 with Retry-After
                        "text-embedding-3-small",
                        "my-finetune",
                    )
                    self.send_json(200, {"object": "list", "data": [
                        {"id": m, "object": "model", "created": 1, "owned_by": "system"} for m in ids]})  # fmt: skip
                elif (
                    self.path.startswith("/v1/models")
                    and self.headers.get("x-api-key") == ANTHROPIC_KEY
                ):
                    self.send_json(200, {"data": [{"type": "model", "id": "claude-haiku-4-5-20251001",
                                               "display_name": "Claude Haiku 4.5",
                                               "created_at": "2025-10-01T00:00:00Z"}],
                                     "has_more": False, "first_id": None, "last_id": None})  # fmt: skip
                else:
                    self.send_json(
                        401,
                        _oa_error(
                            "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
                        ),
                    )

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api.bodies.append(body)
                api.headers.append(dict(self.headers.items()))
                if self.path == "/v1/chat/completions":
                    api.openai(self, body)
                elif self.path == "/v1/messages":
                    api.anthropic(self, body)
                else:
                    self.send_json(404, _oa_error("Not found", "invalid_request_error", None))

            def _events(self, extra: dict[str, str] | None = None) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("x-request-id", "req_test_1")
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()

            def _send(self, data: str, event: str | None = None) -> None:
                text = (f"event: {event}\n" if event else "") + f"data: {data}\n\n"
                self.wfile.write(text.encode())
                self.wfile.flush()

        return Handler

    # --- OpenAI --------------------------------------------------------------------------
    def openai(self, h, body: dict[str, Any]) -> None:
        if h.headers.get("Authorization") != f"Bearer {OPENAI_KEY}":
            h.send_json(
                401,
                _oa_error(
                    "Incorrect API key provided: sk-***.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
            )
            return
        model = body["model"]
        if model == "ctx":
            h.send_json(400, _oa_error("This model's maximum context length is 128000 tokens. However, your messages "
                                   "resulted in 130000 tokens.", "invalid_request_error", "context_length_exceeded",
                                   "messages"))  # fmt: skip
            return
        if model == "busy":
            h.send_json(429, _oa_error("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
                    {"Retry-After": "7"})  # fmt: skip
            return
        if model == "boom":
            h.send_json(
                500,
                _oa_error(
                    "The server had an error while processing your request.", "server_error", None
                ),
            )
            return
        if not body.get("stream"):
            h.send_json(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
                          "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(WORDS)},
                                       "finish_reason": "stop"}], "usage": OPENAI_USAGE})  # fmt: skip
            return
        h._events(OPENAI_RATE_HEADERS)
        for i, word in enumerate(WORDS):
            if model == "cut" and i == 2:
                return  # the connection closes: no final chunk, no usage, no [DONE]
            if model == "slow":
                time.sleep(0.3)
            chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model, "usage": None,
                     "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}  # fmt: skip
            h._send(json.dumps(chunk))
        h._send(json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model, "usage": None,
                            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))  # fmt: skip
        if body.get("stream_options", {}).get("include_usage"):
            h._send(json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model,
                                "choices": [], "usage": OPENAI_USAGE}))  # fmt: skip
        h._send("[DONE]")

    # --- Anthropic -----------------------------------------------------------------------
    def anthropic(self, h, body: dict[str, Any]) -> None:
        if (
            h.headers.get("x-api-key") != ANTHROPIC_KEY
            or h.headers.get("anthropic-version") != "2023-06-01"
        ):
            h.send_json(
                401,
                {
                    "type": "error",
                    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                },
            )
            return
        model = body["model"]
        if model == "claude-overloaded":
            h.send_json(
                529,
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            )
            return
        h._events(ANTHROPIC_RATE_HEADERS)
        h._send(json.dumps({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                "model": model, "content": [], "usage": {"input_tokens": 20, "cache_read_input_tokens": 5,
                                                         "cache_creation_input_tokens": 0, "output_tokens": 1}}}),
                "message_start")  # fmt: skip
        h._send(json.dumps({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                "content_block_start")  # fmt: skip
        h._send(json.dumps({"type": "ping"}), "ping")
        for word in ("Bon", "jour"):
            h._send(json.dumps({"type": "content_block_delta", "index": 0,
                                "delta": {"type": "text_delta", "text": word}}), "content_block_delta")  # fmt: skip
        if model == "claude-midstream-error":
            h._send(json.dumps({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
                    "error")  # fmt: skip
            return
        if model == "claude-cut":
            return
        h._send(json.dumps({"type": "content_block_stop", "index": 0}), "content_block_stop")
        h._send(json.dumps({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                            "usage": {"output_tokens": 4}}), "message_delta")  # fmt: skip
        h._send(json.dumps({"type": "message_stop"}), "message_stop")
