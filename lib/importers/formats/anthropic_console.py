"""Anthropic Console exports: the Usage page's and the Cost page's **Export** CSVs.

Usage (``claude_api_tokens_*.csv``): one row per UTC day (or hour, ``2026-03-31 02:00``, when
the chart was narrowed to a day), model (``model_version``), API key name, workspace name,
``usage_type`` (the service tier: ``standard``, ``batch``…), ``context_window``,
``inference_geo`` and ``speed``, with the input split like the Admin usage report:
``usage_input_tokens_no_cache``, ``…_cache_write_5m``, ``…_cache_write_1h``,
``…_cache_read``, then ``usage_output_tokens`` and ``web_search_count``. Total input is the
sum of the four input columns, as for the usage report. There is no request count: requests
stay NULL. Older exports have no ``context_window``/``inference_geo``/``speed`` columns;
a cache column absent from the file is counted as 0 and named in the import's notes.

Cost (``claude_api_cost_*.csv``): one row per UTC day, model (its display name, ``Claude
Haiku 4.5``), workspace, API key, ``usage_type`` (``message``…), ``token_type``
(``input_no_cache``, ``input_cache_write``, ``input_cache_read``, ``output``…) and, in newer
exports, ``context_window``, ``cost_type``, ``list_price_usd``, ``inference_geo``, ``speed``,
``api_key_id``. ``cost_usd`` (what is billed, in dollars) becomes the amount, read from the
file's own digits; ``list_price_usd`` (the price before discounts) is not read.

Rows that differ only in columns Tokenboard does not keep (context window, geography,
speed) are added together into one bucket, so none is lost to de-duplication. An empty
token count or amount stops the import with its line and column.

The cost export describes the same bill as the Admin API's cost report, so it is stored as
that source (``anthropic_cost``): a day imported from one replaces what the other said about
that day instead of adding to it. The usage export is its own source (``anthropic_console``),
counted only on days without a usage report pull.

Models: the cost export names them as the Console shows them (``Claude Haiku 4.5``, ``Claude
3.5 Sonnet 2024-10-22``, ``Claude 3 Opus``, ``Claude Instant``), the usage export by API id.
A display name is stored as the API id it stands for (``api_model_id``), so that billed and
estimated costs and tokens of one model share one name everywhere; an API id is kept as it is.
"""

from __future__ import annotations

import re

import duckdb

from lib.errors import InputError
from lib.i18n import N_, Text
from lib.importers.base import FieldSource, Importer, Plan, col
from lib.importers.match import detect_style
from lib.importers.plan import tabular_plan
from lib.importers.tabular import Tabular, quote_ident
from lib.store.db import Cursor

DATE = "usage_date_utc"
USAGE_MARKERS = {DATE, "model_version", "usage_input_tokens_no_cache"}
COST_MARKERS = {DATE, "cost_usd"}
USAGE_REQUIRED = (DATE, "model_version", "usage_input_tokens_no_cache", "usage_output_tokens")
# Token columns of the usage export → the canonical column that holds them before summing.
USAGE_TOKENS = {
    "usage_input_tokens_no_cache": "input_tokens",
    "usage_input_tokens_cache_read": "cached_input_tokens",
    "usage_input_tokens_cache_write_5m": "cache_write_tokens",
    "usage_input_tokens_cache_write_1h": "cache_write_1h_tokens",
    "usage_output_tokens": "output_tokens",
}
EMPTY = "(empty)"  # what an empty count or amount is shown as in the error message


# Display names the rule below does not turn into their API id (lower case, without a date).
MODEL_IDS = {"claude instant": "claude-instant-1"}  # the family alias of the Claude 1 era
_DISPLAY = re.compile(r"claude( [a-z0-9]+(\.[0-9]+)?)+")
_DATE = re.compile(r" (20[0-9]{2})-([01][0-9])-([0-3][0-9])$")
_OLD_STYLE = re.compile(r"claude (opus|sonnet|haiku) (3(\.[0-9]+)?)")


def api_model_id(name: str) -> str:
    """The Anthropic API id of a model as the Console's cost export names it, else ``name``.

    ``Claude Haiku 4.5`` → ``claude-haiku-4-5``; ``Claude 3.5 Sonnet 2024-10-22`` →
    ``claude-3-5-sonnet-20241022`` (a date is the snapshot suffix); Claude 3 models named the
    newer way keep their id's order (``Claude Sonnet 3.7`` → ``claude-3-7-sonnet``); versions
    before 3 keep their dot (``Claude 2.1`` → ``claude-2.1``), and ``MODEL_IDS`` holds the
    names no rule gives. A name that is not ``Claude`` and words (an API id such as
    ``claude-sonnet-4-5-20250929``, or another vendor's model) is returned unchanged.
    """
    text = " ".join(name.split()).lower()
    date = _DATE.search(text)
    base = text[: date.start()] if date else text
    if not _DISPLAY.fullmatch(base):
        return name
    suffix = "-" + "".join(date.groups()) if date else ""
    if base in MODEL_IDS:
        return MODEL_IDS[base] + suffix
    old = _OLD_STYLE.fullmatch(base)
    if old:  # "Claude Sonnet 3.7" is claude-3-7-sonnet
        return f"claude-{old.group(2).replace('.', '-')}-{old.group(1)}{suffix}"
    version = re.search(r"[0-9]+(\.[0-9]+)?$", base)
    if version and int(version.group().split(".")[0]) < 3:  # claude-2.1, claude-instant-1.2
        return base.replace(" ", "-") + suffix
    return base.replace(".", "-").replace(" ", "-") + suffix


def _model_ids(tab: Tabular, cur: Cursor, column: str) -> list[tuple[str, str]]:
    """(name as written, API id) for every model name of ``column`` that is not its API id."""
    sql = f"SELECT DISTINCT {_text(column)} FROM {tab.read_sql}"
    try:
        names = [r[0] for r in cur.execute(sql, tab.read_params).fetchall() if r[0]]
    except duckdb.Error as err:  # a line that cannot be read (a cut file): named with its line
        raise tab.wrap_error(err) from None
    return sorted((n, api_model_id(n)) for n in names if api_model_id(n) != n)


def _with_model_ids(plan: Plan, ids: list[tuple[str, str]]) -> None:
    """Name the plan's models by their API id (``ids`` from ``_model_ids``), as parameters."""
    if not ids:
        return
    values_sql = ", ".join("(?, ?)" for _ in ids)
    plan.select_sql = (
        "SELECT src.* REPLACE (coalesce(ids.id, src.model) AS model) "
        f"FROM ({plan.select_sql}) src LEFT JOIN (VALUES {values_sql}) ids(name, id) "
        "ON ids.name = src.model"
    )
    plan.params = [*plan.params, *(v for pair in ids for v in pair)]


def _names(tab: Tabular) -> dict[str, str]:
    """Lower-case, trimmed header name → the file's own column name."""
    return {c.strip().lower(): c for c in tab.columns}


def looks_like_console(tab: Tabular) -> bool:
    """True for a Console usage or cost export (told from its header only)."""
    names = set(_names(tab))
    return names >= USAGE_MARKERS or names >= COST_MARKERS


def plan_console(tab: Tabular, cur: Cursor) -> Plan:
    """Plan a Console usage or cost export (the usage columns decide when both appear)."""
    names = set(_names(tab))
    if names >= USAGE_MARKERS or "cost_usd" not in names:
        return _plan_usage(tab, cur)
    return _plan_cost(tab, cur)


def _text(name: str) -> str:
    return f"trim(CAST({quote_ident(name)} AS VARCHAR))"


def _required_value(tab: Tabular, name: str) -> FieldSource:
    """A count or amount column whose empty cells are unreadable values (never 0)."""
    return FieldSource(f"coalesce(nullif({_text(name)}, ''), '{EMPTY}')", "VARCHAR", name)


def _period_end(name: str) -> FieldSource:
    """The end of the row's period: a date is a day, a date with a time is an hour (the
    Console's hourly view). NULL when the date is unreadable (the start then says so, or the
    engine infers the width from the starts, for dates written as ``31/03/2026``)."""
    d = _text(name)
    sql = (
        f"CASE WHEN length({d}) <= 10 THEN CAST(TRY_CAST({d} AS DATE) + INTERVAL 1 DAY AS VARCHAR) "
        f"ELSE CAST(TRY_CAST({d} AS TIMESTAMP) + INTERVAL 1 HOUR AS VARCHAR) END"
    )
    return FieldSource(sql, "VARCHAR", name)


def _one_width(tab: Tabular, cur: Cursor, name: str) -> None:
    """Refuse a file that mixes daily rows and hourly rows (the day would be counted twice)."""
    sql = (
        "SELECT count(*) FILTER (WHERE length(d) <= 10), count(*) FILTER (WHERE length(d) > 10) "
        f"FROM (SELECT {_text(name)} AS d FROM {tab.read_sql}) WHERE d <> ''"
    )
    try:
        days, hours = cur.execute(sql, tab.read_params).fetchone() or (0, 0)
    except duckdb.Error as err:  # a line that cannot be read (a cut file): named with its line
        raise tab.wrap_error(err) from None
    if days and hours:
        raise InputError(
            tab.display,
            N_("daily rows and hourly rows in one export (the same day would be counted twice)"),
            field=name,
            found=f"{days:,} dates and {hours:,} dates with a time",
            expected=N_("one export: every row a day, or every row an hour"),
        )


def _missing(tab: Tabular, required: tuple[str, ...], what: str) -> None:
    """Refuse an export without one of the ``required`` columns, naming it."""
    names = _names(tab)
    absent = [c for c in required if c not in names]
    if absent:
        raise InputError(
            tab.display,
            N_(
                "this Anthropic Console {what} export has no {columns} column",
                what=Text(what),
                columns=", ".join(absent),
            ),
            field=absent[0],
            found=", ".join(tab.columns),
            expected=N_(
                "the header of the Console's {what} export ({columns}, …)",
                what=Text(what),
                columns=", ".join(required),
            ),
        )


def _optional_word(names: dict[str, str], name: str) -> FieldSource | None:
    return FieldSource(_text(names[name]), "VARCHAR", names[name]) if name in names else None


# The dimensions a usage bucket keeps; rows equal on all of them are added together.
USAGE_KEYS = (
    "bucket_start",
    "bucket_end",
    "kind",
    "provider",
    "model",
    "project",
    "api_key",
    "user_id",
    "service_tier",
    "batch",
)
COST_KEYS = (
    "bucket_start",
    "bucket_end",
    "provider",
    "project",
    "api_key",
    "line_item",
    "model",
    "cost_type",
    "token_type",
    "service_tier",
    "currency",
)


def _periods(
    tab: Tabular, cur: Cursor, required: tuple[str, ...], what: str, words: dict[str, str]
) -> tuple[dict[str, str], dict[str, FieldSource]]:
    """Check the ``required`` columns and that every row is one width (day or hour); return
    the columns by normalised name and the mapping of the period and of ``words`` (canonical
    field → column) that the file has."""
    _missing(tab, required, what)
    n = _names(tab)
    _one_width(tab, cur, n[DATE])
    m: dict[str, FieldSource] = {
        "bucket_start": col(tab, n[DATE]),
        "bucket_end": _period_end(n[DATE]),
    }
    for canonical, name in words.items():
        src = _optional_word(n, name)
        if src:
            m[canonical] = src
    return n, m


def _plan_usage(tab: Tabular, cur: Cursor) -> Plan:
    n, m = _periods(
        tab, cur, USAGE_REQUIRED, Text("usage"), {"api_key": "api_key", "project": "workspace"}
    )
    m["model"] = col(tab, n["model_version"])
    notes: list[str] = []
    for name, canonical in USAGE_TOKENS.items():
        if name in n:
            m[canonical] = _required_value(tab, n[name])
        else:
            notes.append(N_("no {name} column (an older export): counted as 0", name=name))
    if "web_search_count" in n:
        m["quantity"] = col(tab, n["web_search_count"])
    tier = _text(n["usage_type"]) if "usage_type" in n else "NULL"
    style = detect_style(
        tab, cur, {"input_tokens": n["usage_input_tokens_no_cache"], "ts": n[DATE]}
    )
    plan = tabular_plan(
        fmt="anthropic_console_usage",
        source="anthropic_console",
        grain="usage",
        tab=tab,
        mapping=m,
        style=style,
        constants={
            "kind": "'anthropic_console'",
            "provider": "'anthropic'",
            "service_tier": f"nullif({tier}, '')",
            "batch": f"coalesce(lower({tier}) = 'batch', false)",
        },
        notes=notes,
    )
    _with_model_ids(plan, _model_ids(tab, cur, n["model_version"]))
    keys = USAGE_KEYS
    plan.select_sql = f"""SELECT {", ".join(keys)},
        CAST(NULL AS BIGINT) AS requests, CAST(NULL AS BIGINT) AS errors,
        CAST(sum(input_tokens + cached_input_tokens + cache_write_tokens + cache_write_1h_tokens)
             AS BIGINT) AS input_tokens,
        CAST(sum(cached_input_tokens) AS BIGINT) AS cached_input_tokens,
        CAST(sum(cache_write_tokens + cache_write_1h_tokens) AS BIGINT) AS cache_write_tokens,
        CAST(sum(cache_write_1h_tokens) AS BIGINT) AS cache_write_1h_tokens,
        CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
        CAST(sum(reasoning_tokens) AS BIGINT) AS reasoning_tokens,
        CASE WHEN sum(quantity) > 0 THEN sum(quantity) END AS quantity,
        CASE WHEN sum(quantity) > 0 THEN 'web_searches' END AS quantity_unit,
        CAST(NULL AS DECIMAL(38, 20)) AS cost_usd
        FROM ({plan.select_sql}) GROUP BY {", ".join(keys)}"""
    return plan


def _plan_cost(tab: Tabular, cur: Cursor) -> Plan:
    words = {"model": "model", "api_key": "api_key", "project": "workspace",
             "token_type": "token_type", "cost_type": "cost_type"}  # fmt: skip
    n, m = _periods(tab, cur, (DATE, "cost_usd"), Text("cost"), words)
    m["amount"] = _required_value(tab, n["cost_usd"])
    parts = [f"nullif({_text(n[c])}, '')" for c in ("usage_type", "token_type") if c in n]
    if parts:  # "message, input_no_cache": what the row bills, as the Console lists it
        joined = f"nullif(concat_ws(', ', {', '.join(parts)}), '')"
        m["line_item"] = FieldSource(joined, "VARCHAR", "usage_type")
    style = detect_style(tab, cur, {"cost_usd": n["cost_usd"], "ts": n[DATE]})
    plan = tabular_plan(
        fmt="anthropic_console_cost",
        source="anthropic_cost",  # the same bill as the Admin API's cost report
        grain="cost",
        tab=tab,
        mapping=m,
        style=style,
        constants={"provider": "'anthropic'", "currency": "'USD'"},
    )
    if "model" in n:
        _with_model_ids(plan, _model_ids(tab, cur, n["model"]))
    plan.select_sql = f"""SELECT {", ".join(COST_KEYS)},
        CAST(sum(amount) AS DECIMAL(38, 20)) AS amount,
        CAST(NULL AS DOUBLE) AS quantity, CAST(NULL AS VARCHAR) AS quantity_unit
        FROM ({plan.select_sql}) GROUP BY {", ".join(COST_KEYS)}"""
    return plan


IMPORTERS = (
    Importer(("anthropic_console",), "table", 30, looks_like_console, lambda t, c, _a: plan_console(t, c)),
)  # fmt: skip
