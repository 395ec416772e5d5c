"""The demo's traffic written as the files each source would give: a LiteLLM spend log, OpenAI
Usage/Costs API pages and Anthropic usage/cost reports, which agree with each other."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from lib.demo.traffic import DEMO_PRICES
from lib.store import Cursor


def write_litellm(cur: Cursor, sql: str, path: str) -> None:
    """The requests of ``sql`` (see ``request_log_sql``) as a LiteLLM spend log CSV at ``path``."""
    cur.execute(
        f"""COPY (
            SELECT request_id, CASE WHEN provider = 'openai' AND model LIKE 'text-embedding%'
                                    THEN 'aembedding' ELSE 'acompletion' END AS call_type,
                   api_key, cost_usd AS spend, input_tokens + output_tokens AS total_tokens,
                   input_tokens AS prompt_tokens, output_tokens AS completion_tokens,
                   strftime("timestamp", '%Y-%m-%d %H:%M:%S.%g') AS "startTime",
                   strftime("timestamp" + to_milliseconds(latency_ms), '%Y-%m-%d %H:%M:%S.%g') AS "endTime",
                   latency_ms AS request_duration_ms, model, provider AS custom_llm_provider,
                   "user", project AS team_id, client_ip AS requester_ip_address,
                   CASE WHEN status = 'success' THEN 'success' ELSE 'failure' END AS status,
                   to_json(CASE WHEN status = 'success' THEN
                       {{'user_api_key_alias': api_key,
                         'usage_object': {{'prompt_tokens_details': {{'cached_tokens': cached_input_tokens}}}}}}
                     ELSE {{'user_api_key_alias': api_key,
                            'error_information': {{'error_code': CAST(http_status AS VARCHAR),
                                                   'error_class': error_type,
                                                   'error_message': error_message}}}} END) AS metadata
            FROM ({sql}) ORDER BY "timestamp") TO '{path}' (HEADER, DELIMITER ',')"""
    )


def _d(v: object) -> Decimal:
    return Decimal(str(v))


def _openai_page(days: list[int], results: dict[int, list]) -> dict:
    """One OpenAI API page of daily buckets (days as Unix seconds)."""
    return {
        "object": "page",
        "has_more": False,
        "next_page": None,
        "data": [
            {
                "object": "bucket",
                "start_time": d,
                "end_time": d + 86400,
                "results": results.get(d, []),
            }
            for d in days
        ],
    }


def usage_and_cost_files(tmp: str, daily: list[tuple]) -> list[str]:
    """OpenAI Usage/Costs pages and Anthropic usage/cost reports built from the same traffic."""
    oa_usage: dict[int, list] = {}
    oa_cost: dict[int, dict] = defaultdict(lambda: defaultdict(Decimal))
    an_usage: dict[int, list] = {}
    an_cost: dict[int, dict] = defaultdict(lambda: defaultdict(Decimal))
    for provider, day, model, project, key, requests, inp, cached, out in daily:
        inp, cached, out = int(inp), int(cached), int(out)
        pin, pcached, pout = (_d(x) for x in DEMO_PRICES[model])
        base_model = model
        for suffix_len in (11, 9):  # strip "-2024-07-18" / "-20250929" for line items
            tail = model[-suffix_len:]
            if tail[1:].replace("-", "").isdigit() and tail[0] == "-":
                base_model = model[:-suffix_len]
                break
        in_cost = (inp - cached) * pin / 1_000_000
        cached_cost = cached * pcached / 1_000_000
        out_cost = out * pout / 1_000_000
        if provider == "openai":
            oa_usage.setdefault(day, []).append(
                {
                    "object": "organization.usage.completions.result",
                    "input_tokens": inp,
                    "output_tokens": out,
                    "num_model_requests": int(requests),
                    "input_cached_tokens": cached,
                    "project_id": project,
                    "user_id": None,
                    "api_key_id": key,
                    "model": model,
                    "batch": False,
                    "service_tier": "default",
                }
            )
            for kind, amount in (
                ("input", in_cost),
                ("cached input", cached_cost),
                ("output", out_cost),
            ):
                if amount:
                    oa_cost[day][(project, f"{base_model}, {kind}")] += amount
        else:
            an_usage.setdefault(day, []).append(
                {
                    "uncached_input_tokens": inp - cached,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": 0,
                        "ephemeral_1h_input_tokens": 0,
                    },
                    "cache_read_input_tokens": cached,
                    "output_tokens": out,
                    "server_tool_use": {"web_search_requests": 0},
                    "api_key_id": key,
                    "workspace_id": project,
                    "model": model,
                    "service_tier": "standard",
                    "context_window": "0-200k",
                    "inference_geo": "global",
                }
            )
            for token_type, amount in (
                ("uncached_input_tokens", in_cost),
                ("cache_read_input_tokens", cached_cost),
                ("output_tokens", out_cost),
            ):
                an_cost[day][(project, model, token_type)] += amount
    paths = []

    def dump(name: str, obj: object) -> None:
        path = os.path.join(tmp, name)
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, default=str)
        paths.append(path)

    days = sorted(set(oa_usage) | set(oa_cost) | set(an_usage) | set(an_cost))
    if not days:
        return paths
    dump("openai_usage_completions.json", [_openai_page(days, oa_usage)])
    cents = Decimal("0.01")
    oa_cost_results = {
        d: [
            {
                "object": "organization.costs.result",
                "amount": {
                    "value": float(a.quantize(Decimal("0.000001"), ROUND_HALF_UP)),
                    "currency": "usd",
                },
                "line_item": li,
                "project_id": proj,
            }
            for (proj, li), a in sorted(oa_cost.get(d, {}).items())
        ]
        for d in days
    }
    dump("openai_costs.json", _openai_page(days, oa_cost_results))

    def iso(d: int) -> str:
        return datetime.fromtimestamp(d, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    dump(
        "anthropic_usage_report.json",
        {
            "has_more": False,
            "next_page": None,
            "data": [
                {"starting_at": iso(d), "ending_at": iso(d + 86400), "results": an_usage.get(d, [])}
                for d in days
            ],
        },
    )
    dump(
        "anthropic_cost_report.json",
        {
            "has_more": False,
            "next_page": None,
            "data": [
                {
                    "starting_at": iso(d),
                    "ending_at": iso(d + 86400),
                    "results": [
                        {
                            "currency": "USD",
                            "amount": str((a * 100).quantize(cents, ROUND_HALF_UP)),
                            "workspace_id": proj,
                            "description": f"{model} {tt.replace('_', ' ')}",
                            "cost_type": "tokens",
                            "model": model,
                            "token_type": tt,
                            "service_tier": "standard",
                            "context_window": "0-200k",
                            "inference_geo": "global",
                        }
                        for (proj, model, tt), a in sorted(an_cost.get(d, {}).items())
                    ],
                }
                for d in days
            ],
        },
    )
    return paths
