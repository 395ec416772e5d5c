"""The gateway's ASGI application (Starlette routing, raw ASGI handlers on the hot path).

Each request: its Tokenboard key (``Authorization: Bearer tb-…`` or ``x-api-key``) checked by
the ``Guard``; a refusal answered in the provider's own error format; otherwise forwarded to
the provider with the provider's key in place of the client's, the answer passed back as it
arrives (a stream chunk by chunk), its usage read on the way, and one row appended to the
journal once the answer has ended (or was cut).

Routes: ``POST /v1/chat/completions``, ``/v1/responses``, ``/v1/embeddings`` (OpenAI's
format, to OpenAI or, for a model named ``compatible/<name>``, to the OpenAI-compatible
upstream as ``<name>``), ``GET /v1/models`` (Anthropic's list when the request carries
``anthropic-version``, else OpenAI's), ``POST /v1/messages`` (Anthropic), ``GET /healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from lib.gateway.guard import Guard
from lib.gateway.journal import Journal
from lib.gateway.usage import Api, StreamTap, Usage, read_body
from lib.http import ANTHROPIC_VERSION, retry_after_seconds
from lib.redact import mask_secrets

log = logging.getLogger("lib.gateway")

COMPATIBLE_PREFIX = "compatible/"
MAX_BODY_BYTES = 32 * 1024 * 1024  # a request body larger than this is refused (413)
MAX_READ_BYTES = 16 * 1024 * 1024  # an unstreamed answer larger than this is not read for usage
MAX_NAME = 200  # characters of a model or an origin kept in the journal

# Request headers never sent upstream: the client's credentials, hop-by-hop headers, what
# httpx sets itself, the addresses of the client and its proxies, Tokenboard's own.
_DROP_REQUEST = frozenset(
    b"authorization x-api-key api-key host content-length connection keep-alive "
    b"proxy-authorization proxy-connection te trailer transfer-encoding upgrade "
    b"accept-encoding x-forwarded-for x-forwarded-host x-forwarded-proto x-real-ip forwarded "
    b"x-tokenboard-user cookie origin referer openai-organization openai-project".split()
)
# Browser-side apps (a website's chatbot) call the gateway across origins: a preflight is
# answered for any origin (it carries no key); the request itself is checked against the
# key's origins, and its answer, refusals included, made readable by that origin.
_CORS_EXPOSE = b"x-tokenboard-error, x-tokenboard-request-id, retry-after, x-request-id"
# Response headers not passed back (hop-by-hop; the server sets its own framing).
_DROP_RESPONSE = frozenset(
    b"connection keep-alive proxy-connection te trailer transfer-encoding upgrade "
    b"content-length".split()
)

_OPENAI_TYPES = {401: "invalid_request_error", 403: "permission_error", 404: "invalid_request_error",
                 413: "invalid_request_error", 415: "invalid_request_error", 429: "rate_limit_error", 502: "api_error",
                 503: "api_error", 504: "api_error"}  # fmt: skip
_ANTHROPIC_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                    413: "request_too_large", 415: "invalid_request_error", 429: "rate_limit_error",
                    502: "api_error",
                    503: "api_error", 504: "api_error"}  # fmt: skip


@dataclass(frozen=True)
class Upstream:
    """A provider the gateway forwards to: ``provider`` is the journal's provider id
    (openai, anthropic, compatible); ``base_url`` its root, with or without ``/v1``;
    ``api_key`` the provider key (None: sent without one)."""

    provider: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)

    @property
    def root(self) -> str:
        base = self.base_url.rstrip("/")
        return base[:-3] if base.endswith("/v1") else base


@dataclass
class Event:
    """What the journal's row of one request is made of."""

    request_id: str
    ts: datetime
    started: float  # perf_counter at arrival
    provider: str
    endpoint: str
    model: str | None = None
    project: str | None = None
    key_id: str | None = None
    user_id: str | None = None
    client_ip: str | None = None
    origin: str | None = None
    status: str = "success"
    http_status: int | None = None
    error_code: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    usage: Usage = field(default_factory=Usage)
    ttft_ms: int | None = None
    retry_after_ms: int | None = None
    cors: list[tuple[bytes, bytes]] = field(default_factory=list)  # response headers

    def row(self) -> dict[str, Any]:
        """The journal line: a canonical request row plus ``ttft_ms``."""
        u = self.usage
        return {
            "ts": self.ts.isoformat(),
            "request_id": self.request_id,
            "provider": self.provider,
            "model": self.model,
            "project": self.project,
            "api_key": self.key_id,
            "user_id": self.user_id,
            "status": self.status,
            "http_status": self.http_status,
            "error_code": self.error_code,
            "error_type": self.error_type,
            "error_message": self.error_message,
            "latency_ms": round((time.perf_counter() - self.started) * 1000),
            "input_tokens": u.input_tokens,
            "cached_input_tokens": u.cached_input_tokens,
            "cache_write_tokens": u.cache_write_tokens,
            "output_tokens": u.output_tokens,
            "reasoning_tokens": u.reasoning_tokens,
            "client_ip": self.client_ip,
            "origin": self.origin,
            "cost_usd": None,
            "batch": False,
            "retry_after_ms": self.retry_after_ms,
            "ttft_ms": self.ttft_ms,
        }

    request_bytes: int = 0  # the body asked for (bytes): a cut answer's input estimate


def error_body(api_format: str, status: int, code: str, message: str) -> bytes:
    """An error answer in the provider's format: OpenAI's ``{"error": {message, type, param,
    code}}`` or Anthropic's ``{"type": "error", "error": {type, message}}`` (the code leads
    the message, Anthropic's format having no field for it)."""
    if api_format == "anthropic":
        doc: dict[str, Any] = {"type": "error", "error": {
            "type": _ANTHROPIC_TYPES.get(status, "api_error"), "message": f"{code}: {message}"}}  # fmt: skip
    else:
        type_ = (
            "insufficient_quota"
            if code == "budget_exceeded"
            else _OPENAI_TYPES.get(status, "api_error")
        )
        doc = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return json.dumps(doc).encode()


def _origin_of(headers: dict[bytes, bytes]) -> str | None:
    """The request's ``Origin``, else its ``Referer`` cut to scheme and host (a Referer's path
    and query may hold private words)."""
    origin = headers.get(b"origin")
    if origin:
        return origin.decode("latin-1")
    referer = headers.get(b"referer")
    if not referer:
        return None
    try:
        parts = urlsplit(referer.decode("latin-1"))
    except ValueError:
        return None
    if not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}" if parts.scheme else parts.netloc


def _secret_of(headers: dict[bytes, bytes]) -> str | None:
    auth = headers.get(b"authorization")
    if auth:
        scheme, _, token = auth.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    key = headers.get(b"x-api-key") or headers.get(b"api-key")
    return key.decode("latin-1").strip() if key else None


class Gateway:
    """The forwarding logic, independent of the server that runs it."""

    def __init__(
        self,
        guard: Guard,
        journal: Journal,
        openai: Upstream,
        anthropic: Upstream,
        compatible: Upstream | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 600.0,
    ) -> None:
        self.guard = guard
        self.journal = journal
        self.upstreams = {"openai": openai, "anthropic": anthropic}
        if compatible is not None:
            self.upstreams["compatible"] = compatible
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=30.0)
        self._clients: dict[str, httpx.AsyncClient] = {}
        # every secret the gateway holds, masked in what it writes
        self._provider_keys = [u.api_key for u in self.upstreams.values() if u.api_key]

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """One pooled client per upstream: HTTP/1.1 keep-alive connections reused."""
        limits = httpx.Limits(
            max_connections=1000, max_keepalive_connections=200, keepalive_expiry=60.0
        )
        for name in self.upstreams:
            self._clients[name] = httpx.AsyncClient(
                timeout=self._timeout, limits=limits, follow_redirects=False
            )

    async def stop(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        await asyncio.to_thread(self.journal.close)

    def client(self, name: str) -> httpx.AsyncClient:
        return self._clients[name]

    # -- helpers -----------------------------------------------------------------------------
    def _mask(self, text: str | None, secret: str | None) -> str | None:
        if text is None:
            return None
        for s in (*self._provider_keys, secret):
            if s:
                text = text.replace(s, "[masked]")
        return mask_secrets(text)[:1000]

    async def _answer(
        self, send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]
    ) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _refuse(
        self,
        send: Send,
        ev: Event,
        api_format: str,
        status: int,
        code: str,
        message: str,
        retry_after_s: int | None = None,
    ) -> None:
        extra = [
            (b"x-tokenboard-error", code.encode()),
            (b"x-tokenboard-request-id", ev.request_id.encode()),
            *ev.cors,
        ]
        if retry_after_s is not None:
            extra.append((b"retry-after", str(retry_after_s).encode()))
            ev.retry_after_ms = retry_after_s * 1000
        ev.status, ev.http_status, ev.error_code = "error", status, code
        ev.error_type, ev.error_message = "tokenboard", message
        try:
            await self._answer(send, status, error_body(api_format, status, code, message), extra)
        finally:
            self.journal.append(ev.row())

    # -- one request -------------------------------------------------------------------------
    def route(self, api: Api) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
            await self.handle(api, scope, receive, send)

        return endpoint

    async def handle(self, api: Api, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers: dict[bytes, bytes] = dict(scope["headers"])
        if scope["method"] == "OPTIONS":
            await _preflight(headers, send)
            return
        anthropic_models = api == "models" and b"anthropic-version" in headers
        api_format = "anthropic" if api == "messages" or anthropic_models else "openai"
        path: str = scope["path"]
        ev = Event(uuid.uuid4().hex, datetime.now(UTC), started,
                   "anthropic" if api_format == "anthropic" else "openai", path)  # fmt: skip
        user = headers.get(b"x-tokenboard-user")
        ev.user_id = user.decode("utf-8", "replace")[:200] if user else None
        if b"origin" in headers:
            ev.cors = [(b"access-control-allow-origin", headers[b"origin"]), (b"vary", b"Origin"),
                       (b"access-control-expose-headers", _CORS_EXPOSE)]  # fmt: skip

        # the key first: an unknown or refused key never makes the gateway read a body
        secret = _secret_of(headers)
        peer = scope.get("client")
        xff = headers.get(b"x-forwarded-for")
        pre = self.guard.precheck(secret, peer[0] if peer else None,
                                  xff.decode("latin-1") if xff else None, _origin_of(headers), path)  # fmt: skip
        if pre.refusal is not None:
            ev.client_ip, ev.origin = pre.client_ip, (pre.origin or "")[:MAX_NAME] or None
            if pre.key is not None:
                ev.key_id, ev.project = pre.key.key_id, pre.key.project
            r = pre.refusal
            await self._refuse(send, ev, api_format, r.http_status, r.code, str(r.message),
                               r.retry_after_s)  # fmt: skip
            return

        # the body (whole: it is small next to the answer, and names the model)
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            piece = msg.get("body", b"")
            size += len(piece)
            if size > MAX_BODY_BYTES:
                await self._refuse(send, ev, api_format, 413, "request_too_large",
                                   f"The request body is over {MAX_BODY_BYTES // (1024 * 1024)} MiB.")  # fmt: skip
                return
            chunks.append(piece)
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        ev.request_bytes = len(body)
        if headers.get(b"content-encoding", b"identity").strip().lower() != b"identity":
            # a compressed body names a model the check cannot read: never let it through
            await self._refuse(send, ev, api_format, 415, "unsupported_encoding",
                               "Send the request body uncompressed (no Content-Encoding).")  # fmt: skip
            return
        doc: dict[str, Any] | None = None
        if body and api != "models":
            try:
                parsed = json.loads(body)
                doc = parsed if isinstance(parsed, dict) else None
            except (ValueError, RecursionError):  # not JSON, or nested past Python's limit
                doc = None
        model = doc.get("model") if doc is not None else None
        ev.model = model[:MAX_NAME] if isinstance(model, str) else None
        # a request whose model cannot be read is checked as naming none: a key limited to
        # some models refuses it (only the model list names no model)
        checked_model = ev.model if ev.model is not None or api == "models" else ""

        adm = self.guard.admit(
            secret,
            peer[0] if peer else None,
            xff.decode("latin-1") if xff else None,
            _origin_of(headers),
            checked_model,
            path,
        )
        ev.client_ip, ev.origin = adm.client_ip, (adm.origin or "")[:MAX_NAME] or None
        if adm.key is None:  # an unknown key leaves no client-chosen name in the data
            ev.model = None
        if adm.key is not None:
            ev.key_id, ev.project = adm.key.key_id, adm.key.project
        if adm.refusal is not None:
            r = adm.refusal
            await self._refuse(send, ev, api_format, r.http_status, r.code, str(r.message),
                               r.retry_after_s)  # fmt: skip
            return

        # where to
        up_name = ev.provider
        if (
            api_format == "openai"
            and ev.model
            and ev.model.startswith(COMPATIBLE_PREFIX)
            and "compatible" in self.upstreams
            and doc is not None
        ):
            up_name = "compatible"
            doc["model"] = ev.model[len(COMPATIBLE_PREFIX) :]
            body = b""  # serialised again below
        upstream = self.upstreams[up_name]
        ev.provider = upstream.provider
        if upstream.api_key is None and up_name != "compatible":
            await self._refuse(send, ev, api_format, 503, "provider_key_missing",
                               f"The gateway has no {up_name.upper()}_API_KEY: set it in the "
                               "environment or .streamlit/secrets.toml and restart it.")  # fmt: skip
            return

        drop_usage = False
        if api == "chat" and doc is not None and doc.get("stream") is True:
            opts = doc.get("stream_options")
            if not (isinstance(opts, dict) and opts.get("include_usage")):
                doc["stream_options"] = {
                    **(opts if isinstance(opts, dict) else {}),
                    "include_usage": True,
                }
                drop_usage = True
                body = b""
        if not body and doc is not None:
            body = json.dumps(doc, separators=(",", ":")).encode()

        out_headers = [(k, v) for k, v in scope["headers"] if k not in _DROP_REQUEST]
        out_headers.append((b"accept-encoding", b"identity"))
        if api_format == "anthropic":
            if upstream.api_key:
                out_headers.append((b"x-api-key", upstream.api_key.encode()))
            if b"anthropic-version" not in headers:
                out_headers.append((b"anthropic-version", ANTHROPIC_VERSION.encode()))
        elif upstream.api_key:
            out_headers.append((b"authorization", b"Bearer " + upstream.api_key.encode()))
        url = upstream.root + path
        query = scope.get("query_string")
        if query:
            url += "?" + query.decode("latin-1")
        client = self._clients[up_name]
        try:
            resp = await client.send(
                client.build_request(scope["method"], url, headers=out_headers, content=body),
                stream=True,
            )
        except httpx.TimeoutException:
            await self._refuse(send, ev, api_format, 504, "upstream_timeout",
                               f"{upstream.provider} did not answer in time; retry later.")  # fmt: skip
            return
        except httpx.HTTPError as err:
            await self._refuse(send, ev, api_format, 502, "upstream_unreachable",
                               f"{upstream.provider} could not be reached ({type(err).__name__}); "
                               "retry later.")  # fmt: skip
            return
        try:
            await self._relay(api, resp, ev, send, receive, secret, drop_usage)
        finally:
            await resp.aclose()
            if adm.key is not None:
                self.guard.add_tokens(adm.key.key_id, ev.usage.total())
                # dated as the journal dates the event (its start): a snapshot that counted the
                # event (``spent_through``) is not added to again
                self.guard.add_cost(adm.key.key_id, ev.model, ev.usage.input_tokens or 0,
                                    ev.usage.output_tokens or 0, at=ev.ts)  # fmt: skip
            self.journal.append(ev.row())

    async def _relay(
        self,
        api: Api,
        resp: httpx.Response,
        ev: Event,
        send: Send,
        receive: Receive,
        secret: str | None,
        drop_usage: bool,
    ) -> None:
        """Pass the upstream's answer on, reading its usage; fill ``ev``."""
        ev.http_status = resp.status_code
        headers = [(k.lower(), v) for k, v in resp.headers.raw]
        streaming = resp.headers.get("content-type", "").startswith("text/event-stream")
        out_headers = [(k, v) for k, v in headers if k not in _DROP_RESPONSE]
        if ev.cors:
            out_headers = [h for h in out_headers if not h[0].startswith(b"access-control-")]
            out_headers += ev.cors
        if not streaming and not drop_usage:
            length = resp.headers.get("content-length")
            if length is not None:
                out_headers.append((b"content-length", length.encode()))
        out_headers.append((b"x-tokenboard-request-id", ev.request_id.encode()))
        if resp.status_code >= 400:
            ev.status = "error"
            wait = retry_after_seconds(resp.headers.get("retry-after"))
            ev.retry_after_ms = round(wait * 1000) if wait is not None else None
        await send(
            {"type": "http.response.start", "status": resp.status_code, "headers": out_headers}
        )

        if not streaming:
            kept = bytearray()
            try:
                async for chunk in resp.aiter_raw():
                    if len(kept) <= MAX_READ_BYTES:
                        kept += chunk
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except httpx.HTTPError as exc:
                # returning with the answer unfinished: the server closes the client's
                # connection, so the client sees the cut too (no traceback in the logs)
                self._cut(ev, "the provider closed the connection before the answer's end", exc)
                return
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            if len(kept) <= MAX_READ_BYTES:
                usage, err, model = read_body(api, bytes(kept))
                ev.usage = usage
                ev.model = model or ev.model if ev.provider != "compatible" else ev.model
                if err is not None and resp.status_code >= 400:
                    ev.error_code, ev.error_type = err.code, err.type
                    ev.error_message = self._mask(err.message, secret)
            if resp.status_code >= 400 and ev.error_code is None:
                ev.error_code = str(resp.status_code)
            return

        tap = StreamTap(api, ev.started, drop_usage_chunk=drop_usage)
        disconnect = asyncio.ensure_future(receive())
        try:
            async for chunk in resp.aiter_raw():
                out = tap.feed(chunk)
                if disconnect.done():
                    self._cut(ev, "the client closed the connection before the answer's end")
                    return
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
            rest = tap.finish()
            await send({"type": "http.response.body", "body": rest, "more_body": False})
        except httpx.HTTPError as err:
            tap.finish()
            self._cut(ev, "the provider closed the stream before its end", err)
            return  # unfinished: the client's connection is closed, as above
        finally:
            disconnect.cancel()
            ev.usage, ev.ttft_ms = tap.usage, tap.ttft_ms
            if not tap.done and tap.error is None:  # cut: the usage never came; estimate it
                if not ev.usage.output_tokens:
                    ev.usage.output_tokens = tap.deltas  # about a token per content event
                if not ev.usage.input_tokens:
                    ev.usage.input_tokens = max(1, ev.request_bytes // 4)  # about 4 bytes a token
            if tap.model and ev.provider != "compatible":
                ev.model = tap.model
        if tap.error is not None:
            ev.status = "error"
            ev.error_code, ev.error_type = tap.error.code, tap.error.type
            ev.error_message = self._mask(tap.error.message, secret)
        elif resp.status_code >= 400:
            ev.error_code = ev.error_code or str(resp.status_code)
        elif not tap.done:
            self._cut(ev, "the provider closed the stream before its end")

    def _cut(self, ev: Event, why: str, err: Exception | None = None) -> None:
        ev.status, ev.error_code, ev.error_type, ev.error_message = (
            "error", "stream_cut", "tokenboard", why)  # fmt: skip
        if err is not None:
            log.warning("request %s to %s cut: %s (%s)", ev.request_id, ev.provider, why,
                        type(err).__name__)  # fmt: skip


async def _preflight(headers: dict[bytes, bytes], send: Send) -> None:
    """A CORS preflight: any origin, the methods and headers it asks for, for 10 minutes."""
    out = [(b"content-length", b"0"), (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
           (b"access-control-max-age", b"600"), (b"vary", b"Origin")]  # fmt: skip
    if b"origin" in headers:
        out.append((b"access-control-allow-origin", headers[b"origin"]))
    asked = headers.get(b"access-control-request-headers")
    if asked:
        out.append((b"access-control-allow-headers", asked))
    await send({"type": "http.response.start", "status": 204, "headers": out})
    await send({"type": "http.response.body", "body": b""})


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    body = error_body("openai", 404, "unknown_url",
                      f"Unknown path {scope.get('method', '')} {scope.get('path', '')}: the gateway "
                      "serves /v1/chat/completions, /v1/responses, /v1/embeddings, /v1/models and "
                      "/v1/messages.")  # fmt: skip
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


async def _health(scope: Scope, receive: Receive, send: Send) -> None:
    body = b'{"status":"ok"}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


class _Endpoint:
    """A raw ASGI endpoint (Starlette's ``Route`` calls it as is, with no request wrapper)."""

    def __init__(self, fn: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.fn = fn

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.fn(scope, receive, send)


def build_app(gateway: Gateway) -> Starlette:
    """The ASGI application serving ``gateway``; its lifespan opens and closes the upstream
    clients and the journal."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    routes = [
        Route(
            "/v1/chat/completions", _Endpoint(gateway.route("chat")), methods=["POST", "OPTIONS"]
        ),
        Route("/v1/responses", _Endpoint(gateway.route("responses")), methods=["POST", "OPTIONS"]),
        Route(
            "/v1/embeddings", _Endpoint(gateway.route("embeddings")), methods=["POST", "OPTIONS"]
        ),
        Route("/v1/models", _Endpoint(gateway.route("models")), methods=["GET", "OPTIONS"]),
        Route("/v1/messages", _Endpoint(gateway.route("messages")), methods=["POST", "OPTIONS"]),
        Route("/healthz", _Endpoint(_health), methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.router.default = _not_found
    return app
