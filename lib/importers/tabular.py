"""The ``Tabular`` every step of an import passes along: a file ready to be read by DuckDB
(CSV, JSON records or Parquet), described by ``lib.importers.read``.

Its methods read samples when a later step needs them (the types DuckDB may read natively,
the text columns that need no trim, rows for judging how numbers and dates are written) and
turn a reader's error into a message naming the line. Column names are quoted here.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb

from lib.errors import InputError
from lib.i18n import N_
from lib.importers import rules
from lib.store.db import Cursor

_DUCK_LINE_RE = re.compile(r"on Line: (\d+)|in line (\d+)|line (\d+)", re.I)
_JSON_RECORD_RE = re.compile(r"in record/value (\d+)")
_COLS_RE = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


class TypedReadMismatch(InputError):
    """A natively typed column met a value only the text reader understands: retry as text."""


def normalise_name(name: str) -> str:
    """Lower case, accents removed, every run of non-alphanumerics one underscore (for
    importers that look for one exact column name)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def quote_ident(name: str) -> str:
    """A column name from a file, quoted as a SQL identifier (never a value)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Tabular:
    """A tabular file ready to be read by DuckDB.

    ``read_sql`` is a table-function call with ``?`` placeholders bound to ``read_params``;
    ``columns`` maps each column name to its DuckDB type (``VARCHAR`` for text files).
    """

    path: str
    display: str
    kind: Literal["csv", "jsonl", "parquet"]
    read_sql: str
    read_params: list[Any]
    columns: dict[str, str]
    encoding: str = "utf-8"
    delimiter: str | None = None
    decimal_comma: bool = False
    dayfirst: bool = True
    notes: list[str] = field(default_factory=list)
    typed: bool = False
    untrimmed: set[str] = field(default_factory=set)  # text columns that need no trim()
    # A private copy DuckDB reads instead of the file (see ``_readable_json``); it is removed
    # when this object is dropped.
    copy: Any = field(default=None, repr=False, compare=False)

    @property
    def names(self) -> dict[str, str]:
        """Each column by its ``normalise_name`` (``costUSD`` → ``costusd``, ``Start Time`` →
        ``start_time``), for importers that look for one exact column name."""
        return {normalise_name(c): c for c in self.columns}

    def refine_types(
        self, cur: Cursor, wanted: dict[str, str], money_type: str | None = None
    ) -> None:
        """Let DuckDB read clean numeric and ISO timestamp columns natively (much faster
        than converting text); everything else stays text. ``wanted`` maps a column to the
        kind it will be read as (``int``, ``float``, ``ts``; anything else stays text).

        Only the sniffer's sample decides: a later value that does not fit makes the import
        retry with every column as text (see ``TypedReadMismatch``).
        """
        if self.kind != "csv" or not wanted:
            return
        try:
            row = cur.execute(
                "SELECT Columns, DateFormat, TimestampFormat FROM sniff_csv(?, delim = ?, header = true, "
                "quote = '\"', escape = '\"', strict_mode = true, encoding = ?)",
                [self.path, self.delimiter, self.read_params[3]],
            ).fetchone()
        except duckdb.Error:
            return
        sniffed = {c["name"]: c["type"] for c in row[0]} if row else {}
        iso_dates = row is not None and not row[1] and not row[2]
        if list(sniffed) != list(self.columns):
            return
        types = dict(self.columns)
        for column, kind in wanted.items():
            t = sniffed.get(column, "VARCHAR")
            if kind == "int" and t in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"):
                types[column] = "BIGINT"
            elif kind == "float" and t in ("BIGINT", "INTEGER", "DOUBLE"):
                types[column] = "DOUBLE"
            elif kind == "money" and t in ("BIGINT", "INTEGER", "DOUBLE"):
                # parsed from the text, exactly; by default at the stored scale (20 decimals)
                types[column] = money_type or rules.MONEY_SQL
            elif (
                kind == "ts"
                and iso_dates
                and t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "DATE")
            ):
                types[column] = t
        if types != self.columns:
            self.columns = types
            self.read_params[2] = types
            self.typed = True
        self._find_clean_text(cur)

    def _find_clean_text(self, cur: Cursor) -> None:
        """Text columns whose sampled values never carry surrounding spaces are not trimmed
        (trimming every value of a large file costs seconds); the rest are."""
        text = [c for c, t in self.columns.items() if t == "VARCHAR"]
        if not text:
            return
        checks = ", ".join(
            f"coalesce(bool_or({quote_ident(c)} <> trim({quote_ident(c)})), false)" for c in text
        )
        try:
            row = cur.execute(
                f"SELECT {checks} FROM (SELECT * FROM {self.read_sql} LIMIT 20000)",
                self.read_params,
            ).fetchone()
        except duckdb.Error:
            return
        if row is not None:
            self.untrimmed = {c for c, spaced in zip(text, row, strict=True) if not spaced}

    def as_text(self) -> None:
        """Back to reading every column as text."""
        self.untrimmed = set()
        self.columns = {c: "VARCHAR" for c in self.columns}
        if self.kind == "csv":
            self.read_params[2] = self.columns
        self.typed = False

    def sample(self, cur: Cursor, cols: Sequence[str], n: int = 2000) -> list:
        """Up to ``n`` rows of the given columns (for style detection)."""
        sel = ", ".join(quote_ident(c) for c in cols)
        sql = f"SELECT {sel} FROM {self.read_sql} LIMIT {int(n)}"
        return cur.execute(sql, self.read_params).fetchall()

    def physical_line(self, row_number: int) -> int | None:
        """The 1-based line of the file on which data row ``row_number`` (1-based) starts."""
        if self.kind == "parquet":
            return None
        with open(self.path, encoding=self.encoding, newline="", errors="replace") as fh:
            if self.kind == "jsonl":
                seen = 0
                for lineno, line in enumerate(fh, start=1):
                    if line.strip():
                        seen += 1
                        if seen == row_number:
                            return lineno
                return None
            reader = csv.reader(fh, delimiter=self.delimiter or ",")
            prev_end = 0
            seen = -1  # the header is record 0
            for record in reader:
                start = prev_end + 1
                prev_end = reader.line_num
                if not record:
                    continue
                seen += 1
                if seen == row_number:
                    return start
        return None

    def wrap_error(self, err: duckdb.Error) -> InputError:
        """Turn a DuckDB reader error into an ``InputError`` naming the line and problem."""
        text = str(err)
        if self.typed and ("Could not convert" in text or "converting column" in text):
            return TypedReadMismatch(self.display, "a value does not fit the sampled column type")
        m = _DUCK_LINE_RE.search(text)
        line = next((int(g) for g in m.groups() if g), None) if m else None
        element = None
        if self.kind == "jsonl" and "Malformed JSON" in text:
            # DuckDB counts JSON records from 2: "line N" is the (N-1)th non-blank line,
            # "record/value N" the array element [N-2]
            rec = _JSON_RECORD_RE.search(text)
            if rec and "format = 'array'" in self.read_sql:
                element, line = f"[{int(rec.group(1)) - 2}]", None
            elif line is not None:
                line = self.physical_line(line - 1)
        cols = _COLS_RE.search(text)
        if cols:
            return InputError(
                self.display,
                N_("this row has {n} fields", n=cols.group(2)),
                line=line,
                expected=N_("{n} fields, like the header", n=cols.group(1)),
            )
        if "unicode" in text.lower() or "encoding" in text.lower():
            return InputError(
                self.display,
                N_("the text is not valid in the detected encoding"),
                line=line,
                field=element,
                expected=N_("{encoding} text", encoding=self.encoding.upper()),
            )
        if "Malformed JSON" in text or "JSON" in text:
            return InputError(
                self.display,
                N_("malformed JSON"),
                line=line,
                field=element,
                expected=N_("one JSON object per line")
                if element is None
                else N_("a JSON array of objects"),
            )
        first = text.splitlines()[0] if text else type(err).__name__
        return InputError(self.display, N_("could not be read: {why}", why=first), line=line)
