"""Pull usage and cost reports from the OpenAI and Anthropic admin APIs into the store.

Every endpoint of a provider is fetched first (all pages, with retries); only when all of
them answered are the pages imported, each endpoint as one import of origin ``pull`` through
the import engine, with the format the endpoint gives (no file, no detection; all or nothing,
overlapping pulls replace the buckets they cover). Admin keys come
from the environment or the app's secrets and are never shown, logged or stored.

Settings (environment first, then ``.streamlit/secrets.toml``):
``OPENAI_ADMIN_KEY``, ``ANTHROPIC_ADMIN_KEY``; ``OPENAI_ADMIN_BASE_URL`` (default
https://api.openai.com) and ``ANTHROPIC_ADMIN_BASE_URL`` (default https://api.anthropic.com).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd

from lib.auth.roles import require
from lib.config import setting
from lib.http import ANTHROPIC_VERSION
from lib.ingest import ImportResult, import_records
from lib.pull.client import ApiClient, PullError, RetryPolicy
from lib.store import Store

PROVIDERS = ("openai", "anthropic")
DEFAULT_BASE = {"openai": "https://api.openai.com", "anthropic": "https://api.anthropic.com"}


@dataclass(frozen=True)
class Endpoint:
    provider: str
    name: str  # shown in progress and in the import's name
    path: str
    fmt: str  # importer format name
    params: tuple[tuple[str, str], ...]  # fixed query parameters (grouping, bucket width, limit)


OPENAI_GROUPS = (("group_by", "project_id"), ("group_by", "user_id"), ("group_by", "api_key_id"),
                 ("group_by", "model"))  # fmt: skip
ENDPOINTS: dict[str, tuple[Endpoint, ...]] = {
    "openai": (
        Endpoint("openai", "completions usage", "/v1/organization/usage/completions", "openai_usage",
                 (("bucket_width", "1d"), ("limit", "31"), *OPENAI_GROUPS, ("group_by", "batch"))),
        Endpoint("openai", "embeddings usage", "/v1/organization/usage/embeddings", "openai_usage",
                 (("bucket_width", "1d"), ("limit", "31"), *OPENAI_GROUPS)),
        Endpoint("openai", "costs", "/v1/organization/costs", "openai_costs",
                 (("bucket_width", "1d"), ("limit", "180"), ("group_by", "project_id"),
                  ("group_by", "line_item"))),
    ),
    "anthropic": (
        Endpoint("anthropic", "messages usage", "/v1/organizations/usage_report/messages",
                 "anthropic_usage",
                 (("bucket_width", "1d"), ("limit", "31"), ("group_by[]", "api_key_id"),
                  ("group_by[]", "workspace_id"), ("group_by[]", "model"),
                  ("group_by[]", "service_tier"))),
        Endpoint("anthropic", "cost report", "/v1/organizations/cost_report", "anthropic_cost",
                 (("bucket_width", "1d"), ("limit", "31"), ("group_by[]", "workspace_id"),
                  ("group_by[]", "description"))),
    ),
}  # fmt: skip
LABEL = {"openai": "OpenAI admin API", "anthropic": "Anthropic admin API"}


def admin_key(provider: str) -> str | None:
    """The provider's admin key from the environment or the secrets; None when not set."""
    return setting(f"{provider.upper()}_ADMIN_KEY")


def base_url(provider: str) -> str:
    return (setting(f"{provider.upper()}_ADMIN_BASE_URL") or DEFAULT_BASE[provider]).rstrip("/")


def configured() -> dict[str, bool]:
    """Which providers have an admin key (the key itself is never returned to a page)."""
    return {p: admin_key(p) is not None for p in PROVIDERS}


def _window(provider: str, start: date, end: date) -> list[tuple[str, str]]:
    """[start, end] in UTC days as the provider's query parameters (end exclusive)."""
    lo = datetime.combine(start, time(), UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), UTC)
    if provider == "openai":
        return [("start_time", str(int(lo.timestamp()))), ("end_time", str(int(hi.timestamp())))]
    return [("starting_at", lo.strftime("%Y-%m-%dT%H:%M:%SZ")),
            ("ending_at", hi.strftime("%Y-%m-%dT%H:%M:%SZ"))]  # fmt: skip


def _client(
    provider: str, policy: RetryPolicy | None, sleep: Callable[[float], None] | None
) -> ApiClient:
    key = admin_key(provider)
    if key is None:
        raise PullError(
            f"No {provider.capitalize()} admin key is set: add {provider.upper()}_ADMIN_KEY to the "
            "environment or to .streamlit/secrets.toml (an organisation admin key), then restart."
        )
    if provider == "openai":
        headers = {"Authorization": f"Bearer {key}"}
    else:
        headers = {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}
    extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
    return ApiClient(base_url(provider), headers, label=LABEL[provider], policy=policy, **extra)


def _say_page(say: Callable[[str], None], name: str) -> Callable[[int], None]:
    """Progress of one endpoint's paging: ``completions usage: page 2``."""
    return lambda n: say(f"{name}: page {n}")


@dataclass
class PullResult:
    provider: str
    imports: list[ImportResult]
    pages: int
    retries: int
    waited_s: float


def pull(
    store: Store,
    provider: str,
    start: date,
    end: date,
    *,
    role: str | None,
    progress: Callable[[str], None] | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    today: date | None = None,
) -> PullResult:
    """Pull ``provider``'s usage and cost reports for the UTC days ``start``..``end``
    (inclusive) and import them on behalf of a user with ``role``. Raises PullError (nothing
    imported), PermissionDeniedError, or what an import raises."""
    require(role, "import")
    if provider not in PROVIDERS:
        raise PullError(f"Unknown provider {provider!r}: expected one of {', '.join(PROVIDERS)}.")
    today = today or datetime.now(UTC).date()
    if start > end:
        raise PullError(f"The period starts ({start}) after it ends ({end}).")
    if start > today:
        raise PullError(f"The period starts in the future ({start}); nothing to pull yet.")
    end = min(end, today)
    say = progress or (lambda _m: None)
    fetched: list[tuple[Endpoint, list[dict[str, Any]]]] = []
    with _client(provider, policy, sleep) as client:
        for ep in ENDPOINTS[provider]:
            say(f"{LABEL[provider]}: fetching {ep.name} {start} → {end}")
            pages = client.pages(ep.path, [*_window(provider, start, end), *ep.params],
                                 on_page=_say_page(say, ep.name))  # fmt: skip
            fetched.append((ep, pages))
        retries, waited = len(client.waits), sum(client.waits)
    results = []
    for ep, pages in fetched:
        say(f"importing {ep.name}")
        name = f"{provider} {ep.name} {start}..{end}"
        results.append(import_records(store, pages, fmt=ep.fmt, display=name, origin="pull",
                                      role=role))  # fmt: skip
    return PullResult(provider, results, sum(len(p) for _, p in fetched), retries, waited)


def last_pulls(store: Store) -> pd.DataFrame:
    """Per provider: the newest day its pulls cover (``data_to``, exclusive end, UTC) and when
    it last pulled (``pulled``, UTC). Empty when nothing was pulled. (A pull's sources are its
    endpoints' formats, which start with the provider: ``openai_usage``, ``anthropic_cost``.)"""
    with store.read() as cur:
        return cur.df(
            """SELECT split_part(source, '_', 1) AS provider, max(period_end) AS data_to,
                      max(finished_at) AS pulled
               FROM imports WHERE status = 'ok' AND origin = ? GROUP BY 1 ORDER BY 1""",
            ["pull"],
        )
