"""Step 2 of an import, reading: a file's first bytes, what kind of file it is, and a
description of how to read it — a ``Tabular`` for CSV, JSON records and Parquet (read later
by DuckDB's own readers, never row by row in Python), or the parsed JSON documents of a
report or API response.

CSV files are read as people really save them: ``,`` ``;`` tab or ``|`` separators, UTF-8
with or without BOM or Latin-1, CRLF, blank lines. Every CSV column is read as text and
converted by ``lib.importers.values`` so that decimal commas, thousands separators and
day-first dates are understood; Parquet keeps its own types. JSON is parsed with exact
decimals; records (JSON Lines, an array of objects) are only sampled here, and streamed by
DuckDB at import time.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from decimal import Decimal
from typing import Any, Literal

import duckdb

from lib.errors import InputError
from lib.i18n import N_
from lib.importers import rules
from lib.importers.tabular import Tabular, quote_ident
from lib.store.db import Cursor

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
MAX_JSON_DOCUMENT = 512 * 1024 * 1024
FileKind = Literal["csv", "json", "parquet"]


def first_bytes(path: str, display: str) -> bytes:
    """The first ``SAMPLE_BYTES`` of the file; an unreadable or empty file is an
    ``InputError``."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
    except OSError as err:
        raise InputError(display, N_("cannot be read ({why})", why=str(err.strerror))) from None
    if size == 0 or not sample.strip():
        raise InputError(display, N_("the file is empty"), expected=N_("an export with data rows"))
    return sample


def file_kind(sample: bytes, display: str) -> FileKind:
    """Parquet (its magic bytes), JSON (a first ``{`` or ``[``) or else CSV; binary content
    that is none of them is an ``InputError``."""
    if sample.startswith(b"PAR1"):
        return "parquet"
    detect_encoding(sample, display)
    head = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "json" if head[:1] in (b"{", b"[") else "csv"


def _read_sample(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(SAMPLE_BYTES)


def detect_encoding(sample: bytes, display: str) -> str:
    """``utf-8`` (BOM or not) or ``latin-1``; binary content raises ``InputError``."""
    if b"\x00" in sample[:8192]:
        raise InputError(
            display,
            N_("binary content, not a text export"),
            found="NUL bytes",
            expected=N_("a CSV, JSON, JSON Lines or Parquet file"),
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
        raise InputError(
            display, N_("the file is empty"), expected=N_("a header line and data rows")
        )
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
                display, N_("the JSON is nested too deeply"), line=lineno, expected=N_("records")
            ) from None
        except json.JSONDecodeError as err:
            raise InputError(
                display,
                N_("malformed JSON ({why})", why=err.msg),
                line=lineno,
                expected=N_("one JSON object per line"),
            ) from None
        if not isinstance(obj, dict):
            raise InputError(
                display, N_("a line is not a JSON object"), line=lineno, found=line[:60]
            )
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
            N_("malformed JSON ({why})", why=msg),
            line=line,
            found=f"column {col}",
            expected=N_("a JSON array of objects"),
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
                display,
                N_("the JSON is nested too deeply"),
                expected=N_("records (a few levels deep)"),
            ) from None
        pos = skip(pos)
        if pos >= len(text):
            if complete:
                raise InputError(
                    display,
                    N_("the JSON ends early (truncated file?)"),
                    line=text.count("\n") + 1,
                    expected=N_("a complete JSON array"),
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
            display, N_("not a readable Parquet file: {why}", why=str(err).splitlines()[0])
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


# -- JSON documents ------------------------------------------------------------
def _loads(text: str | bytes, display: str, line: int | None = None) -> Any:
    """``json.loads`` with exact decimals; nesting too deep for Python is an ``InputError``."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=Decimal)
    except RecursionError:
        raise InputError(
            display,
            N_("the JSON is nested too deeply"),
            line=line,
            expected=N_("a usage or cost report, or records (a few levels deep)"),
        ) from None


def _decode(data: bytes, display: str, first_line: int = 1) -> str:
    """UTF-8 text (a leading BOM dropped); invalid bytes are an ``InputError`` naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            display,
            N_("the text is not valid UTF-8"),
            line=first_line + data.count(b"\n", 0, err.start),
            found=f"byte 0x{data[err.start]:02x}",
            expected=N_("UTF-8 text (JSON is always UTF-8)"),
        ) from None


def sample_text(sample: bytes) -> str:
    """The sample as text, cut before the first byte that is not UTF-8 (checked later)."""
    try:
        return sample.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return sample[: err.start].decode("utf-8-sig")


def first_line_doc(sample: bytes, display: str) -> tuple[Any, bool] | None:
    """(first value, more lines follow) when the sample's first non-blank line is one complete
    JSON value followed by a line break; None when it is not (a document over several lines,
    or a first line longer than the sample)."""
    text = sample_text(sample)
    body = text.lstrip(" \t\r\n")
    cut = body.find("\n")
    if cut < 0:
        return None
    try:
        doc = _loads(body[:cut], display, line=1 + text[: len(text) - len(body)].count("\n"))
    except json.JSONDecodeError:
        return None
    return doc, bool(body[cut:].strip())


def array_records(sample: bytes, display: str) -> list[Any]:
    """The elements of a top-level JSON array that lie wholly in the sample (up to 500)."""
    text = sample_text(sample).lstrip(" \t\r\n")
    decoder = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal)
    pos, out = 1, list[Any]()
    while len(out) < 500:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            break
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
        except RecursionError:
            raise InputError(
                display,
                N_("the JSON is nested too deeply"),
                expected=N_("a usage or cost report, or records (a few levels deep)"),
            ) from None
        out.append(value)
    return out


def stream_lines(path: str, display: str) -> list[Any]:
    """Every non-blank line of a JSON Lines file, parsed one line at a time."""
    docs = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = _decode(raw, display, lineno) if lineno > 1 else _decode(raw, display)
            if not line.strip():
                continue
            try:
                docs.append(_loads(line, display, line=lineno))
            except json.JSONDecodeError as err:
                raise _malformed_line(display, err, lineno) from None
    return docs


def _malformed_line(display: str, err: json.JSONDecodeError, lineno: int) -> InputError:
    return InputError(
        display,
        N_("malformed JSON on this line ({why})", why=err.msg),
        line=lineno,
        expected=N_("one complete JSON value per line"),
    )


def load_json(path: str, display: str) -> tuple[Any, bool]:
    """The parsed document, or the list of parsed lines for JSON Lines: (value, is_lines)."""
    if os.path.getsize(path) > MAX_JSON_DOCUMENT:
        raise InputError(
            display,
            N_("this JSON document is too large to import at once"),
            expected=N_("JSON Lines or Parquet for large request logs"),
        )
    with open(path, "rb") as fh:
        text = _decode(fh.read(), display)
    try:
        return _loads(text, display), False
    except json.JSONDecodeError as whole_err:
        lines = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
        docs = []
        for lineno, line in lines:
            try:
                docs.append(_loads(line, display, line=lineno))
            except json.JSONDecodeError as err:
                if len(docs) == 0 or len(lines) == 1:
                    break
                raise _malformed_line(display, err, lineno) from None
        else:
            if len(docs) > 1:
                return docs, True
        ends_early = whole_err.pos >= len(text.rstrip()) - 1
        problem = (
            N_("the JSON ends early (truncated file?)")
            if ends_early
            else N_("malformed JSON ({why})", why=whole_err.msg)
        )
        raise InputError(
            display,
            problem,
            line=whole_err.lineno,
            found=f"column {whole_err.colno}",
            expected=N_("a complete JSON document"),
        ) from None


def file_columns(path: str, cur: Cursor) -> list[str]:
    """The column names of a tabular file (for an explicit mapping); [] when not tabular."""
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if sample.startswith(b"PAR1"):
        return list(open_parquet(path, os.path.basename(path), cur).columns)
    head = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] == b"{":
        return list(open_jsonl(path, os.path.basename(path), sample).columns)
    if head[:1] == b"[":
        records = array_records(sample, os.path.basename(path))
        if records and all(isinstance(r, dict) for r in records):
            return list(json_records(path, os.path.basename(path), records, "array").columns)
        return []
    return list(open_csv(path, os.path.basename(path), sample).columns)
