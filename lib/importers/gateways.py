"""Gateway and observability logs: LiteLLM spend logs and Helicone CSV exports.

Both are one row per request. LiteLLM's ``status`` is ``success``/``failure`` and may be
empty on old rows (then a row with error details in ``metadata`` is a failure); ``spend`` is
USD. Helicone's ``response_status`` is the HTTP status; ``latency`` is milliseconds.
"""

from __future__ import annotations

from lib.importers import values
from lib.importers.base import PROVIDER_SQL, FieldSource, Plan, col, tabular_plan
from lib.importers.generic import detect_style, normalise_name
from lib.importers.tabular import Tabular, quote_ident
from lib.store.db import Cursor

LITELLM_MARKERS = {"request_id", "spend", "starttime", "call_type"}
HELICONE_MARKERS = {"response_id", "response_created_at", "request_created_at", "response_status"}


def _norm_columns(tab: Tabular) -> dict[str, str]:
    return {normalise_name(c): c for c in tab.columns}


def looks_like_litellm(tab: Tabular) -> bool:
    return set(_norm_columns(tab)) >= LITELLM_MARKERS


def looks_like_helicone(tab: Tabular) -> bool:
    return set(_norm_columns(tab)) >= HELICONE_MARKERS


def _text(tab: Tabular, name: str) -> str:
    return f"CAST({quote_ident(name)} AS VARCHAR)"


def _json_field(tab: Tabular, column: str | None, path: str) -> str:
    """A text value inside a JSON column (NULL when the column or the key is absent)."""
    if column is None:
        return "NULL"
    return f"json_extract_string(TRY_CAST({_text(tab, column)} AS JSON), '{path}')"


def plan_litellm(tab: Tabular, cur: Cursor, text_only: bool = False) -> Plan:
    n = _norm_columns(tab)
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

    meta = n.get("metadata")
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
        style=values.Style(decimal_comma=style.decimal_comma, dayfirst=style.dayfirst),
        constants={
            "status": status_sql,
            "provider": f"coalesce({provider_sql}, 'unknown')",
            "batch": "false",
        },
    )


def plan_helicone(tab: Tabular, cur: Cursor, text_only: bool = False) -> Plan:
    n = _norm_columns(tab)
    if not text_only:
        wanted = {
            "request_created_at": "ts",
            "prompt_tokens": "int",
            "completion_tokens": "int",
            "latency": "int",
            "cost": "money",
        }
        tab.refine_types(cur, {n[k]: v for k, v in wanted.items() if k in n}, "DECIMAL(18, 10)")
    m: dict[str, FieldSource] = {}
    for canonical, name in (
        ("ts", "request_created_at"),
        ("request_id", "response_id"),
        ("model", "model"),
        ("input_tokens", "prompt_tokens"),
        ("output_tokens", "completion_tokens"),
        ("cost_usd", "cost"),
        ("latency_ms", "latency"),
        ("user_id", "request_user_id"),
        ("http_status", "response_status"),
    ):
        if name in n:
            m[canonical] = col(tab, n[name])
    props = n.get("request_properties")
    if props:
        named = _json_field(tab, props, '$."Helicone-Property-Project"')
        plain = _json_field(tab, props, "$.project")
        m["project"] = FieldSource(
            f"coalesce({named}, {plain})",
            "VARCHAR",
            "request_properties",
        )
    style = detect_style(tab, cur, {k: v.label for k, v in m.items() if v.label in tab.columns})
    http = (
        values.parse("int", m["http_status"].raw_sql, "VARCHAR", style)
        if "http_status" in m
        else "NULL"
    )
    model_sql = _text(tab, n["model"]) if "model" in n else "NULL"
    return tabular_plan(
        fmt="helicone_csv",
        source="helicone",
        grain="request",
        tab=tab,
        mapping=m,
        style=style,
        constants={
            "status": f"CASE WHEN {http} >= 400 THEN 'error' ELSE 'success' END",
            "provider": f"coalesce({PROVIDER_SQL.format(m=model_sql)}, 'unknown')",
            "batch": "false",
        },
    )
