"""The signature of the generic JSON webhook, and how a receiver checks it.

Each request carries ``X-Tokenboard-Timestamp`` (Unix seconds) and ``X-Tokenboard-Signature:
sha256=<hex>``, the HMAC-SHA256 with the channel's secret of ``<timestamp>.<raw body>``
(the timestamp's ASCII digits, a full stop, then the body's bytes exactly as received). A
receiver recomputes it, compares in constant time, and refuses a timestamp more than 5
minutes away from its clock, so a captured request cannot be replayed later. Each retry is
signed anew with its own timestamp; ``X-Tokenboard-Event-Id`` stays the same, for
de-duplication.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Tokenboard-Signature"
TIMESTAMP_HEADER = "X-Tokenboard-Timestamp"
EVENT_ID_HEADER = "X-Tokenboard-Event-Id"
SCHEME = "sha256="
TOLERANCE_S = 300  # how far (seconds) a timestamp may be from the receiver's clock


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Tokenboard-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 (key: the
    secret's UTF-8 bytes) of ``b"<timestamp>." + body``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return SCHEME + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The timestamp and signature headers for ``body``, signed at ``now`` (Unix seconds,
    default the current time)."""
    ts = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: signature(secret, ts, body)}


def verify(
    secret: str,
    body: bytes,
    timestamp: str | None,
    sig: str | None,
    *,
    tolerance: float = TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True when ``sig`` is the signature of ``body`` at ``timestamp`` with ``secret`` and the
    timestamp is within ``tolerance`` seconds of ``now`` (default the current time). False for
    anything missing, malformed, expired or forged; never raises."""
    if not secret or not timestamp or not sig or not timestamp.strip().isdigit():
        return False
    ts = int(timestamp.strip())
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, ts, body), sig.strip())


def verify_request(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """``verify`` with the timestamp and signature read from ``headers`` (names in any case)."""
    lower = {k.lower(): v for k, v in headers.items()}
    return verify(
        secret,
        body,
        lower.get(TIMESTAMP_HEADER.lower()),
        lower.get(SIGNATURE_HEADER.lower()),
        tolerance=tolerance,
        now=now,
    )
