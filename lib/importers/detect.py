"""Recognise a file's format from its content (never its name) and plan its import."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from decimal import Decimal
from itertools import islice
from typing import Any, Literal

from lib.errors import InputError
from lib.importers import provider_api
from lib.importers.base import Asked, Importer, Plan
from lib.importers.formats import FORMATS, RANKED
from lib.importers.tabular import (
    SAMPLE_BYTES,
    Tabular,
    detect_encoding,
    enveloped_records,
    json_records,
    open_csv,
    open_jsonl,
    open_parquet,
)
from lib.store.db import Cursor

__all__ = ["FORMATS", "file_columns", "plan_file"]
MAX_JSON_DOCUMENT = 512 * 1024 * 1024


def _error_body(doc: Any) -> str | None:
    """The message of an API error response saved instead of data, else None."""
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        err = doc["error"]
        kind = err.get("type") or err.get("code") or "error"
        return f"{kind}: {err.get('message', '')}".strip()
    if (  # Helicone's ResultError: {"data": null, "error": "…"}
        isinstance(doc, dict)
        and "data" in doc
        and doc["data"] is None
        and isinstance(doc.get("error"), str)
        and doc["error"].strip()
    ):
        return f"error: {doc['error'].strip()}"
    return None


def _loads(text: str | bytes, display: str, line: int | None = None) -> Any:
    """``json.loads`` with exact decimals; nesting too deep for Python is an ``InputError``."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=Decimal)
    except RecursionError:
        raise InputError(
            display,
            "the JSON is nested too deeply",
            line=line,
            expected="a usage or cost report, or records (a few levels deep)",
        ) from None


def _decode(data: bytes, display: str, first_line: int = 1) -> str:
    """UTF-8 text (a leading BOM dropped); invalid bytes are an ``InputError`` naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            display,
            "the text is not valid UTF-8",
            line=first_line + data.count(b"\n", 0, err.start),
            found=f"byte 0x{data[err.start]:02x}",
            expected="UTF-8 text (JSON is always UTF-8)",
        ) from None


def _sample_text(sample: bytes) -> str:
    """The sample as text, cut before the first byte that is not UTF-8 (checked later)."""
    try:
        return sample.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return sample[: err.start].decode("utf-8-sig")


def _is_record(doc: Any) -> bool:
    """A request/usage record (not an API page, legacy response or error body)."""
    return (
        isinstance(doc, dict)
        and not isinstance(doc.get("data"), list)
        and _error_body(doc) is None
        and not provider_api.is_bucket(doc)
        and not provider_api.is_page(doc)
    )


def _enveloped(docs: list[Any]) -> list[Any]:
    """A sample (up to 500) of the records inside API pages saved whole: every document an
    object whose ``data`` is a list of records (Helicone's ``{"data": [...], "error": null}``,
    a gateway's ``{"data": [...], "total": …}``); [] when they are not such pages."""
    if not docs or not all(isinstance(d, dict) and isinstance(d.get("data"), list) for d in docs):
        return []
    records = list(islice((r for d in docs for r in d["data"]), 500))
    return records if records and all(_is_record(r) for r in records) else []


def _first_line_doc(sample: bytes, display: str) -> tuple[Any, bool] | None:
    """(first value, more lines follow) when the sample's first non-blank line is one complete
    JSON value followed by a line break; None when it is not (a document over several lines,
    or a first line longer than the sample)."""
    text = _sample_text(sample)
    body = text.lstrip(" \t\r\n")
    cut = body.find("\n")
    if cut < 0:
        return None
    try:
        doc = _loads(body[:cut], display, line=1 + text[: len(text) - len(body)].count("\n"))
    except json.JSONDecodeError:
        return None
    return doc, bool(body[cut:].strip())


def _array_records(sample: bytes, display: str) -> list[Any]:
    """The elements of a top-level JSON array that lie wholly in the sample (up to 500)."""
    text = _sample_text(sample).lstrip(" \t\r\n")
    decoder = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal)
    pos, out = 1, []
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
                "the JSON is nested too deeply",
                expected="a usage or cost report, or records (a few levels deep)",
            ) from None
        out.append(value)
    return out


def _stream_lines(path: str, display: str) -> list[Any]:
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
        f"malformed JSON on this line ({err.msg})",
        line=lineno,
        expected="one complete JSON value per line",
    )


def _load_json(path: str, display: str) -> tuple[Any, bool]:
    """The parsed document, or the list of parsed lines for JSON Lines: (value, is_lines)."""
    if os.path.getsize(path) > MAX_JSON_DOCUMENT:
        raise InputError(
            display,
            "this JSON document is too large to import at once",
            expected="JSON Lines or Parquet for large request logs",
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
            "the JSON ends early (truncated file?)"
            if ends_early
            else f"malformed JSON ({whole_err.msg})"
        )
        raise InputError(
            display,
            problem,
            line=whole_err.lineno,
            found=f"column {whole_err.colno}",
            expected="a complete JSON document",
        ) from None


def _api_error(display: str, doc: Any) -> None:
    """Refuse an API error response saved instead of data."""
    msg = _error_body(doc)
    if msg:
        raise InputError(
            display,
            "this is an API error response saved instead of data",
            found=msg,
            expected="a usage or cost report",
        )


def _decisive(docs: list[Any]) -> Importer | None:
    """The importer of documents that recognises ``docs`` by a shape of its own, else None."""
    return next((i for i in RANKED["docs"] if i.decisive and i.looks_like(docs)), None)


def _choose_docs(docs: list[Any], fmt: str | None) -> Importer | None:
    """The importer of these documents: one that recognises them by a shape of its own
    (``decisive``; it may refuse another --format), else the one --format names (``take``),
    else the first that recognises them; None when none does."""
    found = _decisive(docs)
    if found is not None:
        return found
    ranked = RANKED["docs"]
    forced = next((i for i in ranked if fmt in i.names and i.named == "take"), None)
    if forced is not None:
        return forced
    return next((i for i in ranked if not i.decisive and i.looks_like(docs)), None)


def _choose_table(reads: Literal["table", "records"], tab: Tabular, fmt: str | None) -> Importer:
    """The importer of a table (CSV, Parquet) or of JSON records: the one --format names
    (``take``; ``check``: only if it looks like the file), else the first that looks like
    it; the generic importer, last, looks like anything. A --format that no importer of
    tables answers to is refused; on records it is not forced (the generic importer reads
    them)."""
    ranked = RANKED[reads]
    for imp in ranked:
        named = fmt in imp.names
        if (named and imp.named == "take") or ((fmt is None or named) and imp.looks_like(tab)):
            return imp
    if reads == "table":
        raise InputError(tab.display, f"this is a table of columns, not {fmt} data")
    return ranked[-1]


def _plan_records(tab: Tabular, cur: Cursor, asked: Asked) -> Plan:
    """Records: Langfuse observations, LiteLLM spend logs and Helicone records by their own
    importer, else generic."""
    return _choose_table("records", tab, asked.fmt).plan(tab, cur, asked)


def _plan_json(asked: Asked, cur: Cursor) -> Plan:
    path, display = asked.path, asked.display
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    head = _sample_text(sample).lstrip(" \t\r\n")
    # Request records are handed to DuckDB's JSON reader (streamed, within the store's memory
    # limit); only API responses are parsed in Python.
    if head.startswith("["):
        first = _array_records(sample, display)
        if first:
            _api_error(display, first[0])
        if first and all(_is_record(d) for d in first) and _decisive(first) is None:
            return _plan_records(json_records(path, display, first, "array"), cur, asked)
    lined = _first_line_doc(sample, display) if head.startswith("{") else None
    if lined is not None:  # JSON Lines an importer reads itself (BigQuery's billing export)
        reader = next((i for i in RANKED["lines"] if i.looks_like([lined[0]])), None)
        if reader is not None:
            return reader.plan([lined[0]], cur, replace(asked, lines=True))
    if lined is not None and lined[1]:
        _api_error(display, lined[0])
        if _is_record(lined[0]) and _decisive([lined[0]]) is None:
            return _plan_records(open_jsonl(path, display, sample), cur, asked)
        docs, is_lines = _stream_lines(path, display), True
    else:
        value, is_lines = _load_json(path, display)
        docs = value if (is_lines or isinstance(value, list)) else [value]
    for doc in docs[:1] + docs[-1:]:
        _api_error(display, doc)
    if not docs:
        raise InputError(
            display,
            "the JSON holds no data",
            found="[]",
            expected="a usage or cost report, or records",
        )
    asked = replace(asked, lines=is_lines)
    found = _choose_docs(docs, asked.fmt)
    if found is not None:
        return found.plan(docs, cur, asked)
    if all(_is_record(d) for d in docs):
        if is_lines:
            tab = open_jsonl(path, display)
        else:
            tab = json_records(path, display, docs[:500], "array")
        return _plan_records(tab, cur, asked)
    enveloped = _enveloped(docs)
    if enveloped:  # an API's pages of records saved whole (Helicone's {"data": [...]})
        return _plan_records(enveloped_records(path, display, enveloped), cur, asked)
    raise InputError(
        display,
        "unrecognised JSON",
        expected="an OpenAI/Anthropic usage or cost API response, or request records",
    )


def plan_file(
    path: str,
    cur: Cursor,
    *,
    display: str | None = None,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    source: str | None = None,
    text_only: bool = False,
) -> Plan:
    """Detect the format of ``path`` and return the plan to import it.

    ``fmt`` forces a format family (one of ``FORMATS``); ``mapping`` gives explicit
    columns for generic files; ``source`` names the data stream of a generic file.
    """
    display = display or os.path.basename(path)
    if fmt is not None and fmt not in FORMATS:
        raise InputError(
            display, f"unknown format {fmt!r}", expected="one of " + ", ".join(FORMATS)
        )
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
    except OSError as err:
        raise InputError(display, f"cannot be read ({err.strerror})") from None
    if size == 0 or not sample.strip():
        raise InputError(display, "the file is empty", expected="an export with data rows")
    asked = Asked(path, display, fmt, mapping, source, text_only)
    if sample.startswith(b"PAR1"):
        tab = open_parquet(path, display, cur)
    else:
        detect_encoding(sample, display)
        head = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
        if head[:1] in (b"{", b"["):
            return _plan_json(asked, cur)
        tab = open_csv(path, display, sample)
    return _choose_table("table", tab, fmt).plan(tab, cur, asked)


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
        records = _array_records(sample, os.path.basename(path))
        if records and all(isinstance(r, dict) for r in records):
            return list(json_records(path, os.path.basename(path), records, "array").columns)
        return []
    return list(open_csv(path, os.path.basename(path), sample).columns)
