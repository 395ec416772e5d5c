"""Usage over time and by dimension, from the counted streams.

Every query reads the rollups (``agg_hourly``, or ``agg_user_daily`` when users are involved)
and counts tokens, requests and costs from one stream per provider and day (``token_streams``),
so two sources describing the same traffic are never added together; error rates come from
whichever source states errors. Time buckets are cut
in the filters' reporting time zone and returned as local (naive) timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from lib.analytics.latency import latency_by, latency_series, latency_totals
from lib.filters import DIMENSIONS, Filters
from lib.pricing.estimate import BATCH_FACTOR_SQL, COST_SQL, LIST_COST_SQL, model_map
from lib.store import Cursor, Store


@dataclass(frozen=True)
class Metric:
    key: str
    unit: str  # a code: "requests", "tokens", "errors", "USD", "%", "ms" (lib.ui.words names it)
    sql: str  # aggregate over the rollup columns (and ``est`` for estimated cost); "" for latency
    quantile: float | None = None  # latency percentiles come from the latency histograms

    @property
    def additive(self) -> bool:
        """Amounts add up over time and across series; rates and percentiles do not."""
        return self.unit not in ("%", "ms")


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("requests", "requests", "sum(c_requests)"),
        Metric("input_tokens", "tokens", "sum(c_input_tokens)"),
        Metric("cached_input_tokens", "tokens", "sum(c_cached_input_tokens)"),
        Metric("output_tokens", "tokens", "sum(c_output_tokens)"),
        Metric("estimated_cost", "USD", "sum(est)"),
        Metric("stated_cost", "USD", "sum(c_cost_usd)"),
        Metric("errors", "errors", "sum(e_errors)"),
        Metric("error_rate", "%", "100.0 * sum(e_errors) / nullif(sum(e_requests), 0)"),
        Metric("p50_latency", "ms", "", 0.5),
        Metric("p95_latency", "ms", "", 0.95),
    )
}
SUMMED = {k: m for k, m in METRICS.items() if m.quantile is None}
# The API key of per-user rows (a code the page words): the per-user rollup keeps no key.
ALL_KEYS = "(all keys)"
# The dimensions a view can be broken down by (codes; lib.ui.words names them).
BREAKDOWNS: tuple[str, ...] = ("model", "snapshot", "provider", "project", "api_key", "user_id")
# The ``grp`` of a series row: ``all`` (no breakdown), ``top`` (one of the top values, named in
# ``series``, None when the rows have no value), ``other`` (every other value, merged).
SeriesGroup = Literal["all", "top", "other"]


def _uses_users(f: Filters, breakdown: str | None) -> bool:
    return breakdown == "user_id" or "user_id" in f.dims


def counted_rows(
    cur: Cursor, f: Filters, breakdown: str | None, window: tuple[datetime, datetime]
) -> tuple[str, list[Any]]:
    """A subquery of rollup rows inside ``window`` and the filters' dimensions, with:
    ``t`` (epoch seconds of the row's hour or day); ``c_*`` measures of the counted stream
    only (tokens, requests, costs: never two sources for the same traffic; ``c_cost_whole`` is
    the stated cost of rows whose every fact states one, ``est_unstated`` the estimate of the
    others; requests come from
    the request logs of that provider and day when the counted stream states none, as
    Anthropic's usage report does); ``e_errors`` and
    ``e_requests`` for error rates (the counted stream when it states errors, else the request
    logs of that day); ``est`` (estimated cost, USD); for savings: ``est_list`` (the same at list
    prices, before the batch discount), ``saved_cache`` (what cache reads saved against
    uncached input, USD), ``could_cache`` (what the uncached input would save if it were all
    read from cache, USD, before any cache-write charge) and ``batch_discount`` (share off).
    With users involved the rows come from the per-user rollup, which keeps no API key: their
    ``api_key`` is ``ALL_KEYS`` (a key breakdown shows one row for all keys)."""
    users = _uses_users(f, breakdown)
    table, tcol = ("agg_user_daily", "day") if users else ("agg_hourly", "hour")
    start, end = window
    # the per-user rollup has no key: the key filter applies to the other views only
    dims = tuple(d for d in DIMENSIONS if not (users and d == "api_key"))
    dim_where, dim_params = f.dims_sql(dims, prefix="r.")
    where = [f"r.{tcol} >= ?", f"r.{tcol} < ?", *dim_where]
    params: list[Any] = [int(start.timestamp()), int(end.timestamp()), *dim_params]
    models = [r[0] for r in cur.execute(f"SELECT DISTINCT snapshot FROM {table}").fetchall()]
    usage_models, price_models = model_map(cur, models)
    sql = f"""(
        WITH m AS (SELECT unnest(?::VARCHAR[]) AS model, unnest(?::VARCHAR[]) AS price_model),
        c AS (
            SELECT r.*, {"? AS api_key, " if users else ""}r.{tcol} AS t, m.price_model,
                   CAST(to_timestamp(r.{tcol} // 86400 * 86400) AS DATE) AS d,
                   coalesce(s.stream = CASE WHEN r.grain = 'request' THEN '*request' ELSE r.source END, false)
                       AS counted,
                   s.stated_errors, s.stated_requests, s.stream
            FROM {table} r
            LEFT JOIN token_streams s ON s.provider = r.provider AND s.day = r.{tcol} // 86400
            LEFT JOIN m ON r.snapshot = m.model
            WHERE {" AND ".join(where)}),
        -- the price in force per model and day: an ASOF join over these few pairs, then a hash
        -- join, is 5-10x faster than an ASOF join over every rollup row
        pd AS (
            SELECT k.price_model, k.d, p.*
            FROM (SELECT DISTINCT m.price_model, CAST(to_timestamp(g.range) AS DATE) AS d
                  FROM m, range(?, ?, 86400) g) k
            ASOF JOIN prices p ON lower(p.model) = k.price_model AND k.d >= p.effective_from)
        SELECT c.*,
               CASE WHEN counted AND stated_requests THEN requests
                    WHEN grain = 'request' AND NOT coalesce(stated_requests, false) THEN requests
                    END AS c_requests,
               CASE WHEN counted THEN input_tokens END AS c_input_tokens,
               CASE WHEN counted THEN cached_input_tokens END AS c_cached_input_tokens,
               CASE WHEN counted THEN output_tokens END AS c_output_tokens,
               CASE WHEN counted THEN cost_usd END AS c_cost_usd,
               CASE WHEN counted AND cost_n = rows THEN cost_usd END AS c_cost_whole,
               CASE WHEN counted AND stated_errors THEN errors
                    WHEN grain = 'request' AND NOT coalesce(stated_errors, false) THEN errors END AS e_errors,
               CASE WHEN counted AND stated_errors THEN requests
                    WHEN grain = 'request' AND NOT coalesce(stated_errors, false) THEN requests END AS e_requests,
               CASE WHEN counted THEN {COST_SQL} END AS est,
               -- the estimate once per row: the alias above is reused
               CASE WHEN NOT coalesce(cost_n = rows, false) THEN est END AS est_unstated,
               CASE WHEN counted THEN {LIST_COST_SQL} END AS est_list,
               CASE WHEN counted THEN cached_input_tokens * (p.input_per_mtok
                    - coalesce(p.cached_input_per_mtok, p.input_per_mtok)) * 0.000001 * {BATCH_FACTOR_SQL}
                    END AS saved_cache,
               CASE WHEN counted THEN greatest(input_tokens - cached_input_tokens - cache_write_tokens, 0)
                    * (p.input_per_mtok - coalesce(p.cached_input_per_mtok, p.input_per_mtok)) * 0.000001
                    * {BATCH_FACTOR_SQL} END AS could_cache,
               p.batch_discount
        FROM c LEFT JOIN pd p ON p.price_model = c.price_model AND p.d = c.d
        WHERE counted OR grain = 'request'
    )"""
    first_day = int(start.timestamp()) // 86400 * 86400
    keys = [ALL_KEYS] if users else []
    return sql, [usage_models, price_models, *keys, *params, first_day, int(end.timestamp())]


def series(
    store: Store,
    f: Filters,
    metric: str,
    breakdown: str | None = None,
    top_n: int = 10,
    now: datetime | None = None,
    exact: bool = False,
) -> pd.DataFrame:
    """``metric`` per time bucket (and per ``breakdown`` value, the top ``top_n`` by the metric
    over the period, the rest merged). Columns: bucket, grp (``SeriesGroup``: all, top or
    other), series (the value for ``top`` rows, None when those rows have none; None for
    ``all`` and ``other``), value; per hour also ``span_h``: the hours the row's source
    buckets cover (1, or 24 for a daily usage export, whose row then starts at the bucket's
    first hour and stands for the whole day: draw it over ``span_h`` hours, never as that one
    hour's value). ``exact``: latency percentiles from the request rows, not the histograms."""
    m = METRICS[metric]
    gran = "day" if _uses_users(f, breakdown) and f.granularity == "hour" else f.granularity
    if m.quantile is not None:
        return latency_series(store, f, m.quantile, breakdown, top_n, gran, now, exact)
    with store.read() as cur:
        base, params = counted_rows(cur, f, breakdown, f.window(now))
        dim = f"CAST({breakdown} AS VARCHAR)" if breakdown else "NULL::VARCHAR"
        hourly = gran == "hour"
        # per hour, rows of wider buckets (span_s > 1 h) stay apart from the hourly rows
        span = ", span_s > 3600 AS wide, max(span_s) // 3600 AS span_h" if hourly else ""
        grp = "'all'" if not breakdown else "CASE WHEN top.is_top THEN 'top' ELSE 'other' END"
        sql = f"""
            WITH b AS (SELECT date_trunc(?, timezone(?, to_timestamp(t))) AS bucket, {dim} AS series_, *
                       FROM {base}),
            top AS (SELECT series_, true AS is_top FROM b GROUP BY series_
                    ORDER BY {m.sql} DESC NULLS LAST, series_ NULLS LAST LIMIT ?)
            SELECT bucket, {grp} AS grp,
                   CASE WHEN top.is_top THEN b.series_ END AS series, {m.sql} AS value{span}
            FROM b LEFT JOIN top ON b.series_ IS NOT DISTINCT FROM top.series_
            GROUP BY ALL ORDER BY bucket, grp DESC, series NULLS LAST"""
        out = cur.df(sql, [gran, f.tz, *params, top_n])
    if hourly:
        out = out.drop(columns="wide")
        out["span_h"] = out["span_h"].fillna(1).astype(int)
    return out


def wider_than_hours(df: pd.DataFrame) -> str:
    """How a per-hour ``series`` result relates to its sources' buckets (a code): ``hourly``
    (every row with a value is one hour), ``daily`` (every such row stands for a day or more:
    show days, there is no hourly shape to draw) or ``mixed``."""
    if "span_h" not in df or df.empty:
        return "hourly"
    if (df["span_h"] > 1).all():
        return "daily"
    spans = df.loc[df["value"].notna(), "span_h"]  # rows without a value draw nothing
    if spans.empty or (spans <= 1).all():
        return "hourly"
    return "daily" if (spans > 1).all() else "mixed"


def breakdown_table(
    store: Store,
    f: Filters,
    breakdown: str,
    now: datetime | None = None,
    latency: bool = True,
    exact: bool = False,
) -> pd.DataFrame:
    """Every metric per ``breakdown`` value (None for rows without one) over the period,
    largest estimated cost first (without the latency percentiles when ``latency`` is False:
    they may read request rows; ``exact``: the percentiles from the request rows)."""
    with store.read() as cur:
        base, params = counted_rows(cur, f, breakdown, f.window(now))
        cols = ", ".join(f"{m.sql} AS {k}" for k, m in SUMMED.items())
        sql = f"""SELECT CAST({breakdown} AS VARCHAR) AS {breakdown}, {cols}
                  FROM {base} GROUP BY 1 ORDER BY estimated_cost DESC NULLS LAST, requests DESC NULLS LAST"""
        table = cur.df(sql, params)
    if not latency:
        return table
    return table.merge(latency_by(store, f, breakdown, now, exact), on=breakdown, how="left")


def tops(
    store: Store, f: Filters, dims: tuple[str, ...], n: int = 5, now: datetime | None = None
) -> dict[str, pd.DataFrame]:
    """The ``n`` largest values of each of ``dims`` by estimated cost (then requests) over the
    period, from one pass (GROUPING SETS). Each frame: the dimension (None for rows without a
    value), estimated_cost, requests."""
    with store.read() as cur:
        base, params = counted_rows(cur, f, None, f.window(now))
        keys = ", ".join(f"CAST({d} AS VARCHAR) AS {d}" for d in dims)
        sets = ", ".join(f"({d})" for d in dims)
        which = " ".join(f"WHEN grouping({d}) = 0 THEN '{d}'" for d in dims)
        table = cur.df(
            f"""SELECT CASE {which} END AS dim, {keys}, sum(est) AS estimated_cost,
                       sum(c_requests) AS requests
                FROM {base} GROUP BY GROUPING SETS ({sets})""",
            params,
        )
    out = {}
    for d in dims:
        part = table[table["dim"] == d][[d, "estimated_cost", "requests"]]
        out[d] = part.sort_values(["estimated_cost", "requests", d], ascending=[False, False, True],
                                  na_position="last").head(n).reset_index(drop=True)  # fmt: skip
    return out


def totals(
    store: Store, f: Filters, now: datetime | None = None, previous: bool = False
) -> dict[str, Any]:
    """Every metric over the period (or the period just before it, with ``previous``)."""
    window = f.previous_window(now) if previous else f.window(now)
    with store.read() as cur:
        base, params = counted_rows(cur, f, None, window)
        cols = ", ".join(f"{m.sql} AS {k}" for k, m in SUMMED.items())
        row = cur.execute(f"SELECT {cols} FROM {base}", params).fetchone()
    assert row is not None  # an aggregate without GROUP BY always has its one row
    out = dict(zip(SUMMED, row, strict=True))
    lat = latency_totals(store, f, now, previous)
    return {**out, "p50_latency": lat["p50"], "p95_latency": lat["p95"]}


def totals_pair(
    store: Store, f: Filters, now: datetime | None = None, exact: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``totals`` of the period and of the one before, from one pass over both (they are
    adjacent: the previous period ends where this one starts; ``exact``: latency percentiles
    from the request rows)."""
    (p_start, _), (start, end) = f.previous_window(now), f.window(now)  # previous ends at start
    with store.read() as cur:
        base, params = counted_rows(cur, f, None, (p_start, end))
        cols = ", ".join(f"{m.sql} AS {k}" for k, m in SUMMED.items())
        rows = cur.execute(
            f"SELECT t >= ? AS current, {cols} FROM {base} GROUP BY 1",
            [int(start.timestamp()), *params],
        ).fetchall()
    found = {r[0]: dict(zip(SUMMED, r[1:], strict=True)) for r in rows}
    empty = dict.fromkeys(SUMMED)
    pair = []
    for current in (True, False):
        lat = latency_totals(store, f, now, previous=not current, exact=exact)
        pair.append(
            {**found.get(current, empty), "p50_latency": lat["p50"], "p95_latency": lat["p95"]}
        )
    return pair[0], pair[1]
