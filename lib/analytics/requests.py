"""The request rows behind a chart: paged, never the whole table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from lib.filters import DIMENSIONS, Filters
from lib.store import Store

COLUMNS = ("ts", "provider", "model", "project", "api_key", "user_id", "status", "http_status", "error_code",
           "latency_ms", "input_tokens", "cached_input_tokens", "output_tokens", "cost_usd", "request_id")  # fmt: skip
MAX_PAGE = 500


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
    params: list[Any] = [start, end, *dim_params]
    for dim, value in (where or {}).items():
        if dim not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dim}")
        if value is None:
            clauses.append(f"{dim} IS NULL")
        else:
            clauses.append(f"{dim} = ?")
            params.append(value)
    size = max(1, min(int(page_size), MAX_PAGE))
    cond = " AND ".join(clauses)
    with store.read() as cur:
        total = cur.execute(f"SELECT count(*) FROM request_events WHERE {cond}", params).fetchone()[
            0
        ]
        rows = cur.df(
            f"SELECT {', '.join(COLUMNS)} FROM request_events WHERE {cond} ORDER BY ts DESC, request_id "
            f"LIMIT {size} OFFSET {max(0, int(page)) * size}",
            params,
        )
    return rows, int(total)
