"""What one import did: the ``ImportResult`` every entry point returns and every after-commit
callback receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Where an import came from (``imports.origin``): a file given to the command line, a file
# uploaded on the Data page, a pull from a provider's admin API, one playground run, the
# gateway's journal, or the demo data.
ORIGINS = ("file", "upload", "pull", "playground", "gateway", "demo")


@dataclass
class ImportResult:
    """What one import did. Counts are rows; the period is [start, end) in UTC (for request
    events: the first and last event's time); ``seconds`` is wall-clock time; ``origin`` is
    one of ``ORIGINS``."""

    import_id: int
    file_name: str
    format: str
    source: str
    grain: str
    rows_read: int
    rows_new: int
    rows_duplicate: int
    rows_replaced: int
    period_start: datetime | None
    period_end: datetime | None
    seconds: float
    notes: list[str] = field(default_factory=list)
    origin: str = "file"

    def summary_line(self) -> str:
        period = ""
        if self.period_start and self.period_end:
            period = f", {self.period_start:%Y-%m-%d %H:%M} → {self.period_end:%Y-%m-%d %H:%M} UTC"
        text = (
            f"{self.file_name}: {self.format} ({self.grain}) as import #{self.import_id}: "
            f"{self.rows_read:,} rows read, {self.rows_new:,} new, {self.rows_duplicate:,} duplicate, "
            f"{self.rows_replaced:,} replaced{period} in {self.seconds:.1f} s"
        )
        for note in self.notes:
            text += f" (note: {note})"
        return text
