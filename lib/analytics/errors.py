"""What the Errors page shows: the recent error rows, similar errors grouped by their
fingerprint (made at import time), and the error rate over time by status class or by code.

Every query reads ``requests_named`` (request events with the model family as ``model`` and
the source's name as ``snapshot``) under the global filters (period, time zone, dimensions) and
the page's own: status classes (``lib.error_kb.classes``, computed in SQL) and error codes.
Values are always parameters. The advice of the knowledge base is looked up in Python once per
group (or per distinct fingerprint of a page of rows), never per row.

Retry-After: request events keep no Retry-After (no import reads the header and the table has
no column for it), so nothing here reports it; the playground shows it for its own calls.

Every function takes ``now`` (the page clock): the windows follow it, never the machine's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from lib.error_kb import STATUS_CLASS_SQL, STATUS_CLASSES, Advice, explain, facts_from_row
from lib.filters import MAX_VALUE_LEN, MAX_VALUES, Filters, next_month
from lib.store import Cursor, Store

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
TOP = 3  # models, keys and projects named per group


@dataclass(frozen=True)
class ErrorQuery:
    """The Errors page's own filters: status classes (codes of ``STATUS_CLASSES``) and error
    codes (``error_code`` values); empty means all."""

    classes: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()

    @classmethod
    def of(cls, classes: object = (), codes: object = ()) -> ErrorQuery:
        """From any values (a page's widgets or URL): unknown classes are dropped, codes that
        are too long or too many are cut (``lib.filters`` limits)."""

        def items(v: object) -> list[str]:
            if isinstance(v, str):
                return [v]
            return [str(x) for x in v] if isinstance(v, list | tuple | set | frozenset) else []

        kept = tuple(sorted({c for c in items(classes) if c in STATUS_CLASSES}))
        codes_ = tuple(sorted({c for c in items(codes) if c and len(c) <= MAX_VALUE_LEN}))[
            :MAX_VALUES
        ]
        return cls(kept, codes_)


def _where(
    f: Filters, window: tuple[datetime, datetime], q: ErrorQuery, *, errors: bool = True
) -> tuple[str, list[Any]]:
    """The conditions (and their parameters) of the rows in ``window`` under the filters'
    dimensions and, with ``errors``, the error rows of ``q``'s classes and codes."""
    clauses = ["ts >= ?", "ts < ?"]
    params: list[Any] = [window[0], window[1]]
    dim_where, dim_params = f.dims_sql()
    clauses += dim_where
    params += dim_params
    if errors:
        clauses.append("status = 'error'")
        if q.classes:
            clauses.append(f"list_contains(?, {STATUS_CLASS_SQL})")
            params.append(list(q.classes))
        if q.codes:
            clauses.append("list_contains(?, error_code)")
            params.append(list(q.codes))
    return " AND ".join(clauses), params


# -- (a) recent errors --------------------------------------------------------------------
@dataclass(frozen=True)
class ErrorRow:
    """One error (request event). ``ts`` in UTC; ``status_class`` a code of
    ``STATUS_CLASSES``; ``fingerprint`` its group (see ``error_groups``)."""

    ts: datetime
    provider: str
    model: str | None  # family
    snapshot: str | None  # the name the source gave
    project: str | None
    api_key: str | None
    user_id: str | None
    http_status: int | None
    error_code: str | None
    error_type: str | None
    message: str | None
    status_class: str
    fingerprint: int | None
    source: str
    request_id: str | None


@dataclass(frozen=True)
class ErrorPage:
    """One page of error rows, newest first: ``page`` of ``pages`` (1-based), ``total`` rows
    matching."""

    rows: list[ErrorRow]
    total: int
    page: int
    pages: int


_ROW_COLS = ("ts, provider, model, snapshot, project, api_key, user_id, http_status, error_code, error_type, "
             f"error_message, {STATUS_CLASS_SQL} AS status_class, error_fingerprint, source, request_id")  # fmt: skip


def recent_errors(
    store: Store,
    f: Filters,
    q: ErrorQuery | None = None,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> ErrorPage:
    """Page ``page`` (1-based; past the last page gives the last) of the error rows of the
    filters' period, newest first (ties by event key, so pages never overlap)."""
    q = q or ErrorQuery()
    cond, params = _where(f, f.window(now), q)
    size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    with store.read() as cur:
        total = int(
            cur.execute(f"SELECT count(*) FROM requests_named WHERE {cond}", params).scalar()
        )
        pages = max(1, math.ceil(total / size))
        page = min(max(1, int(page)), pages)
        found = cur.execute(
            f"""SELECT {_ROW_COLS} FROM requests_named WHERE {cond}
                ORDER BY ts DESC, event_key DESC LIMIT ? OFFSET ?""",
            [*params, size, (page - 1) * size],
        ).fetchall()
    rows = [
        ErrorRow(ts=r[0], provider=r[1], model=r[2], snapshot=r[3], project=r[4], api_key=r[5],
                 user_id=r[6], http_status=None if r[7] is None else int(r[7]), error_code=r[8],
                 error_type=r[9], message=r[10], status_class=r[11], fingerprint=r[12], source=r[13],
                 request_id=r[14])
        for r in found
    ]  # fmt: skip
    return ErrorPage(rows, total, page, pages)


def advice_of(rows: list[ErrorRow]) -> dict[int | None, Advice]:
    """The advice of each distinct fingerprint among ``rows`` (looked up once each, from its
    first row): for a page of rows, never per row."""
    out: dict[int | None, Advice] = {}
    for r in rows:
        if r.fingerprint not in out:
            out[r.fingerprint] = explain(
                facts_from_row(r.provider, r.http_status, r.error_code, r.error_type, r.message)
            )
    return out


def error_codes(
    store: Store, f: Filters, q: ErrorQuery | None = None, now: datetime | None = None
) -> list[tuple[str | None, int]]:
    """The error codes of the period's errors (under the filters and ``q``'s classes, not its
    codes), with their counts, most frequent first: the choices of the code filter."""
    q = ErrorQuery((q or ErrorQuery()).classes)
    cond, params = _where(f, f.window(now), q)
    with store.read() as cur:
        rows = cur.execute(
            f"""SELECT error_code, count(*) AS n FROM requests_named WHERE {cond}
                GROUP BY 1 ORDER BY n DESC, error_code NULLS LAST""",
            params,
        ).fetchall()
    return [(r[0], int(r[1])) for r in rows]


# -- (b) groups ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Share:
    """A value (None: rows without one) and its errors."""

    value: str | None
    count: int


@dataclass(frozen=True)
class ErrorGroup:
    """Similar errors (one fingerprint: same provider, status, code and message but for ids,
    numbers, URLs and quoted values). ``first_seen``/``last_seen`` in UTC within the period;
    ``trend``: errors per day of the period in the reporting zone, oldest first (``days``
    of ``ErrorGroups``); ``models``/``keys``/``projects``: distinct values affected, with the
    ``TOP`` most affected in ``top_*``; ``sample``: the newest message; ``advice``: the
    knowledge base's, for this group's provider, status, code, type and sample."""

    fingerprint: int | None
    count: int
    first_seen: datetime
    last_seen: datetime
    provider: str
    http_status: int | None
    error_code: str | None
    error_type: str | None
    status_class: str
    sample: str | None
    trend: list[int]
    models: int
    keys: int
    projects: int
    top_models: list[Share] = field(default_factory=list)
    top_keys: list[Share] = field(default_factory=list)
    top_projects: list[Share] = field(default_factory=list)
    advice: Advice | None = None


@dataclass(frozen=True)
class ErrorGroups:
    """The largest groups (most errors first, then the most recent) and the period's totals:
    ``errors`` rows, ``total_groups`` fingerprints; ``days`` the trend's days (local)."""

    groups: list[ErrorGroup]
    errors: int
    total_groups: int
    days: list[date]


def _days(window: tuple[datetime, datetime], tz: str) -> list[date]:
    zone = ZoneInfo(tz)
    first = window[0].astimezone(zone).date()
    last = (window[1] - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def error_groups(
    store: Store,
    f: Filters,
    q: ErrorQuery | None = None,
    *,
    limit: int = 20,
    top: int = TOP,
    now: datetime | None = None,
) -> ErrorGroups:
    """The ``limit`` largest error groups of the filters' period (three passes over the error
    rows: the groups, their days, their models/keys/projects)."""
    q = q or ErrorQuery()
    window = f.window(now)
    cond, params = _where(f, window, q)
    days = _days(window, f.tz)
    with store.read() as cur:
        totals = cur.execute(
            f"SELECT count(*), count(DISTINCT error_fingerprint) + (count(*) > count(error_fingerprint))::INT "
            f"FROM requests_named WHERE {cond}",
            params,
        ).fetchone()
        assert totals is not None
        found = cur.execute(
            f"""SELECT error_fingerprint, count(*) AS n, min(ts), max(ts) AS last, any_value(provider),
                       any_value(http_status), any_value(error_code), mode(error_type),
                       mode({STATUS_CLASS_SQL}), arg_max(error_message, ts),
                       count(DISTINCT model), count(DISTINCT api_key), count(DISTINCT project)
                FROM requests_named WHERE {cond}
                GROUP BY 1 ORDER BY n DESC, last DESC, error_fingerprint NULLS LAST LIMIT ?""",
            [*params, max(1, int(limit))],
        ).fetchall()
        fps = [r[0] for r in found]
        trends = _trends(cur, cond, params, fps, f.tz, days)
        tops = _tops(cur, cond, params, fps, max(1, int(top)))
    groups = []
    for r in found:
        fp = r[0]
        g = ErrorGroup(fp, int(r[1]), r[2], r[3], r[4], None if r[5] is None else int(r[5]), r[6], r[7], r[8],
                       r[9], trends.get(fp, [0] * len(days)), int(r[10]), int(r[11]), int(r[12]),
                       tops.get((fp, "model"), []), tops.get((fp, "api_key"), []),
                       tops.get((fp, "project"), []))  # fmt: skip
        advice = explain(
            facts_from_row(g.provider, g.http_status, g.error_code, g.error_type, g.sample)
        )
        groups.append(replace(g, advice=advice))
    return ErrorGroups(groups, int(totals[0]), int(totals[1]), days)


def _in_groups(fps: list[int | None]) -> tuple[str, list[Any]]:
    """A condition keeping the rows of the groups ``fps`` (None: rows without a fingerprint)."""
    known = [fp for fp in fps if fp is not None]
    cond = "list_contains(?::UBIGINT[], error_fingerprint)"
    if None in fps:
        cond = f"({cond} OR error_fingerprint IS NULL)"
    return cond, [known]


def _trends(
    cur: Cursor, cond: str, params: list[Any], fps: list[int | None], tz: str, days: list[date]
) -> dict[int | None, list[int]]:
    if not fps:
        return {}
    keep, keep_params = _in_groups(fps)
    rows = cur.execute(
        f"""SELECT error_fingerprint, CAST(timezone(?, ts) AS DATE) AS d, count(*)
            FROM requests_named WHERE {cond} AND {keep} GROUP BY 1, 2""",
        [tz, *params, *keep_params],
    ).fetchall()
    index = {d: i for i, d in enumerate(days)}
    out: dict[int | None, list[int]] = {fp: [0] * len(days) for fp in fps}
    for fp, d, n in rows:
        if d in index:
            out[fp][index[d]] = int(n)
    return out


def _tops(
    cur: Cursor, cond: str, params: list[Any], fps: list[int | None], top: int
) -> dict[tuple[int | None, str], list[Share]]:
    """Per group and dimension (model, api_key, project), the ``top`` values by errors (then
    by value), from one pass (GROUPING SETS)."""
    if not fps:
        return {}
    keep, keep_params = _in_groups(fps)
    rows = cur.execute(
        f"""SELECT error_fingerprint, CASE WHEN grouping(model) = 0 THEN 'model'
                                          WHEN grouping(api_key) = 0 THEN 'api_key' ELSE 'project' END AS dim,
                   CAST(coalesce(model, api_key, project) AS VARCHAR) AS value, count(*) AS n
            FROM requests_named WHERE {cond} AND {keep}
            GROUP BY GROUPING SETS ((error_fingerprint, model), (error_fingerprint, api_key),
                                    (error_fingerprint, project))""",
        [*params, *keep_params],
    ).fetchall()
    out: dict[tuple[int | None, str], list[Share]] = {}
    for fp, dim, value, n in rows:
        out.setdefault((fp, dim), []).append(Share(value, int(n)))
    for key, shares in out.items():
        shares.sort(key=lambda s: (-s.count, s.value is None, s.value or ""))
        out[key] = shares[:top]
    return out


# -- (c) error rate over time ---------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    """Errors per bucket of one class or code (``key``; None: rows without a code), or of every
    other code merged (``other``)."""

    key: str | None
    errors: list[int]
    other: bool = False


@dataclass(frozen=True)
class ErrorRates:
    """Errors over time: ``buckets`` (local, naive, in the reporting zone; oldest first) at
    ``granularity`` (hour, day, month), ``requests`` per bucket (request rows of every status
    under the global filters), and ``series`` by ``by``: ``class`` (every status class that
    has errors, in ``STATUS_CLASSES`` order: 429s are rate_limit, quota or overloaded) or
    ``code`` (the largest codes, the rest merged)."""

    granularity: str
    by: Literal["class", "code"]
    buckets: list[datetime]
    requests: list[int]
    series: list[Series]

    def rate(self, s: Series) -> list[float | None]:
        """``s``'s errors as a percentage of the bucket's requests (None without requests)."""
        return [
            None if r == 0 else 100.0 * e / r for e, r in zip(s.errors, self.requests, strict=True)
        ]

    @property
    def errors(self) -> list[int]:
        """Errors per bucket, all series together."""
        return [sum(v) for v in zip(*(s.errors for s in self.series), strict=True)] or [0] * len(
            self.buckets
        )


def _bucket_starts(window: tuple[datetime, datetime], granularity: str, tz: str) -> list[datetime]:
    """Every bucket of ``window`` at ``granularity`` in zone ``tz`` (local, naive)."""
    zone = ZoneInfo(tz)
    lo = window[0].astimezone(zone).replace(tzinfo=None)
    hi = window[1].astimezone(zone).replace(tzinfo=None)
    if granularity == "hour":
        cur = lo.replace(minute=0, second=0, microsecond=0)
        step = timedelta(hours=1)
    else:
        cur = lo.replace(hour=0, minute=0, second=0, microsecond=0)
        step = timedelta(days=1)
        if granularity == "month":
            cur = cur.replace(day=1)
    out = []
    while cur < hi:
        out.append(cur)
        cur = next_month(cur) if granularity == "month" else cur + step
    return out


def error_rates(
    store: Store,
    f: Filters,
    q: ErrorQuery | None = None,
    *,
    by: Literal["class", "code"] = "class",
    top_codes: int = 8,
    now: datetime | None = None,
) -> ErrorRates:
    """Errors and requests per bucket of the filters' period at their granularity (the
    window widened to whole UTC hours, as the rollups count them). Requests come from the
    hourly rollup of the request logs (per user: the raw rows); errors from the error rows
    under ``q``."""
    q = q or ErrorQuery()
    if by not in ("class", "code"):
        raise ValueError(f"unknown series {by!r}")
    gran = f.granularity if f.granularity in ("hour", "day", "month") else "day"
    start, end = f.window(now)
    start = start.replace(minute=0, second=0, microsecond=0)
    if end.minute or end.second or end.microsecond:
        end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    window = (start.astimezone(UTC), end.astimezone(UTC))
    buckets = _bucket_starts(window, gran, f.tz)
    index = {b: i for i, b in enumerate(buckets)}
    cond, params = _where(f, window, q)
    key_sql = STATUS_CLASS_SQL if by == "class" else "error_code"
    with store.read() as cur:
        requests = _requests_per_bucket(cur, f, window, gran)
        rows = cur.execute(
            f"""SELECT date_trunc(?, timezone(?, ts)) AS bucket, {key_sql} AS k, count(*)
                FROM requests_named WHERE {cond} GROUP BY 1, 2""",
            [gran, f.tz, *params],
        ).fetchall()
    per: dict[str | None, list[int]] = {}
    for b, k, n in rows:
        if b in index:
            per.setdefault(k, [0] * len(buckets))[index[b]] += int(n)
    if by == "class":
        series = [Series(k, per[k]) for k in STATUS_CLASSES if k in per]
    else:
        order = sorted(per, key=lambda k: (-sum(per[k]), k is None, k or ""))
        series = [Series(k, per[k]) for k in order[:top_codes]]
        rest = order[top_codes:]
        if rest:
            series.append(
                Series(
                    None, [sum(per[k][i] for k in rest) for i in range(len(buckets))], other=True
                )
            )
    counts = [requests.get(b, 0) for b in buckets]
    return ErrorRates(gran, by, buckets, counts, series)


def _requests_per_bucket(
    cur: Cursor, f: Filters, window: tuple[datetime, datetime], gran: str
) -> dict[datetime, int]:
    """Request rows (every status) per bucket under the filters' dimensions: from the hourly
    rollup of the request logs, or the raw rows when users are filtered (the rollup keeps
    none)."""
    if "user_id" in f.dims:
        cond, params = _where(f, window, ErrorQuery(), errors=False)
        sql = f"""SELECT date_trunc(?, timezone(?, ts)), count(*) FROM requests_named
                  WHERE {cond} GROUP BY 1"""
        rows = cur.execute(sql, [gran, f.tz, *params]).fetchall()
    else:
        dim_where, dim_params = f.dims_sql()
        where = " AND ".join(["grain = 'request'", "hour >= ?", "hour < ?", *dim_where])
        sql = f"""SELECT date_trunc(?, timezone(?, to_timestamp(hour))), sum(requests) FROM agg_hourly
                  WHERE {where} GROUP BY 1"""
        rows = cur.execute(
            sql, [gran, f.tz, int(window[0].timestamp()), int(window[1].timestamp()), *dim_params]
        ).fetchall()
    return {b: int(n or 0) for b, n in rows}
