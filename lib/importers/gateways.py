"""Gateway and observability logs: LiteLLM spend logs and Helicone CSV exports.

Both are one row per request. LiteLLM's ``status`` is ``success``/``failure`` and may be
empty on old rows (then a row with error details in ``metadata`` is a failure); ``spend`` is
USD. Helicone's ``response_status`` is the HTTP status; ``latency`` is milliseconds.

Helicone's export CLI (``npx @helicone/export``) escapes the quotes of JSON values twice
(``request_properties`` arrives as ``{""project"":""web""}``); older versions name the cost
column ``cost_usd``; the API record itself has ``delay_ms``, ``cost`` and ``costUSD``. Every
spelling is read, and a measure left empty on some rows is named in the import's notes.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import islice
from typing import Any

import duckdb

from lib.importers import rules, values
from lib.importers.base import PROVIDER_SQL, Asked, FieldSource, Importer, Plan, col
from lib.importers.match import detect_style
from lib.importers.plan import tabular_plan
from lib.importers.tabular import Tabular, quote_ident
from lib.store.db import Cursor

LITELLM_MARKERS = {"request_id", "spend", "starttime", "call_type"}
# LiteLLM_DailyUserSpend, …TeamSpend, …OrganizationSpend, …EndUserSpend, …TagSpend, …AgentSpend
LITELLM_DAILY_MARKERS = {
    "date",
    "api_key",
    "prompt_tokens",
    "completion_tokens",
    "spend",
    "api_requests",
}
HELICONE_MARKERS = {"response_id", "response_created_at", "request_created_at", "response_status"}


def _norm(name: str) -> str:
    """A column name without case, accents or punctuation (``costUSD`` → ``costusd``,
    ``startTime`` → ``starttime``): the gateways' own spellings, whatever the generic
    importer's matching rules become."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def _norm_columns(tab: Tabular) -> dict[str, str]:
    return {_norm(c): c for c in tab.columns}


def looks_like_litellm(tab: Tabular) -> bool:
    """LiteLLM spend logs, or one of its daily spend tables."""
    names = set(_norm_columns(tab))
    return names >= LITELLM_MARKERS or names >= LITELLM_DAILY_MARKERS


def looks_like_helicone(tab: Tabular) -> bool:
    return set(_norm_columns(tab)) >= HELICONE_MARKERS


def _is_spend_log(record: Any) -> bool:
    return isinstance(record, dict) and {_norm(k) for k in record} >= LITELLM_MARKERS


def _page_records(docs: list[Any]) -> list[Any] | None:
    """A sample (up to 500) of the spend-log records inside LiteLLM UI pages (``{"data":
    [...], "total": …, "page": …}``; one page, a JSON array of pages or JSON Lines of pages);
    None when ``docs`` are not such pages."""
    if not all(isinstance(d, dict) and isinstance(d.get("data"), list) for d in docs):
        return None
    records = list(islice((r for d in docs for r in d["data"]), 500))
    if not records or not all(_is_spend_log(r) for r in records):
        return None
    return records


def looks_like_litellm_pages(docs: list[Any]) -> bool:
    """LiteLLM UI pages of spend logs (see ``_page_records``)."""
    return _page_records(docs) is not None


def litellm_pages(path: str, display: str, docs: list[Any]) -> Tabular | None:
    """The spend-log records inside LiteLLM UI pages as a table read by DuckDB, every value
    as text; None when ``docs`` are not such pages."""
    records = _page_records(docs)
    if records is None:
        return None
    keys: dict[str, None] = {}
    for r in records:
        keys.update(dict.fromkeys(r))
    rules.check_columns(display, keys, "keys")
    columns = {k: "VARCHAR" for k in keys}

    def lit(key: str) -> str:
        return "'" + key.replace("'", "''") + "'"

    fields = ", ".join(
        f"json_extract_string(r, '$.' || CAST(to_json({lit(k)}) AS VARCHAR)) AS {quote_ident(k)}"
        for k in keys
    )
    read_sql = (
        f"(SELECT {fields} FROM (SELECT unnest(data) AS r FROM read_json(?, format = 'auto', "
        "columns = ?, maximum_object_size = 16777216)))"
    )
    return Tabular(path, display, "jsonl", read_sql, [path, {"data": "JSON[]"}], columns)


def _text(tab: Tabular, name: str) -> str:
    return f"CAST({quote_ident(name)} AS VARCHAR)"


def _json_field(tab: Tabular, column: str | None, path: str) -> str:
    """A text value inside a JSON column (NULL when the column or the key is absent).

    ``column`` is the JSON column's normalised name; JSON records may come with the object
    already flattened into dotted columns (``metadata.user_api_key_alias``): those are used
    when present."""
    if column is None:
        return "NULL"
    dotted = _dotted(tab, (column, *path.removeprefix("$.").split(".")))
    if dotted is not None:
        return f"nullif({_text(tab, dotted)}, '')"
    whole = _norm_columns(tab).get(column)
    if whole is None:
        return "NULL"
    return f"json_extract_string(TRY_CAST({_text(tab, whole)} AS JSON), '{path}')"


def _dotted(tab: Tabular, parts: tuple[str, ...]) -> str | None:
    """The flattened column ``a.b.c`` of a nested JSON value (names compared normalised)."""
    want = ".".join(_norm(p) for p in parts)
    for c in tab.columns:
        if "." in c and ".".join(_norm(p) for p in c.split(".")) == want:
            return c
    return None


def _json_doc(raw: str) -> str:
    """SQL: the JSON document held by the text ``raw``, also when its quotes were escaped
    twice (``{""a"":""b""}``, as Helicone's export CLI writes it) or when it is a JSON string
    that holds the document; NULL when it is no JSON at all."""
    fixed = "replace(t, '\"\"', '\"')"
    doc = (
        f"list_transform([{raw}], lambda t: CASE WHEN json_valid(t) THEN CAST(t AS JSON) "
        f"WHEN json_valid({fixed}) THEN CAST({fixed} AS JSON) END)[1]"
    )
    return (
        f"list_transform([{doc}], lambda d: CASE WHEN json_type(d) = 'VARCHAR' "
        "AND json_valid(json_extract_string(d, '$')) "
        "THEN CAST(json_extract_string(d, '$') AS JSON) ELSE d END)[1]"
    )


def _json_key(doc: str, names: tuple[str, ...]) -> str:
    """SQL: the text value of the first key of the JSON object ``doc`` whose lower-case name
    is one of ``names`` (our own constants)."""
    wanted = ", ".join("'" + n.replace("'", "''") + "'" for n in names)
    key = f"list_filter(json_keys(j), lambda k: lower(k) IN ({wanted}))[1]"
    return (
        f"list_transform([{doc}], lambda j: nullif(trim(json_extract_string(j, "
        f"'$.' || CAST(to_json({key}) AS VARCHAR))), ''))[1]"
    )


def _blank(tab: Tabular, column: str) -> str:
    """SQL: true when ``column`` is empty on this row."""
    return f"coalesce(trim({_text(tab, column)}), '') = ''"


def _first_filled(tab: Tabular, columns: list[str]) -> FieldSource:
    """The first non-empty value of ``columns`` (one column: read as it is)."""
    if len(columns) == 1:
        return col(tab, columns[0])
    parts = ", ".join(f"nullif(trim({_text(tab, c)}), '')" for c in columns)
    return FieldSource(f"coalesce({parts})", "VARCHAR", "/".join(columns))


def _empty_notes(
    tab: Tabular,
    cur: Cursor,
    keep: str,
    measures: dict[str, list[str]],
    missing: dict[str, str],
    then: dict[str, str],
) -> list[str]:
    """Notes naming every measure that is empty on some rows (``measures``: what it is →
    its columns; ``then``: what follows for those rows) or absent from the file
    (``missing``: what it is → what follows)."""
    notes = [f"no {what} column: {consequence}" for what, consequence in missing.items()]
    if not measures:
        return notes
    counts = ", ".join(
        "count(*) FILTER (WHERE " + " AND ".join(_blank(tab, c) for c in cols) + ")"
        for cols in measures.values()
    )
    try:
        row = cur.execute(
            f"SELECT count(*), {counts} FROM {tab.read_sql} WHERE {keep}", tab.read_params
        ).fetchone()
    except duckdb.Error:
        return notes  # the import itself reports what cannot be read
    total = row[0] if row else 0
    for (what, cols), empty in zip(measures.items(), (row or [])[1:], strict=False):
        if empty:
            shown = " and ".join(cols)
            notes.append(f"{what} is empty on {empty:,} of {total:,} rows ({shown}): {then[what]}")
    return notes


def plan_litellm(tab: Tabular, cur: Cursor, text_only: bool = False) -> Plan:
    """Plan LiteLLM spend logs (one row per request) or a daily spend table."""
    n = _norm_columns(tab)
    if not set(n) >= LITELLM_MARKERS and set(n) >= LITELLM_DAILY_MARKERS:
        return plan_litellm_daily(tab, cur, text_only)
    if not text_only:
        wanted = {
            "starttime": "ts",
            "prompt_tokens": "int",
            "completion_tokens": "int",
            "spend": "money",
        }
        tab.refine_types(cur, {n[k]: v for k, v in wanted.items() if k in n}, "DECIMAL(18, 10)")

    def get(name: str) -> FieldSource | None:
        return col(tab, n[name]) if name in n else None

    meta = (
        "metadata"
        if "metadata" in n or any(c.lower().startswith("metadata.") for c in tab.columns)
        else None
    )
    m: dict[str, FieldSource] = {}
    for canonical, name in (
        ("ts", "starttime"),
        ("request_id", "request_id"),
        ("model", "model"),
        ("input_tokens", "prompt_tokens"),
        ("output_tokens", "completion_tokens"),
        ("cost_usd", "spend"),
        ("client_ip", "requester_ip_address"),
    ):
        src = get(name)
        if src:
            m[canonical] = src
    users = [f"nullif(trim({_text(tab, n[c])}), '')" for c in ("end_user", "user") if c in n]
    if users:
        m["user_id"] = FieldSource(f"coalesce({', '.join(users)})", "VARCHAR", "user")
    project_parts = [f"nullif({_text(tab, n['team_id'])}, '')"] if "team_id" in n else []
    project_parts.append(_json_field(tab, meta, "$.user_api_key_team_alias"))
    m["project"] = FieldSource(f"coalesce({', '.join(project_parts)})", "VARCHAR", "team_id")
    key_parts = [_json_field(tab, meta, "$.user_api_key_alias")]
    if "api_key" in n:
        key_parts.append(f"nullif({_text(tab, n['api_key'])}, '')")
    m["api_key"] = FieldSource(f"coalesce({', '.join(key_parts)})", "VARCHAR", "api_key")
    if "request_duration_ms" in n:
        dur = f"nullif({_text(tab, n['request_duration_ms'])}, '')"
    else:
        dur = "NULL"
    if "endtime" in n:
        diff = (
            f"CAST(date_diff('millisecond', TRY_CAST({_text(tab, n['starttime'])} AS TIMESTAMPTZ), "
            f"TRY_CAST({_text(tab, n['endtime'])} AS TIMESTAMPTZ)) AS VARCHAR)"
        )
        dur = f"coalesce({dur}, {diff})"
    m["latency_ms"] = FieldSource(dur, "VARCHAR", "request_duration_ms")
    m["cached_input_tokens"] = FieldSource(
        _json_field(tab, meta, "$.usage_object.prompt_tokens_details.cached_tokens"),
        "VARCHAR",
        "metadata",
    )
    err_code = _json_field(tab, meta, "$.error_information.error_code")
    err_class = _json_field(tab, meta, "$.error_information.error_class")
    err_msg = _json_field(tab, meta, "$.error_information.error_message")
    m["error_code"] = FieldSource(f"nullif({err_code}, '')", "VARCHAR", "metadata")
    m["error_type"] = FieldSource(f"nullif({err_class}, '')", "VARCHAR", "metadata")
    m["error_message"] = FieldSource(f"nullif({err_msg}, '')", "VARCHAR", "metadata")
    m["http_status"] = FieldSource(
        f"CASE WHEN regexp_full_match(coalesce({err_code}, ''), '\\d{{3}}') THEN {err_code} END",
        "VARCHAR",
        "metadata",
    )
    status = _text(tab, n["status"]) if "status" in n else "NULL"
    status_sql = (
        f"CASE WHEN lower(trim(coalesce({status}, ''))) IN ('failure', 'error', 'failed') THEN 'error' "
        f"WHEN lower(trim(coalesce({status}, ''))) = 'success' THEN 'success' "
        f"WHEN nullif({err_code}, '') IS NOT NULL OR nullif({err_msg}, '') IS NOT NULL THEN 'error' "
        "ELSE 'success' END"
    )
    model_sql = _text(tab, n["model"]) if "model" in n else "NULL"
    provider_sql = PROVIDER_SQL.format(m=model_sql)
    if "custom_llm_provider" in n:
        provider_sql = f"coalesce(lower(nullif(trim({_text(tab, n['custom_llm_provider'])}), '')), {provider_sql})"
    style = detect_style(tab, cur, {k: v.label for k, v in m.items() if v.label in tab.columns})
    return tabular_plan(
        fmt="litellm_spend_logs",
        source="litellm",
        grain="request",
        tab=tab,
        mapping=m,
        style=style,
        constants={
            "status": status_sql,
            "provider": f"coalesce({provider_sql}, 'unknown')",
            "batch": "false",
        },
    )


def plan_litellm_daily(tab: Tabular, cur: Cursor, text_only: bool = False) -> Plan:
    """Plan a LiteLLM daily spend table (``LiteLLM_Daily{User,Team,Organization,EndUser,Tag,
    Agent}Spend``): one row per day (``date``, ``YYYY-MM-DD`` UTC), owner, API key, model,
    provider and endpoint. ``prompt_tokens`` include the cache reads and writes, as in
    LiteLLM's usage; ``spend`` is USD."""
    n = _norm_columns(tab)
    counts = (
        "prompt_tokens",
        "completion_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "api_requests",
        "failed_requests",
    )
    if not text_only:
        wanted = {c: "int" for c in counts} | {"spend": "money"}
        tab.refine_types(cur, {n[k]: v for k, v in wanted.items() if k in n})
    m: dict[str, FieldSource] = {}
    for canonical, name in (
        ("bucket_start", "date"),
        ("model", "model"),
        ("api_key", "api_key"),
        ("requests", "api_requests"),
        ("errors", "failed_requests"),
        ("input_tokens", "prompt_tokens"),
        ("cached_input_tokens", "cache_read_input_tokens"),
        ("cache_write_tokens", "cache_creation_input_tokens"),
        ("output_tokens", "completion_tokens"),
        ("cost_usd", "spend"),
    ):
        if name in n:
            m[canonical] = col(tab, n[name])
    day = f"TRY_CAST(trim({_text(tab, n['date'])}) AS DATE)"
    m["bucket_end"] = FieldSource(f"CAST({day} + INTERVAL 1 DAY AS VARCHAR)", "VARCHAR", n["date"])
    owners = [n[c] for c in ("team_id", "organization_id", "tag", "agent_id") if c in n]
    if owners:
        m["project"] = _first_filled(tab, owners)
    users = [n[c] for c in ("user_id", "end_user_id") if c in n]
    if users:
        m["user_id"] = _first_filled(tab, users)
    style = detect_style(tab, cur, {k: v.label for k, v in m.items() if v.label in tab.columns})
    model_sql = _text(tab, n["model"]) if "model" in n else "NULL"
    provider_sql = PROVIDER_SQL.format(m=model_sql)
    if "custom_llm_provider" in n:
        provider_sql = (
            f"coalesce(lower(nullif(trim({_text(tab, n['custom_llm_provider'])}), '')), "
            f"{provider_sql})"
        )
    return tabular_plan(
        fmt="litellm_daily_spend",
        source="litellm_daily",
        grain="usage",
        tab=tab,
        mapping=m,
        style=style,
        constants={
            "kind": "'litellm_daily'",  # a later export of the same days replaces them
            "provider": f"coalesce({provider_sql}, 'unknown')",
            "batch": "false",
        },
    )


HELICONE_COST = ("cost", "cost_usd", "costusd")  # current CLI, older CLI, the API record
HELICONE_LATENCY = ("latency", "delay_ms")  # the CLI's column (often empty), the API record
HELICONE_MODEL = ("model", "response_model", "request_model")
PROJECT_KEYS = ("project", "helicone-property-project")


def plan_helicone(tab: Tabular, cur: Cursor, text_only: bool = False) -> Plan:
    """Plan a Helicone export: the CSV of either CLI version (``cost`` or ``cost_usd``), or
    the same records with the API's own names (``delay_ms``, ``costUSD``)."""
    n = _norm_columns(tab)
    costs = [n[c] for c in HELICONE_COST if c in n]
    latencies = [n[c] for c in HELICONE_LATENCY if c in n]
    models = [n[c] for c in HELICONE_MODEL if c in n]
    if not text_only:
        wanted = {
            "request_created_at": "ts",
            "prompt_tokens": "int",
            "completion_tokens": "int",
            "prompt_cache_read_tokens": "int",
            "prompt_cache_write_tokens": "int",
        }
        typed = {n[k]: v for k, v in wanted.items() if k in n}
        if len(costs) == 1:
            typed[costs[0]] = "money"
        if len(latencies) == 1:
            typed[latencies[0]] = "int"
        tab.refine_types(cur, typed, "DECIMAL(18, 10)")
    m: dict[str, FieldSource] = {}
    for canonical, name in (
        ("ts", "request_created_at"),
        ("input_tokens", "prompt_tokens"),
        ("output_tokens", "completion_tokens"),
        ("cached_input_tokens", "prompt_cache_read_tokens"),
        ("cache_write_tokens", "prompt_cache_write_tokens"),
        ("user_id", "request_user_id"),
    ):
        if name in n:
            m[canonical] = col(tab, n[name])
    no_response = "false"
    if "response_status" in n:
        # Helicone stores a negative status for a request that got no provider response
        # (pending, timed out, cancelled; the exact codes are not documented): an error
        # without an HTTP status, its code kept as the error code.
        raw = f"trim({_text(tab, n['response_status'])})"
        no_response = f"coalesce(regexp_full_match({raw}, '-[0-9]+'), false)"
        m["http_status"] = FieldSource(
            f"CASE WHEN {no_response} THEN NULL ELSE {raw} END", "VARCHAR", n["response_status"]
        )
        m["error_code"] = FieldSource(
            f"CASE WHEN {no_response} THEN {raw} END", "VARCHAR", n["response_status"]
        )
    ids = [n[c] for c in ("response_id", "request_id") if c in n]
    if ids:
        m["request_id"] = _first_filled(tab, ids)
    if models:
        m["model"] = _first_filled(tab, models)
    if costs:
        m["cost_usd"] = _first_filled(tab, costs)
    if latencies:
        m["latency_ms"] = _first_filled(tab, latencies)
    props = n.get("request_properties")
    flat = [
        c for c in tab.columns if c.lower() in {f"request_properties.{k}" for k in PROJECT_KEYS}
    ]
    if flat:  # JSON records whose properties object was flattened
        m["project"] = _first_filled(tab, flat)
    elif props:
        m["project"] = FieldSource(
            _json_key(_json_doc(_text(tab, props)), PROJECT_KEYS), "VARCHAR", props
        )
    style = detect_style(tab, cur, {k: v.label for k, v in m.items() if v.label in tab.columns})
    http = (
        values.parse("int", m["http_status"].raw_sql, m["http_status"].raw_type, style)
        if "http_status" in m
        else "NULL"
    )
    model_sql = m["model"].raw_sql if "model" in m else "NULL"
    if "model" in m and m["model"].raw_type != "VARCHAR":
        model_sql = f"CAST({model_sql} AS VARCHAR)"
    plan = tabular_plan(
        fmt="helicone_csv",
        source="helicone",
        grain="request",
        tab=tab,
        mapping=m,
        style=style,
        constants={
            "status": (f"CASE WHEN {no_response} OR {http} >= 400 THEN 'error' ELSE 'success' END"),
            "provider": f"coalesce({PROVIDER_SQL.format(m=model_sql)}, 'unknown')",
            "batch": "false",
        },
    )
    measures = {
        "cost": costs,
        "latency": latencies,
        "input tokens": [n["prompt_tokens"]] if "prompt_tokens" in n else [],
        "output tokens": [n["completion_tokens"]] if "completion_tokens" in n else [],
    }
    missing = {
        "cost": "cost is estimated from catalog prices (columns looked for: cost, cost_usd, costUSD)",
        "latency": "no latency is recorded (columns looked for: latency, delay_ms)",
        "input tokens": "input tokens count as 0 (column looked for: prompt_tokens)",
        "output tokens": "output tokens count as 0 (column looked for: completion_tokens)",
    }
    empty_then = {
        "cost": "cost is estimated from catalog prices on those rows",
        "latency": "those rows have no latency",
        "input tokens": "counted as 0",
        "output tokens": "counted as 0",
    }
    plan.notes = [
        *plan.notes,
        *_empty_notes(
            tab,
            cur,
            plan.keep_sql,
            {k: v for k, v in measures.items() if v},
            {k: missing[k] for k, v in measures.items() if not v},
            empty_then,
        ),
    ]
    if no_response != "false":
        try:
            row = cur.execute(
                f"SELECT count(*) FILTER (WHERE {no_response}) FROM {tab.read_sql} "
                f"WHERE {plan.keep_sql}",
                tab.read_params,
            ).fetchone()
        except duckdb.Error:
            row = None  # the import itself reports what cannot be read
        if row and row[0]:
            plan.notes.append(
                f"{row[0]:,} rows have a negative response_status (no response from the "
                "provider): counted as errors without an HTTP status"
            )
    return plan


def _plan_litellm_pages(docs: list[Any], cur: Cursor, asked: Asked) -> Plan:
    tab = litellm_pages(asked.path, asked.display, docs)
    assert tab is not None  # recognised by looks_like_litellm_pages
    return plan_litellm(tab, cur)


IMPORTERS = (
    Importer(
        ("litellm",), "table", 40, looks_like_litellm,
        lambda t, c, a: plan_litellm(t, c, a.text_only),
    ),
    Importer(
        ("helicone",), "table", 50, looks_like_helicone,
        lambda t, c, a: plan_helicone(t, c, a.text_only),
    ),
    # JSON records: spend logs (/spend/logs) and Helicone's records (the export CLI's json and
    # jsonl); a --format naming them is taken only for records that look like them
    Importer(
        ("litellm",), "records", 20, looks_like_litellm,
        lambda t, c, _a: plan_litellm(t, c), "check",
    ),
    Importer(
        ("helicone",), "records", 30, looks_like_helicone,
        lambda t, c, _a: plan_helicone(t, c), "check",
    ),
    Importer(("litellm",), "docs", 80, looks_like_litellm_pages, _plan_litellm_pages, "check"),
)  # fmt: skip
