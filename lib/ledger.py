"""The import ledger, read for people: newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lib.store import Store


@dataclass(frozen=True)
class LedgerRow:
    import_id: int
    status: str  # ok | failed | undone
    file_name: str
    format: str | None
    grain: str | None
    rows_read: int | None
    rows_new: int | None
    rows_duplicate: int | None
    rows_replaced: int | None
    period_start: datetime | None
    period_end: datetime | None
    started_at: datetime
    is_demo: bool
    error: str | None


def history(store: Store, limit: int = 500) -> list[LedgerRow]:
    """The last ``limit`` imports, newest first."""
    rows = store.query(
        """SELECT import_id, status, file_name, format, grain, rows_read, rows_new, rows_duplicate,
                  rows_replaced, period_start, period_end, started_at, is_demo, error
           FROM imports ORDER BY import_id DESC LIMIT ?""",
        [limit],
    )
    return [LedgerRow(*r) for r in rows]
