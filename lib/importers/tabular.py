"""Opening tabular files (CSV, JSON Lines, Parquet) with DuckDB's own readers.

CSV files are read as people really save them: ``,`` ``;`` tab or ``|`` separators, UTF-8
with or without BOM or Latin-1, CRLF, blank lines. Every CSV column is read as text and
converted by ``lib.importers.values`` so that decimal commas, thousands separators and
day-first dates are understood; Parquet keeps its own types.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb

from lib.errors import InputError
from lib.importers import rules
from lib.store.db import Cursor

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
_DUCK_LINE_RE = re.compile(r"on Line: (\d+)|in line (\d+)|line (\d+)", re.I)
_JSON_RECORD_RE = re.compile(r"in record/value (\d+)")
_COLS_RE = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


class TypedReadMismatch(InputError):
    """A natively typed column met a value only the text reader understands: retry as text."""


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
                f"this row has {cols.group(2)} fields",
                line=line,
                expected=f"{cols.group(1)} fields, like the header",
            )
        if "unicode" in text.lower() or "encoding" in text.lower():
            return InputError(
                self.display,
                "the text is not valid in the detected encoding",
                line=line,
                field=element,
                expected=f"{self.encoding.upper()} text",
            )
        if "Malformed JSON" in text or "JSON" in text:
            return InputError(
                self.display,
                "malformed JSON",
                line=line,
                field=element,
                expected="one JSON object per line"
                if element is None
                else "a JSON array of objects",
            )
        first = text.splitlines()[0] if text else type(err).__name__
        return InputError(self.display, f"could not be read: {first}", line=line)


def _read_sample(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(SAMPLE_BYTES)


def detect_encoding(sample: bytes, display: str) -> str:
    """``utf-8`` (BOM or not) or ``latin-1``; binary content raises ``InputError``."""
    if b"\x00" in sample[:8192]:
        raise InputError(
            display,
            "binary content, not a text export",
            found="NUL bytes",
            expected="a CSV, JSON, JSON Lines or Parquet file",
        )
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as err:
        if err.start >= len(sample) - 3:  # a character cut by the sample boundary
            return "utf-8"
    return "latin-1"


def _unique_names(raw: list[str]) -> list[str]:
    """Column names made unique (``a``, ``a_2``, ``a_3``…; blanks become ``column_N``), in
    time linear in the number of columns."""
    names: list[str] = []
    taken: set[str] = set()
    next_suffix: dict[str, int] = {}
    for i, name in enumerate(raw, start=1):
        base = name.strip().lstrip("\ufeff") or f"column_{i}"
        cand, n = base, next_suffix.get(base, 2)
        if cand in taken:
            cand = f"{base}_{n}"
            while cand in taken:
                n += 1
                cand = f"{base}_{n}"
            next_suffix[base] = n + 1
        taken.add(cand)
        names.append(cand)
    return names


def open_csv(path: str, display: str, sample: bytes | None = None) -> Tabular:
    """Detect encoding, separator and header of a CSV file and describe how to read it."""
    sample = sample if sample is not None else _read_sample(path)
    encoding = detect_encoding(sample, display)
    text = sample.decode("utf-8" if encoding == "utf-8" else "latin-1", errors="ignore")
    text = text.lstrip("\ufeff")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise InputError(display, "the file is empty", expected="a header line and data rows")
    header = lines[0]
    delimiter = max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ","
    raw_names = next(csv.reader(io.StringIO(header), delimiter=delimiter))
    rules.check_columns(display, raw_names, "columns")
    names = _unique_names(raw_names)
    columns = {n: "VARCHAR" for n in names}
    read_sql = (
        "read_csv(?, delim = ?, header = true, auto_detect = false, columns = ?, "
        "quote = '\"', escape = '\"', strict_mode = true, null_padding = false, encoding = ?)"
    )
    return Tabular(
        path=path,
        display=display,
        kind="csv",
        read_sql=read_sql,
        read_params=[path, delimiter, columns, "latin-1" if encoding == "latin-1" else "utf-8"],
        columns=columns,
        encoding=encoding,
        delimiter=delimiter,
    )


def open_jsonl(path: str, display: str, sample: bytes | None = None) -> Tabular:
    """Describe a JSON Lines file: one object per line, keys taken from the first lines."""
    sample = sample if sample is not None else _read_sample(path)
    records: list[dict[str, Any]] = []
    lines = sample.decode("utf-8", errors="ignore").lstrip("\ufeff").splitlines()
    complete = lines[:-1] if len(sample) == SAMPLE_BYTES else lines
    for lineno, line in enumerate(complete[:500], start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except RecursionError:
            raise InputError(
                display, "the JSON is nested too deeply", line=lineno, expected="records"
            ) from None
        except json.JSONDecodeError as err:
            raise InputError(
                display,
                f"malformed JSON ({err.msg})",
                line=lineno,
                expected="one JSON object per line",
            ) from None
        if not isinstance(obj, dict):
            raise InputError(display, "a line is not a JSON object", line=lineno, found=line[:60])
        records.append(obj)
    return json_records(path, display, records, "newline_delimited")


MAX_NESTING = 8  # levels of objects flattened into dotted paths


def _leaves(obj: dict[str, Any], prefix: tuple[str, ...], out: dict[tuple[str, ...], None]) -> None:
    """The paths of the scalar values of ``obj`` (objects walked, arrays left out)."""
    for key, value in obj.items():
        path = (*prefix, str(key))
        if isinstance(value, dict):
            if len(path) < MAX_NESTING:
                _leaves(value, path, out)
        elif not isinstance(value, list):
            out[path] = None


def _json_path(keys: tuple[str, ...]) -> str:
    """A JSON path for DuckDB's ``json_extract_string`` with every key quoted."""
    return "$" + "".join('."' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys)


_JSON_SPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"


def _trailing_comma(path: str) -> int | None:
    """The offset of a comma left before the closing ``]`` of a top-level JSON array, as
    Helicone's export CLI writes it with ``--format json`` (every record followed by
    ``",\n"``, then ``"]\n"``): ``…},\n]\n``. None for any other ending."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    body = tail.rstrip(_JSON_SPACE)
    if not body.endswith(b"]"):
        return None
    body = body[:-1].rstrip(_JSON_SPACE)
    if not body.endswith(b",") or not body[:-1].rstrip(_JSON_SPACE).endswith(b"}"):
        return None
    return size - len(tail) + len(body) - 1


def _check_array(text: str, display: str, complete: bool) -> None:
    """Refuse a JSON array of records that Python's strict parser does not read, with the line
    and column (DuckDB's reader lets some mistakes through, such as ``{"a": 1,}``). Only the
    text given is checked (``complete``: the whole file; else its first bytes, where a record
    cut at the end is expected). A trailing comma is accepted only before the final ``]``."""
    decoder = json.JSONDecoder()

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos

    def bad(pos: int, msg: str) -> InputError:
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return InputError(
            display,
            f"malformed JSON ({msg})",
            line=line,
            found=f"column {col}",
            expected="a JSON array of objects",
        )

    pos = skip(0)
    if text[pos : pos + 1] != "[":
        raise bad(pos, "expected '['")
    pos = skip(pos + 1)
    if text[pos : pos + 1] == "]":
        pos = skip(pos + 1)
        if pos < len(text):
            raise bad(pos, "extra data after the array")
        return
    while True:
        try:
            _value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            if complete:
                raise bad(err.pos, err.msg) from None
            return  # a record cut by the end of the sample: DuckDB reads the rest
        except RecursionError:
            raise InputError(
                display, "the JSON is nested too deeply", expected="records (a few levels deep)"
            ) from None
        pos = skip(pos)
        if pos >= len(text):
            if complete:
                raise InputError(
                    display,
                    "the JSON ends early (truncated file?)",
                    line=text.count("\n") + 1,
                    expected="a complete JSON array",
                )
            return
        if text[pos] == ",":
            pos = skip(pos + 1)
            if text[pos : pos + 1] == "]" and not text[skip(pos + 1) :]:
                return  # Helicone's trailing comma, at the very end only
            if pos >= len(text) and not complete:
                return
            continue
        if text[pos] == "]":
            pos = skip(pos + 1)
            if pos < len(text):
                raise bad(pos, "extra data after the array")
            return
        raise bad(pos, "expected ',' or ']'")


def _readable_json(
    path: str, display: str, fmt: Literal["newline_delimited", "array"]
) -> tuple[str, str, Any]:
    """(the path DuckDB reads, its ``read_json`` format, the private copy to keep alive).

    DuckDB refuses a UTF-8 BOM in JSON Lines, a file holding one record object when told it
    is an array, and the trailing comma of Helicone's JSON export: the first two are read in
    DuckDB's automatic mode, the last from a private copy with that one comma made a space
    (same size, so line numbers stay those of the file)."""
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
        complete = len(head) < SAMPLE_BYTES or not fh.read(1)
    body = head.removeprefix(_BOM).lstrip(_JSON_SPACE)
    if fmt == "newline_delimited":
        return path, ("auto" if head.startswith(_BOM) else fmt), None
    if body.startswith(b"{"):
        return path, "auto", None  # one record, not an array
    text = head.decode("utf-8-sig", errors="replace")
    _check_array(text, display, complete)
    comma = _trailing_comma(path)
    if comma is None:
        return path, fmt, None
    copy = tempfile.NamedTemporaryFile(prefix="tokenboard-", suffix=".json")  # noqa: SIM115
    with open(path, "rb") as src:
        shutil.copyfileobj(src, copy, 4 * 1024 * 1024)
    copy.seek(comma)
    copy.write(b" ")
    copy.flush()
    return copy.name, fmt, copy


def json_records(
    path: str, display: str, records: list[Any], fmt: Literal["newline_delimited", "array"]
) -> Tabular:
    """A JSON Lines file or JSON array of records as a table: nested objects are flattened
    into dotted paths (``input.inputTokenCount``) read by DuckDB's JSON functions, so an
    object is never taken for a value; arrays are left out. The paths come from the sampled
    records; DuckDB streams the whole file (see ``_readable_json`` for what it is helped
    with: a BOM, one record alone, Helicone's trailing comma)."""
    source, read_fmt, copy = _readable_json(path, display, fmt)
    paths: dict[tuple[str, ...], None] = {}
    for rec in records:
        if isinstance(rec, dict):
            _leaves(rec, (), paths)
            rules.check_columns(display, paths, "keys")
    nested = {p[0] for p in paths if len(p) > 1}
    top: dict[str, str] = {}
    for p in paths:
        top.setdefault(p[0], "JSON" if p[0] in nested else "VARCHAR")
    # A record wrapped whole in one object (``{"data": {…}}``, OpenRouter's generation) is
    # named without that envelope: ``created_at``, not ``data.created_at``.
    cut = 1 if len(top) == 1 and nested and all(len(p) > 1 for p in paths) else 0
    names = _unique_names([".".join(p[cut:]) for p in paths])
    select: list[str] = []
    params: list[Any] = []
    for p, name in zip(paths, names, strict=True):
        if len(p) == 1 and p[0] not in nested:
            expr = quote_ident(p[0])
        elif len(p) == 1:  # a key that is an object elsewhere: its scalar value here
            expr = f"CASE WHEN json_type({quote_ident(p[0])}) NOT IN ('OBJECT', 'ARRAY') THEN {quote_ident(p[0])} ->> '$' END"
        else:
            expr = f"json_extract_string({quote_ident(p[0])}, ?)"
            params.append(_json_path(p[1:]))
        select.append(f"{expr} AS {quote_ident(name)}")
    reader = f"read_json(?, format = '{read_fmt}', columns = ?, maximum_object_size = 16777216)"
    if not nested:
        columns = {n: "VARCHAR" for n in names}
        return Tabular(source, display, "jsonl", reader, [source, top], columns, copy=copy)
    read_sql = f"(SELECT {', '.join(select)} FROM {reader})"
    columns = {n: "VARCHAR" for n in names}
    return Tabular(source, display, "jsonl", read_sql, [*params, source, top], columns, copy=copy)


def open_parquet(path: str, display: str, cur: Cursor) -> Tabular:
    """Describe a Parquet file with its own column types."""
    try:
        desc = cur.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
    except duckdb.Error as err:
        raise InputError(
            display, f"not a readable Parquet file: {str(err).splitlines()[0]}"
        ) from None
    columns = {row[0]: row[1] for row in desc}
    rules.check_columns(display, columns, "columns")
    return Tabular(path, display, "parquet", "read_parquet(?)", [path], columns)


def enveloped_records(path: str, display: str, records: list[Any]) -> Tabular:
    """The records inside API pages saved whole (``{"data": [record…], …}``: one page, a
    JSON array of pages or one page per line) as a table, nested objects flattened into
    dotted paths as ``json_records`` does; ``records`` are a sample of them (their paths
    name the columns). DuckDB streams the pages' ``data``; every value is read as text."""
    paths: dict[tuple[str, ...], None] = {}
    for rec in records:
        if isinstance(rec, dict):
            _leaves(rec, (), paths)
            rules.check_columns(display, paths, "keys")
    names = _unique_names([".".join(p) for p in paths])
    select: list[str] = []
    params: list[Any] = []
    for p, name in zip(paths, names, strict=True):
        # a scalar only: a key that holds an object or a list in another record gives NULL
        select.append(
            f"CASE WHEN json_type(r, ?) NOT IN ('OBJECT', 'ARRAY') "
            f"THEN json_extract_string(r, ?) END AS {quote_ident(name)}"
        )
        params += [_json_path(p), _json_path(p)]
    read_sql = (
        f"(SELECT {', '.join(select) or 'NULL AS empty'} FROM (SELECT unnest(data) AS r FROM "
        "read_json(?, format = 'auto', columns = ?, maximum_object_size = 16777216)))"
    )
    columns = {n: "VARCHAR" for n in names}
    return Tabular(path, display, "jsonl", read_sql, [*params, path, {"data": "JSON[]"}], columns)
