"""The values each filter dimension takes in the data (for the filter pickers)."""

from __future__ import annotations

from lib.store import Store

_LIMIT = 500  # a picker with more values than this is typed into, not scrolled


def dimension_values(store: Store) -> dict[str, list[str]]:
    """Distinct providers, projects, models (families), model snapshots (the names the sources
    gave), API keys and users, from the rollups (never the
    raw request rows). Each list is sorted and capped at 500 values."""
    out: dict[str, list[str]] = {}
    with store.read() as cur:
        for dim, table in (("provider", "agg_hourly"), ("project", "agg_hourly"), ("model", "agg_hourly"),
                           ("snapshot", "agg_hourly"), ("api_key", "agg_hourly"),
                           ("user_id", "agg_user_daily")):  # fmt: skip
            rows = cur.execute(
                f"SELECT DISTINCT {dim} FROM {table} WHERE {dim} IS NOT NULL ORDER BY 1 LIMIT {_LIMIT}"
            ).fetchall()
            out[dim] = [r[0] for r in rows]
    return out
