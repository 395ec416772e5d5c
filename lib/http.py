"""What every HTTP client of Tokenboard shares: when to retry, how long to wait, which API
versions and addresses the providers expect, and who is calling.

Used by the playground's model clients (``lib.llm``) and the admin API pulls (``lib.pull``),
and meant for the gateway and the alert notifiers. It imports nothing else of Tokenboard and
no UI, so any layer may use it.

Retried: connection errors, timeouts and the statuses in ``RETRIED`` (408, 409, 429, 500,
502, 503, 504 and 529, Anthropic's "overloaded"). The wait is the server's ``Retry-After``
(seconds or an HTTP date) when it sends one, else exponential backoff with jitter.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

# Statuses after which the same request may succeed later.
RETRIED = frozenset({408, 409, 429, 500, 502, 503, 504, 529})

# The Anthropic API version sent in the ``anthropic-version`` header of every call.
ANTHROPIC_VERSION = "2023-06-01"

# The providers' API roots (no version path: OpenAI's chat and models endpoints add ``/v1``).
OPENAI_API = "https://api.openai.com"
ANTHROPIC_API = "https://api.anthropic.com"

# Sent as ``User-Agent`` so a provider's or a proxy's logs can tell Tokenboard's calls apart.
USER_AGENT = "Tokenboard/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. Times in seconds."""

    max_retries: int = 5
    base_delay: float = 1.0  # before the first retry, doubled each time
    max_delay: float = 60.0  # cap of one backoff wait
    max_retry_after: float = 300.0  # a longer Retry-After gives up instead of waiting

    def backoff(self, attempt: int, rand: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0)
        when the server named no wait: ``base_delay × 2^attempt``, capped at ``max_delay``,
        times a jitter factor in [0.5, 1] (``rand``, else drawn at random)."""
        delay = min(self.max_delay, self.base_delay * 2**attempt)
        return delay * (random.uniform(0.5, 1.0) if rand is None else rand)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds to wait: a number of seconds or an HTTP date (``now`` is
    the current time, UTC when naive dates are compared); None when absent or unreadable;
    never negative."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def bearer_headers(api_key: str | None) -> dict[str, str]:
    """OpenAI's (and most OpenAI-compatible servers') authentication: ``Authorization:
    Bearer <key>``; no header without a key."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def anthropic_headers(api_key: str | None) -> dict[str, str]:
    """Anthropic's: the API version always, ``x-api-key`` when there is a key."""
    return {"anthropic-version": ANTHROPIC_VERSION, **({"x-api-key": api_key} if api_key else {})}


# Rate-limit headers of a response: the limits per minute a provider states for the key's
# organisation and model. OpenAI: x-ratelimit-limit-requests / -tokens; Anthropic:
# anthropic-ratelimit-requests-limit / -tokens-limit (or input and output tokens apart).
_RPM_HEADERS = ("x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit")
_TPM_HEADERS = ("x-ratelimit-limit-tokens", "anthropic-ratelimit-tokens-limit")
_TPM_PARTS = ("anthropic-ratelimit-input-tokens-limit", "anthropic-ratelimit-output-tokens-limit")


def _whole(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        n = int(value.strip())
    except ValueError:
        return None
    return n if n > 0 else None


def rate_limits(headers: Mapping[str, str]) -> tuple[int | None, int | None]:
    """(requests, tokens) per minute stated by a response's rate-limit headers; None for a
    limit not stated or unreadable. Anthropic's input and output token limits, when only they
    are given, add up to the tokens limit. ``headers`` is case-insensitive (httpx's) or has
    lower-case names."""
    rpm = next((v for v in (_whole(headers.get(h)) for h in _RPM_HEADERS) if v), None)
    tpm = next((v for v in (_whole(headers.get(h)) for h in _TPM_HEADERS) if v), None)
    if tpm is None:
        parts = [_whole(headers.get(h)) for h in _TPM_PARTS]
        tpm = sum(p for p in parts if p) or None
    return rpm, tpm
