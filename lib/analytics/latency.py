"""Latency percentiles (milliseconds) of the requests that state a latency.

Only request logs carry latencies. Views read latency histograms (a bucket spans 20 %, the
percentile is interpolated log-linearly inside it, so it is within 20 % of the exact value and
usually within a few per cent), the smallest that keeps the view's dimensions:
``agg_latency_hourly`` (provider and model), ``agg_latency_key_daily`` or
``agg_latency_key_hourly`` (with project and API key, per UTC day or hour) or
``agg_latency_user_daily`` (with project and user). The ones per UTC day serve a period that
starts and ends at 00:00 UTC in buckets of days or longer. The other views (a key and a
user at once; users over a period or buckets not cut on UTC days) read the request rows of the
period and give exact percentiles (``quantile_cont``). Groups or periods without any latency
give NULL. At 100M requests a 30-day window holds 33M request rows, against about 0.9M
histogram rows by key per 30 days at 10M requests (see the README's benchmark).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from lib.filters import Filters
from lib.store import Cursor, Store
from lib.store.migrations import LATENCY_RATIO

HISTOGRAM_DIMS = ("provider", "model", "snapshot")
# (table, its time column, the dimensions it keeps), the smallest first
HISTOGRAMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("agg_latency_hourly", "hour", HISTOGRAM_DIMS),
    ("agg_latency_key_daily", "day", (*HISTOGRAM_DIMS, "project", "api_key")),
    ("agg_latency_key_hourly", "hour", (*HISTOGRAM_DIMS, "project", "api_key")),
    ("agg_latency_user_daily", "day", (*HISTOGRAM_DIMS, "project", "user_id")),
)
# Where a view's latencies come from: (histogram table, its time column), or None (the rows).
Source = tuple[str, str] | None


def _source(
    f: Filters,
    breakdown: str | None,
    window: tuple[datetime, datetime],
    granularity: str = "day",
    exact: bool = False,
) -> Source:
    """The smallest histogram that keeps every dimension the view needs (per UTC day only
    for a period cut at 00:00 UTC and buckets of a day or more); None: read the rows (always
    with ``exact``)."""
    if exact:
        return None
    dims = f.filtered_dims | ({breakdown} if breakdown else set())
    days = granularity != "hour" and all(int(t.timestamp()) % 86400 == 0 for t in window)
    for table, time_col, kept in HISTOGRAMS:
        if dims <= set(kept) and (time_col == "hour" or days):
            return table, time_col
    return None


def _where(f: Filters, window: tuple[datetime, datetime], time_sql: str) -> tuple[str, list[Any]]:
    start, end = window
    bounds: list[Any] = (
        [start, end] if time_sql == "ts" else [int(start.timestamp()), int(end.timestamp())]
    )
    dim_where, dim_params = f.dims_sql()
    where = [f"{time_sql} >= ?", f"{time_sql} < ?", *dim_where]
    return " AND ".join(where), [*bounds, *dim_params]


def _quantile_sql(q: float) -> str:
    """Aggregate over histogram rows (lb, n, cum, tot) of one group: the ``q`` percentile."""
    rank = f"({q} * tot)"
    return (
        f"arg_min(pow({LATENCY_RATIO}, lb + ({rank} - (cum - n)) / n), lb) "
        f"FILTER (WHERE cum >= {rank})"
    )


def _percentiles(
    cur: Cursor,
    f: Filters,
    window: tuple[datetime, datetime],
    groups: dict[str, str],
    qs: tuple[float, ...],
    source: Source,
    top: tuple[str, int] | None = None,
    group_params: list[Any] | None = None,
) -> pd.DataFrame:
    """Percentiles ``qs`` (columns p50, p95, …) and the count with a latency (``n``) per
    ``groups`` ({name: SQL over ``t`` (a TIMESTAMPTZ) and the dimensions}, whose ``?`` take
    ``group_params`` in order). ``top`` = (group name, N) keeps the N largest values of that
    group (whose SQL takes no parameter) by count and merges the rest into one row whose value
    is None; the column ``grp`` then says which rows are which (``top`` or ``other``)."""
    from_rows = source is None
    if source is None:
        where, params = _where(f, window, "ts")
        base = f"(SELECT *, ts AS t, 1 AS n FROM requests_named WHERE latency_ms IS NOT NULL AND {where})"
    else:
        table, time_col = source
        where, params = _where(f, window, time_col)
        base = f"(SELECT *, to_timestamp({time_col}) AS t FROM {table} WHERE {where})"
    cols = ", ".join(f"{sql} AS {name}" for name, sql in groups.items())
    names = list(groups)
    if top:
        name, n_top = top
        # ``r`` is read twice (the top values, then the join): it keeps the groups and the
        # measures only, not every column of the rows (the model family of each row among them)
        measures = "latency_ms, n" if from_rows else "lb, n"
        base = f"""(WITH r AS (SELECT {cols}, {measures} FROM {base}),
                    top AS (SELECT {name}, true AS _top FROM r GROUP BY {name}
                            ORDER BY sum(n) DESC, {name} NULLS LAST LIMIT ?)
                    SELECT r.* REPLACE (CASE WHEN top._top THEN r.{name} END AS {name}),
                           CASE WHEN top._top THEN 'top' ELSE 'other' END AS _grp
                    FROM r LEFT JOIN top ON r.{name} IS NOT DISTINCT FROM top.{name})"""
        params.append(n_top)
        cols = ", ".join(f"{g} AS {g}" for g in groups) + ", _grp AS grp"
        names.append("grp")
    keys = ", ".join(names) + ", " if names else ""
    select_g = cols + ", " if cols else ""
    grouped = "GROUP BY ALL" if names else ""
    if from_rows:
        # one list of quantiles sorts each group's latencies once (a quantile each sorted them
        # once per quantile: p50 and p95 by key over 30 days of 10M requests 56 ms, not 82)
        qlist = ", ".join(str(q) for q in qs)
        qcols = ", ".join(f"_qs[{i + 1}] AS p{round(q * 100)}" for i, q in enumerate(qs))
        sql = f"""SELECT {keys}{qcols}, n FROM (
            SELECT {select_g}quantile_cont(latency_ms, [{qlist}]) AS _qs, count(*) AS n
            FROM {base} {grouped})"""
    else:
        part = f"PARTITION BY {', '.join(names)}" if names else ""
        qcols = ", ".join(f"{_quantile_sql(q)} AS p{round(q * 100)}" for q in qs)
        sql = f"""
            WITH h AS (SELECT {select_g}lb, sum(n) AS n FROM {base} GROUP BY ALL),
            c AS (SELECT *, sum(n) OVER ({part} ORDER BY lb ROWS UNBOUNDED PRECEDING) AS cum,
                            sum(n) OVER ({part}) AS tot FROM h)
            SELECT {keys}{qcols}, sum(n) AS n FROM c {grouped}"""
    if names:
        sql += " ORDER BY ALL"
    return cur.df(sql, [*(group_params or []), *params])


def latency_totals(
    store: Store,
    f: Filters,
    now: datetime | None = None,
    previous: bool = False,
    exact: bool = False,
) -> dict[str, float | None]:
    """p50 and p95 latency (ms) over the period (or the one before), None without latencies
    (``exact``: from the request rows, as ``latency_series``)."""
    window = f.previous_window(now) if previous else f.window(now)
    source = _source(f, None, window, exact=exact)
    with store.read() as cur:
        row = _percentiles(cur, f, window, {}, (0.5, 0.95), source).iloc[0]
    return {k: (None if pd.isna(row[k]) else float(row[k])) for k in ("p50", "p95")}


def latency_series(
    store: Store,
    f: Filters,
    q: float,
    breakdown: str | None = None,
    top_n: int = 10,
    granularity: str | None = None,
    now: datetime | None = None,
    exact: bool = False,
) -> pd.DataFrame:
    """The ``q`` percentile (ms) per time bucket (and per ``breakdown`` value: the top
    ``top_n`` by requests, the rest merged). Columns as ``lib.analytics.usage.series``: bucket,
    grp (all, top or other), series (the value of ``top`` rows, None when they have none),
    value. ``exact``: from the request rows of the period (slower: every request with a
    latency in it), never a histogram."""
    gran = granularity or f.granularity
    groups = {
        "bucket": "date_trunc(?, timezone(?, t))",
        "series": f"CAST({breakdown} AS VARCHAR)" if breakdown else "NULL::VARCHAR",
    }
    window = f.window(now)
    with store.read() as cur:
        source = _source(f, breakdown, window, gran, exact)
        out = _percentiles(cur, f, window, groups, (q,), source,
                           top=("series", top_n) if breakdown else None, group_params=[gran, f.tz])  # fmt: skip
    if not breakdown:
        out["grp"] = "all"
    out = out.rename(columns={f"p{round(q * 100)}": "value"})
    return out[["bucket", "grp", "series", "value"]]


def latency_by(
    store: Store, f: Filters, breakdown: str, now: datetime | None = None, exact: bool = False
) -> pd.DataFrame:
    """p50 and p95 latency (ms) per ``breakdown`` value (None for rows without one) over the
    period (``exact``: from the request rows, as ``latency_series``)."""
    groups = {breakdown: f"CAST({breakdown} AS VARCHAR)"}
    window = f.window(now)
    source = _source(f, breakdown, window, exact=exact)
    with store.read() as cur:
        out = _percentiles(cur, f, window, groups, (0.5, 0.95), source)
    return out.drop(columns="n").rename(columns={"p50": "p50_latency", "p95": "p95_latency"})
