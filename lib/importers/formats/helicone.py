"""Helicone: request logs exported by its CLI (``npx @helicone/export``: CSV, JSON or JSON
Lines) or saved from its request API.

One row per request. ``response_status`` is the HTTP status (negative when the provider never
answered); ``latency`` is milliseconds. The export CLI escapes the quotes of JSON values
twice (``request_properties`` arrives as ``{""project"":""web""}``); older versions name the
cost column ``cost_usd``; the API record itself has ``delay_ms``, ``cost`` and ``costUSD``.
Every spelling is read, and a measure left empty on some rows is named in the import's notes.
"""

from __future__ import annotations

import duckdb

from lib.i18n import N_, Text
from lib.importers import values
from lib.importers.base import (
    PROVIDER_SQL,
    FieldSource,
    Importer,
    Plan,
    col,
    first_filled,
    text_sql,
)
from lib.importers.match import detect_style
from lib.importers.plan import tabular_plan
from lib.importers.tabular import Tabular
from lib.store.db import Cursor

HELICONE_MARKERS = {"response_id", "response_created_at", "request_created_at", "response_status"}


def looks_like_helicone(tab: Tabular) -> bool:
    return set(tab.names) >= HELICONE_MARKERS


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
    return f"coalesce(trim({text_sql(column)}), '') = ''"


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
    notes = [
        N_("no {what} column: {consequence}", what=Text(what), consequence=Text(consequence))
        for what, consequence in missing.items()
    ]
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
            notes.append(
                N_(
                    "{what} is empty on {empty} of {total} rows ({columns}): {then}",
                    what=Text(what),
                    empty=empty,
                    total=total,
                    columns=shown,
                    then=Text(then[what]),
                )
            )
    return notes


HELICONE_COST = ("cost", "cost_usd", "costusd")  # current CLI, older CLI, the API record
HELICONE_LATENCY = ("latency", "delay_ms")  # the CLI's column (often empty), the API record
HELICONE_MODEL = ("model", "response_model", "request_model")
PROJECT_KEYS = ("project", "helicone-property-project")


def plan_helicone(tab: Tabular, cur: Cursor, text_only: bool = False) -> Plan:
    """Plan a Helicone export: the CSV of either CLI version (``cost`` or ``cost_usd``), or
    the same records with the API's own names (``delay_ms``, ``costUSD``)."""
    n = tab.names
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
        raw = f"trim({text_sql(n['response_status'])})"
        no_response = f"coalesce(regexp_full_match({raw}, '-[0-9]+'), false)"
        m["http_status"] = FieldSource(
            f"CASE WHEN {no_response} THEN NULL ELSE {raw} END", "VARCHAR", n["response_status"]
        )
        m["error_code"] = FieldSource(
            f"CASE WHEN {no_response} THEN {raw} END", "VARCHAR", n["response_status"]
        )
    ids = [n[c] for c in ("response_id", "request_id") if c in n]
    if ids:
        m["request_id"] = first_filled(tab, ids)
    if models:
        m["model"] = first_filled(tab, models)
    if costs:
        m["cost_usd"] = first_filled(tab, costs)
    if latencies:
        m["latency_ms"] = first_filled(tab, latencies)
    props = n.get("request_properties")
    flat = [
        c for c in tab.columns if c.lower() in {f"request_properties.{k}" for k in PROJECT_KEYS}
    ]
    if flat:  # JSON records whose properties object was flattened
        m["project"] = first_filled(tab, flat)
    elif props:
        m["project"] = FieldSource(
            _json_key(_json_doc(text_sql(props)), PROJECT_KEYS), "VARCHAR", props
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
        N_("cost"): costs,
        N_("latency"): latencies,
        N_("input tokens"): [n["prompt_tokens"]] if "prompt_tokens" in n else [],
        N_("output tokens"): [n["completion_tokens"]] if "completion_tokens" in n else [],
    }
    missing = {
        "cost": N_(
            "cost is estimated from catalog prices (columns looked for: cost, cost_usd, costUSD)"
        ),
        "latency": N_("no latency is recorded (columns looked for: latency, delay_ms)"),
        "input tokens": N_("input tokens count as 0 (column looked for: prompt_tokens)"),
        "output tokens": N_("output tokens count as 0 (column looked for: completion_tokens)"),
    }
    empty_then = {
        "cost": N_("cost is estimated from catalog prices on those rows"),
        "latency": N_("those rows have no latency"),
        "input tokens": N_("counted as 0"),
        "output tokens": N_("counted as 0"),
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
                N_(
                    "{n} rows have a negative response_status (no response from the "
                    "provider): counted as errors without an HTTP status",
                    n=row[0],
                )
            )
    return plan


IMPORTERS = (
    Importer(
        ("helicone",), "table", 50, looks_like_helicone,
        lambda t, c, a: plan_helicone(t, c, a.text_only),
    ),
    # JSON records (the export CLI's json and jsonl, the API's records); a --format naming them
    # is taken only if they look like them
    Importer(
        ("helicone",), "records", 30, looks_like_helicone,
        lambda t, c, _a: plan_helicone(t, c), "check",
    ),
)  # fmt: skip
