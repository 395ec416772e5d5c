"""The import history as the Data page shows it: one row per import, newest first, with
codes (status, origin, grain) that the page words."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

import pandas as pd

from lib.ingest.ledger import history
from lib.ingest.result import ORIGINS
from lib.store import Store

# Which imports the history shows: every one, or those of one status.
Show = Literal["all", "ok", "failed", "undone"]
SHOW: tuple[str, ...] = ("all", "ok", "failed", "undone")
COLUMNS = ("import_id", "status", "file_name", "is_demo", "origin", "format", "grain", "rows_read",
           "rows_new", "rows_duplicate", "rows_replaced", "period_start", "period_end", "started_at",
           "error")  # fmt: skip
# The origins the history lists: every one but ``playground`` (each run is an import of its
# own; the Playground page lists them), so many runs never crowd out files and pulls.
LISTED_ORIGINS: tuple[str, ...] = tuple(o for o in ORIGINS if o != "playground")


def import_history(store: Store, show: str = "all", limit: int = 500) -> pd.DataFrame:
    """The last ``limit`` imports of ``LISTED_ORIGINS`` (no playground runs), of status
    ``show`` unless "all", newest first; the status is chosen before the limit, so "failed"
    finds a failure behind any number of newer imports. Columns: ``COLUMNS`` (status ok |
    failed | undone; origin file | upload | pull | gateway | demo; times in UTC)."""
    status = None if show == "all" else show
    rows = [asdict(r) for r in history(store, limit, LISTED_ORIGINS, status)]
    df = pd.DataFrame(rows, columns=list(COLUMNS)) if rows else pd.DataFrame(columns=list(COLUMNS))
    return df[list(COLUMNS)]
