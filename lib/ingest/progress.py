"""Progress lines of an import, a pull and the demo loader: a code and its values.

A progress callback receives a ``ProgressLine``: a ``str`` holding the English sentence (what
the command line prints, and what a callback that only wants text reads), with ``code`` and
``values`` for a page that words it in its own language (``lib.ui.import_words.progress``).
Values are raw: counts as ``int``, sizes in MB and seconds as ``float``, dates as ``date``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

ProgressCode = Literal[
    "recognised",  # display, format, mb: the file's format is known, its rows are read next
    "text_reader",  # display: a typed read met a value it could not read; reading as text
    "records",  # display, format, n: records in memory (a pull's pages, a playground run)
    "reading_rows",  # display, percent, seconds: DuckDB's progress on the insert
    "rows_read",  # display, rows: the rows are in; duplicates are looked for next
    "committing",  # display
    "pull_fetching",  # api, endpoint, start, end: one endpoint of a pull, its days (UTC)
    "pull_page",  # endpoint, n: the n-th page of that endpoint
    "pull_importing",  # endpoint: its pages go to the import engine
    "demo_generating",  # n, days: the demo's traffic is generated
]

# The English sentence of each code (``str.format`` over the values).
ENGLISH: dict[ProgressCode, str] = {
    "recognised": "{display}: {format} recognised; importing {mb:,.1f} MB",
    "text_reader": "{display}: some values need the text reader; reading again",
    "records": "{display}: {format}; importing {n:,} record(s)",
    "reading_rows": "{display}: reading rows {percent:.0f}% ({seconds:.0f} s)",
    "rows_read": "{display}: {rows:,} rows read; checking duplicates",
    "committing": "{display}: committing",
    "pull_fetching": "{api}: fetching {endpoint} {start} → {end}",
    "pull_page": "{endpoint}: page {n}",
    "pull_importing": "importing {endpoint}",
    "demo_generating": "generating {n:,} demo requests over {days} days",
}


class ProgressLine(str):
    """One progress line: its English sentence (the ``str``), its ``code`` and ``values``."""

    code: ProgressCode
    values: dict[str, object]

    def __new__(cls, code: ProgressCode, /, **values: object) -> ProgressLine:
        line = super().__new__(cls, ENGLISH[code].format(**values))
        line.code = code
        line.values = values
        return line


# What an import, a pull or the demo loader calls with each ``ProgressLine``.
Progress = Callable[[str], None]


def quiet(_line: str) -> None:
    """A progress callback that says nothing."""
