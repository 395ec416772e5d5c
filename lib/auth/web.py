"""The HTTP side of sign-in, served next to Streamlit by ``app.py``'s ASGI app.

- ``POST /auth/session`` with ``{"code": …}`` (a one-time code from ``lib.auth.handoff``)
  answers 204 and sets the cookies the code stands for: the session cookie and the device
  cookie (``lib.auth.device``), both HttpOnly (page scripts cannot read them),
  SameSite=Strict, and Secure when the page was reached over https.
- ``POST /auth/logout`` answers 204 and deletes the session cookie. (The session itself is
  ended on the server by the page, so a copy of the cookie is useless either way.)
- Both take only a JSON body (at most ``MAX_BODY`` bytes) posted by a page of this site:
  another site's form or script gets 403 (no login or logout forced on a visitor).
- Streamlit's ``/_stcore/metrics`` answers 404: it would tell anyone, signed in or not, about
  the server's sessions and caches.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lib.auth.handoff import HANDOFFS, Handoffs

COOKIE_NAME = "tokenboard_session"
SESSION_PATH = "/auth/session"
LOGOUT_PATH = "/auth/logout"
MAX_BODY = 4096  # bytes
_HIDDEN_SUFFIXES = ("/_stcore/metrics",)
_NO_STORE = {"Cache-Control": "no-store"}

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]  # fmt: skip


def _https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or proto == "https"


def refusal(request: Request) -> int | None:
    """The status refusing a request that is not a same-site JSON post, or ``None``.

    Browsers send ``Sec-Fetch-Site`` and ``Origin`` with every POST; a page of this site
    sends ``same-origin`` and its own host. Clients without either (curl) are not browsers,
    so cannot be used for cross-site request forgery."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return 403
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        return 403
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return 415
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        return 413
    return None


async def _body(request: Request) -> bytes | None:
    """The body, read up to ``MAX_BODY`` bytes; ``None`` when it is longer."""
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            return None
    return data


def session_routes(handoffs: Handoffs = HANDOFFS) -> list[Route]:
    """The two routes, over ``handoffs`` (the process-wide one by default)."""

    async def set_session(request: Request) -> Response:
        status = refusal(request)
        if status is not None:
            return Response(status_code=status, headers=_NO_STORE)
        body = await _body(request)
        if body is None:
            return Response(status_code=413, headers=_NO_STORE)
        try:
            code = json.loads(body or b"{}").get("code")
        except (ValueError, AttributeError):
            code = None
        cookies = handoffs.redeem(code) if isinstance(code, str) else None
        if cookies is None:
            return Response(status_code=400, headers=_NO_STORE)
        response = Response(status_code=204, headers=_NO_STORE)
        for name, (value, max_age) in cookies.items():
            response.set_cookie(
                name, value, max_age=max_age, path="/", secure=_https(request),
                httponly=True, samesite="strict",
            )  # fmt: skip
        return response

    async def clear_session(request: Request) -> Response:
        status = refusal(request)
        if status is not None:
            return Response(status_code=status, headers=_NO_STORE)
        response = Response(status_code=204, headers=_NO_STORE)
        response.delete_cookie(
            COOKIE_NAME, path="/", secure=_https(request), httponly=True, samesite="strict"
        )
        return response

    return [
        Route(SESSION_PATH, set_session, methods=["POST"]),
        Route(LOGOUT_PATH, clear_session, methods=["POST"]),
    ]


class HidePrivateEndpoints:
    """ASGI middleware: 404 for Streamlit endpoints that must not be public."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and str(scope.get("path", "")).rstrip("/").endswith(
            _HIDDEN_SUFFIXES
        ):
            await Response(status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)
