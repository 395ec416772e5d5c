"""One HMAC-SHA256 signature for everything the cookie key signs (session and device
cookies): url-safe base64 without padding, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(key: str, message: str) -> str:
    """The signature of ``message`` under ``key``."""
    mac = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def verify(key: str, message: str, signature: str) -> bool:
    """True when ``signature`` is ``message``'s under ``key``."""
    return hmac.compare_digest(signature, sign(key, message))
