"""One-time codes that hand a session cookie from a script run to the browser.

The sign-in form runs over Streamlit's websocket, which cannot set an HttpOnly cookie. So the
run keeps the cookie value here under a random code, the page posts the code to
``/auth/session`` (``lib.auth.web``), and that HTTP response sets the cookie. A code works
once, within ``TTL_S``, in this process only (the app's one server process).
"""

from __future__ import annotations

import secrets
import threading
import time

TTL_S = 120.0  # seconds a code stays redeemable


class Handoffs:
    """Thread-safe code → cookie value, each redeemable once before it expires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[str, float, float]] = {}

    def issue(self, value: str, max_age_s: float, now: float | None = None) -> str:
        """A new code for the cookie ``value`` (to live ``max_age_s`` in the browser)."""
        now = time.time() if now is None else now
        code = secrets.token_urlsafe(24)
        with self._lock:
            for old in [c for c, (_, _, exp) in self._codes.items() if exp <= now]:
                del self._codes[old]
            self._codes[code] = (value, max_age_s, now + TTL_S)
        return code

    def redeem(self, code: str, now: float | None = None) -> tuple[str, float] | None:
        """The cookie value and its lifetime for ``code``, once; ``None`` if unknown, used or
        expired."""
        now = time.time() if now is None else now
        with self._lock:
            found = self._codes.pop(code, None) if isinstance(code, str) else None
        if found is None or found[2] <= now:
            return None
        return found[0], found[1]


HANDOFFS = Handoffs()
