"""Pages of rows newest first that read a few hours of rows, not the whole period.

An hourly rollup counts the rows of each hour (``agg_hourly``: request rows; ``agg_error_hourly``:
error rows). From it come the total and the newest hour from which at least as many rows remain
as a page needs (its offset plus its size), so the sort reads those hours only: at 100M
requests a 30-day window holds 33M request rows and 800,000 errors, a page of 100 a few hours.
Only where the rollup counts exactly the rows the page lists: a window on whole UTC hours that
does not reach before the retention horizon (the rollups keep the totals of the rows retention
removed), under conditions the rollup's columns can state (the caller's to check).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lib.ingest import retention
from lib.store import Cursor


def rollup_counts_rows(cur: Cursor, window: tuple[datetime, datetime]) -> bool:
    """True when an hourly rollup counts exactly the rows of ``window`` that are stored: the
    window is on whole UTC hours and does not reach before the retention horizon (the rollups
    keep the totals of the rows retention removed)."""
    start, end = window
    if start.timestamp() % 3600 or end.timestamp() % 3600:
        return False
    cut = retention.horizon_of(cur)
    return cut is None or start >= retention.day_start(cut)


def newest_hours(
    cur: Cursor,
    table: str,
    measure: str,
    conds: list[str],
    params: list[Any],
    window: tuple[datetime, datetime],
    need: int,
) -> tuple[int, datetime] | None:
    """(rows in ``window`` under ``conds`` (SQL over ``table``'s columns, with ``params``),
    the start of the newest hours holding at least ``need`` of them, else the window's start)
    from ``table``'s ``hour`` and ``measure`` (SQL: its row count); None when the window is not
    on whole UTC hours or starts before the retention horizon."""
    if not rollup_counts_rows(cur, window):
        return None
    start, end = window
    lo, hi = int(start.timestamp()), int(end.timestamp())
    where = " AND ".join(["hour >= ?", "hour < ?", *conds])
    total, since = cur.execute(
        f"""WITH h AS (SELECT hour, sum({measure}) AS n FROM {table} WHERE {where} GROUP BY hour),
            c AS (SELECT hour, sum(n) OVER (ORDER BY hour DESC) AS cum FROM h)
            SELECT (SELECT coalesce(sum(n), 0) FROM h), (SELECT max(hour) FROM c WHERE cum >= ?)""",
        [lo, hi, *params, need],
    ).fetchall()[0]
    return int(total), start if since is None else datetime.fromtimestamp(int(since), start.tzinfo)
