"""One-time codes that hand cookies from a script run to the browser.

The sign-in form runs over Streamlit's websocket, which cannot set an HttpOnly cookie. So the
run keeps the cookies here under a random code, the page posts the code to ``/auth/session``
(``lib.auth.web``), and that HTTP response sets them. A code works once, within ``TTL_S``,
in this process only (the app's one server process).
"""

from __future__ import annotations

import secrets
import threading
import time

TTL_S = 120.0  # seconds a code stays redeemable

# cookie name -> (value, lifetime in seconds)
Cookies = dict[str, tuple[str, int]]


class Handoffs:
    """Thread-safe code → cookies, each redeemable once before it expires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[Cookies, float]] = {}

    def issue(self, cookies: Cookies, now: float | None = None) -> str:
        """A new code for ``cookies``."""
        now = time.time() if now is None else now
        code = secrets.token_urlsafe(24)
        with self._lock:
            for old in [c for c, (_, exp) in self._codes.items() if exp <= now]:
                del self._codes[old]
            self._codes[code] = (dict(cookies), now + TTL_S)
        return code

    def redeem(self, code: str, now: float | None = None) -> Cookies | None:
        """The cookies for ``code``, once; ``None`` if unknown, used or expired."""
        now = time.time() if now is None else now
        with self._lock:
            found = self._codes.pop(code, None) if isinstance(code, str) else None
        if found is None or found[1] <= now:
            return None
        return found[0]


HANDOFFS = Handoffs()
