"""Hourly rollups, maintained at import time so totals never scan raw request rows.

``hour`` is the epoch second of the UTC hour start (integer arithmetic). Request events
roll up from ``request_events`` of one import (per user: per UTC day); usage buckets roll up from the live (not
replaced) rows of a source, wholesale, since a newer pull can replace part of an older one.
A usage bucket wider than an hour is counted in the hour it starts, and ``span_s`` says how
long it is (3600 for request events), so a chart can draw it over the time it covers. ``model`` is the model
family (the ``model_family`` macro) and ``snapshot`` the name the source gave.
"""

from __future__ import annotations

from lib.store.db import Cursor
from lib.store.migrations import LATENCY_BUCKET_SQL, SPAN_SQL, STREAMS_SELECT

_MEASURES_REQUEST = """
    count(*) AS rows,
    count(*) AS requests,
    count(*) FILTER (WHERE status = 'error') AS errors,
    sum(input_tokens) AS input_tokens,
    sum(cached_input_tokens) AS cached_input_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    0 AS cache_write_1h_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(cost_usd) AS cost_usd,
    count(cost_usd) AS cost_n,
    sum(latency_ms) AS latency_sum_ms,
    count(latency_ms) AS latency_n
"""

_MEASURES_USAGE = """
    count(*) AS rows,
    sum(requests) AS requests,
    sum(errors) AS errors,
    sum(input_tokens) AS input_tokens,
    sum(cached_input_tokens) AS cached_input_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(cost_usd) AS cost_usd,
    count(cost_usd) AS cost_n,
    NULL AS latency_sum_ms,
    NULL AS latency_n
"""

# Grouping on one 64-bit hash of the string dimensions (and carrying their values with
# any_value) is about 2.5× faster than grouping on the strings themselves. Two different
# dimension tuples in the same hour would need equal 64-bit hashes to merge: with a few
# hundred tuples per hour that is about 1 in 10^12 over 90 days.
HOUR_OF = "(epoch_ms({col}) // 3600000) * 3600"
# Rollups keep the model family in ``model`` and the source's name in ``snapshot`` (migration 10)
FAMILY = "model_family({})"
DAY_OF = "(epoch_ms({col}) // 86400000) * 86400"


# Every dimension a request rollup keeps: one small dictionary of their combinations per
# import (a few thousand rows for millions of events) carries their values, so the rollups
# group the events by a hash alone (``any_value`` of five strings over 300,000 groups cost
# more than the grouping itself) and the model family is named once per name, not per row.
_REQUEST_DIMS = ("provider", "model", "project", "api_key", "user_id", "batch", "http_status",
                 "error_type", "error_code")  # fmt: skip
_KEY_DIMS = ["provider", "model", "project", "api_key"]  # the latency histogram by key


def _grouped(
    time_sql: str, dims: list[str], measures: str, where: str, also: str = "",
    rows: str = "request_events",
) -> str:  # fmt: skip
    """SELECT of one rollup of the events in ``rows`` (a table with request_events' columns):
    the time column (and ``also``, a column of the SELECT), ``h`` (a hash of ``dims``, joined
    to ``_dims`` for their values) and the measures. Parameters: ``where``'s."""
    return f"""SELECT {time_sql}, hash({", ".join(dims)}) AS h, {measures}
        FROM {rows} WHERE {where}
        GROUP BY 1, {also + ", " if also else ""}h"""


def _dims_of(dims: list[str]) -> str:
    """SELECT of ``h`` (as in ``_grouped``) and the values of ``dims`` from ``_dims``: the model
    as its family, with the name the source gave as ``snapshot``."""
    carried = ", ".join(
        f"{FAMILY.format('any_value(model)')} AS model, any_value(model) AS snapshot"
        if d == "model"
        else f"any_value({d}) AS {d}"
        for d in dims
    )
    return f"SELECT hash({', '.join(dims)}) AS h, {carried} FROM _dims GROUP BY 1"


# The columns of ``error_events`` (migration 26): the error rows of request_events, kept apart
# so the Errors page reads the errors of its period only, not every request of it.
ERROR_EVENT_COLUMNS = ("import_id", "source", "event_key", "ts", "request_id", "provider", "model",
                       "project", "api_key", "user_id", "http_status", "error_code", "error_type",
                       "error_message", "error_fingerprint", "retry_after_ms")  # fmt: skip

# Every table derived from request events by import (``import_id``): added together by
# ``add_request_events``, dropped together by ``drop_import``.
BY_IMPORT = ("agg_hourly", "agg_user_daily", "agg_error_hourly", "agg_latency_hourly",
             "agg_latency_key_hourly", "agg_latency_user_daily", "error_events",
             "agg_error_group_hourly", "agg_latency_key_daily")  # fmt: skip

# The error groups per hour (migration 28) of the error rows in ``_errors``; parameters: the
# import and its source. The model family is named once per model name.
_ERROR_GROUPS = f"""INSERT INTO agg_error_group_hourly BY NAME
    SELECT ?::BIGINT AS import_id, ?::VARCHAR AS source, g.*, f.model FROM (
        SELECT {HOUR_OF.format(col="ts")} AS hour, provider, model AS snapshot, project, api_key,
               http_status, error_code, error_type, error_fingerprint, retry_after_ms,
               count(*) AS errors, min(ts) AS first_ts, max(ts) AS last_ts,
               arg_max(error_message, ts) AS last_message
        FROM _errors GROUP BY ALL) g
    LEFT JOIN (SELECT DISTINCT model AS snapshot, {FAMILY.format("model")} AS model FROM _errors) f
        ON f.snapshot IS NOT DISTINCT FROM g.snapshot"""


def add_request_import(cur: Cursor, import_id: int, source: str) -> None:
    """Roll up the request events of one import (all of one ``source``) into every rollup."""
    add_request_events(cur, import_id, source, "import_id = ?", [import_id])


def add_request_events(cur: Cursor, import_id: int, source: str, where: str, params: list) -> None:
    """Roll up the request events that ``where`` (SQL with ``params``) selects, all of one
    import and source, into every rollup (rollup rows add up, so events can come in batches),
    and copy their error rows to ``error_events``."""
    every = ", ".join(_REQUEST_DIMS)
    carried = ", ".join(f"any_value({d}) AS {d}" for d in _REQUEST_DIMS)
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dims AS
            SELECT {carried} FROM request_events WHERE {where} GROUP BY hash({every})""",
        params,
    )
    hour = HOUR_OF.format(col="ts") + " AS hour"
    day = DAY_OF.format(col="ts") + " AS day"
    latency = f"{LATENCY_BUCKET_SQL} AS lb, count(*) AS n"
    ids = [import_id, source]
    # the latency histogram by key, once; the ones by model and by key per day are summed from
    # it (a quarter as many rows as requests at 10M, instead of another pass over the events)
    by_key = _grouped(hour, _KEY_DIMS, latency, f"({where}) AND latency_ms IS NOT NULL", "lb")
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE _lat AS SELECT g.* EXCLUDE (h), d.* EXCLUDE (h)
            FROM ({by_key}) g JOIN ({_dims_of(_KEY_DIMS)}) d USING (h)""",
        params,
    )
    cur.execute(
        """INSERT INTO agg_latency_key_hourly BY NAME
           SELECT ?::BIGINT AS import_id, ?::VARCHAR AS source, * FROM _lat""",
        ids,
    )
    cur.execute(
        """INSERT INTO agg_latency_hourly BY NAME
           SELECT ?::BIGINT AS import_id, ?::VARCHAR AS source, x.* FROM (
               SELECT hour, provider, model, snapshot, lb, sum(n) AS n FROM _lat GROUP BY ALL) x""",
        ids,
    )
    cur.execute(
        """INSERT INTO agg_latency_key_daily BY NAME
           SELECT ?::BIGINT AS import_id, ?::VARCHAR AS source, x.* FROM (
               SELECT (hour // 86400) * 86400 AS day, provider, model, snapshot, project, api_key,
                      lb, sum(n) AS n
               FROM _lat GROUP BY ALL) x""",
        ids,
    )
    # the error rows, once: kept apart in error_events, and counted per hour from there
    cols = ", ".join(ERROR_EVENT_COLUMNS[1:])
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE _errors AS SELECT {cols} FROM request_events
            WHERE ({where}) AND status = 'error' ORDER BY ts""",
        params,
    )
    cur.execute(
        "INSERT INTO error_events BY NAME SELECT ?::BIGINT AS import_id, * FROM _errors",
        [import_id],
    )
    cur.execute(_ERROR_GROUPS, ids)
    for table, time_sql, dims, measures, extra, rows, also in (
        ("agg_latency_user_daily", day, ["provider", "model", "project", "user_id"], latency,
         " AND latency_ms IS NOT NULL", "request_events", "lb"),
        ("agg_hourly", hour, ["provider", "model", "project", "api_key", "batch"],
         _MEASURES_REQUEST, "", "request_events", ""),
        ("agg_user_daily", day, ["provider", "model", "project", "user_id", "batch"],
         _MEASURES_REQUEST, "", "request_events", ""),
        ("agg_error_hourly", hour, ["provider", "model", "project", "api_key", "http_status",
         "error_type", "error_code"], "count(*) AS errors", "", "_errors", ""),
    ):  # fmt: skip
        grain = "'request' AS grain, " if table in ("agg_hourly", "agg_user_daily") else ""
        events = rows == "request_events"  # _errors holds these events' errors only
        sql = _grouped(time_sql, dims, measures, f"({where}){extra}" if events else "true", also,
                       rows)  # fmt: skip
        cur.execute(
            f"""INSERT INTO {table} BY NAME
                SELECT {grain}?::BIGINT AS import_id, ?::VARCHAR AS source, g.* EXCLUDE (h), d.* EXCLUDE (h)
                FROM ({sql}) g JOIN ({_dims_of(dims)}) d USING (h)""",
            [*ids, *(params if events else [])],
        )
    for temp in ("_dims", "_lat", "_errors"):
        cur.execute(f"DROP TABLE {temp}")
    first, last = cur.execute(
        f"SELECT min({DAY_OF.format(col='ts')}), max({DAY_OF.format(col='ts')}) "
        f"FROM request_events WHERE {where}",
        params,
    ).fetchall()[0]
    if first is not None:  # only the days these events fall on can change
        refresh_streams(cur, (int(first) // 86400, int(last) // 86400))


def rebuild_usage_source(cur: Cursor, source: str) -> None:
    """Recompute the rollups of one usage source from its live buckets."""
    for table in ("agg_hourly", "agg_user_daily"):
        cur.execute(f"DELETE FROM {table} WHERE grain = 'usage' AND source = ?", [source])
    hour = HOUR_OF.format(col="bucket_start")
    day = DAY_OF.format(col="bucket_start")
    for table, time_col, dim in (
        ("agg_hourly", f"{hour} AS hour", "api_key"),
        ("agg_user_daily", f"{day} AS day", "user_id"),
    ):
        cur.execute(
            f"""INSERT INTO {table} BY NAME
            SELECT import_id, 'usage' AS grain, source, {time_col}, provider,
                   {FAMILY.format("model")} AS model, model AS snapshot, project,
                   {dim}, batch, {SPAN_SQL} AS span_s, {_MEASURES_USAGE}
            FROM usage_buckets WHERE source = ? AND replaced_by IS NULL GROUP BY ALL""",
            [source],
        )
    refresh_streams(cur)


def drop_import(cur: Cursor, import_id: int) -> None:
    for table in BY_IMPORT:
        cur.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id])
    refresh_streams(cur)


# STREAMS_SELECT over the rollup rows of the epoch days [?, ?] only (parameters: first day,
# last day, twice): the streams of a day depend on that day's rows alone.
_STREAMS_OF_DAYS = STREAMS_SELECT.replace(
    "FROM agg_hourly)", "FROM agg_hourly WHERE hour // 86400 BETWEEN ? AND ?)"
).replace(
    "FROM s JOIN agg_hourly a\n",
    "FROM s JOIN (SELECT * FROM agg_hourly WHERE hour // 86400 BETWEEN ? AND ?) a\n",
)
assert _STREAMS_OF_DAYS.count("BETWEEN ? AND ?") == 2


def refresh_streams(cur: Cursor, days: tuple[int, int] | None = None) -> None:
    """Recompute ``token_streams`` (the counted stream per provider and day) from agg_hourly;
    called after every change to agg_hourly, inside the same transaction. With ``days``
    (first and last epoch day, ``epoch seconds // 86400``, both included) only those days'
    streams are recomputed (the others cannot have changed): an import of one day touches
    one day's rows of the table, however many days it holds."""
    if days is None:
        cur.execute("DELETE FROM token_streams")
        cur.execute(f"INSERT INTO token_streams {STREAMS_SELECT}")
        return
    first, last = days
    cur.execute("DELETE FROM token_streams WHERE day BETWEEN ? AND ?", [first, last])
    cur.execute(f"INSERT INTO token_streams {_STREAMS_OF_DAYS}", [first, last, first, last])
