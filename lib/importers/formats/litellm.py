"""LiteLLM: the proxy's spend logs (the ``LiteLLM_SpendLogs`` table as CSV, ``GET
/spend/logs`` records, the UI's pages of them) and its daily spend tables
(``LiteLLM_Daily{User,Team,Organization,EndUser,Tag,Agent}Spend`` as CSV).

Spend logs are one row per request. ``status`` is ``success``/``failure`` and may be empty
on old rows (then a row with error details in ``metadata`` is a failure); ``spend`` is USD.
The metadata object arrives as JSON text (CSV) or flattened into dotted columns (JSON
records): both are read. A daily table is one usage bucket per day and owner.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from lib.importers import rules
from lib.importers.base import (
    PROVIDER_SQL,
    Asked,
    FieldSource,
    Importer,
    Plan,
    col,
    first_filled,
    text_sql,
)
from lib.importers.match import detect_style
from lib.importers.plan import tabular_plan
from lib.importers.tabular import Tabular, normalise_name, quote_ident
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


def looks_like_litellm(tab: Tabular) -> bool:
    """LiteLLM spend logs, or one of its daily spend tables."""
    names = set(tab.names)
    return names >= LITELLM_MARKERS or names >= LITELLM_DAILY_MARKERS


def _is_spend_log(record: Any) -> bool:
    return isinstance(record, dict) and {normalise_name(k) for k in record} >= LITELLM_MARKERS


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


def _json_field(tab: Tabular, column: str | None, path: str) -> str:
    """A text value inside a JSON column (NULL when the column or the key is absent).

    ``column`` is the JSON column's normalised name; JSON records may come with the object
    already flattened into dotted columns (``metadata.user_api_key_alias``): those are used
    when present."""
    if column is None:
        return "NULL"
    dotted = _dotted(tab, (column, *path.removeprefix("$.").split(".")))
    if dotted is not None:
        return f"nullif({text_sql(dotted)}, '')"
    whole = tab.names.get(column)
    if whole is None:
        return "NULL"
    return f"json_extract_string(TRY_CAST({text_sql(whole)} AS JSON), '{path}')"


def _dotted(tab: Tabular, parts: tuple[str, ...]) -> str | None:
    """The flattened column ``a.b.c`` of a nested JSON value (names compared normalised)."""
    want = ".".join(normalise_name(p) for p in parts)
    for c in tab.columns:
        if "." in c and ".".join(normalise_name(p) for p in c.split(".")) == want:
            return c
    return None


def plan_litellm(tab: Tabular, cur: Cursor, text_only: bool = False) -> Plan:
    """Plan LiteLLM spend logs (one row per request) or a daily spend table."""
    n = tab.names
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
    users = [f"nullif(trim({text_sql(n[c])}), '')" for c in ("end_user", "user") if c in n]
    if users:
        m["user_id"] = FieldSource(f"coalesce({', '.join(users)})", "VARCHAR", "user")
    project_parts = [f"nullif({text_sql(n['team_id'])}, '')"] if "team_id" in n else []
    project_parts.append(_json_field(tab, meta, "$.user_api_key_team_alias"))
    m["project"] = FieldSource(f"coalesce({', '.join(project_parts)})", "VARCHAR", "team_id")
    key_parts = [_json_field(tab, meta, "$.user_api_key_alias")]
    if "api_key" in n:
        key_parts.append(f"nullif({text_sql(n['api_key'])}, '')")
    m["api_key"] = FieldSource(f"coalesce({', '.join(key_parts)})", "VARCHAR", "api_key")
    if "request_duration_ms" in n:
        dur = f"nullif({text_sql(n['request_duration_ms'])}, '')"
    else:
        dur = "NULL"
    if "endtime" in n:
        diff = (
            f"CAST(date_diff('millisecond', TRY_CAST({text_sql(n['starttime'])} AS TIMESTAMPTZ), "
            f"TRY_CAST({text_sql(n['endtime'])} AS TIMESTAMPTZ)) AS VARCHAR)"
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
    status = text_sql(n["status"]) if "status" in n else "NULL"
    status_sql = (
        f"CASE WHEN lower(trim(coalesce({status}, ''))) IN ('failure', 'error', 'failed') THEN 'error' "
        f"WHEN lower(trim(coalesce({status}, ''))) = 'success' THEN 'success' "
        f"WHEN nullif({err_code}, '') IS NOT NULL OR nullif({err_msg}, '') IS NOT NULL THEN 'error' "
        "ELSE 'success' END"
    )
    model_sql = text_sql(n["model"]) if "model" in n else "NULL"
    provider_sql = PROVIDER_SQL.format(m=model_sql)
    if "custom_llm_provider" in n:
        provider_sql = f"coalesce(lower(nullif(trim({text_sql(n['custom_llm_provider'])}), '')), {provider_sql})"
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
    n = tab.names
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
    day = f"TRY_CAST(trim({text_sql(n['date'])}) AS DATE)"
    m["bucket_end"] = FieldSource(f"CAST({day} + INTERVAL 1 DAY AS VARCHAR)", "VARCHAR", n["date"])
    owners = [n[c] for c in ("team_id", "organization_id", "tag", "agent_id") if c in n]
    if owners:
        m["project"] = first_filled(tab, owners)
    users = [n[c] for c in ("user_id", "end_user_id") if c in n]
    if users:
        m["user_id"] = first_filled(tab, users)
    style = detect_style(tab, cur, {k: v.label for k, v in m.items() if v.label in tab.columns})
    model_sql = text_sql(n["model"]) if "model" in n else "NULL"
    provider_sql = PROVIDER_SQL.format(m=model_sql)
    if "custom_llm_provider" in n:
        provider_sql = (
            f"coalesce(lower(nullif(trim({text_sql(n['custom_llm_provider'])}), '')), "
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


def _plan_litellm_pages(docs: list[Any], cur: Cursor, asked: Asked) -> Plan:
    tab = litellm_pages(asked.path, asked.display, docs)
    assert tab is not None  # recognised by looks_like_litellm_pages
    return plan_litellm(tab, cur)


IMPORTERS = (
    Importer(
        ("litellm",), "table", 40, looks_like_litellm,
        lambda t, c, a: plan_litellm(t, c, a.text_only),
    ),
    # JSON records of /spend/logs; a --format naming them is taken only if they look like them
    Importer(
        ("litellm",), "records", 20, looks_like_litellm,
        lambda t, c, _a: plan_litellm(t, c), "check",
    ),
    Importer(("litellm",), "docs", 80, looks_like_litellm_pages, _plan_litellm_pages, "check"),
)  # fmt: skip
