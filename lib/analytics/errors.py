"""What the Errors page shows: the recent error rows, similar errors grouped by their
fingerprint (made at import time), and the error rate over time by status class or by code.

Every query reads the errors in the period (``_errors``: one WITH clause) under the global
filters (period, time zone, dimensions) and the page's own: status classes
(``lib.error_kb.classes``) and error codes. Values are always parameters. The groups, codes and
rates read ``agg_error_group_hourly`` (migration 28: per hour and group, with first and last
time, newest message and Retry-After) when the window is on whole UTC hours, without a user
filter and after the retention horizon: a few rows per group and hour, however many errors
there were. Else, and for the recent rows, they read ``error_events``, the error rows of
``request_events`` kept apart at import time (migration 26; a few per cent of the rows). Nothing heavy
runs per error row (at 250,000 errors the model family or the class of every row costs about
0.5 s each): the model family (``model_family``) is worked out per distinct model name; the
status class (``STATUS_CLASS_SQL``) per fingerprint and error type, from the newest row of
each, to group and filter (the rows of a fingerprint differ only in ids, numbers, URLs, quoted
values and whitespace; the class reads the words only for phrases such as "overloaded"), and
per row for the rows of a page; days and buckets are cut in the reporting zone from counts per
quarter hour. The knowledge base's advice is looked up in Python once per group (or per
distinct fingerprint of a page of rows), never per row.

Measured on the page benchmark's databases (best of 7, 2 cores), 7 and 30 days, at 10M
requests (240,000 errors, 168,000 group rows over 90 days) and 100M (2.4M errors, 652,000
group rows): ``error_groups`` 25/30 ms and 28/40 ms (from the rows it took 24 and 37 ms for 7
days), ``error_rates`` 18/23 and 19/25 ms, ``error_codes`` 2 ms, ``recent_errors`` 20 ms.

Retry-After: request events keep the wait an error's answer asked for (``retry_after_ms``,
migration 18: playground runs, the gateway, logs that carry it); each group counts the errors
that stated one and their median wait.

Every function takes ``now`` (the page clock): the windows follow it, never the machine's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from lib.analytics.newest import newest_hours, rollup_counts_rows
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


def _errors(
    f: Filters, window: tuple[datetime, datetime], q: ErrorQuery, *, grouped: bool = False
) -> tuple[str, list[Any]]:
    """A WITH clause defining ``r`` (the errors in ``window``) and ``e`` (those under the
    filters' dimensions and ``q``), and its parameters (they come first in the query).

    Rows of ``e`` are weighted: ``cnt`` errors from ``first_ts`` to ``last_ts`` (UTC), counted
    in quarter hour ``qh`` (epoch ms // 900,000), ``last_message`` the newest one's. From the
    error rows (``grouped`` False: one row per error, also with ``ts``, ``event_key``,
    ``request_id``, ``user_id`` and ``error_message``), or from ``agg_error_group_hourly``
    (``grouped``: one row per hour and group, the hour's first quarter; only for a window on
    whole UTC hours, without a user filter: ``_grouped_ok``). Both give the same sums, first
    and last times, newest messages and (weighted) median waits.

    ``e`` has ``snapshot`` (the source's model name); ``model`` (the family) and
    ``status_class`` only when the filters need them (a model filter; classes in ``q``),
    ``model`` always from the rollup: else later steps work them out over aggregated rows.
    The look-ups join on 64-bit hashes (of the model name; of the fingerprint and type), as
    the rollups group."""
    dim_where, dim_params = f.dims_sql()
    where = ["true", *dim_where]
    if grouped:
        lo, hi = int(window[0].timestamp()), int(window[1].timestamp())
        params: list[Any] = [lo, hi, *dim_params]
    else:
        params = [window[0], window[1], *dim_params]
    if q.classes:
        where.append("list_contains(?, status_class)")
        params.append(list(q.classes))
    if q.codes:
        where.append("list_contains(?, error_code)")
        params.append(list(q.codes))
    family = "model" in f.dims and not grouped
    common = """provider, project, api_key, http_status, error_code, error_type, error_fingerprint,
               retry_after_ms"""
    r = (
        f"""SELECT errors AS cnt, first_ts, last_ts, last_message, hour // 900 AS qh, snapshot, model,
                   {common}
            FROM agg_error_group_hourly WHERE hour >= ? AND hour < ?"""
        if grouped
        else f"""SELECT 1 AS cnt, ts AS first_ts, ts AS last_ts, error_message AS last_message,
                   epoch_ms(ts) // 900000 AS qh, model AS snapshot, {common}, ts, event_key,
                   request_id, source, user_id, error_message
            FROM error_events WHERE ts >= ? AND ts < ?"""
    )
    sql = f"""WITH r AS ({r}),
        {"fam AS (SELECT hash(snapshot) AS hs, model_family(snapshot) AS model FROM (SELECT DISTINCT snapshot FROM r))," if family else ""}
        {_classes_cte("true") + "," if q.classes else ""}
        e AS (
            SELECT r.*{", fam.model" if family else ""}{", k.status_class" if q.classes else ""} FROM r
            {"LEFT JOIN fam ON fam.hs = hash(r.snapshot)" if family else ""}
            {"LEFT JOIN k ON k.hk = hash(r.error_fingerprint, r.error_type)" if q.classes else ""}
            WHERE {" AND ".join(where)})
        """
    return sql, params


def _grouped_ok(cur: Cursor, f: Filters, window: tuple[datetime, datetime]) -> bool:
    """True when ``agg_error_group_hourly`` holds exactly the errors ``_errors`` would read:
    a window on whole UTC hours, not reaching before the retention horizon (the rollup keeps
    what retention removed of the rows), without a user filter (it keeps no users)."""
    return "user_id" not in f.filtered_dims and rollup_counts_rows(cur, window)


def _classes_cte(keep: str, name: str = "k") -> str:
    """CTE ``name``: the status class per fingerprint and error type (``hk``, their hash) of the
    rows of ``r`` where ``keep`` holds, from the newest row of each."""
    return f"""{name} AS (SELECT hk, {STATUS_CLASS_SQL} AS status_class
              FROM (SELECT hash(error_fingerprint, error_type) AS hk, any_value(http_status) AS http_status,
                           any_value(error_code) AS error_code, any_value(error_type) AS error_type,
                           arg_max(last_message, last_ts) AS error_message
                    FROM r WHERE {keep} GROUP BY 1))"""


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
    window = f.window(now)
    size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    with store.read() as cur:
        planned = _newest(cur, f, q, window, max(1, int(page)) * size)
    if planned is not None:  # the rows of the hours the page needs only (a page past the
        total, since = planned  # last asked for more rows: its hours hold the last page's)
        pages = max(1, math.ceil(total / size))
        page = min(max(1, int(page)), pages)
        window = (since, window[1])
    errors, params = _errors(f, window, q)
    # the family and the class of the page's rows only (each row's own class: the same as its
    # group's but where a phrase the class reads sits in an id, URL or quoted value)
    rows_sql = f"""{errors},
        p AS (SELECT * FROM e ORDER BY ts DESC, event_key DESC LIMIT ? OFFSET ?),
        pf AS (SELECT hash(snapshot) AS hs, model_family(snapshot) AS model FROM (SELECT DISTINCT snapshot FROM p))
        SELECT p.ts, p.provider, pf.model, p.snapshot, p.project, p.api_key, p.user_id, p.http_status,
               p.error_code, p.error_type, p.error_message, {STATUS_CLASS_SQL}, p.error_fingerprint, p.source,
               p.request_id
        FROM p LEFT JOIN pf ON pf.hs = hash(p.snapshot)
        ORDER BY p.ts DESC, p.event_key DESC"""
    with store.read() as cur:
        if planned is None:
            total = int(cur.execute(f"{errors} SELECT count(*) FROM e", params).scalar())
            pages = max(1, math.ceil(total / size))
            page = min(max(1, int(page)), pages)
        found = cur.execute(rows_sql, [*params, size, (page - 1) * size]).fetchall()
    rows = [
        ErrorRow(ts=r[0], provider=r[1], model=r[2], snapshot=r[3], project=r[4], api_key=r[5],
                 user_id=r[6], http_status=None if r[7] is None else int(r[7]), error_code=r[8],
                 error_type=r[9], message=r[10], status_class=r[11], fingerprint=r[12], source=r[13],
                 request_id=r[14])
        for r in found
    ]  # fmt: skip
    return ErrorPage(rows, total, page, pages)


def _newest(
    cur: Cursor, f: Filters, q: ErrorQuery, window: tuple[datetime, datetime], need: int
) -> tuple[int, datetime] | None:
    """(errors in ``window``, the start of the newest hours holding ``need`` of them) from
    ``agg_error_hourly`` (``lib.analytics.newest``); None when it cannot say, and for a user
    filter or status classes (it keeps neither)."""
    if q.classes or "user_id" in f.filtered_dims:
        return None
    dim_where, dim_params = f.dims_sql()
    conds, params = [*dim_where], [*dim_params]
    if q.codes:
        conds.append("list_contains(?, error_code)")
        params.append(list(q.codes))
    return newest_hours(cur, "agg_error_hourly", "errors", conds, params, window, need)


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
    window = f.window(now)
    with store.read() as cur:
        errors, params = _errors(f, window, q, grouped=_grouped_ok(cur, f, window))
        rows = cur.execute(
            f"""{errors} SELECT error_code, sum(cnt) AS n FROM e
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
    retry_after_n: int = 0  # errors of the group whose answer said how long to wait
    retry_after_ms: float | None = None  # their median wait (Retry-After), in milliseconds


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


# CTE ``mw``: the median Retry-After (ms) of each group of ``kept`` over the weighted rows of
# ``e`` (``cnt`` errors each): the mean of the values at positions (n + 1) // 2 and n // 2 + 1
# of the n waits in order, as ``median`` of the rows themselves.
_MEDIAN_WAIT = """
    w AS (SELECT e.error_fingerprint, e.retry_after_ms AS v, sum(e.cnt) AS c
          FROM e SEMI JOIN kept ON kept.error_fingerprint IS NOT DISTINCT FROM e.error_fingerprint
          WHERE e.retry_after_ms IS NOT NULL GROUP BY 1, 2),
    wc AS (SELECT error_fingerprint, v,
                  sum(c) OVER (PARTITION BY error_fingerprint ORDER BY v) AS upto,
                  sum(c) OVER (PARTITION BY error_fingerprint) AS total FROM w),
    mw AS (SELECT error_fingerprint,
                  (min(v::DOUBLE) FILTER (WHERE upto >= (total + 1) // 2)
                   + min(v::DOUBLE) FILTER (WHERE upto >= total // 2 + 1)) / 2 AS wait_ms
           FROM wc GROUP BY 1)"""


def error_groups(
    store: Store,
    f: Filters,
    q: ErrorQuery | None = None,
    *,
    limit: int = 20,
    top: int = TOP,
    now: datetime | None = None,
) -> ErrorGroups:
    """The ``limit`` largest error groups of the filters' period (two passes over the error
    rows: the groups with the totals, then the days and models/keys/projects of those kept).
    A group's type, sample and class are its newest row's (its status and code are the same
    in every row: they are part of the fingerprint)."""
    q = q or ErrorQuery()
    window = f.window(now)
    days = _days(window, f.tz)
    with store.read() as cur:
        errors, params = _errors(f, window, q, grouped=_grouped_ok(cur, f, window))
        found = cur.execute(
            f"""{errors},
            g AS (SELECT error_fingerprint, sum(cnt) AS n, min(first_ts) AS first, max(last_ts) AS last,
                         any_value(provider) AS provider, any_value(http_status) AS http_status,
                         any_value(error_code) AS error_code, arg_max(error_type, last_ts) AS error_type,
                         arg_max(last_message, last_ts) AS error_message,
                         coalesce(sum(cnt) FILTER (WHERE retry_after_ms IS NOT NULL), 0) AS waits
                  FROM e GROUP BY 1),
            t AS (SELECT sum(n) AS errors, count(*) AS groups FROM g),
            kept AS (SELECT * FROM g ORDER BY n DESC, last DESC, error_fingerprint NULLS LAST LIMIT ?),
            {_MEDIAN_WAIT}
            SELECT kept.error_fingerprint, n, first, last, provider, http_status, error_code, error_type,
                   {STATUS_CLASS_SQL}, error_message, t.errors, t.groups, waits, mw.wait_ms
            FROM kept CROSS JOIN t
            LEFT JOIN mw ON mw.error_fingerprint IS NOT DISTINCT FROM kept.error_fingerprint
            ORDER BY n DESC, last DESC, kept.error_fingerprint NULLS LAST""",
            [*params, max(1, int(limit))],
        ).fetchall()
        totals = (int(found[0][10]), int(found[0][11])) if found else (0, 0)
        fps = [r[0] for r in found]
        trends, tops = _details(cur, errors, params, fps, f.tz, days)
    groups = []
    for r in found:
        fp = r[0]
        models = tops.get((fp, "model"), [])
        keys, projects = tops.get((fp, "api_key"), []), tops.get((fp, "project"), [])
        g = ErrorGroup(fp, int(r[1]), r[2], r[3], r[4], None if r[5] is None else int(r[5]), r[6], r[7], r[8],
                       r[9], trends.get(fp, [0] * len(days)), _distinct(models), _distinct(keys),
                       _distinct(projects), models[:top], keys[:top], projects[:top])  # fmt: skip
        advice = explain(
            facts_from_row(g.provider, g.http_status, g.error_code, g.error_type, g.sample)
        )
        groups.append(replace(g, advice=advice, retry_after_n=int(r[12]),
                              retry_after_ms=None if r[13] is None else float(r[13])))  # fmt: skip
    return ErrorGroups(groups, totals[0], totals[1], days)


def _distinct(shares: list[Share]) -> int:
    """The values affected (rows without a value are not one)."""
    return sum(s.value is not None for s in shares)


def _details(
    cur: Cursor, errors: str, params: list[Any], fps: list[int | None], tz: str, days: list[date]
) -> tuple[dict[int | None, list[int]], dict[tuple[int | None, str], list[Share]]]:
    """For the groups ``fps`` (None: rows without a fingerprint), in one pass: the errors per
    day of ``days`` (local to ``tz``; rows counted per quarter hour first, every zone's offset
    being a whole number of quarter hours today), and per dimension (model family, api_key, project)
    every value by errors (most first, then by value)."""
    if not fps:
        return {}, {}
    known = [fp for fp in fps if fp is not None]
    keep = "list_contains(?::UBIGINT[], error_fingerprint)"
    if None in fps:
        keep = f"({keep} OR error_fingerprint IS NULL)"
    rows = cur.execute(
        f"""{errors},
        x AS (SELECT error_fingerprint, qh, cnt, snapshot, api_key, project FROM e WHERE {keep}),
        qh AS (SELECT error_fingerprint, qh, sum(cnt) AS n FROM x GROUP BY 1, 2),
        sn AS (SELECT error_fingerprint, snapshot, sum(cnt) AS n FROM x GROUP BY 1, 2)
        SELECT error_fingerprint, 'day', CAST(CAST(timezone(?, to_timestamp(qh * 900)) AS DATE) AS VARCHAR),
               sum(n) FROM qh GROUP BY 1, 3
        UNION ALL
        SELECT error_fingerprint, 'model', model_family(snapshot), sum(n) FROM sn GROUP BY 1, 3
        UNION ALL
        SELECT error_fingerprint, CASE WHEN grouping(api_key) = 0 THEN 'api_key' ELSE 'project' END,
               CAST(coalesce(api_key, project) AS VARCHAR), sum(cnt)
        FROM x GROUP BY GROUPING SETS ((error_fingerprint, api_key), (error_fingerprint, project))""",
        [*params, known, tz],
    ).fetchall()
    index = {d.isoformat(): i for i, d in enumerate(days)}
    trends: dict[int | None, list[int]] = {fp: [0] * len(days) for fp in fps}
    tops: dict[tuple[int | None, str], list[Share]] = {}
    for fp, dim, value, n in rows:
        if dim == "day":
            if value in index:
                trends[fp][index[value]] += int(n)
        else:
            tops.setdefault((fp, dim), []).append(Share(value, int(n)))
    for shares in tops.values():
        shares.sort(key=lambda s: (-s.count, s.value is None, s.value or ""))
    return trends, tops


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


def _whole_hours(tz: str, window: tuple[datetime, datetime]) -> bool:
    """True when ``tz`` is a whole number of hours from UTC at both ends of ``window``."""
    zone = ZoneInfo(tz)
    return all((t.astimezone(zone).utcoffset() or timedelta(0)) % timedelta(hours=1) == timedelta(0)
               for t in window)  # fmt: skip


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
    window widened to whole UTC hours, as the rollups count them, in a zone a whole number of
    hours from UTC; from the rows, as it is, in another). Requests come from the
    hourly rollup of the request logs (per user: the raw rows); errors from the error rows
    under ``q``."""
    q = q or ErrorQuery()
    if by not in ("class", "code"):
        raise ValueError(f"unknown series {by!r}")
    gran = f.granularity if f.granularity in ("hour", "day", "month") else "day"
    start, end = f.window(now)
    if _whole_hours(f.tz, (start, end)):  # the rollup's whole UTC hours (else rows: as is)
        start = start.replace(minute=0, second=0, microsecond=0)
        if end.minute or end.second or end.microsecond:
            end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    window = (start.astimezone(UTC), end.astimezone(UTC))
    buckets = _bucket_starts(window, gran, f.tz)
    index = {b: i for i, b in enumerate(buckets)}
    # counted per quarter hour (and fingerprint and type) first: the zone and the class are then
    # worked out over those few rows
    by_class = by == "class"
    with store.read() as cur:
        errors, params = _errors(f, window, q, grouped=_grouped_ok(cur, f, window))
        requests = _requests_per_bucket(cur, f, window, gran)
        rows = cur.execute(
            f"""{errors},
            {_classes_cte("true", "ka") + "," if by_class else ""}
            a AS (SELECT qh, hash(error_fingerprint, error_type) AS hk,
                         error_code, sum(cnt) AS n FROM e GROUP BY ALL)
            SELECT date_trunc(?, timezone(?, to_timestamp(a.qh * 900))) AS bucket,
                   {"ka.status_class" if by_class else "a.error_code"} AS key, sum(a.n)
            FROM a {"LEFT JOIN ka ON ka.hk = a.hk" if by_class else ""} GROUP BY 1, 2""",
            [*params, gran, f.tz],
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
    none) or when the zone is not a whole number of hours from UTC (India's +05:30: the
    rollup's UTC hours would put half an hour of requests into the wrong local day)."""
    if "user_id" in f.dims or not _whole_hours(f.tz, window):
        dim_where, dim_params = f.dims_sql()
        where = " AND ".join(["ts >= ?", "ts < ?", *dim_where])
        sql = f"""SELECT date_trunc(?, timezone(?, ts)), count(*) FROM requests_named
                  WHERE {where} GROUP BY 1"""
        rows = cur.execute(sql, [gran, f.tz, window[0], window[1], *dim_params]).fetchall()
    else:
        dim_where, dim_params = f.dims_sql()
        where = " AND ".join(["grain = 'request'", "hour >= ?", "hour < ?", *dim_where])
        sql = f"""SELECT date_trunc(?, timezone(?, to_timestamp(hour))), sum(requests) FROM agg_hourly
                  WHERE {where} GROUP BY 1"""
        rows = cur.execute(
            sql, [gran, f.tz, int(window[0].timestamp()), int(window[1].timestamp()), *dim_params]
        ).fetchall()
    return {b: int(n or 0) for b, n in rows}
