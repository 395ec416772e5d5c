"""The entry of an import: recognise a file's format from its content (never its name)
and plan its import.

``plan_file`` has the file read (``read``), asks the registry (``formats.RANKED``) which
importer it is, in priority order, and hands it to that importer's ``plan``. What each kind
of input is tried against:

- a table (CSV, Parquet): the importer a --format names, else the first that looks like it
  (Azure, Google Cloud, Anthropic Console, LiteLLM, Helicone, Langfuse observations, and
  generic, which looks like anything);
- JSON: records (JSON Lines, an array of objects) are read as a table by DuckDB and tried
  like a table (Langfuse observations, LiteLLM, Helicone, generic); reports and API responses
  are parsed and tried as documents (see ``_choose_docs``); BigQuery's JSON Lines billing
  export is read by its importer line by line.
"""

from __future__ import annotations

import os
from dataclasses import replace
from itertools import islice
from typing import Any, Literal

from lib.errors import InputError
from lib.i18n import N_
from lib.importers.base import Asked, Importer, Plan
from lib.importers.formats import FORMATS, RANKED, provider_api
from lib.importers.read import (
    array_records,
    enveloped_records,
    file_columns,
    file_kind,
    first_bytes,
    first_line_doc,
    json_records,
    load_json,
    open_csv,
    open_jsonl,
    open_parquet,
    sample_text,
    stream_lines,
)
from lib.importers.tabular import Tabular
from lib.store.db import Cursor

__all__ = ["FORMATS", "file_columns", "plan_file"]


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


def _api_error(display: str, doc: Any) -> None:
    """Refuse an API error response saved instead of data."""
    msg = _error_body(doc)
    if msg:
        raise InputError(
            display,
            N_("this is an API error response saved instead of data"),
            found=msg,
            expected=N_("a usage or cost report"),
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
        raise InputError(tab.display, N_("this is a table of columns, not {fmt} data", fmt=fmt))
    return ranked[-1]


def _plan_records(tab: Tabular, cur: Cursor, asked: Asked) -> Plan:
    """Records: Langfuse observations, LiteLLM spend logs and Helicone records by their own
    importer, else generic."""
    return _choose_table("records", tab, asked.fmt).plan(tab, cur, asked)


def _plan_json(asked: Asked, sample: bytes, cur: Cursor) -> Plan:
    """JSON: records are read as a table by DuckDB; API responses and reports are parsed
    here, with exact decimals, and handed to the importer of their documents."""
    path, display = asked.path, asked.display
    head = sample_text(sample).lstrip(" \t\r\n")
    # Request records are handed to DuckDB's JSON reader (streamed, within the store's memory
    # limit); only API responses are parsed in Python.
    if head.startswith("["):
        first = array_records(sample, display)
        if first:
            _api_error(display, first[0])
        if first and _decisive(first) is None and all(_is_record(d) for d in first):
            return _plan_records(json_records(path, display, first, "array"), cur, asked)
    lined = first_line_doc(sample, display) if head.startswith("{") else None
    if lined is not None:  # JSON Lines an importer reads itself (BigQuery's billing export)
        reader = next((i for i in RANKED["lines"] if i.looks_like([lined[0]])), None)
        if reader is not None:
            return reader.plan([lined[0]], cur, replace(asked, lines=True))
    if lined is not None and lined[1]:
        _api_error(display, lined[0])
        if _decisive([lined[0]]) is None and _is_record(lined[0]):
            return _plan_records(open_jsonl(path, display, sample), cur, asked)
        docs, is_lines = stream_lines(path, display), True
    else:
        value, is_lines = load_json(path, display)
        docs = value if (is_lines or isinstance(value, list)) else [value]
    for doc in docs[:1] + docs[-1:]:
        _api_error(display, doc)
    if not docs:
        raise InputError(
            display,
            N_("the JSON holds no data"),
            found="[]",
            expected=N_("a usage or cost report, or records"),
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
        N_("unrecognised JSON"),
        expected=N_("an OpenAI/Anthropic usage or cost API response, or request records"),
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
            display,
            N_("unknown format {fmt!r}", fmt=fmt),
            expected=N_("one of {formats}", formats=", ".join(FORMATS)),
        )
    sample = first_bytes(path, display)
    kind = file_kind(sample, display)
    asked = Asked(path, display, fmt, mapping, source, text_only)
    if kind == "json":
        return _plan_json(asked, sample, cur)
    tab = open_parquet(path, display, cur) if kind == "parquet" else open_csv(path, display, sample)
    return _choose_table("table", tab, fmt).plan(tab, cur, asked)
