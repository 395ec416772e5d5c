"""Recognise a file's format from its content (never its name) and plan its import."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any

from lib.errors import InputError
from lib.importers import provider_api
from lib.importers.base import Plan
from lib.importers.gateways import (
    looks_like_helicone,
    looks_like_litellm,
    plan_helicone,
    plan_litellm,
)
from lib.importers.generic import plan_generic
from lib.importers.tabular import (
    SAMPLE_BYTES,
    Tabular,
    detect_encoding,
    open_csv,
    open_jsonl,
    open_parquet,
)
from lib.store.db import Cursor

FORMATS = (
    "openai_usage",
    "openai_costs",
    "anthropic_usage",
    "anthropic_cost",
    "openai_legacy_usage",
    "litellm",
    "helicone",
    "generic",
)
MAX_JSON_DOCUMENT = 512 * 1024 * 1024


def _error_body(doc: Any) -> str | None:
    """The message of an API error response saved instead of data, else None."""
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        err = doc["error"]
        kind = err.get("type") or err.get("code") or "error"
        return f"{kind}: {err.get('message', '')}".strip()
    return None


def _load_json(path: str, display: str) -> tuple[Any, bool]:
    """The parsed document, or the list of parsed lines for JSON Lines: (value, is_lines)."""
    if os.path.getsize(path) > MAX_JSON_DOCUMENT:
        raise InputError(
            display,
            "this JSON document is too large to import at once",
            expected="JSON Lines or Parquet for large request logs",
        )
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read()
    try:
        return json.loads(text, parse_float=Decimal), False
    except json.JSONDecodeError as whole_err:
        lines = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
        docs = []
        for lineno, line in lines:
            try:
                docs.append(json.loads(line, parse_float=Decimal))
            except json.JSONDecodeError as err:
                if len(docs) == 0 or len(lines) == 1:
                    break
                raise InputError(
                    display,
                    f"malformed JSON on this line ({err.msg})",
                    line=lineno,
                    expected="one complete JSON value per line",
                ) from None
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


def _plan_json(
    path: str,
    display: str,
    cur: Cursor,
    fmt: str | None,
    mapping: dict[str, str] | None,
    source: str | None,
) -> Plan:
    value, is_lines = _load_json(path, display)
    docs = value if (is_lines or isinstance(value, list)) else [value]
    for doc in docs[:1] + docs[-1:]:
        msg = _error_body(doc)
        if msg:
            raise InputError(
                display,
                "this is an API error response saved instead of data",
                found=msg,
                expected="a usage or cost report",
            )
    if not docs:
        raise InputError(
            display,
            "the JSON holds no data",
            found="[]",
            expected="a usage or cost report, or records",
        )
    if all(provider_api.is_page(d) for d in docs):
        family = provider_api.page_family(docs)
        if family is None:
            raise InputError(
                display,
                "the pages hold no recognisable buckets",
                field="data",
                expected="OpenAI (start_time) or Anthropic (starting_at) buckets",
            )
        if (
            fmt
            and fmt != family
            and provider_api.all_empty(docs)
            and fmt.split("_")[0] == family.split("_")[0]
        ):
            family = fmt  # empty buckets cannot tell usage from costs: the caller knows
        if fmt and fmt != family:
            raise InputError(display, f"this is {family} data, not {fmt}")
        return provider_api.PLANNERS[family](display, docs)
    if all(provider_api.is_legacy_usage(d) for d in docs):
        return provider_api.plan_openai_legacy(display, docs)
    if all(isinstance(d, dict) and not isinstance(d.get("data"), list) for d in docs):
        if is_lines:
            tab = open_jsonl(path, display)
        else:
            keys: dict[str, None] = {}
            for d in docs[:500]:
                keys.update(dict.fromkeys(d))
            columns = {k: "VARCHAR" for k in keys}
            tab = Tabular(
                path,
                display,
                "jsonl",
                "read_json(?, format = 'array', columns = ?, maximum_object_size = 16777216)",
                [path, columns],
                columns,
            )
        return plan_generic(tab, cur, mapping, source)
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
    if sample.startswith(b"PAR1"):
        tab = open_parquet(path, display, cur)
    else:
        detect_encoding(sample, display)
        head = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
        if head[:1] in (b"{", b"["):
            return _plan_json(path, display, cur, fmt, mapping, source)
        tab = open_csv(path, display, sample)
    if fmt in ("litellm",) or (fmt is None and looks_like_litellm(tab)):
        return plan_litellm(tab, cur, text_only)
    if fmt in ("helicone",) or (fmt is None and looks_like_helicone(tab)):
        return plan_helicone(tab, cur, text_only)
    if fmt not in (None, "generic"):
        raise InputError(display, f"this is a table of columns, not {fmt} data")
    return plan_generic(tab, cur, mapping, source, text_only)


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
        return []
    return list(open_csv(path, os.path.basename(path), sample).columns)
