"""Generic exports (CSV, JSON Lines, Parquet): columns matched by their common names.

Names are compared without case, accents, spaces or punctuation, in English and French.
A file with a request-count column is read as usage buckets (one row per period and
dimensions); a file whose only measure is money (no token or request counts, no request ids,
nothing said of single calls) as cost lines in its own currency, dollars included; otherwise
as request events (one row per call). Anything the names do not
reveal can be given as an explicit mapping ``{canonical field: file column}``.
"""

from __future__ import annotations

import duckdb

from lib.errors import InputError
from lib.i18n import N_, Text
from lib.importers import rules, values
from lib.importers.base import PROVIDER_SQL, Asked, FieldSource, Importer, Plan, col
from lib.importers.canonical import COST_COLUMNS, REQUEST_COLUMNS, USAGE_COLUMNS, Grain
from lib.importers.match import (
    MATCHER,
    MONEY_WORDS,
    detect_style,
    match_columns,
    unit_currency,
    unit_problem,
    words,
)
from lib.importers.plan import tabular_plan
from lib.importers.tabular import Tabular, normalise_name, quote_ident
from lib.store.db import Cursor

# Fields a known export names in a way its words cannot tell, found by the set of columns
# (names as ``normalise_name`` writes them) that only that export has. OpenRouter states its
# cost in dollars as ``usage`` (OpenRouter credits spent), beside the BYOK spend (at the
# provider, on your own key): in its activity API (``GET /api/v1/activity``, one row per day,
# model and endpoint; the model is the dated ``model_permaslug``, as in the per-request CSV
# export, ``model`` the undated slug) and in the Activity page's export by model (``Date,
# Slug, Usage, BYOK Usage, Requests, Prompt Tokens, …``, one row per day and model).
KNOWN_SHAPES: tuple[tuple[frozenset[str], dict[str, str]], ...] = (
    (
        frozenset({"model_permaslug", "endpoint_id", "usage", "byok_usage_inference"}),
        {"cost_usd": "usage", "model": "model_permaslug"},
    ),
    (
        frozenset({"date", "slug", "usage", "byok_usage", "requests"}),
        {"cost_usd": "usage", "model": "slug"},
    ),
)
# Exports whose columns tell their provider where no model does: the OpenAI dashboard's
# Usage and Cost exports (platform.openai.com → Usage → Export) are its Usage and Costs API
# buckets flattened, with ``start_time``/``end_time`` in Unix seconds beside their ISO texts.
# An ungrouped cost export names no model, so its bill was stored under provider ``unknown``.
KNOWN_PROVIDERS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"start_time", "end_time", "start_time_iso", "end_time_iso"}), "openai"),
)


def known_provider(columns: list[str]) -> str | None:
    """The provider every row of an export of ``KNOWN_PROVIDERS`` belongs to, else None."""
    names = {normalise_name(c) for c in columns}
    return next((p for shape, p in KNOWN_PROVIDERS if shape <= names), None)


# OpenRouter's spend on your own provider key: not billed by OpenRouter, so never in its
# ``usage``/``cost_total``; left out of the cost and named in the import's notes.
BYOK_COLUMNS = ("byok_usage_inference", "byok_usage")


def known_mapping(columns: list[str]) -> dict[str, str]:
    """Canonical field → column for an export of ``KNOWN_SHAPES`` ({} for any other file)."""
    names = {normalise_name(c): c for c in columns}
    for shape, fields in KNOWN_SHAPES:
        if shape <= names.keys():
            return {f: names[n] for f, n in fields.items()}
    return {}


def plan_generic(
    tab: Tabular,
    cur: Cursor,
    mapping: dict[str, str] | None = None,
    source: str | None = None,
    text_only: bool = False,
) -> Plan:
    """Match columns, choose the grain and build the plan; unmatched files raise InputError.

    Unless ``text_only``, clean numeric and ISO timestamp columns are read natively."""
    try:
        found = match_columns(
            list(tab.columns), {**known_mapping(list(tab.columns)), **(mapping or {})}
        )
    except KeyError as err:
        raise InputError(
            tab.display,
            N_("the column mapping names a column the file does not have"),
            found=str(err.args[0]),
            expected=N_("one of {columns}", columns=", ".join(tab.columns)),
            code="unknown_mapped_column",
        ) from None
    if not mapping:
        _refuse_unmatched_measures(tab, found)
    money_only = _cost_export(found)
    _refuse_units(tab, found, currency_ok=money_only)
    measures = {"input_tokens", "output_tokens", "total_tokens", "requests", "cost_usd"}
    if "ts" not in found or not measures & set(found):
        raise InputError(
            tab.display,
            N_("unrecognised columns {columns}", columns=", ".join(tab.columns)),
            expected=_UNRECOGNISED[("ts" not in found, not measures & set(found))],
            code="unrecognised_columns",
        )
    style = detect_style(tab, cur, found)
    # one row per period: a request count, or an end of period without request ids
    periods = "bucket_end" in found and "request_id" not in found
    grain: Grain = "usage" if "requests" in found or periods else "request"
    if money_only:  # money and no counts: cost line items in their currency (dollars too)
        grain = "cost"
    target = {"usage": USAGE_COLUMNS, "cost": COST_COLUMNS, "request": REQUEST_COLUMNS}[grain]
    if not text_only:
        kinds = {
            "ts": "ts",
            "total_tokens": "int",
            **{
                k: ("money" if v == "money18" else v)
                for k, v in target.items()
                if v in ("int", "float", "money", "money18")
            },
        }
        money = "DECIMAL(18, 10)" if grain == "request" else None  # None: the stored scale
        tab.refine_types(cur, {c: kinds[f] for f, c in found.items() if f in kinds}, money)
    fmap: dict[str, FieldSource] = {}
    notes: list[str] = []
    for fieldname, column in found.items():
        canonical = "bucket_start" if (grain != "request" and fieldname == "ts") else fieldname
        if canonical in target:
            fmap[canonical] = col(tab, column)
    constants: dict[str, str] = {"batch": "false"}
    if grain == "cost":
        fmap.pop("currency", None)
        fmap["amount"] = col(tab, found["cost_usd"])
    if "total_tokens" in found and "input_tokens" not in found and "output_tokens" not in found:
        fmap["input_tokens"] = col(tab, found["total_tokens"])
        notes.append(N_("only total tokens are given: they are counted as input tokens"))
    if "currency" in found and "cost_usd" in fmap:
        fmap["cost_usd"] = _usd_only(fmap["cost_usd"], col(tab, found["currency"]))
    skip_sql = None
    if grain != "request":
        skip_sql, skipped = _empty_buckets(tab, cur, fmap)
        if skipped:
            notes.append(
                N_("{n} empty bucket line (a period and no values) skipped", n=skipped)
                if skipped == 1
                else N_("{n} empty bucket lines (a period and no values) skipped", n=skipped)
            )
    if grain == "cost":
        row_cur = col(tab, found["currency"]) if "currency" in found else None
        fmap["amount"], constants["currency"] = _in_currency(
            fmap["amount"], row_cur, unit_currency(found["cost_usd"])
        )
        codes = _currencies(tab, cur, constants["currency"])
        if codes and codes != ["USD"]:
            notes.append(
                N_(
                    "amounts in {codes} kept as cost lines in their own currency: never "
                    "converted, never added to US dollars",
                    codes=", ".join(codes),
                )
            )
        else:
            notes.append(
                N_(
                    "money is the only measure (no token or request counts, no request ids): "
                    "read as cost lines, not as requests"
                )
            )
    byok = _byok_note(tab, cur, found)
    if byok:
        notes.append(byok)
    provider = None if "provider" in fmap else known_provider(list(tab.columns))
    if provider == "openai" and "model" not in fmap and "line_item" in fmap:
        # the Costs API's line items name the model first: "gpt-5-nano, input_tokens"
        li = f"CAST({fmap['line_item'].raw_sql} AS VARCHAR)"
        fmap["model"] = FieldSource(
            f"CASE WHEN contains({li}, ',') THEN nullif(trim(split_part({li}, ',', 1)), '') END",
            "VARCHAR",
            fmap["line_item"].label,
        )
    model_sql = fmap["model"].raw_sql if "model" in fmap else "NULL"
    inferred = PROVIDER_SQL.format(m=f"CAST({model_sql} AS VARCHAR)")
    if provider:
        constants["provider"] = f"'{provider}'"
    elif "provider" in fmap:
        p = fmap.pop("provider")
        named = f"coalesce(nullif({_word(p)}, ''), {inferred}, 'unknown')"
        # the usual values as written need neither lower() nor the model rules: 0.2 s per 10M rows
        constants["provider"] = (
            f"CASE WHEN {p.raw_sql} IN ({_FAST_PROVIDERS}) THEN {p.raw_sql} ELSE {named} END"
            if p.raw_type == "VARCHAR"
            else named
        )
    else:
        constants["provider"] = f"coalesce({inferred}, 'unknown')"
    if "batch" in fmap:
        b = fmap.pop("batch")
        constants["batch"] = (
            f"coalesce({values.parse('bool', b.raw_sql, b.raw_type, style)}, false)"
        )
    if grain == "request":
        constants["status"] = _status_sql(fmap, style)
        fmap.pop("status", None)
    elif grain == "usage":
        constants["kind"] = "'generic'"
    plan = tabular_plan(
        fmt=f"generic_{tab.kind}",
        source=source or f"generic_{grain}",
        grain=grain,
        tab=tab,
        mapping=fmap,
        style=style,
        constants=constants,
        notes=notes,
        skip_sql=skip_sql,
    )
    return plan


def _byok_note(tab: Tabular, cur: Cursor, found: dict[str, str]) -> str | None:
    """The import note for OpenRouter's BYOK spend (``byok_usage_inference``, ``BYOK Usage``:
    billed by the provider on your own key, not by OpenRouter) when the file states any: how
    much is left out of the cost. None when the column is absent, matched, or all zero."""
    column = next((c for c in tab.columns if normalise_name(c) in BYOK_COLUMNS), None)
    if column is None or column in found.values():
        return None
    c = quote_ident(column)
    try:
        row = cur.execute(
            f"SELECT sum(TRY_CAST(trim(CAST({c} AS VARCHAR)) AS {rules.MONEY_SQL})) "
            f"FROM {tab.read_sql}",
            tab.read_params,
        ).fetchone()
    except duckdb.Error as err:
        raise tab.wrap_error(err) from None
    total = row[0] if row else None
    if not total:
        return None
    return N_(
        "{column} (inference billed by the provider on your own key, not by OpenRouter: "
        "{amount} in all) is not counted in the cost",
        column=column,
        amount=f"${total.normalize():f}",
    )


# What an unrecognised file lacks: (no time column, no measure column) -> the expected text.
_UNRECOGNISED = {
    (True, True): N_(
        "a time column (timestamp, date, heure, ...) and a measure column (tokens, requests, "
        "cost, jetons, requêtes, coût, ...), or an explicit column mapping"
    ),
    (True, False): N_("a time column (timestamp, date, heure, ...), or an explicit column mapping"),
    (False, True): N_(
        "a measure column (tokens, requests, cost, jetons, requêtes, coût, ...), or an explicit "
        "column mapping"
    ),
}
# The measures whose header may state a unit (``_refuse_units``), as its refusal names them.
_UNIT_FIELDS = (N_("cost usd"), N_("input tokens"), N_("output tokens"), N_("total tokens"),
                N_("requests"))  # fmt: skip


def _example_field(column: str) -> str:
    """The canonical field a measure column most likely holds, for the example of a mapping
    in a message (money → ``cost_usd``, requests → ``requests``, tokens by their part)."""
    w = words(column.split(".")[-1])
    if w & MONEY_WORDS:
        return "cost_usd"
    if w & {"request", "requete"}:
        return "requests"
    for field, hints in (
        ("cached_input_tokens", {"cached", "cache", "read"}),
        ("reasoning_tokens", {"reasoning", "raisonnement"}),
        ("output_tokens", {"output", "completion", "sortie", "generated"}),
        ("input_tokens", {"input", "prompt", "entree", "context"}),
    ):
        if w & hints:
            return field
    return "total_tokens"


def _refuse_unmatched_measures(tab: Tabular, found: dict[str, str]) -> None:
    """Stop before a column that says it holds tokens, money or requests is silently left
    out (it would count as zero)."""
    left = MATCHER.unmatched_measures(list(tab.columns), found)
    if left:
        names = ", ".join(repr(c) for c in left)
        raise InputError(
            tab.display,
            N_(
                "columns {names} look like a measure (tokens, cost, requests) that no field "
                "matched; nothing imported",
                names=names,
            )
            if len(left) > 1
            else N_(
                "column {names} looks like a measure (tokens, cost, requests) that no field "
                "matched; nothing imported",
                names=names,
            ),
            found=names,
            expected=(
                N_(
                    "a column mapping that says what they hold (CLI: --map FIELD=COLUMN, e.g. "
                    "--map {example}; Data page: the mapping form)",
                    example=f"{_example_field(left[0])}={left[0]!r}",
                )
                if len(left) > 1
                else N_(
                    "a column mapping that says what it holds (CLI: --map FIELD=COLUMN, e.g. "
                    "--map {example}; Data page: the mapping form)",
                    example=f"{_example_field(left[0])}={left[0]!r}",
                )
            ),
            code="unmatched_measure",
        )


_COUNTS = (
    "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
    "reasoning_tokens", "total_tokens", "requests", "errors",
)  # fmt: skip
# Fields only a log of single calls has: with one of them, a file without request ids and
# token counts is still one row per call (its cost the call's), not a bill.
_CALL_FIELDS = (
    "request_id", "status", "http_status", "latency_ms", "error_code", "error_type",
    "error_message", "client_ip", "origin", "retry_after_ms",
)  # fmt: skip


def _cost_export(found: dict[str, str]) -> bool:
    """True for a cost export: money is its only measure (no token or request counts) and
    nothing in it is said of single calls (no request ids, statuses, latencies or errors),
    whatever its currency (``Cost (USD)``, ``Coût (€)``, ``amount_currency``). Each row is
    then a cost line of its period; a row per made-up request would count as requests."""
    return (
        "cost_usd" in found
        and not any(f in found for f in _COUNTS)
        and not any(f in found for f in _CALL_FIELDS)
    )


def _in_currency(
    cost: FieldSource, currency: FieldSource | None, head: str | None
) -> tuple[FieldSource, str]:
    """(the amount as text without its currency's code or sign, SQL for the row's ISO code).

    The code is the row's currency column, else the header's unit, else USD. A row whose
    currency cannot be read, or that contradicts the header's unit, or whose amount is blank
    gets an amount that does not read (the import stops on that line, naming the column and
    showing the value with its currency: ``2 in USD``) instead of a guess."""
    fallback = f"'{head or 'USD'}'"
    raw_cur = f"CAST({currency.raw_sql} AS VARCHAR)" if currency else "NULL"
    stated = rules.currency_sql(raw_cur) if currency else "NULL"
    code = f"coalesce({stated}, {fallback})"
    text = f"CAST({cost.raw_sql} AS VARCHAR)"
    bad = [f"(trim({raw_cur}) <> '' AND {stated} IS NULL)"] if currency else []
    if head and currency:
        bad.append(f"({stated} IS NOT NULL AND {stated} <> '{head}')")
    blank = f"coalesce(trim({text}), '') = ''"
    raw = (
        f"CASE WHEN {blank} THEN 'missing' "
        + (f"WHEN {' OR '.join(bad)} THEN {text} || ' in ' || trim({raw_cur}) " if bad else "")
        + f"ELSE {rules.strip_currency_sql(text, code)} END"
    )
    return FieldSource(raw, "VARCHAR", cost.label), code


def _currencies(tab: Tabular, cur: Cursor, code_sql: str) -> list[str]:
    """The currency codes a cost export states (for its import notes), sorted."""
    try:
        rows = cur.execute(
            f"SELECT DISTINCT {code_sql} FROM {tab.read_sql} ORDER BY 1", tab.read_params
        ).fetchall()
    except duckdb.Error as err:
        raise tab.wrap_error(err) from None
    return [r[0] for r in rows if r[0]]


def _refuse_units(tab: Tabular, found: dict[str, str], currency_ok: bool = False) -> None:
    """Refuse a measure whose header states a unit that cannot be stored as is (a currency
    unit is read on a cost export in that currency: ``currency_ok``)."""
    for fieldname in ("cost_usd", "input_tokens", "output_tokens", "total_tokens", "requests"):
        column = found.get(fieldname)
        problem = unit_problem(column) if column else None
        if problem and column and currency_ok and fieldname == "cost_usd" and unit_currency(column):
            problem = None
        if problem:
            raise InputError(
                tab.display,
                N_(
                    "column {column!r} cannot be read as {field}: {problem}",
                    column=column,
                    field=Text(fieldname.replace("_", " ")),
                    problem=Text(problem),
                ),
                field=column,
            )


def _usd_only(cost: FieldSource, currency: FieldSource) -> FieldSource:
    """The cost as text, with a row in another currency turned into an unreadable value (the
    import then stops on that line, naming the currency) instead of counted as dollars."""
    cur = f"upper(trim(CAST({currency.raw_sql} AS VARCHAR)))"
    raw = (
        f"CASE WHEN {cur} IS NULL OR {cur} IN ('', 'USD', 'US$', '$') "
        f"THEN CAST({cost.raw_sql} AS VARCHAR) "
        f"ELSE CAST({cost.raw_sql} AS VARCHAR) || ' ' || {cur} END"
    )
    return FieldSource(raw, "VARCHAR", cost.label)


_VALUE_FIELDS = ("ts", "bucket_start", "bucket_end")


def _empty_buckets(
    tab: Tabular, cur: Cursor, fmap: dict[str, FieldSource]
) -> tuple[str | None, int]:
    """SQL true for a bucket line with a period and nothing else (dashboard exports write one
    per empty period), and how many the file has."""
    rest = [src for name, src in fmap.items() if name not in _VALUE_FIELDS]
    if not rest:
        return None, 0

    def blank(src: FieldSource) -> str:
        if src.raw_type == "VARCHAR":
            return f"coalesce(trim({src.raw_sql}), '') = ''"
        return f"{src.raw_sql} IS NULL"

    empty = " AND ".join(blank(s) for s in rest)
    try:
        row = cur.execute(
            f"SELECT count(*) FROM {tab.read_sql} WHERE {empty}", tab.read_params
        ).fetchone()
    except duckdb.Error as err:
        raise tab.wrap_error(err) from None
    n = int(row[0]) if row else 0
    return (empty if n else None), n


_FAST_PROVIDERS = "'openai', 'anthropic', 'google', 'mistral', 'azure', 'bedrock'"


def _word(src: FieldSource) -> str:
    """SQL for a text value in lower case, trimmed unless known clean."""
    if src.clean and src.raw_type == "VARCHAR":
        return f"lower({src.raw_sql})"
    return f"lower(trim(CAST({src.raw_sql} AS VARCHAR)))"


def _status_sql(fmap: dict[str, FieldSource], style: values.Style) -> str:
    """success | error, from a status word, an HTTP status or the presence of an error."""
    parts = []
    if "status" in fmap:
        s = _word(fmap["status"])
        raw = fmap["status"]
        if raw.raw_type == "VARCHAR":  # the two usual words as written first: no lower() per row
            parts.append(
                f"WHEN {raw.raw_sql} = 'success' THEN 'success' WHEN {raw.raw_sql} = 'error' THEN 'error'"
            )
        err_words = ", ".join(f"'{w}'" for w in values.ERROR_WORDS)
        ok_words = ", ".join(f"'{w}'" for w in values.SUCCESS_WORDS)
        parts.append(
            f"WHEN {s} IN ({err_words}) THEN 'error' WHEN {s} IN ({ok_words}) THEN 'success'"
        )
        parts.append(f"WHEN TRY_CAST({s} AS INTEGER) >= 400 THEN 'error'")
    if "http_status" in fmap:
        h = fmap["http_status"]
        parts.append(
            f"WHEN {values.parse('int', h.raw_sql, h.raw_type, style)} >= 400 THEN 'error'"
        )
    for f in ("error_code", "error_type", "error_message"):
        if f in fmap:
            parts.append(f"WHEN nullif({_word(fmap[f])}, '') IS NOT NULL THEN 'error'")
    return "CASE " + " ".join(parts) + " ELSE 'success' END" if parts else "'success'"


def _plan(tab: Tabular, cur: Cursor, asked: Asked) -> Plan:
    return plan_generic(tab, cur, asked.mapping, asked.source, asked.text_only)


def _anything(_tab: Tabular) -> bool:
    return True


# Tried last: any table or records the other importers do not recognise.
IMPORTERS = (
    Importer(("generic",), "table", 1000, _anything, _plan),
    Importer(("generic",), "records", 1000, _anything, _plan),
)
