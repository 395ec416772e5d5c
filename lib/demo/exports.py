"""The demo's traffic written as the files each source would give: a LiteLLM spend log, OpenAI
Usage/Costs API pages and Anthropic usage/cost reports, which agree with each other. Each
provider's reports are built by its ``Reports`` class, listed in ``REPORTS``."""

from __future__ import annotations

import json
import os
import shutil
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from lib.demo.traffic import DEMO_PRICES, request_log_sql, utc_days
from lib.store import Cursor

# The most request rows the demo writes into one LiteLLM file (one import each): beyond this the
# log is cut into files of whole UTC days, so an import's checks and memory stay those of 10M
# rows, whatever the size of the demo.
FILE_ROWS = 10_000_000


def _litellm_select(sql: str) -> str:
    """The requests of ``sql`` (see ``request_log_sql``) as LiteLLM spend log columns, in
    time order."""
    return f"""
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
            FROM ({sql}) ORDER BY "timestamp"
    """


def litellm_files(
    cur: Cursor, total: int, days: int, end: datetime, *, max_rows: int = FILE_ROWS
) -> list[tuple[str, list[tuple[int, int, int]]]]:
    """How ``write_litellm`` cuts the log: (file name, its UTC days as ``utc_days`` gives
    them) per file, in time order. One file (``litellm_spend_logs.csv``) unless the log has
    more than ``max_rows`` rows: then files of whole days, each of at most ``max_rows`` rows
    (a single day above it gets a file of its own), named after their first and last day."""
    groups: list[list[tuple[int, int, int]]] = [[]]
    for span in utc_days(cur, total, days, end):
        if groups[-1] and sum(n for *_, n in groups[-1]) + span[2] > max_rows:
            groups.append([])
        groups[-1].append(span)
    if len(groups) == 1:
        return [("litellm_spend_logs.csv", groups[0])]
    start_s = int(end.replace(minute=0, second=0, microsecond=0).timestamp()) - days * 86400
    named = []
    for group in groups:
        first, last = (
            datetime.fromtimestamp(start_s + h * 3600, UTC).strftime("%Y-%m-%d")
            for h in (group[0][0], group[-1][1] - 1)
        )
        named.append((f"litellm_spend_logs_{first}_{last}.csv", group))
    return named


def write_litellm_file(
    cur: Cursor, total: int, days: int, end: datetime, path: str, spans: list[tuple[int, int, int]]
) -> None:
    """The requests of ``request_log_sql(total, days, end)`` in the UTC days ``spans`` (see
    ``litellm_files``) as one LiteLLM spend log CSV at ``path``, in time order. Each day is
    generated, sorted and appended on its own, so memory holds one day's rows at most (the
    whole log sorted at once needed more than 2.7 GB at 30M rows)."""
    part = path + ".part"
    with open(path, "wb") as out:
        for i, (h0, h1, _) in enumerate(spans):
            sql = request_log_sql(total, days, end, hours=(h0, h1))
            header = "true" if i == 0 else "false"
            cur.execute(
                f"COPY ({_litellm_select(sql)}) TO '{part}' (HEADER {header}, DELIMITER ',')"
            )
            with open(part, "rb") as chunk:
                shutil.copyfileobj(chunk, out, 1 << 20)
    if os.path.exists(part):
        os.remove(part)


def write_litellm(
    cur: Cursor,
    total: int,
    days: int,
    end: datetime,
    folder: str,
    *,
    max_rows: int = FILE_ROWS,
) -> list[str]:
    """The requests of ``request_log_sql(total, days, end)`` as LiteLLM spend log CSVs in
    ``folder`` (cut as ``litellm_files`` says), in time order; their paths."""
    paths = []
    for name, spans in litellm_files(cur, total, days, end, max_rows=max_rows):
        path = os.path.join(folder, name)
        write_litellm_file(cur, total, days, end, path, spans)
        paths.append(path)
    return paths


def _d(v: object) -> Decimal:
    return Decimal(str(v))


def _iso(day: int) -> str:
    """A day (Unix seconds) as RFC 3339 UTC."""
    return datetime.fromtimestamp(day, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _base_model(model: str) -> str:
    """The model without its date suffix (``-2024-07-18``, ``-20250929``), as line items name it."""
    for suffix_len in (11, 9):
        tail = model[-suffix_len:]
        if tail[1:].replace("-", "").isdigit() and tail[0] == "-":
            return model[:-suffix_len]
    return model


@dataclass(frozen=True)
class DayTraffic:
    """One provider's traffic of one UTC day (Unix seconds), model, project and key, with its
    list-price cost in dollars, split as the bills split it."""

    day: int
    model: str
    project: str
    key: str
    requests: int
    input_tokens: int  # cached ones included
    cached_tokens: int
    output_tokens: int
    input_cost: Decimal  # of the uncached input tokens
    cached_cost: Decimal
    output_cost: Decimal


class Reports(ABC):
    """The usage and cost reports one provider's API would give for the demo's traffic."""

    @abstractmethod
    def add(self, t: DayTraffic) -> None:
        """Count one group of the traffic in the reports."""

    @abstractmethod
    def days(self) -> set[int]:
        """The days the traffic added so far covers."""

    @abstractmethod
    def documents(self, days: list[int]) -> list[tuple[str, object]]:
        """The reports over ``days`` (every one a bucket, empty without traffic) as
        (file name, JSON document), in the order they are imported."""


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


class OpenAIReports(Reports):
    """OpenAI's Usage API (completions) and Costs API pages: line items per model and kind
    (``gpt-4o, input``), amounts in dollars to the micro-dollar, as the API's JSON numbers."""

    def __init__(self) -> None:
        self.usage: dict[int, list] = {}
        self.cost: dict[int, dict] = defaultdict(lambda: defaultdict(Decimal))

    def add(self, t: DayTraffic) -> None:
        self.usage.setdefault(t.day, []).append(
            {
                "object": "organization.usage.completions.result",
                "input_tokens": t.input_tokens,
                "output_tokens": t.output_tokens,
                "num_model_requests": t.requests,
                "input_cached_tokens": t.cached_tokens,
                "project_id": t.project,
                "user_id": None,
                "api_key_id": t.key,
                "model": t.model,
                "batch": False,
                "service_tier": "default",
            }
        )
        base = _base_model(t.model)
        for kind, amount in (
            ("input", t.input_cost),
            ("cached input", t.cached_cost),
            ("output", t.output_cost),
        ):
            if amount:
                self.cost[t.day][(t.project, f"{base}, {kind}")] += amount

    def days(self) -> set[int]:
        return set(self.usage) | set(self.cost)

    def documents(self, days: list[int]) -> list[tuple[str, object]]:
        costs = {
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
                for (proj, li), a in sorted(self.cost.get(d, {}).items())
            ]
            for d in days
        }
        return [
            ("openai_usage_completions.json", [_openai_page(days, self.usage)]),
            ("openai_costs.json", _openai_page(days, costs)),
        ]


class AnthropicReports(Reports):
    """Anthropic's usage report (messages) and cost report: cost lines per model and token
    type, amounts as decimal strings in cents, to the hundredth of a cent."""

    def __init__(self) -> None:
        self.usage: dict[int, list] = {}
        self.cost: dict[int, dict] = defaultdict(lambda: defaultdict(Decimal))

    def add(self, t: DayTraffic) -> None:
        self.usage.setdefault(t.day, []).append(
            {
                "uncached_input_tokens": t.input_tokens - t.cached_tokens,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 0,
                    "ephemeral_1h_input_tokens": 0,
                },
                "cache_read_input_tokens": t.cached_tokens,
                "output_tokens": t.output_tokens,
                "server_tool_use": {"web_search_requests": 0},
                "api_key_id": t.key,
                "workspace_id": t.project,
                "model": t.model,
                "service_tier": "standard",
                "context_window": "0-200k",
                "inference_geo": "global",
            }
        )
        for token_type, amount in (
            ("uncached_input_tokens", t.input_cost),
            ("cache_read_input_tokens", t.cached_cost),
            ("output_tokens", t.output_cost),
        ):
            self.cost[t.day][(t.project, t.model, token_type)] += amount

    def days(self) -> set[int]:
        return set(self.usage) | set(self.cost)

    def documents(self, days: list[int]) -> list[tuple[str, object]]:
        cents = Decimal("0.01")
        usage = {
            "has_more": False,
            "next_page": None,
            "data": [
                {
                    "starting_at": _iso(d),
                    "ending_at": _iso(d + 86400),
                    "results": self.usage.get(d, []),
                }
                for d in days
            ],
        }
        cost = {
            "has_more": False,
            "next_page": None,
            "data": [
                {
                    "starting_at": _iso(d),
                    "ending_at": _iso(d + 86400),
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
                        for (proj, model, tt), a in sorted(self.cost.get(d, {}).items())
                    ],
                }
                for d in days
            ],
        }
        return [("anthropic_usage_report.json", usage), ("anthropic_cost_report.json", cost)]


# The reports of each provider of the demo's traffic (lib.demo.traffic.MODELS), in the order
# their files are imported.
REPORTS: dict[str, Callable[[], Reports]] = {"openai": OpenAIReports, "anthropic": AnthropicReports}


def usage_and_cost_files(tmp: str, daily: list[tuple]) -> list[str]:
    """Each provider's usage and cost reports built from the same traffic, written as JSON
    files in ``tmp``; their paths, in import order (none without traffic). ``daily`` rows:
    (provider, day in Unix seconds, model, project, key, requests, input tokens, cached input
    tokens, output tokens). A provider without reports here is a ``ValueError``."""
    reports = {provider: make() for provider, make in REPORTS.items()}
    for provider, day, model, project, key, requests, inp, cached, out in daily:
        if provider not in reports:
            raise ValueError(f"the demo writes no reports for provider {provider!r}")
        inp, cached, out = int(inp), int(cached), int(out)
        pin, pcached, pout = (_d(x) for x in DEMO_PRICES[model])
        reports[provider].add(
            DayTraffic(
                day, model, project, key, int(requests), inp, cached, out,
                input_cost=(inp - cached) * pin / 1_000_000,
                cached_cost=cached * pcached / 1_000_000,
                output_cost=out * pout / 1_000_000,
            )
        )  # fmt: skip
    days = sorted(set().union(*(r.days() for r in reports.values())))
    paths: list[str] = []
    if not days:
        return paths
    for r in reports.values():
        for name, doc in r.documents(days):
            path = os.path.join(tmp, name)
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, default=str)
            paths.append(path)
    return paths
