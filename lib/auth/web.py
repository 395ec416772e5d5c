"""The HTTP side of sign-in, served next to Streamlit by ``app.py``'s ASGI app.

- ``POST /auth/session`` with ``{"code": …}`` (a one-time code from ``lib.auth.handoff``)
  answers 204 and sets the session cookie: HttpOnly (page scripts cannot read it),
  SameSite=Strict, Secure when the page was reached over https, for the session's lifetime.
- ``POST /auth/logout`` answers 204 and deletes it. (The session itself is ended on the
  server by the page, so a copy of the cookie is useless either way.)
- Streamlit's ``/_stcore/metrics`` answers 404: it would tell anyone, signed in or not, about
  the server's sessions and caches.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lib.auth.handoff import HANDOFFS, Handoffs

COOKIE_NAME = "tokenboard_session"
SESSION_PATH = "/auth/session"
LOGOUT_PATH = "/auth/logout"
_HIDDEN_SUFFIXES = ("/_stcore/metrics",)
_MAX_BODY = 4096  # bytes

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]  # fmt: skip


def _https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or proto == "https"


async def _code(request: Request) -> str | None:
    body = await request.body()
    if len(body) > _MAX_BODY:
        return None
    try:
        code = json.loads(body or b"{}").get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


def session_routes(handoffs: Handoffs = HANDOFFS) -> list[Route]:
    """The two routes, over ``handoffs`` (the process-wide one by default)."""

    async def set_session(request: Request) -> Response:
        code = await _code(request)
        found = handoffs.redeem(code) if code else None
        if found is None:
            return Response(status_code=400, headers={"Cache-Control": "no-store"})
        value, max_age = found
        response = Response(status_code=204, headers={"Cache-Control": "no-store"})
        response.set_cookie(
            COOKIE_NAME, value, max_age=int(max_age), path="/", secure=_https(request),
            httponly=True, samesite="strict",
        )  # fmt: skip
        return response

    async def clear_session(request: Request) -> Response:
        response = Response(status_code=204, headers={"Cache-Control": "no-store"})
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
