"""A small HTTP client for paged admin APIs: retries with backoff, ``Retry-After``, cursors.

Retried as ``lib.http`` says (connection errors, timeouts and the statuses in
``lib.http.RETRIED``), up to ``RetryPolicy.max_retries`` times. The wait is the server's
``Retry-After`` (seconds or an HTTP date) when it sends one, else exponential backoff with
jitter. Anything else fails at once with a ``PullError`` that says what the provider answered
and what to do. Headers (and so the key) never appear in a message.

JSON numbers with a fraction or exponent are decoded as ``Decimal`` (never float), so money
keeps every digit the provider sent, as when the same pages are saved and imported as a file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from lib.errors import TokenboardError
from lib.http import RETRIED, USER_AGENT, RetryPolicy, retry_after_seconds
from lib.redact import mask_secrets
from lib.text import N_, Text

__all__ = [
    "RETRIED",
    "ApiClient",
    "PullError",
    "RetryPolicy",
    "error_message",
    "retry_after_seconds",
]

MAX_PAGES = 1000


class PullError(TokenboardError):
    """A pull that could not be completed; nothing of it was imported."""


def error_message(response: httpx.Response) -> str:
    """The provider's own error message (OpenAI and Anthropic both nest it under ``error``),
    else the start of the body; anything key-shaped masked (a server may echo the key)."""
    return mask_secrets(_raw_error_message(response))


def _raw_error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and err.get("message"):
        kind = err.get("code") or err.get("type")
        return f"{err['message']}" + (f" ({kind})" if kind else "")
    return str(body)[:200]


class ApiClient:
    """GET JSON from one API with retries; ``label`` names it in messages ("OpenAI usage API")."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        label: str,
        policy: RetryPolicy | None = None,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.label = label
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.waits: list[float] = []  # every wait taken, in seconds (shown in the pull summary)
        self._http = httpx.Client(
            base_url=base_url, headers={"User-Agent": USER_AGENT, **headers}, timeout=timeout
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, attempt: int, retry_after: float | None) -> None:
        if retry_after is not None:
            if retry_after > self.policy.max_retry_after:
                raise PullError(
                    N_(
                        "The {api} asks to wait {seconds} s before trying again. "
                        "Try the pull later.",
                        api=Text(self.label),
                        seconds=f"{retry_after:.0f}",
                    )
                )
            delay = retry_after
        else:
            delay = self.policy.backoff(attempt)
        self.waits.append(delay)
        self.sleep(delay)

    def get_json(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        """One GET, retried as the policy says; the decoded JSON object (numbers with a
        fraction or exponent as ``Decimal``, whole numbers as ``int``)."""
        last = ""
        for attempt in range(self.policy.max_retries + 1):
            try:
                response = self._http.get(path, params=tuple(params))
            except httpx.TimeoutException:
                last = "no answer before the timeout"
                retry_after = None
            except httpx.TransportError as exc:
                last = f"connection failed ({type(exc).__name__})"
                retry_after = None
            else:
                if response.status_code < 300:
                    try:
                        body = json.loads(response.content, parse_float=Decimal)
                    except ValueError:
                        body = None
                    if not isinstance(body, dict):
                        raise PullError(
                            N_(
                                "The {api} answered {path} with something that is not a JSON "
                                "object.",
                                api=Text(self.label),
                                path=path,
                            )
                        )
                    return body
                if response.status_code not in RETRIED:
                    raise PullError(self._refusal(response))
                last = f"HTTP {response.status_code}: {error_message(response)}"
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
            if attempt == self.policy.max_retries:
                break
            self._wait(attempt, retry_after)
        raise PullError(
            N_(
                "The {api} still failed after {n} retries ({last}). Try again later.",
                api=Text(self.label),
                n=self.policy.max_retries,
                last=last,
            )
        )

    def _refusal(self, response: httpx.Response) -> str:
        status, msg = response.status_code, error_message(response)
        fix = {
            401: N_(
                "the admin key was refused: check it is an organisation admin key, not a "
                "project key"
            ),
            403: N_("the admin key may not read this report: use an admin key of the organisation"),
            404: N_("the endpoint was not found: check the base URL"),
            400: N_(
                "the request was refused: check the period (start before end, not in the future)"
            ),
        }.get(status, N_("see the provider's message"))
        return N_(
            "The {api} answered HTTP {status}: {message}. What to do: {fix}.",
            api=Text(self.label),
            status=str(status),
            message=msg,
            fix=Text(fix),
        )

    def pages(
        self,
        path: str,
        params: list[tuple[str, str]],
        on_page: Callable[[int], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Every page of a cursor-paged list (``has_more`` / ``next_page``, sent back as
        ``page``), in order."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = self.get_json(path, params + ([("page", cursor)] if cursor else []))
            out.append(page)
            if on_page:
                on_page(len(out))
            cursor = page.get("next_page")
            if not page.get("has_more") or not cursor:
                return out
            if cursor in seen or len(out) >= MAX_PAGES:
                raise PullError(
                    N_(
                        "The {api} kept paging ({n} pages, cursor repeated or too many): "
                        "stopped so as not to loop forever.",
                        api=Text(self.label),
                        n=len(out),
                    )
                )
            seen.add(cursor)
