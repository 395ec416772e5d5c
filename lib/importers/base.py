"""The types an import hands along, shared by every step and format: what an importer
hands to the ingest engine, a ``Plan``; where a canonical field comes from in a file, a
``FieldSource`` (``col``); and the registry's record of a source format, an ``Importer``,
with the ``Asked`` it plans.

A plan is a SELECT that yields the canonical columns of one grain (see ``canonical``), plus
what the engine needs to de-duplicate, replace and explain errors. Importers never write.
Plans over a table's columns are made by ``lib.importers.plan``; plans over rows an
importer built in Python by ``arrow_plan``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from lib.errors import InputError
from lib.i18n import N_
from lib.importers import rules, values
from lib.importers.canonical import COLUMNS, Grain
from lib.importers.tabular import Tabular, quote_ident

if TYPE_CHECKING:  # pyarrow is imported only when an importer builds rows (0.2 s saved at start)
    import pyarrow as pa

    from lib.store.db import Cursor


@dataclass
class FieldSource:
    """Where a canonical field comes from in a tabular file."""

    raw_sql: str  # SQL over the file's columns
    raw_type: str  # DuckDB type of raw_sql
    label: str  # what to call it in an error message (the file's column name)
    clean: bool = False  # text known to carry no surrounding spaces (no trim needed)


@dataclass
class Plan:
    format: str
    source: str
    grain: Grain
    display: str
    select_sql: str
    params: list[Any] = field(default_factory=list)
    arrow: pa.Table | None = None  # registered as ``plan_src`` when set
    coverage: list[tuple[datetime, datetime, str]] | None = None  # API pulls: every bucket
    # Coverage narrowed to actors, (start, end, kind, user_id, api_key) each: a newer pull
    # replaces only the rows of those actors in those buckets (a report paged over users, whose
    # pages may be saved as separate files); used instead of ``coverage`` when set.
    actor_coverage: list[tuple[datetime, datetime, str, str | None, str | None]] | None = None
    tabular: Tabular | None = None
    fields: dict[str, tuple[FieldSource, str]] = field(default_factory=dict)
    keep_sql: str = "true"
    notes: list[str] = field(default_factory=list)
    style: values.Style = field(default_factory=values.Style)
    # Plans of other bucket grains read from the same file (a cloud bill: its cost lines and
    # the tokens its meters count), written in the same transaction under the same import id.
    also: list[Plan] = field(default_factory=list)
    # The file's data lines, when its plans do not keep one row per line (a cloud bill sums
    # its lines into cost lines and usage buckets): the import reports these as rows read.
    rows_read: int | None = None

    @property
    def grains(self) -> str:
        """The grain recorded in the ledger: ``cost``, or ``cost+usage`` with ``also``."""
        return "+".join(sorted({self.grain, *(p.grain for p in self.also)}))


@dataclass(frozen=True)
class Asked:
    """One import as the caller asked for it: the file, its name in messages, and what the
    caller said of it."""

    path: str
    display: str
    fmt: str | None = None  # a --format: the importer it names is used (see ``Importer.named``)
    mapping: dict[str, str] | None = None  # canonical field → column (generic files)
    source: str | None = None  # the data stream of a generic file
    text_only: bool = False  # every column read as text (the retry after a typed read failed)
    lines: bool = False  # documents: they are the lines of a JSON Lines file


# What an importer reads: ``table`` a CSV or Parquet file; ``records`` JSON records read as a
# table (JSON Lines, an array of objects, the records inside saved API pages); ``docs`` the
# parsed JSON documents of a report or API response; ``lines`` a JSON Lines file the importer
# reads itself, one line at a time, recognised from its first line.
Reads = Literal["table", "records", "docs", "lines"]


@dataclass(frozen=True)
class Importer:
    """One source format in the registry (``lib.importers.formats.REGISTRY``): how it is
    recognised and how it is planned. A format that reads several kinds of input registers
    one ``Importer`` per kind.

    ``looks_like`` takes the ``Tabular`` (``table``, ``records``) or the list of documents
    (``docs``, ``lines``: the first line only) and must not read the file; ``plan`` takes the
    same, a cursor and the ``Asked``. Importers of one kind are tried by increasing
    ``priority``.
    """

    names: tuple[str, ...]  # the --format names it answers to; the first names it
    reads: Reads
    priority: int
    looks_like: Callable[[Any], bool]
    plan: Callable[[Any, Cursor, Asked], Plan]
    # What a --format naming it does (tables and records): ``take`` uses it without looking,
    # ``check`` only when it looks like the file.
    named: Literal["take", "check"] = "take"
    # Documents: recognised by a shape of its own, so it is tried on the first records of a
    # file before they are read as a table, and it wins over a --format naming another format
    # (which it may refuse). A non-decisive importer comes after a --format (``take``).
    decisive: bool = False
    listed: bool = True  # offered as a --format choice (``FORMATS``)

    @property
    def name(self) -> str:
        return self.names[0]


def report_importer(
    fmt: str,
    priority: int,
    recognise: Callable[[Any], bool],
    plan: Callable[[str, list[Any]], Plan],
) -> Importer:
    """The importer of a saved report of JSON documents with a shape of its own (decisive):
    ``recognise`` tells it, ``plan(display, docs)`` plans it; a --format naming another
    format is refused, naming both."""

    def planned(docs: list[Any], _cur: Cursor, asked: Asked) -> Plan:
        if asked.fmt not in (None, fmt):
            raise InputError(
                asked.display, N_("this is {fmt} data, not {asked}", fmt=fmt, asked=asked.fmt)
            )
        return plan(asked.display, docs)

    return Importer((fmt,), "docs", priority, recognise, planned, decisive=True)


# The measures of a usage bucket before anything is added to it (importers that build rows).
ZERO_USAGE: dict[str, Any] = {
    "input_tokens": 0,
    "cached_input_tokens": 0,
    "cache_write_tokens": 0,
    "cache_write_1h_tokens": 0,
    "output_tokens": 0,
    "reasoning_tokens": 0,
    "cost_usd": Decimal(0),
}

PROVIDER_SQL = """CASE
    WHEN {m} IS NULL THEN NULL
    WHEN lower({m}) LIKE 'openai/%' OR lower({m}) LIKE 'azure/%' THEN 'openai'
    WHEN lower({m}) LIKE 'anthropic/%' OR lower({m}) LIKE '%claude%' THEN 'anthropic'
    WHEN regexp_matches(lower({m}), '^(gpt-|o[1-9]|chatgpt|text-embedding|text-moderation|omni-moderation|dall-e|whisper|tts-|davinci|babbage|codex|computer-use)') THEN 'openai'
    WHEN lower({m}) LIKE 'gemini%' OR lower({m}) LIKE 'google/%' THEN 'google'
    WHEN lower({m}) LIKE 'mistral%' OR lower({m}) LIKE 'mistral/%' THEN 'mistral'
    ELSE NULL END"""


def typed_arrow_schema(grain: Grain) -> pa.Schema:
    """The Arrow schema of a grain's canonical columns (for importers that build rows)."""
    import pyarrow as pa

    arrow_types = {
        "ts": pa.timestamp("us", tz="UTC"),
        "str": pa.string(),
        "int": pa.int64(),
        "money": pa.decimal128(38, rules.MONEY_SCALE),
        "money18": pa.decimal128(18, 10),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "status": pa.string(),
    }
    return pa.schema([(name, arrow_types[kind]) for name, kind in COLUMNS[grain].items()])


def arrow_plan(
    fmt: str,
    source: str,
    grain: Grain,
    display: str,
    rows: list[dict[str, Any]],
    coverage: list[tuple[datetime, datetime, str]] | None,
    notes: list[str] | None = None,
) -> Plan:
    """A plan over rows an importer already validated and typed in Python."""
    import pyarrow as pa

    schema = typed_arrow_schema(grain)
    table = pa.Table.from_pylist(rows, schema=schema)
    cols = ", ".join(COLUMNS[grain])
    return Plan(
        format=fmt,
        source=source,
        grain=grain,
        display=display,
        select_sql=f"SELECT {cols} FROM plan_src",
        arrow=table,
        coverage=coverage,
        notes=notes or [],
    )


def col(tab: Tabular, name: str) -> FieldSource:
    """A field taken straight from one column of the file."""
    return FieldSource(quote_ident(name), tab.columns[name], name, clean=name in tab.untrimmed)


def text_sql(name: str) -> str:
    """SQL: the column ``name`` as text."""
    return f"CAST({quote_ident(name)} AS VARCHAR)"


def first_filled(tab: Tabular, columns: list[str]) -> FieldSource:
    """The first non-empty value of ``columns`` (one column: read as it is)."""
    if len(columns) == 1:
        return col(tab, columns[0])
    parts = ", ".join(f"nullif(trim({text_sql(c)}), '')" for c in columns)
    return FieldSource(f"coalesce({parts})", "VARCHAR", "/".join(columns))
