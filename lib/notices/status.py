"""Provider status pages: the open incidents of Statuspage-style JSON APIs.

OpenAI (status.openai.com) and Anthropic (status.claude.com, formerly status.anthropic.com)
publish the public API that Atlassian Statuspage generates for every page (documented on each
such page at ``/api``, e.g. confluence.status.atlassian.com/api):

- ``GET /api/v2/summary.json``: ``page`` (id, name, url, updated_at), ``status`` (indicator
  none/minor/major/critical/maintenance, description), ``components`` (id, name, status
  operational/degraded_performance/partial_outage/major_outage/under_maintenance, group_id,
  group), ``incidents`` (the unresolved ones) and ``scheduled_maintenances`` (upcoming or in
  progress);
- ``GET /api/v2/incidents/unresolved.json``: ``page`` and ``incidents`` in the Investigating,
  Identified or Monitoring state;
- ``GET /api/v2/components.json`` and ``/api/v2/scheduled-maintenances/active.json``, the
  same objects as in the summary.

An incident: ``id``, ``name``, ``status`` (investigating, identified, monitoring, resolved,
postmortem; a maintenance: scheduled, in_progress, verifying, completed), ``impact``,
``created_at``, ``started_at``, ``updated_at``, ``resolved_at``, ``shortlink``, ``components``
(the affected components, as component objects) and ``incident_updates`` (newest first, each
with ``affected_components``: code, name, old_status, new_status). Times are ISO 8601 with an
offset. OpenAI's page serves the same v2 endpoints, but its incidents do not always name their
components: every field a page leaves out is read as absent.

``poll(urls)`` reads the summary of each page (falling back to ``incidents/unresolved.json``
when a page has no summary) and returns the open incidents and active maintenances, the state
of each page, and one ``PageError`` per page that could not be read: a page that is down,
answers an error status, or answers something that is not that API never raises. Transient
failures (connection errors, timeouts, the statuses of ``lib.http.RETRIED``) are retried as
``lib.http`` says, with a short policy: a status poll runs again soon anyway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from lib.config import setting
from lib.http import RETRIED, USER_AGENT, RetryPolicy, retry_after_seconds

# The status pages polled when no list is configured: their summary endpoints.
DEFAULT_STATUS_PAGES: tuple[str, ...] = (
    "https://status.openai.com/api/v2/summary.json",
    "https://status.claude.com/api/v2/summary.json",
)
# The setting (environment variable, else top-level key of the app's secrets) that replaces
# them: URLs separated by commas, spaces or new lines; "none" polls no page.
STATUS_PAGES_SETTING = "TOKENBOARD_STATUS_PAGES"

# A status poll retries once, after at most a few seconds: the next poll comes soon anyway.
POLL_POLICY = RetryPolicy(max_retries=1, base_delay=0.5, max_delay=2.0, max_retry_after=10.0)
DEFAULT_TIMEOUT = 10.0  # seconds, per request
MAX_BODY_BYTES = 5 * 1024 * 1024  # a summary is tens of kB; more is not a status page
MAX_UPDATE_CHARS = 500  # of the newest update's text kept with an incident
MAX_WORKERS = 8  # pages read at once

Kind = Literal["incident", "maintenance"]
# Why a page could not be read:
# - bad_url: not an http(s) URL;
# - unreachable: no connection (refused, DNS, TLS), after the retries;
# - timeout: no answer within the timeout, after the retries;
# - http_status: an error status (``status`` holds it), after the retries for the transient ones;
# - too_large: a body over MAX_BODY_BYTES;
# - not_json: a body that is not JSON (an HTML error page, a captive portal);
# - bad_shape: JSON, but not the Statuspage API (no incidents list, wrong types);
# - bad_item: one incident of the page was unreadable and was skipped (the others are kept).
ErrorCode = Literal[
    "bad_url", "unreachable", "timeout", "http_status", "too_large", "not_json", "bad_shape",
    "bad_item",
]  # fmt: skip

OPEN_INCIDENT_STATUSES = frozenset({"investigating", "identified", "monitoring"})
ACTIVE_MAINTENANCE_STATUSES = frozenset({"scheduled", "in_progress", "verifying"})


@dataclass(frozen=True)
class Component:
    """A component of a status page named by an incident; ``status`` is the page's word
    (operational, degraded_performance, partial_outage, major_outage, under_maintenance) or None
    when the page does not say."""

    name: str
    status: str | None = None


@dataclass(frozen=True)
class Incident:
    """An open incident (or an upcoming / in-progress maintenance) of one status page.

    Times are UTC-aware; ``started_at`` is the page's ``started_at``, else its ``created_at``
    (None only when the page gives neither in a readable form). ``status`` and ``impact`` are
    the page's own words (see the module docstring); ``latest_update`` is the start of the
    newest update's text, in the provider's language (English), shown as the provider wrote it.
    """

    page: str  # the page's name ("OpenAI", "Claude")
    page_url: str  # the address that was polled
    id: str
    name: str
    kind: Kind
    status: str
    impact: str
    started_at: datetime | None
    updated_at: datetime | None
    components: tuple[Component, ...]
    shortlink: str | None
    latest_update: str | None = None
    scheduled_for: datetime | None = None  # maintenances only
    scheduled_until: datetime | None = None


@dataclass(frozen=True)
class PageStatus:
    """What one page said as a whole: its indicator (none, minor, major, critical, maintenance;
    None when it sent no status block) and the components that are not operational."""

    url: str
    name: str
    indicator: str | None
    description: str | None
    degraded: tuple[Component, ...]
    updated_at: datetime | None


@dataclass(frozen=True)
class PageError:
    """A page that could not be read (or one item of it): which URL, a code (``ErrorCode``) and
    the detail in English for logs (the exception type, the start of a body; never a header)."""

    url: str
    code: ErrorCode
    detail: str
    status: int | None = None  # the HTTP status, for http_status


@dataclass(frozen=True)
class PollResult:
    """Open incidents and active maintenances of every page, newest start first; the pages
    read; the pages (or items) that failed. ``checked_at`` is when the poll began (UTC)."""

    incidents: tuple[Incident, ...]
    pages: tuple[PageStatus, ...]
    errors: tuple[PageError, ...]
    checked_at: datetime


def status_page_urls(value: str | None = None) -> tuple[str, ...]:
    """The status pages to poll: ``value`` if given, else the ``TOKENBOARD_STATUS_PAGES``
    setting, else ``DEFAULT_STATUS_PAGES``. URLs are separated by commas, spaces or new lines;
    "none" (or "off") means no page; duplicates are dropped, order kept."""
    raw = value if value is not None else setting(STATUS_PAGES_SETTING)
    if raw is None or not raw.strip():
        return DEFAULT_STATUS_PAGES
    parts = [p for p in raw.replace(",", " ").split() if p]
    if len(parts) == 1 and parts[0].lower() in ("none", "off"):
        return ()
    return tuple(dict.fromkeys(parts))


def api_root(url: str) -> str | None:
    """The ``…/api/v2`` root of a status page given as its address (``https://status.x.com``),
    its API root, or one of its endpoint URLs (``…/api/v2/summary.json``); None for anything
    that is not an http(s) URL. User and password parts are dropped, query and fragment too."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    try:
        port = parts.port
    except ValueError:
        return None
    netloc = host + (f":{port}" if port else "")
    path = parts.path.rstrip("/")
    cut = path.find("/api/v2")
    path = path[:cut] if cut >= 0 else path
    return urlunsplit((parts.scheme, netloc, path + "/api/v2", "", ""))


def _shown_url(url: str) -> str:
    """The URL as said in a PageError: without a user or password part."""
    try:
        parts = urlsplit(url.strip())
        if parts.username is None and parts.password is None:
            return url.strip()
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
    except ValueError:
        return url.strip()[:200]


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time with an offset (``2014-05-14T14:22:39.441-06:00``, ``…Z``) as a UTC
    datetime; a time without an offset is taken as UTC; None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _components_of(raw: Mapping[str, Any], current: Mapping[str, str]) -> tuple[Component, ...]:
    """The components an incident names: its ``components`` list, else the components its
    updates name (``affected_components``, newest update first: its ``new_status`` wins).
    A component's status is its current one on the page when the page lists it."""
    seen: dict[str, Component] = {}
    comps = raw.get("components")
    if isinstance(comps, list):
        for c in comps:
            if isinstance(c, Mapping) and (name := _text(c.get("name"))):
                cid = _text(c.get("id"))
                status = (current.get(cid) if cid else None) or _text(c.get("status"))
                seen.setdefault(name, Component(name, status))
    if not seen:
        updates = raw.get("incident_updates")
        for u in updates if isinstance(updates, list) else []:
            affected = u.get("affected_components") if isinstance(u, Mapping) else None
            for c in affected if isinstance(affected, list) else []:
                if isinstance(c, Mapping) and (name := _text(c.get("name"))):
                    seen.setdefault(name, Component(name, _text(c.get("new_status"))))
    return tuple(seen.values())


def _latest_update(raw: Mapping[str, Any]) -> str | None:
    updates = raw.get("incident_updates")
    if not isinstance(updates, list):
        return None
    dated = [
        (parse_time(u.get("display_at")) or parse_time(u.get("created_at")), i, u)
        for i, u in enumerate(updates)
        if isinstance(u, Mapping) and _text(u.get("body"))
    ]
    if not dated:
        return None
    # newest first: by time when the updates have one, else the page's order (newest first)
    floor = datetime.min.replace(tzinfo=UTC)
    newest = max(dated, key=lambda t: (t[0] or floor, -t[1]))[2]
    body = str(newest["body"]).strip()
    return body if len(body) <= MAX_UPDATE_CHARS else body[: MAX_UPDATE_CHARS - 1] + "…"


def _incident(
    raw: object, kind: Kind, page: str, url: str, current: Mapping[str, str]
) -> Incident | str | None:
    """One incident object read; None when it is not open (resolved, postmortem, completed);
    a string saying what is wrong when it cannot be read."""
    if not isinstance(raw, Mapping):
        return "an incident that is not an object"
    name, iid = _text(raw.get("name")), raw.get("id")
    if name is None:
        return "an incident without a name"
    status = (_text(raw.get("status")) or "").lower()
    open_statuses = OPEN_INCIDENT_STATUSES if kind == "incident" else ACTIVE_MAINTENANCE_STATUSES
    if status not in open_statuses or parse_time(raw.get("resolved_at")) is not None:
        return None
    return Incident(
        page=page,
        page_url=url,
        id=str(iid) if isinstance(iid, str | int) and str(iid) else name,
        name=name,
        kind=kind,
        status=status,
        impact=(_text(raw.get("impact")) or "none").lower(),
        started_at=parse_time(raw.get("started_at")) or parse_time(raw.get("created_at")),
        updated_at=parse_time(raw.get("updated_at")),
        components=_components_of(raw, current),
        shortlink=_text(raw.get("shortlink")),
        latest_update=_latest_update(raw),
        scheduled_for=parse_time(raw.get("scheduled_for")),
        scheduled_until=parse_time(raw.get("scheduled_until")),
    )


@dataclass(frozen=True)
class PageRead:
    """What one page gave: its state, its open incidents, and the items it could not read."""

    page: PageStatus
    incidents: tuple[Incident, ...]
    errors: tuple[PageError, ...]


def read_page(doc: object, url: str) -> PageRead | PageError:
    """A decoded ``summary.json`` or ``incidents/unresolved.json`` (or ``scheduled-
    maintenances/*.json``) read into typed values; a ``PageError`` (bad_shape) when ``doc`` is
    not one of them. ``url`` is the address that was polled (named in errors)."""
    shown = _shown_url(url)
    if not isinstance(doc, Mapping):
        return PageError(shown, "bad_shape", "the answer is not a JSON object")
    lists = {k: doc.get(k) for k in ("incidents", "scheduled_maintenances", "components")}
    if all(v is None for v in lists.values()):
        return PageError(shown, "bad_shape", "no incidents, scheduled_maintenances or components")
    for key, value in lists.items():
        if value is not None and not isinstance(value, list):
            return PageError(shown, "bad_shape", f"{key} is not a list")
    page_raw = doc.get("page")
    page_raw = page_raw if isinstance(page_raw, Mapping) else {}
    name = _text(page_raw.get("name")) or urlsplit(shown).hostname or shown
    comps = [c for c in lists["components"] or [] if isinstance(c, Mapping)]
    current = {
        str(c["id"]): str(c["status"])
        for c in comps
        if _text(c.get("id")) and _text(c.get("status"))
    }
    degraded = tuple(
        Component(str(c["name"]), str(c["status"]))
        for c in comps
        if _text(c.get("name")) and _text(c.get("status")) not in (None, "operational")
        and not c.get("group")  # a group repeats the state of its members
    )  # fmt: skip
    status_raw = doc.get("status")
    status_raw = status_raw if isinstance(status_raw, Mapping) else {}
    page = PageStatus(
        url=shown,
        name=name,
        indicator=_text(status_raw.get("indicator")),
        description=_text(status_raw.get("description")),
        degraded=degraded,
        updated_at=parse_time(page_raw.get("updated_at")),
    )
    incidents: list[Incident] = []
    errors: list[PageError] = []
    kinds: tuple[tuple[str, Kind], ...] = (
        ("incidents", "incident"),
        ("scheduled_maintenances", "maintenance"),
    )
    for key, kind in kinds:
        for n, raw in enumerate(lists[key] or [], start=1):
            got = _incident(raw, kind, name, shown, current)
            if isinstance(got, Incident):
                incidents.append(got)
            elif isinstance(got, str):
                errors.append(PageError(shown, "bad_item", f"{key}[{n}]: {got}; skipped"))
    return PageRead(page, tuple(incidents), tuple(errors))


class _Failed(Exception):
    def __init__(self, error: PageError) -> None:
        self.error = error


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes


def _get(
    client: httpx.Client,
    url: str,
    shown: str,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> _Answer:
    """GET ``url`` with retries: the final answer (a 2xx, or an error status that is not
    retried), its body read up to MAX_BODY_BYTES; else raises ``_Failed`` with the last
    failure."""
    last: PageError | None = None
    for attempt in range(policy.max_retries + 1):
        wait: float | None = None
        try:
            with client.stream("GET", url) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise _Failed(
                            PageError(shown, "too_large", f"more than {MAX_BODY_BYTES} bytes")
                        )
                answer = _Answer(response.status_code, bytes(body))
                retry_after = response.headers.get("retry-after")
        except httpx.TimeoutException as exc:
            last = PageError(shown, "timeout", f"no answer in time ({type(exc).__name__})")
        except httpx.TransportError as exc:  # refused, DNS, TLS, a broken connection
            last = PageError(shown, "unreachable", f"connection failed ({type(exc).__name__})")
        except httpx.HTTPError as exc:  # anything else httpx raises (too many redirects, …)
            raise _Failed(PageError(shown, "unreachable", type(exc).__name__)) from exc
        else:
            if answer.status not in RETRIED:
                return answer
            last = PageError(shown, "http_status", _status_detail(answer), answer.status)
            wait = retry_after_seconds(retry_after)
        if attempt == policy.max_retries:
            break
        if wait is not None and wait > policy.max_retry_after:
            break  # the page asks for a longer pause than a poll waits: the next poll retries
        sleep(policy.backoff(attempt) if wait is None else wait)
    assert last is not None
    raise _Failed(last)


def _status_detail(answer: _Answer) -> str:
    body = " ".join(answer.body[:120].decode("utf-8", "replace").split())
    return f"HTTP {answer.status}" + (f": {body}" if body else "")


def _decode(answer: _Answer, shown: str) -> object:
    try:
        return json.loads(answer.body)
    except ValueError as exc:  # not JSON, or not UTF-8
        start = " ".join(answer.body[:60].decode("utf-8", "replace").split())
        raise _Failed(PageError(shown, "not_json", f"not JSON: {start!r}")) from exc


def fetch_page(
    client: httpx.Client,
    url: str,
    *,
    policy: RetryPolicy = POLL_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> PageRead | PageError:
    """Read one status page: its ``summary.json``; when that answers 404, its
    ``incidents/unresolved.json``. Never raises for what the page does."""
    shown = _shown_url(url)
    root = api_root(url)
    if root is None:
        return PageError(shown, "bad_url", "not an http(s) URL")
    try:
        answer = _get(client, f"{root}/summary.json", shown, policy, sleep)
        if answer.status == 404:
            answer = _get(client, f"{root}/incidents/unresolved.json", shown, policy, sleep)
        if answer.status >= 300:
            return PageError(shown, "http_status", _status_detail(answer), answer.status)
        return read_page(_decode(answer, shown), url)
    except _Failed as failed:
        return failed.error


def poll(
    urls: Iterable[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    policy: RetryPolicy = POLL_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> PollResult:
    """Poll status pages (``urls``; None: ``status_page_urls()``) at once, ``timeout`` seconds
    per request. Returns every open incident and active maintenance (newest start first), each
    page's state, and one ``PageError`` per page that could not be read (in the order of
    ``urls``). Never raises for what a page does; an empty list polls nothing."""
    checked_at = datetime.now(UTC)
    targets: Sequence[str] = tuple(status_page_urls() if urls is None else urls)
    if not targets:
        return PollResult((), (), (), checked_at)
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    with httpx.Client(
        headers=headers, timeout=timeout, follow_redirects=True, transport=transport
    ) as client:
        workers = max(1, min(MAX_WORKERS, len(targets)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="status-poll") as pool:
            reads = list(
                pool.map(lambda u: fetch_page(client, u, policy=policy, sleep=sleep), targets)
            )
    incidents: list[Incident] = []
    pages: list[PageStatus] = []
    errors: list[PageError] = []
    for got in reads:
        if isinstance(got, PageError):
            errors.append(got)
        else:
            pages.append(got.page)
            incidents.extend(got.incidents)
            errors.extend(got.errors)
    floor = datetime.min.replace(tzinfo=UTC)
    incidents.sort(key=lambda i: (i.started_at or floor, i.page, i.name), reverse=True)
    return PollResult(tuple(incidents), tuple(pages), tuple(errors), checked_at)
