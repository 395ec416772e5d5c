"""What an answer says about itself: tokens used, the time of its first token, whether a
stream reached its end, and the provider's error, read from whole bodies and from
server-sent-event streams as they pass through.

Token columns follow the canonical rows: ``input_tokens`` counts every prompt token (cache
reads and writes included), ``output_tokens`` every generated one (reasoning included).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

Api = Literal["chat", "responses", "embeddings", "models", "messages"]

# End of one server-sent event: a blank line (providers send "\n\n"; CRLF allowed).
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_USAGE_OBJECT = re.compile(rb'"usage"\s*:\s*\{')
# The ``"usage": null`` OpenAI adds to every chunk once ``include_usage`` is asked for.
_NULL_USAGE = re.compile(rb',\s*"usage"\s*:\s*null')


@dataclass
class Usage:
    """Tokens of one answer; None where the answer did not say."""

    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None

    def total(self) -> int:
        """Input plus output tokens (0 for what is unknown)."""
        return (self.input_tokens or 0) + (self.output_tokens or 0)


@dataclass
class UpstreamError:
    """An error the provider stated (in a body or an event of a stream)."""

    code: str | None
    type: str | None
    message: str | None


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def openai_usage(u: dict[str, Any], into: Usage) -> None:
    """Chat Completions (``prompt_tokens``…), Responses and embeddings (``input_tokens``…)."""
    pd = u.get("prompt_tokens_details") or u.get("input_tokens_details") or {}
    cd = u.get("completion_tokens_details") or u.get("output_tokens_details") or {}
    into.input_tokens = _int(u.get("prompt_tokens", u.get("input_tokens")))
    into.output_tokens = _int(u.get("completion_tokens", u.get("output_tokens")))
    if into.output_tokens is None and into.input_tokens is not None:
        into.output_tokens = 0  # embeddings: no output
    if isinstance(pd, dict):
        into.cached_input_tokens = _int(pd.get("cached_tokens"))
        into.cache_write_tokens = _int(pd.get("cache_write_tokens"))
    if isinstance(cd, dict):
        into.reasoning_tokens = _int(cd.get("reasoning_tokens"))


def anthropic_usage(u: dict[str, Any], into: Usage) -> None:
    """Anthropic counts uncached input apart from cache reads and writes: added up here.
    A ``message_delta``'s usage is cumulative and may carry only ``output_tokens``: fields
    it lacks keep their value."""
    inp, read, write = (
        _int(u.get("input_tokens")),
        _int(u.get("cache_read_input_tokens")),
        _int(u.get("cache_creation_input_tokens")),
    )
    if inp is not None or read is not None or write is not None:
        if read is not None:
            into.cached_input_tokens = read
        if write is not None:
            into.cache_write_tokens = write
        base = inp if inp is not None else 0
        into.input_tokens = base + (into.cached_input_tokens or 0) + (into.cache_write_tokens or 0)
    out = _int(u.get("output_tokens"))
    if out is not None:
        into.output_tokens = out


def error_of(doc: object) -> UpstreamError | None:
    """The error an OpenAI-shaped (``{"error": {...}}``) or Anthropic-shaped
    (``{"type": "error", "error": {...}}``) body states; None when it states none."""
    if not isinstance(doc, dict):
        return None
    err = doc.get("error")
    if isinstance(err, str):
        return UpstreamError(None, None, err)
    if not isinstance(err, dict):
        return None
    code = err.get("code")
    type_ = err.get("type")
    msg = err.get("message")
    return UpstreamError(
        str(code) if code is not None else (str(type_) if type_ is not None else None),
        str(type_) if type_ is not None else None,
        str(msg) if msg is not None else None,
    )


def read_body(api: Api, raw: bytes) -> tuple[Usage, UpstreamError | None, str | None]:
    """Usage, error and model of a whole (unstreamed) JSON answer; empty when it is not JSON."""
    usage = Usage()
    try:
        doc = json.loads(raw)
    except ValueError:
        return usage, None, None
    if not isinstance(doc, dict):
        return usage, None, None
    err = error_of(doc)
    u = doc.get("usage")
    if isinstance(u, dict):
        (anthropic_usage if api == "messages" else openai_usage)(u, usage)
    model = doc.get("model")
    return usage, err, model if isinstance(model, str) else None


def _object(data: bytes) -> dict[str, Any] | None:
    """An event's JSON object; None when it is not one."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


@dataclass
class StreamTap:
    """Reads a server-sent-event stream as it passes. ``feed`` returns the bytes to send on:
    the chunk itself, untouched, unless ``drop_usage_chunk`` (the gateway asked OpenAI for
    the final usage chunk the client did not ask for), when whole events are sent on as they
    complete, that final chunk left out and the ``"usage": null`` that asking added to the
    other chunks taken out again: the client gets the stream it would have had.
    ``finish`` returns what is left."""

    api: Api
    started: float  # time.perf_counter() when the request arrived
    drop_usage_chunk: bool = False
    usage: Usage = field(default_factory=Usage)
    ttft_ms: int | None = None
    done: bool = False
    error: UpstreamError | None = None
    model: str | None = None
    deltas: int = 0  # content events seen (about one token each): the estimate of a cut answer
    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, chunk: bytes) -> bytes:
        self._buf += chunk
        out = bytearray() if self.drop_usage_chunk else None
        pos = 0
        buf = self._buf
        for m in _EVENT_END.finditer(buf):
            event = bytes(buf[pos : m.end()])
            keep = self._event(event)
            if out is not None and keep:
                out += _NULL_USAGE.sub(b"", event) if b'"usage"' in event else event
            pos = m.end()
        if pos:
            del buf[:pos]
        return chunk if out is None else bytes(out)

    def finish(self) -> bytes:
        """The bytes held back at the stream's end (an event without its blank line)."""
        rest = bytes(self._buf)
        self._buf.clear()
        if rest.strip():
            self._event(rest)
        return rest if self.drop_usage_chunk else b""

    # -- one event -------------------------------------------------------------------------
    def _event(self, event: bytes) -> bool:
        """Read one event; False when it is to be left out."""
        name = b""
        data_lines = []
        for line in event.splitlines():
            if line.startswith(b"data:"):
                data_lines.append(line[5:].lstrip(b" "))
            elif line.startswith(b"event:"):
                name = line[6:].strip()
        if not data_lines:
            return True
        data = b"\n".join(data_lines)
        if self.api == "messages":
            self._anthropic(name, data)
        elif self.api == "responses":
            self._responses(name, data)
        else:
            return self._chat(data)
        return True

    def _first_token(self) -> None:
        if self.ttft_ms is None:
            self.ttft_ms = round((time.perf_counter() - self.started) * 1000)

    def _chat(self, data: bytes) -> bool:
        if data == b"[DONE]":
            self.done = True
            return True
        has_usage = _USAGE_OBJECT.search(data) is not None
        if self.ttft_ms is not None and not has_usage and not data.startswith(b'{"error"'):
            self.deltas += 1
            return True  # the usual token chunk, once the first token is seen
        try:
            doc = json.loads(data)
        except ValueError:
            return True
        if not isinstance(doc, dict):
            return True
        if "error" in doc:
            self.error = error_of(doc)
            return True
        choices = doc.get("choices") or []
        if self.ttft_ms is None:
            for c in choices:
                d = c.get("delta") if isinstance(c, dict) else None
                if isinstance(d, dict) and any(
                    d.get(k) for k in ("content", "tool_calls", "refusal", "reasoning_content",
                                       "reasoning", "function_call", "audio")
                ):  # fmt: skip
                    self._first_token()
                    self.deltas += 1
                    break
        u = doc.get("usage")
        if isinstance(u, dict):
            openai_usage(u, self.usage)
            if isinstance(doc.get("model"), str):
                self.model = doc["model"]
            if self.drop_usage_chunk and not choices:
                return False
        return True

    def _responses(self, name: bytes, data: bytes) -> None:
        if not name:
            m = re.search(rb'"type"\s*:\s*"([^"]+)"', data)
            name = m.group(1) if m else b""
        if name.endswith(b".delta"):
            self._first_token()
            self.deltas += 1
            return
        if name in (b"response.completed", b"response.incomplete", b"response.failed", b"error"):
            self.done = name != b"error"
            doc = _object(data)
            if doc is None:
                return
            if name == b"error":
                self.error = UpstreamError(
                    doc.get("code") or doc.get("type"), doc.get("type"), doc.get("message")
                )
                return
            resp = doc.get("response") or {}
            if isinstance(resp, dict):
                if isinstance(resp.get("usage"), dict):
                    openai_usage(resp["usage"], self.usage)
                if isinstance(resp.get("model"), str):
                    self.model = resp["model"]
                if name == b"response.failed":
                    self.error = error_of({"error": resp.get("error") or {}}) or UpstreamError(
                        "response_failed", None, None
                    )

    def _anthropic(self, name: bytes, data: bytes) -> None:
        if name == b"content_block_delta":
            self._first_token()
            self.deltas += 1
            return
        if name == b"message_stop":
            self.done = True
            return
        if name not in (b"message_start", b"message_delta", b"error", b""):
            return
        doc = _object(data)
        if doc is None:
            return
        kind = name.decode() or str(doc.get("type") or "")
        if kind == "error":
            self.error = error_of(doc)
        elif kind == "message_start":
            msg = doc.get("message") or {}
            if isinstance(msg, dict):
                if isinstance(msg.get("usage"), dict):
                    anthropic_usage(msg["usage"], self.usage)
                if isinstance(msg.get("model"), str):
                    self.model = msg["model"]
        elif kind == "message_delta" and isinstance(doc.get("usage"), dict):
            anthropic_usage(doc["usage"], self.usage)
        elif kind == "content_block_delta":
            self._first_token()
        elif kind == "message_stop":
            self.done = True
