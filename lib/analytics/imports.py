"""The import history as the Data page shows it: one row per import, newest first, with
codes (status, origin, grain) that the page words."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

import pandas as pd

from lib.ingest.ledger import history
from lib.store import Store

# Which imports the history shows: every one, or those of one status.
Show = Literal["all", "ok", "failed", "undone"]
SHOW: tuple[str, ...] = ("all", "ok", "failed", "undone")
COLUMNS = ("import_id", "status", "file_name", "is_demo", "origin", "format", "grain", "rows_read",
           "rows_new", "rows_duplicate", "rows_replaced", "period_start", "period_end", "started_at",
           "error")  # fmt: skip


def import_history(store: Store, show: str = "all", limit: int = 500) -> pd.DataFrame:
    """The last ``limit`` imports (of status ``show`` unless "all"), newest first. Columns:
    ``COLUMNS`` (status ok | failed | undone; origin file | upload | pull | playground |
    gateway | demo; times in UTC)."""
    rows = [asdict(r) for r in history(store, limit)]
    df = pd.DataFrame(rows, columns=list(COLUMNS)) if rows else pd.DataFrame(columns=list(COLUMNS))
    df = df[list(COLUMNS)]
    return df if show == "all" else df[df["status"] == show].reset_index(drop=True)
