"""Latency percentiles (milliseconds) read from the latency histograms.

Only request logs carry latencies, so only they feed the histograms (``agg_latency_hourly``;
``agg_latency_user_daily`` when users are involved). A bucket spans 10 %; the percentile is
interpolated log-linearly inside its bucket, so it is within about 5 % of the exact value.
The percentile ``q`` is the latency that a share ``q`` of the requests did not exceed.
Periods or groups without any latency give NULL, never 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from lib.filters import DIMENSIONS, Filters
from lib.store import Cursor, Store
from lib.store.migrations import LATENCY_RATIO


def latency_rows(
    f: Filters, breakdown: str | None, window: tuple[datetime, datetime]
) -> tuple[str, list[Any]]:
    """A subquery of histogram rows inside ``window`` and the filters' dimensions, with ``t``
    (epoch seconds of the row's hour or day), the dimensions, ``lb`` (bucket) and ``n``."""
    users = breakdown == "user_id" or "user_id" in f.dims
    table, tcol = ("agg_latency_user_daily", "day") if users else ("agg_latency_hourly", "hour")
    start, end = window
    where = [f"{tcol} >= ?", f"{tcol} < ?"]
    params: list[Any] = [int(start.timestamp()), int(end.timestamp())]
    for dim in DIMENSIONS:
        values = f.dims.get(dim)
        if values and not (dim == "api_key" and users):
            where.append(f"list_contains(?, {dim})")
            params.append(list(values))
    return f"(SELECT *, {tcol} AS t FROM {table} WHERE {' AND '.join(where)})", params


def _quantile_sql(q: float) -> str:
    """Aggregate over rows of (lb, n, cum, tot) of one group: the interpolated percentile."""
    rank = f"({q} * tot)"
    return (
        f"arg_min(pow({LATENCY_RATIO}, lb + ({rank} - (cum - n)) / n), lb) "
        f"FILTER (WHERE cum >= {rank})"
    )


def _percentiles(
    cur: Cursor, base: str, params: list[Any], groups: list[str], qs: tuple[float, ...]
) -> pd.DataFrame:
    """Percentiles ``qs`` (columns p50, p95, …) per ``groups`` (SQL expressions AS names) and
    the request count with a latency (column ``n``)."""
    names = [g.rsplit(" AS ", 1)[1] for g in groups]
    part = f"PARTITION BY {', '.join(names)}" if names else ""
    select_g = ", ".join(groups) + ", " if groups else ""
    keys = ", ".join(names) + ", " if names else ""
    cols = ", ".join(f"{_quantile_sql(q)} AS p{round(q * 100)}" for q in qs)
    sql = f"""
        WITH h AS (SELECT {select_g}lb, sum(n) AS n FROM {base} GROUP BY ALL),
        c AS (SELECT *, sum(n) OVER ({part} ORDER BY lb ROWS UNBOUNDED PRECEDING) AS cum,
                        sum(n) OVER ({part}) AS tot FROM h)
        SELECT {keys}{cols}, sum(n) AS n FROM c {"GROUP BY ALL" if names else ""}
        {"ORDER BY ALL" if names else ""}"""
    return cur.df(sql, params)


def latency_totals(
    store: Store, f: Filters, now: datetime | None = None, previous: bool = False
) -> dict[str, float | None]:
    """p50 and p95 latency (ms) over the period (or the one before), None without latencies."""
    window = f.previous_window(now) if previous else f.window(now)
    with store.read() as cur:
        base, params = latency_rows(f, None, window)
        row = _percentiles(cur, base, params, [], (0.5, 0.95)).iloc[0]
    return {k: (None if pd.isna(row[k]) else float(row[k])) for k in ("p50", "p95")}


def latency_series(
    store: Store,
    f: Filters,
    q: float,
    breakdown: str | None = None,
    top_n: int = 10,
    granularity: str | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """The ``q`` percentile (ms) per time bucket (and per ``breakdown`` value: the top
    ``top_n`` by requests, the rest merged as "other"). Columns: bucket, series, value."""
    gran = granularity or f.granularity
    with store.read() as cur:
        base, params = latency_rows(f, breakdown, f.window(now))
        dim = f"coalesce(CAST({breakdown} AS VARCHAR), '(none)')" if breakdown else "'all'"
        ranked = f"""(
            WITH r AS (SELECT *, {dim} AS s FROM {base}),
            top AS (SELECT s FROM r GROUP BY s ORDER BY sum(n) DESC, s LIMIT ?)
            SELECT date_trunc(?, timezone(?, to_timestamp(t))) AS bucket,
                   CASE WHEN s IN (SELECT s FROM top) THEN s ELSE 'other' END AS series, lb, n
            FROM r)"""
        out = _percentiles(
            cur,
            ranked,
            [*params, top_n, gran, f.tz],
            ["bucket AS bucket", "series AS series"],
            (q,),
        )
    return out.rename(columns={f"p{round(q * 100)}": "value"})[["bucket", "series", "value"]]


def latency_by(
    store: Store, f: Filters, breakdown: str, now: datetime | None = None
) -> pd.DataFrame:
    """p50 and p95 latency (ms) per ``breakdown`` value over the period."""
    with store.read() as cur:
        base, params = latency_rows(f, breakdown, f.window(now))
        dim = f"coalesce(CAST({breakdown} AS VARCHAR), '(none)') AS {breakdown}"
        out = _percentiles(cur, base, params, [dim], (0.5, 0.95))
    return out.drop(columns="n").rename(columns={"p50": "p50_latency", "p95": "p95_latency"})
