"""Langfuse observations: the public API's ``GET /api/public/observations`` records (camelCase:
``traceId``, ``startTime``, ``usage``/``usageDetails``, ``calculatedTotalCost``) and the
blob-storage export's observation rows (snake_case: ``trace_id``, ``start_time``,
``usage_details``, ``cost_details``, ``total_cost``), as JSON, JSON Lines or CSV.

One row per observation, but only generations (``type`` GENERATION, and EMBEDDING, the two
types Langfuse tracks usage on) are LLM calls: spans and events are skipped and counted in the
import's notes, never counted as requests. Input tokens are, as Langfuse's own UI sums them,
every usage type whose name holds ``input`` (``input``, ``input_cached_tokens``, …); output
the types holding ``output``; cached input the types naming a cache read. Latency is the
observation's end minus its start (else ``latency``, which the API gives in seconds); a
``level`` of ERROR is an error with ``statusMessage`` as its message.
"""

from __future__ import annotations

from lib.errors import InputError
from lib.i18n import N_
from lib.importers.base import PROVIDER_SQL, FieldSource, Importer, Plan, first_filled, text_sql
from lib.importers.match import detect_style
from lib.importers.plan import tabular_plan
from lib.importers.tabular import Tabular
from lib.store.db import Cursor

FORMAT = "langfuse_observations"
CALL_TYPES = ("GENERATION", "EMBEDDING")
_TRACE = ("traceid", "trace_id")
_START = ("starttime", "start_time")
_END = ("endtime", "end_time")
_USAGE_PARENTS = ("usagedetails_", "usage_details_")


def looks_like_observations(tab: Tabular) -> bool:
    """Records with an id, a type, a trace id and a start time: Langfuse observations."""
    n = tab.names
    return "id" in n and "type" in n and any(t in n for t in _TRACE) and any(s in n for s in _START)


def _num(tab: Tabular, column: str) -> str:
    """A column as a DOUBLE (NULL when empty)."""
    return f"TRY_CAST(nullif(trim({text_sql(column)}), '') AS DOUBLE)"


def _sum_sql(tab: Tabular, columns: list[str]) -> str:
    """SQL: the sum of ``columns`` as HUGEINT, NULL when every one is empty on the row."""
    parts = ", ".join(f"TRY_CAST(nullif(trim({text_sql(c)}), '') AS HUGEINT)" for c in columns)
    return f"list_sum(list_filter([{parts}], lambda x: x IS NOT NULL))"


def _usage(tab: Tabular, n: dict[str, str]) -> tuple[dict[str, FieldSource], list[str]]:
    """Token fields (see the module's docstring): per row, the usage types of
    ``usageDetails``/``usage_details`` when the row has any, else ``usage.input``/``output``,
    else ``promptTokens``/``completionTokens``. Also notes."""
    details = {}
    for k, v in n.items():
        for parent in _USAGE_PARENTS:
            if k.startswith(parent):
                details[k[len(parent) :]] = v
    kinds = {
        "input_tokens": [c for t, c in details.items() if "input" in t],
        "output_tokens": [c for t, c in details.items() if "output" in t],
        "cached_input_tokens": [
            c for t, c in details.items() if "input" in t and ("cache_read" in t or "cached" in t)
        ],
        "reasoning_tokens": [c for t, c in details.items() if "output" in t and "reasoning" in t],
    }
    plain = {
        "input_tokens": ("usage_input", "prompttokens", "prompt_tokens"),
        "output_tokens": ("usage_output", "completiontokens", "completion_tokens"),
    }
    out: dict[str, FieldSource] = {}
    for field in kinds:
        options = [_sum_sql(tab, kinds[field])] if kinds[field] else []
        if details and field in plain:  # a row without usage types falls back to its usage
            counted = [c for t, c in details.items() if t != "total"]
            options = [f"CASE WHEN {_sum_sql(tab, counted or list(details.values()))} IS NOT NULL "
                       f"THEN coalesce({options[0] if options else 'NULL'}, 0) END"]  # fmt: skip
        options += [f"TRY_CAST(nullif(trim({text_sql(n[c])}), '') AS HUGEINT)"
                    for c in plain.get(field, ()) if c in n]  # fmt: skip
        if options:
            sql = options[0] if len(options) == 1 else f"coalesce({', '.join(options)})"
            out[field] = FieldSource(f"CAST({sql} AS VARCHAR)", "VARCHAR", field)
    other = [
        c for t, c in details.items() if "input" not in t and "output" not in t and t != "total"
    ]
    notes = (
        [
            "usage types that are neither input nor output are not counted as tokens: "
            + ", ".join(other)
        ]
        if other
        else []
    )
    return out, notes


def plan_observations(tab: Tabular, cur: Cursor) -> Plan:
    """Plan Langfuse observations as request events (generations only)."""
    n = tab.names
    m: dict[str, FieldSource] = {}
    m["ts"] = first_filled(tab, [n[c] for c in _START if c in n])
    m["request_id"] = first_filled(tab, [n["id"]])
    for field, candidates in (
        ("model", ("model", "provided_model_name", "providedmodelname")),
        ("user_id", ("userid", "user_id")),
        ("project", ("projectid", "project_id")),
        ("error_message", ("statusmessage", "status_message")),
    ):
        found = [n[c] for c in candidates if c in n]
        if found:
            m[field] = first_filled(tab, found)
    usage, notes = _usage(tab, n)
    if "input_tokens" not in usage and "output_tokens" not in usage:
        raise InputError(
            tab.display,
            N_("these Langfuse observations carry no token counts that can be read"),
            field=", ".join(c for c in tab.columns if "usage" in c.lower()) or None,
            expected=N_(
                "usage.input/usage.output, usageDetails.<type> (JSON objects, or flattened "
                "columns such as usage_details.input), or promptTokens/completionTokens"
            ),
        )
    m.update(usage)
    costs = [n[c] for c in ("calculatedtotalcost", "total_cost", "totalcost", "cost_details_total",
                            "costdetails_total") if c in n]  # fmt: skip
    if costs:
        m["cost_usd"] = first_filled(tab, costs)
    else:
        notes.append(
            N_(
                "no cost column (calculatedTotalCost, total_cost, costDetails.total): cost "
                "is estimated from catalog prices"
            )
        )
    start = m["ts"].raw_sql
    ends = [n[c] for c in _END if c in n]
    latency_parts = []
    if ends:
        end = first_filled(tab, ends).raw_sql
        latency_parts.append(
            f"CAST(epoch_ms(TRY_CAST({end} AS TIMESTAMPTZ)) - epoch_ms(TRY_CAST({start} AS TIMESTAMPTZ)) "
            "AS BIGINT)"
        )
    if "latency" in n:  # seconds in the public API
        latency_parts.append(f"CAST(round({_num(tab, n['latency'])} * 1000) AS BIGINT)")
    if latency_parts:
        m["latency_ms"] = FieldSource(
            f"CAST(coalesce({', '.join(latency_parts)}) AS VARCHAR)", "VARCHAR", "endTime/latency"
        )
    type_sql = f"upper(trim({text_sql(n['type'])}))"
    calls = ", ".join(f"'{t}'" for t in CALL_TYPES)
    skip = f"coalesce({type_sql} NOT IN ({calls}), true)"
    row = cur.execute(
        f"SELECT count(*) FILTER (WHERE {skip}) FROM {tab.read_sql}", tab.read_params
    ).fetchone()
    skipped = row[0] if row else 0
    if skipped:
        notes.append(
            N_("{n} observation(s) that are not LLM calls (spans, events) skipped", n=skipped)
        )
    level = f"upper(trim({text_sql(n['level'])}))" if "level" in n else "NULL"
    model_sql = m["model"].raw_sql if "model" in m else "NULL"
    style = detect_style(tab, cur, {k: v.label for k, v in m.items() if v.label in tab.columns})
    return tabular_plan(
        fmt=FORMAT,
        source="langfuse_observations",
        grain="request",
        tab=tab,
        mapping=m,
        style=style,
        constants={
            "status": f"CASE WHEN {level} = 'ERROR' THEN 'error' ELSE 'success' END",
            "provider": f"coalesce({PROVIDER_SQL.format(m=f'CAST({model_sql} AS VARCHAR)')}, 'unknown')",
            "batch": "false",
        },
        notes=notes,
        skip_sql=skip,
    )


IMPORTERS = (
    Importer((FORMAT,), "table", 60, looks_like_observations, lambda t, c, _a: plan_observations(t, c)),
    Importer((FORMAT,), "records", 10, looks_like_observations, lambda t, c, _a: plan_observations(t, c)),
)  # fmt: skip
