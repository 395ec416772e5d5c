"""What an import would do, before anything is written: the detected format, how columns
map, a sample of the rows as they would be stored, the row count, the period and the totals.
Reads the file with DuckDB; writes nothing."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import duckdb

from lib.errors import InputCode, InputError, TokenboardError, is_disk_full, unexpected_error
from lib.importers.base import Plan
from lib.importers.canonical import COLUMNS
from lib.importers.detect import file_columns, plan_file
from lib.importers.tabular import TypedReadMismatch
from lib.store import Store

log = logging.getLogger("tokenboard")

# The fields the mapping form offers (canonical names; the importers' synonyms know them all).
MAPPABLE: tuple[str, ...] = (
    "ts", "model", "provider", "project", "api_key", "user_id", "requests", "input_tokens",
    "cached_input_tokens", "output_tokens", "total_tokens", "cost_usd", "status", "http_status",
    "error_code", "error_message", "latency_ms", "request_id", "client_ip", "origin",
    "retry_after_ms",
)  # fmt: skip
# What someone can do about a refused file (a code; the page words it): ``map_columns`` say
# which column holds what (the columns could not all be matched).
Remedy = Literal["map_columns"]
# The refusals (``InputError.code``) a column mapping can fix.
MAPPING_HELPS: frozenset[InputCode] = frozenset({"unrecognised_columns", "unmatched_measure"})


def remedy(err: TokenboardError) -> Remedy | None:
    """``map_columns`` when a column mapping can help the file that ``err`` refused (its
    columns were read but not matched: none names a time or a measure, or one looks like a
    measure that nothing matched), else None."""
    if isinstance(err, InputError) and err.code in MAPPING_HELPS:
        return "map_columns"
    return None


@dataclass
class Preview:
    file_name: str
    format: str
    grain: str
    source: str
    mapped: dict[str, str]  # canonical field -> file column (tabular files)
    unmapped: list[str]  # file columns nothing uses
    columns: list[str]  # the canonical columns of the sample
    sample: list[tuple[Any, ...]]  # up to 20 rows as they would be stored
    rows: int
    period_start: datetime | None
    period_end: datetime | None
    requests: int | None
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal | None
    notes: list[str] = field(default_factory=list)


def preview_file(
    store: Store,
    path: str,
    *,
    display: str | None = None,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    sample_rows: int = 20,
) -> Preview:
    """Plan the import of ``path`` and summarise it. Raises ``InputError`` like an import
    would (the same checks run: a file that previews cleanly imports cleanly); no other
    exception than a ``TokenboardError`` leaves it."""
    name = display or os.path.basename(path)
    try:
        try:
            return _preview(store, path, name, fmt, mapping, sample_rows, text_only=False)
        except TypedReadMismatch:
            return _preview(store, path, name, fmt, mapping, sample_rows, text_only=True)
    except Exception as err:  # anything else is wrapped: a message, never a traceback
        if isinstance(err, TokenboardError) and not is_disk_full(err):
            raise
        if not is_disk_full(err):
            log.exception("unexpected error while previewing %s", name)
        raise unexpected_error(name, err) from None


def _preview(
    store: Store,
    path: str,
    display: str,
    fmt: str | None,
    mapping: dict[str, str] | None,
    sample_rows: int,
    text_only: bool,
) -> Preview:
    """The preview of one plan (``text_only``: every column read as text)."""
    from lib.ingest import translate_error

    with store.read() as cur:
        plan: Plan = plan_file(
            path, cur, display=display, fmt=fmt, mapping=mapping, text_only=text_only
        )
        if plan.arrow is not None:
            cur.register("plan_src", plan.arrow)
        cols = list(COLUMNS[plan.grain])
        time_col = "ts" if plan.grain == "request" else "bucket_start"
        end_col = "ts" if plan.grain == "request" else "coalesce(bucket_end, bucket_start)"
        req = (
            "count(*)"
            if plan.grain == "request"
            else ("sum(requests)" if plan.grain == "usage" else "NULL")
        )
        tok_in = "sum(input_tokens)" if plan.grain != "cost" else "0"
        tok_out = "sum(output_tokens)" if plan.grain != "cost" else "0"
        # dollars only: cost lines in another currency are never shown as USD
        cost = (
            "sum(amount) FILTER (WHERE currency = 'USD')"
            if plan.grain == "cost"
            else "sum(cost_usd)"
        )
        try:
            sample = cur.execute(
                f"SELECT {', '.join(cols)} FROM ({plan.select_sql}) LIMIT {int(sample_rows)}",
                plan.params,
            ).fetchall()
            totals = cur.execute(
                f"SELECT count(*), min({time_col}), max({end_col}), {req}, {tok_in}, {tok_out}, {cost} "
                f"FROM ({plan.select_sql})",
                plan.params,
            ).fetchone()
            assert totals is not None  # aggregates without GROUP BY: one row
            n, start, end, requests, tin, tout, usd = totals
            for extra in plan.also:  # a cloud bill's usage buckets: the tokens it counts
                if extra.arrow is not None:
                    cur.register("plan_src", extra.arrow)
                more = cur.execute(
                    f"SELECT sum(input_tokens), sum(output_tokens) FROM ({extra.select_sql})",
                    extra.params,
                ).fetchone()
                more_in, more_out = more if more else (0, 0)
                tin, tout = int(tin or 0) + int(more_in or 0), int(tout or 0) + int(more_out or 0)
        except duckdb.Error as err:
            raise translate_error(err, plan) from None
    mapped = {name: src.label for name, (src, _k) in plan.fields.items()}
    used = set(mapped.values())
    unmapped = [c for c in (plan.tabular.columns if plan.tabular else {}) if c not in used]
    return Preview(
        file_name=plan.display, format=plan.format, grain=plan.grain, source=plan.source, mapped=mapped,
        unmapped=unmapped, columns=cols, sample=sample, rows=int(n), period_start=start, period_end=end,
        requests=None if requests is None else int(requests), input_tokens=int(tin or 0),
        output_tokens=int(tout or 0), cost_usd=usd, notes=plan.notes,
    )  # fmt: skip


def columns_of(store: Store, path: str) -> list[str]:
    """The column names of the file at ``path`` (for the mapping form)."""
    with store.read() as cur:
        return file_columns(path, cur)
