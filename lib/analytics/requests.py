"""The request rows behind a chart: paged, never the whole table.

A page of rows newest first reads the hours it needs only (``lib.analytics.newest`` over the
request rollup ``agg_hourly``). Where the rollup cannot say (a user filter, a period not cut on
whole UTC hours, a period reaching before the rows retention removed), the rows of the window
are counted and sorted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from lib.analytics.newest import newest_hours
from lib.analytics.usage import counted_rows
from lib.filters import DIMENSIONS, Filters
from lib.store import Cursor, Store

COLUMNS = ("ts", "provider", "model", "snapshot", "project", "api_key", "user_id", "status", "http_status", "error_code",
           "latency_ms", "input_tokens", "cached_input_tokens", "output_tokens", "cost_usd", "request_id")  # fmt: skip
MAX_PAGE = 500


def _where_sql(
    where: dict[str, str | None] | None, prefix: str = ""
) -> tuple[list[str], list[Any]]:
    """Conditions for ``where`` (dimension → value; None means NULL), with their parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    for dim, value in (where or {}).items():
        if dim not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dim}")
        if value is None:
            clauses.append(f"{prefix}{dim} IS NULL")
        else:
            clauses.append(f"{prefix}{dim} = ?")
            params.append(value)
    return clauses, params


@dataclass(frozen=True)
class BarRelation:
    """How the request rows behind a bar relate to the requests the bar counts.

    ``bar_requests``: the requests the bar counts (None when no counted stream states any);
    ``log_rows``: request-log rows in the same window and filters (the drill-down's rows);
    ``counted_log_rows``: those of them the bar counts; ``elsewhere``: per provider whose log
    rows the bar does not count, (provider, counting stream, log rows, requests that stream
    states or None): the bar counts that provider and day from a usage report instead."""

    bar_requests: int | None
    log_rows: int
    counted_log_rows: int
    elsewhere: list[tuple[str, str, int, int | None]] = field(default_factory=list)

    @property
    def report_only_requests(self) -> int:
        """Requests the bar counts from usage reports (no request rows behind them)."""
        return (self.bar_requests or 0) - self.counted_log_rows

    def differs(self, listed: int) -> bool:
        """The bar counts other requests than the ``listed`` rows (say how they relate)."""
        return self.bar_requests is not None and (
            self.bar_requests != listed or bool(self.elsewhere)
        )


def bar_relation(
    store: Store,
    f: Filters,
    *,
    window: tuple[datetime, datetime],
    where: dict[str, str | None] | None = None,
) -> BarRelation:
    """Compare the bar of ``window`` (and ``where``) with the request rows listed under it."""
    extra, extra_params = _where_sql(where, "x.")
    cond = " AND ".join(["true", *extra])
    with store.read() as cur:
        base, params = counted_rows(cur, f, next(iter(where or {}), None), window)
        rows = cur.execute(
            f"""SELECT provider, stream, grain = 'request' AS logs, sum(c_requests) AS counted,
                       sum(requests) AS n
                FROM {base} x WHERE {cond} GROUP BY ALL""",
            [*params, *extra_params],
        ).fetchall()
    counted = [r[3] for r in rows if r[3] is not None]
    log_rows = sum(int(r[4] or 0) for r in rows if r[2])
    counted_logs = sum(int(r[3] or 0) for r in rows if r[2])
    reports = {(r[0], r[1]): r[3] for r in rows if not r[2]}
    elsewhere = sorted(
        (p, s, int(n or 0), None if reports.get((p, s)) is None else int(reports[(p, s)]))
        for p, s, logs, c, n in rows
        if logs and c is None and n
    )
    return BarRelation(
        bar_requests=int(sum(counted)) if counted else None,
        log_rows=log_rows,
        counted_log_rows=counted_logs,
        elsewhere=elsewhere,
    )


def request_rows(
    store: Store,
    f: Filters,
    *,
    window: tuple[datetime, datetime] | None = None,
    where: dict[str, str | None] | None = None,
    page: int = 0,
    page_size: int = 100,
    now: datetime | None = None,
) -> tuple[pd.DataFrame, int]:
    """One page of request events (newest first) inside ``window`` (default: the filters'
    period), the filters' dimensions and ``where`` (dimension → value, e.g. the clicked
    series; None means NULL). Returns (rows, total matching rows)."""
    start, end = window or f.window(now)
    clauses = ["ts >= ?", "ts < ?"]
    dim_where, dim_params = f.dims_sql()
    clauses += dim_where
    extra, extra_params = _where_sql(where)
    clauses += extra
    params: list[Any] = [start, end, *dim_params, *extra_params]
    size = max(1, min(int(page_size), MAX_PAGE))
    skip = max(0, int(page)) * size
    limit = f"ORDER BY ts DESC, request_id LIMIT {size} OFFSET {skip}"
    with store.read() as cur:
        planned = _from_rollup(cur, f, (start, end), where, skip + size)
    if planned is not None:
        total, since = planned
        clauses.append("ts >= ?")
        params.append(since)
    cond = " AND ".join(clauses)
    if {"model", "snapshot"} & (set(f.dims) | set(where or {})):
        # the condition reads the family or the snapshot (names the view makes): worked out on
        # every row of the window
        count_sql = f"SELECT count(*) FROM requests_named WHERE {cond}"
        rows_sql = f"SELECT {', '.join(COLUMNS)} FROM requests_named WHERE {cond} {limit}"
    else:
        # the raw rows, the family worked out for the page's rows only (the view works it out
        # for every row of the window before the sort: 85 ms instead of 7 over 30 days of 10M)
        raw = ", ".join("model AS snapshot" if c == "snapshot" else c for c in COLUMNS)
        count_sql = f"SELECT count(*) FROM request_events WHERE {cond}"
        rows_sql = f"""SELECT * REPLACE (model_family(model) AS model)
                       FROM (SELECT {raw} FROM request_events WHERE {cond} {limit})
                       ORDER BY ts DESC, request_id"""
    with store.read() as cur:
        if planned is None:
            found = cur.execute(count_sql, params).fetchone()
            total = found[0] if found else 0
        rows = cur.df(rows_sql, params)
    return rows, int(total)


def _from_rollup(
    cur: Cursor,
    f: Filters,
    window: tuple[datetime, datetime],
    where: dict[str, str | None] | None,
    need: int,
) -> tuple[int, datetime] | None:
    """(total request rows, the start of the newest hours that hold at least ``need`` of them)
    from ``agg_hourly`` (``lib.analytics.newest``); None when it cannot say, and for a user
    filter (it has no user)."""
    if "user_id" in f.filtered_dims | set(where or {}):
        return None
    dim_where, dim_params = f.dims_sql()
    extra, extra_params = _where_sql(where)
    return newest_hours(cur, "agg_hourly", "requests", ["grain = 'request'", *dim_where, *extra],
                        [*dim_params, *extra_params], window, need)  # fmt: skip
