"""Pull usage and cost reports from the OpenAI and Anthropic admin APIs into the store.

Every endpoint of a provider is fetched first (all pages, with retries); only when all of
them answered are the pages imported, each endpoint as one import of origin ``pull`` through
the import engine, with the format the endpoint gives (no file, no detection; all or nothing,
overlapping pulls replace the buckets they cover). Admin keys come
from the environment or the app's secrets and are never shown, logged or stored.

Each provider is one ``AdminApi`` adapter in ``ADMIN_APIS`` (its reports, how its key is sent,
how it takes a period); ``pull`` asks the adapter and never branches on the provider.

Settings (environment first, then ``.streamlit/secrets.toml``), per provider id:
``<ID>_ADMIN_KEY`` (``OPENAI_ADMIN_KEY``, ``ANTHROPIC_ADMIN_KEY``) and ``<ID>_ADMIN_BASE_URL``
(default: the provider's API, https://api.openai.com and https://api.anthropic.com).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

import pandas as pd

from lib.auth.roles import require
from lib.config import setting
from lib.http import ANTHROPIC_API, OPENAI_API, anthropic_headers, bearer_headers
from lib.ingest import ImportResult, import_records
from lib.ingest.progress import ProgressLine, quiet
from lib.pull.client import ApiClient, PullError, RetryPolicy
from lib.store import Store
from lib.text import N_


@dataclass(frozen=True)
class Endpoint:
    """One report of an admin API, imported as one import."""

    name: str  # shown in progress and in the import's name
    path: str
    fmt: str  # the importer format its pages are (a key of lib.ingest's report planners)
    params: tuple[tuple[str, str], ...]  # fixed query parameters (grouping, bucket width, limit)


class AdminApi(ABC):
    """One provider's admin usage and cost API: where it is, how a key is sent, how a period
    is asked for, and which reports are pulled. A new provider is a subclass and one entry in
    ``ADMIN_APIS``; ``pull`` and the Data page need no other change."""

    id: ClassVar[str]  # the provider id, as the store and the importers name it
    name: ClassVar[str]  # the provider in a sentence ("OpenAI")
    default_base: ClassVar[str]  # the API root, without a version path
    endpoints: ClassVar[tuple[Endpoint, ...]]

    @property
    def label(self) -> str:
        """The API in messages ("OpenAI admin API")."""
        return N_("{name} admin API", name=self.name)

    @property
    def key_setting(self) -> str:
        """The setting holding the admin key (``OPENAI_ADMIN_KEY``)."""
        return f"{self.id.upper()}_ADMIN_KEY"

    @property
    def base_setting(self) -> str:
        """The setting that may move the API elsewhere (``OPENAI_ADMIN_BASE_URL``)."""
        return f"{self.id.upper()}_ADMIN_BASE_URL"

    @abstractmethod
    def headers(self, key: str) -> dict[str, str]:
        """The authentication headers of every call."""

    @abstractmethod
    def window(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """The period [``start``, ``end``) (aware UTC datetimes) as query parameters."""


# Every OpenAI usage report is grouped by these (each group its own bucket results).
OPENAI_GROUPS = (("group_by", "project_id"), ("group_by", "user_id"), ("group_by", "api_key_id"),
                 ("group_by", "model"))  # fmt: skip


class OpenAIAdmin(AdminApi):
    """OpenAI's Usage and Costs APIs (``/v1/organization/...``): a Bearer key; the period in
    Unix seconds (``start_time``, ``end_time``)."""

    id = "openai"
    name = "OpenAI"
    default_base = OPENAI_API
    endpoints = (
        Endpoint("completions usage", "/v1/organization/usage/completions", "openai_usage",
                 (("bucket_width", "1d"), ("limit", "31"), *OPENAI_GROUPS, ("group_by", "batch"))),
        Endpoint("embeddings usage", "/v1/organization/usage/embeddings", "openai_usage",
                 (("bucket_width", "1d"), ("limit", "31"), *OPENAI_GROUPS)),
        Endpoint("costs", "/v1/organization/costs", "openai_costs",
                 (("bucket_width", "1d"), ("limit", "180"), ("group_by", "project_id"),
                  ("group_by", "line_item"))),
    )  # fmt: skip

    def headers(self, key: str) -> dict[str, str]:
        return bearer_headers(key)

    def window(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        return [("start_time", str(int(start.timestamp()))),
                ("end_time", str(int(end.timestamp())))]  # fmt: skip


class AnthropicAdmin(AdminApi):
    """Anthropic's usage and cost reports (``/v1/organizations/...``): ``x-api-key`` and the
    API version; the period in RFC 3339 (``starting_at``, ``ending_at``)."""

    id = "anthropic"
    name = "Anthropic"
    default_base = ANTHROPIC_API
    endpoints = (
        Endpoint("messages usage", "/v1/organizations/usage_report/messages", "anthropic_usage",
                 (("bucket_width", "1d"), ("limit", "31"), ("group_by[]", "api_key_id"),
                  ("group_by[]", "workspace_id"), ("group_by[]", "model"),
                  ("group_by[]", "service_tier"))),
        Endpoint("cost report", "/v1/organizations/cost_report", "anthropic_cost",
                 (("bucket_width", "1d"), ("limit", "31"), ("group_by[]", "workspace_id"),
                  ("group_by[]", "description"))),
    )  # fmt: skip

    def headers(self, key: str) -> dict[str, str]:
        return anthropic_headers(key)

    def window(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        return [("starting_at", start.strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("ending_at", end.strftime("%Y-%m-%dT%H:%M:%SZ"))]  # fmt: skip


ADMIN_APIS: dict[str, AdminApi] = {api.id: api for api in (OpenAIAdmin(), AnthropicAdmin())}
PROVIDERS = tuple(ADMIN_APIS)


def _api(provider: str) -> AdminApi:
    """The adapter of ``provider``; a PullError for a provider without one."""
    try:
        return ADMIN_APIS[provider]
    except KeyError:
        raise PullError(
            N_(
                "Unknown provider {provider!r}: expected one of {providers}.",
                provider=provider,
                providers=", ".join(PROVIDERS),
            )
        ) from None


def admin_key(provider: str) -> str | None:
    """The provider's admin key from the environment or the secrets; None when not set."""
    return setting(_api(provider).key_setting)


def base_url(provider: str) -> str:
    """The provider's admin API root: its base URL setting, else the provider's own."""
    api = _api(provider)
    return (setting(api.base_setting) or api.default_base).rstrip("/")


def configured() -> dict[str, bool]:
    """Which providers have an admin key (the key itself is never returned to a page)."""
    return {p: admin_key(p) is not None for p in PROVIDERS}


def _window(api: AdminApi, start: date, end: date) -> list[tuple[str, str]]:
    """The UTC days ``start``..``end`` (inclusive) as ``api``'s query parameters (the end
    bound is exclusive: midnight after ``end``)."""
    lo = datetime.combine(start, time(), UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), UTC)
    return api.window(lo, hi)


def _client(
    api: AdminApi, policy: RetryPolicy | None, sleep: Callable[[float], None] | None
) -> ApiClient:
    key = setting(api.key_setting)
    if key is None:
        raise PullError(
            N_(
                "No {name} admin key is set: add {setting} to the environment or to "
                ".streamlit/secrets.toml (an organisation admin key), then restart.",
                name=api.name,
                setting=api.key_setting,
            )
        )
    extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
    return ApiClient(base_url(api.id), api.headers(key), label=api.label, policy=policy, **extra)


def _say_page(say: Callable[[str], None], name: str) -> Callable[[int], None]:
    """Progress of one endpoint's paging: ``completions usage: page 2``."""
    return lambda n: say(ProgressLine("pull_page", endpoint=name, n=n))


@dataclass
class PullResult:
    """What one pull did: an import per endpoint, the pages fetched, the retries and the
    seconds waited before them."""

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
    api = _api(provider)
    today = today or datetime.now(UTC).date()
    if start > end:
        raise PullError(
            N_("The period starts ({start}) after it ends ({end}).", start=str(start), end=str(end))
        )
    if start > today:
        raise PullError(
            N_("The period starts in the future ({start}); nothing to pull yet.", start=str(start))
        )
    end = min(end, today)
    say = progress or quiet
    fetched: list[tuple[Endpoint, list[dict[str, Any]]]] = []
    with _client(api, policy, sleep) as client:
        for ep in api.endpoints:
            say(
                ProgressLine("pull_fetching", api=api.label, endpoint=ep.name, start=start, end=end)
            )
            pages = client.pages(ep.path, [*_window(api, start, end), *ep.params],
                                 on_page=_say_page(say, ep.name))  # fmt: skip
            fetched.append((ep, pages))
        retries, waited = len(client.waits), sum(client.waits)
    results = []
    for ep, pages in fetched:
        say(ProgressLine("pull_importing", endpoint=ep.name))
        name = f"{api.id} {ep.name} {start}..{end}"
        results.append(import_records(store, pages, fmt=ep.fmt, display=name, origin="pull",
                                      role=role))  # fmt: skip
    return PullResult(api.id, results, sum(len(p) for _, p in fetched), retries, waited)


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
