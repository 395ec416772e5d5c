"""A fake provider for the gateway's tests and benchmark: a raw ASGI app speaking OpenAI's
(Chat Completions, Responses, embeddings, models) and Anthropic's (Messages, models) APIs,
streams included, served by uvicorn on a free loopback port (``serve``).

The model name picks the behaviour: ``cut`` / ``claude-cut`` close the stream before its end,
``busy`` answers 429 with Retry-After 7, ``claude-midstream-error`` sends an error event after
the 200, ``slow`` waits 0.2 s between chunks; anything else answers at once. Every request's
path, headers and body are recorded (``FakeUpstream.seen``), and every stream's exact bytes
(``FakeUpstream.sent``, by request), so tests compare what the client got to what was sent.

Run alone (for the benchmark): ``python -m tests.fake_upstream --port N``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

OPENAI_KEY = "sk-upstream-openai-7f3a9c0e1d2b4a6f8e0c"
ANTHROPIC_KEY = "sk-ant-upstream-2b9d7e1f3a5c"
WORDS = ["Hel", "lo", " world"]
OPENAI_USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15,
                "prompt_tokens_details": {"cached_tokens": 2},
                "completion_tokens_details": {"reasoning_tokens": 1}}  # fmt: skip
RESPONSES_USAGE = {"input_tokens": 9, "input_tokens_details": {"cached_tokens": 4},
                   "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 2},
                   "total_tokens": 14}  # fmt: skip


def _oa_error(message: str, type_: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def _sse(data: str, event: str | None = None) -> bytes:
    return ((f"event: {event}\n" if event else "") + f"data: {data}\n\n").encode()


class FakeUpstream:
    """The ASGI app. ``check_keys``: refuse requests without the upstream keys above."""

    def __init__(self, check_keys: bool = True, record: bool = True) -> None:
        self.check_keys = check_keys
        self.record = record
        self.seen: list[dict[str, Any]] = []
        self.sent: dict[str, bytes] = {}  # x-test-id header -> the bytes of the answer's body

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        more = True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        doc = json.loads(body) if body else {}
        if self.record:
            self.seen.append({"path": scope["path"], "headers": headers, "body": doc})
        test_id = headers.get("x-test-id", "")
        path = scope["path"]
        if path == "/v1/messages" or (path == "/v1/models" and "anthropic-version" in headers):
            if self.check_keys and headers.get("x-api-key") != ANTHROPIC_KEY:
                return await self._json(send, 401, {"type": "error", "error": {
                    "type": "authentication_error", "message": "invalid x-api-key"}})  # fmt: skip
            if path == "/v1/models":
                return await self._json(send, 200, {"data": [{"type": "model", "id": "claude-haiku-4-5"}],
                                                    "has_more": False})  # fmt: skip
            return await self._anthropic(send, doc, test_id)
        if self.check_keys and headers.get("authorization") != f"Bearer {OPENAI_KEY}":
            return await self._json(send, 401, _oa_error(
                "Incorrect API key provided: sk-up***0c.", "invalid_request_error", "invalid_api_key"))  # fmt: skip
        if path == "/v1/models":
            return await self._json(send, 200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1, "owned_by": "system"}
                for m in ("gpt-4o-mini", "gpt-4o", "text-embedding-3-small")]})  # fmt: skip
        model = doc.get("model", "")
        if model == "busy":
            return await self._json(send, 429, _oa_error("Rate limit reached for requests", "requests",
                                                         "rate_limit_exceeded"), {"retry-after": "7"})  # fmt: skip
        if path == "/v1/embeddings":
            return await self._json(send, 200, {"object": "list", "model": model, "data": [
                {"object": "embedding", "index": 0, "embedding": [0.25, -0.5]}],
                "usage": {"prompt_tokens": 6, "total_tokens": 6}})  # fmt: skip
        if path == "/v1/responses":
            return await self._responses(send, doc, test_id)
        if path == "/v1/chat/completions":
            return await self._chat(send, doc, test_id)
        return await self._json(send, 404, _oa_error("Not found", "invalid_request_error", None))

    # -- helpers -----------------------------------------------------------------------------
    async def _json(
        self, send: Any, status: int, doc: Any, extra: dict[str, str] | None = None
    ) -> None:
        raw = json.dumps(doc).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                   (b"x-request-id", b"req_fake_1")]  # fmt: skip
        headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": raw})

    async def _stream(self, send: Any, events: list[bytes], test_id: str, cut: bool = False,
                      slow: bool = False) -> None:  # fmt: skip
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream; charset=utf-8"), (b"x-request-id", b"req_fake_2"),
            (b"x-ratelimit-limit-requests", b"60")]})  # fmt: skip
        sent = bytearray()
        for ev in events:
            if slow:
                await asyncio.sleep(0.2)
            sent += ev
            await send({"type": "http.response.body", "body": ev, "more_body": True})
        if self.record and test_id:
            self.sent[test_id] = bytes(sent)
        if cut:
            raise ConnectionAbortedError("cut on purpose")  # uvicorn drops the connection
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    # -- OpenAI ------------------------------------------------------------------------------
    async def _chat(self, send: Any, doc: dict[str, Any], test_id: str) -> None:
        model = doc.get("model", "")
        if not doc.get("stream"):
            return await self._json(send, 200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 1,
                "model": model + "-2024-07-18" if model == "gpt-4o-mini" else model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(WORDS)},
                             "finish_reason": "stop"}], "usage": OPENAI_USAGE})  # fmt: skip
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model}
        include = (doc.get("stream_options") or {}).get("include_usage")
        extra = {"usage": None} if include else {}
        events = [_sse(json.dumps({**base, **extra, "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}))]  # fmt: skip
        for word in WORDS:
            events.append(_sse(json.dumps({**base, **extra, "choices": [
                {"index": 0, "delta": {"content": word}, "finish_reason": None}]})))  # fmt: skip
        if model == "cut":
            return await self._stream(send, events, test_id, cut=True)
        events.append(_sse(json.dumps({**base, **extra, "choices": [
            {"index": 0, "delta": {}, "finish_reason": "stop"}]})))  # fmt: skip
        if include:
            events.append(_sse(json.dumps({**base, "choices": [], "usage": OPENAI_USAGE})))
        events.append(_sse("[DONE]"))
        await self._stream(send, events, test_id, slow=model == "slow")

    async def _responses(self, send: Any, doc: dict[str, Any], test_id: str) -> None:
        model = doc.get("model", "")
        resp = {"id": "resp_1", "object": "response", "model": model, "status": "completed",
                "output": [{"type": "message", "role": "assistant",
                            "content": [{"type": "output_text", "text": "Hello"}]}],
                "usage": RESPONSES_USAGE}  # fmt: skip
        if not doc.get("stream"):
            return await self._json(send, 200, resp)
        events = [
            _sse(json.dumps({"type": "response.created", "response": {**resp, "status": "in_progress",
                                                                     "usage": None}}), "response.created"),
            _sse(json.dumps({"type": "response.output_text.delta", "delta": "Hel"}), "response.output_text.delta"),
            _sse(json.dumps({"type": "response.output_text.delta", "delta": "lo"}), "response.output_text.delta"),
            _sse(json.dumps({"type": "response.completed", "response": resp}), "response.completed"),
        ]  # fmt: skip
        await self._stream(send, events, test_id)

    # -- Anthropic ---------------------------------------------------------------------------
    async def _anthropic(self, send: Any, doc: dict[str, Any], test_id: str) -> None:
        model = doc.get("model", "")
        usage0 = {"input_tokens": 20, "cache_read_input_tokens": 5,
                  "cache_creation_input_tokens": 3, "output_tokens": 1}  # fmt: skip
        if not doc.get("stream"):
            return await self._json(send, 200, {"id": "msg_1", "type": "message", "role": "assistant",
                "model": model, "content": [{"type": "text", "text": "Bonjour"}], "stop_reason": "end_turn",
                "usage": {**usage0, "output_tokens": 4}})  # fmt: skip
        events = [
            _sse(json.dumps({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                 "role": "assistant", "model": model, "content": [], "usage": usage0}}), "message_start"),
            _sse(json.dumps({"type": "content_block_start", "index": 0,
                             "content_block": {"type": "text", "text": ""}}), "content_block_start"),
            _sse(json.dumps({"type": "ping"}), "ping"),
        ]  # fmt: skip
        for word in ("Bon", "jour"):
            events.append(_sse(json.dumps({"type": "content_block_delta", "index": 0,
                                           "delta": {"type": "text_delta", "text": word}}), "content_block_delta"))  # fmt: skip
        if model == "claude-cut":
            return await self._stream(send, events, test_id, cut=True)
        if model == "claude-midstream-error":
            events.append(_sse(json.dumps({"type": "error", "error": {"type": "overloaded_error",
                                                                      "message": "Overloaded"}}), "error"))  # fmt: skip
            return await self._stream(send, events, test_id)
        events += [
            _sse(json.dumps({"type": "content_block_stop", "index": 0}), "content_block_stop"),
            _sse(json.dumps({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                             "usage": {"output_tokens": 4}}), "message_delta"),
            _sse(json.dumps({"type": "message_stop"}), "message_stop"),
        ]  # fmt: skip
        await self._stream(send, events, test_id, slow=model == "claude-slow")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(app: Any, port: int | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yields its base URL (``http://host:port``)."""
    port = port or free_port()
    # proxy_headers off, as in python -m lib.gateway: the guard reads X-Forwarded-For itself
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="on", proxy_headers=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description="A fake OpenAI / Anthropic API on loopback.")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--no-keys", action="store_true", help="accept any key")
    args = ap.parse_args()
    uvicorn.run(FakeUpstream(check_keys=not args.no_keys, record=False), host="127.0.0.1",
                port=args.port, log_level="warning", access_log=False)  # fmt: skip


if __name__ == "__main__":
    main()
