"""Secrets of the channels as they may be shown: a webhook URL is itself the secret (anyone
holding it can post), and so are signing secrets and SMTP passwords.

``mask_url`` keeps what a person needs to recognise a URL (scheme, host, port, the last 4
characters); ``mask_secret`` keeps the last 4 characters of a long secret. ``scrub`` takes
given secrets (and anything key-shaped) out of a text, for error texts that a server or the
network library composed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from lib.redact import mask_secrets

MASK = "****"
ELLIPSIS = "…"
# A secret shorter than this shows no character at all (4 of 8 would give half of it away).
MIN_SHOWN = 12


def mask_secret(value: str | None) -> str:
    """``"****"`` followed by the last 4 characters of a secret of 12 characters or more;
    ``"****"`` alone for a shorter one; ``""`` for none."""
    if not value:
        return ""
    return MASK + value[-4:] if len(value) >= MIN_SHOWN else MASK


def mask_url(url: str | None) -> str:
    """A URL as ``scheme://host[:port]/…`` plus its last 4 characters when the part after the
    host is 12 characters or more (``https://hooks.slack.com/…Xy9z``). A user and password in
    the URL are dropped. Text that is not a URL with a host is masked as a secret."""
    if not url:
        return ""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return mask_secret(text)
    if not parts.scheme or not parts.netloc:
        return mask_secret(text)
    hostport = parts.netloc.rpartition("@")[2]
    rest = text.split(parts.netloc, 1)[1] if parts.netloc in text else ""
    tail = rest[-4:] if len(rest) >= MIN_SHOWN else ""
    return f"{parts.scheme}://{hostport}/{ELLIPSIS}{tail}"


def secret_parts(url: str | None) -> list[str]:
    """The pieces of a URL that must not appear in a text: the URL itself (also as ``repr``
    quotes it), what follows the host, each path segment or query name or value of 6
    characters or more, and a user and password in it."""
    if not url:
        return []
    out = [url]
    try:
        parts = urlsplit(url)
    except ValueError:
        return out
    rest = url.split(parts.netloc, 1)[1] if parts.netloc and parts.netloc in url else ""
    out.append(rest)
    if "@" in parts.netloc:
        out.append(parts.netloc.rpartition("@")[0])
    out.append(repr(url)[1:-1])  # as a library's message may quote it (control characters escaped)
    out.extend(p for p in re.split(r"[/?&=#;@:\s\x00-\x1f\x7f]+", rest) if len(p) >= 6)
    if "@" in parts.netloc:
        out.extend(p for p in re.split(r"[:@]", parts.netloc.rpartition("@")[0]) if len(p) >= 4)
    return [p for p in out if p]


def scrub(text: str | None, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``****`` (longest first, so a URL goes
    before its path) and anything key-shaped masked (``lib.redact``)."""
    if not text:
        return ""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return mask_secrets(text)
