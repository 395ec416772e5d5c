"""Fuzzing the importers with the real export fixtures.

Every fixture family of ``tests/fixtures`` (OpenAI usage and costs pages and buckets, legacy
usage, Anthropic usage and cost, LiteLLM CSV/JSON/pages/daily spend, Helicone CSV/JSON
Lines/JSON, OpenRouter, Bedrock, OpenAI dashboard CSVs, French CSVs) is mutated about fifty
times with ``random.Random(SEED)``: over a thousand variants in all. Each variant is imported
into a real database and must be either

- refused with an ``InputError`` naming the file, the database unchanged (every table's row
  count and a hash of its rows, ``fingerprint``), or
- imported exactly: its row count, token, request and money totals equal what an independent
  reading of the variant says (``_reference``: Python's ``json``/``csv`` and the field names
  of each format, written here without the importer's code). The reading of each original
  fixture is pinned to totals worked out by hand (``HAND_TOTALS``).

Mutations that keep the meaning (whitespace, line endings, BOM, key and column order, whole
records dropped, duplicated or reordered, truncation at a line boundary, Latin-1 for a CSV)
must import. Damage (truncation at a random byte, characters deleted, duplicated, swapped or
flipped, lines dropped or duplicated, junk lines, numbers made words, negatives, fractions,
huge, NaN or 1e400, strings made nested objects, invalid UTF-8, UTF-16, deep nesting, an
empty file, a header alone) may be refused; when it imports, the reference must agree.

A failure prints the seed, the variant number, the mutation and the file, and the variant's
bytes are kept under pytest's temporary folder (``fuzz_failures``). ``FUZZ_VARIANT=n`` runs
variant n alone (the same seed makes the same variants) and prints its bytes and outcome.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest

from lib.errors import InputError, TokenboardError
from lib.importers.rules import MAX_AMOUNT, MAX_COUNT
from lib.ingest import import_file, undo_import
from lib.store import Store
from tests.conftest import FIXTURES

SEED = 20260214
ONLY = int(os.environ.get("FUZZ_VARIANT", "0"))  # run one variant and print it (reproduce)
PER_FIXTURE = 48
# A guard against a slower import: the CPU seconds of this process (every thread), not the
# wall clock, which other test workers on the same cores stretch (151 s of wall once on a
# shared CI machine against 67 s alone). Alone here, on the 2 cores the suite is sized for:
# about 70 s of CPU (DuckDB runs a thread per core, so more cores may count more CPU).
CPU_LIMIT_S = 150.0


class RefReject(Exception):
    """The reference reading says this variant cannot be imported as it is."""


class RefUnsure(Exception):
    """The reference cannot tell what the variant means (a damaged column name, a currency
    cell that says something else): a clean refusal or any import is accepted."""


@dataclass(frozen=True)
class Totals:
    """What an import stores: rows, tokens (input includes cached), requests, money (USD)."""

    rows: int
    input: int
    cached: int
    output: int
    requests: int
    money: Decimal

    def close_to(self, other: Totals, money_tol: Decimal) -> bool:
        same = (self.rows, self.input, self.cached, self.output, self.requests)
        return (
            same
            == (
                other.rows,
                other.input,
                other.cached,
                other.output,
                other.requests,
            )
            and abs(self.money - other.money) <= money_tol
        )


# -- the fixtures and their totals, by hand -------------------------------------------------
@dataclass(frozen=True)
class Fix:
    name: str
    kind: str  # reference reader
    syntax: str  # json | jsonl | helicone_json | csv
    grain: str  # request | usage | cost
    delimiter: str = ","
    encoding: str = "utf-8"
    bom: bool = False
    crlf: bool = False


FIXES = [
    Fix("openai_usage_completions.json", "openai_usage", "json", "usage"),
    Fix("openai_usage_cookbook_buckets.jsonl", "openai_usage", "jsonl", "usage"),
    Fix("openai_costs.json", "openai_costs", "json", "cost"),
    Fix("openai_costs_cookbook_buckets.json", "openai_costs", "json", "cost"),
    Fix("openai_legacy_usage_2024.json", "legacy", "json", "usage"),
    Fix("anthropic_usage.json", "anthropic_usage", "json", "usage"),
    Fix("anthropic_cost.json", "anthropic_cost", "json", "cost"),
    Fix("litellm_spend_logs.csv", "litellm", "csv", "request"),
    Fix("litellm_spend_logs_api.json", "litellm", "json", "request"),
    Fix("litellm_spend_logs_ui_page.json", "litellm", "json", "request"),
    Fix("litellm_daily_team_spend.csv", "litellm_daily", "csv", "usage"),
    Fix("helicone_export_cli.csv", "helicone", "csv", "request"),
    Fix("helicone_export_cli_cost_usd.csv", "helicone", "csv", "request"),
    Fix("helicone_export_cli.jsonl", "helicone", "jsonl", "request"),
    Fix("helicone_export_cli.json", "helicone", "helicone_json", "request"),
    Fix("openrouter_activity.csv", "openrouter", "csv", "request"),
    Fix("bedrock_invocations.jsonl", "bedrock", "jsonl", "request"),
    Fix("openai_dashboard_costs.csv", "dash_costs", "csv", "cost"),  # money only: cost lines
    Fix("openai_dashboard_usage.csv", "dash_usage", "csv", "usage"),
    Fix("generic_fr.csv", "generic_fr", "csv", "usage", ";", bom=True, crlf=True),
    Fix("generic_fr_jetons.csv", "generic_fr_jetons", "csv", "usage", ";", bom=True, crlf=True),
]

D = Decimal
# (rows, input incl. cached, cached, output, requests, money) of each fixture as it is.
HAND_TOTALS = {
    # 1000 + 2000 in, 200 cached, 500 + 1000 out, 5 + 3 requests; the empty bucket has no row
    "openai_usage_completions.json": Totals(2, 3000, 200, 1500, 8, D(0)),
    # 141201 + 45949 + 3718360 = 3905510 in; 0 + 0 + 76544 cached; 9756 + 282 + 97756 =
    # 107794 out; 470 + 150 + 3053 = 3673 requests
    "openai_usage_cookbook_buckets.jsonl": Totals(3, 3905510, 76544, 107794, 3673, D(0)),
    "openai_costs.json": Totals(3, 0, 0, 0, 0, D("1.0")),  # 0.1 + 0.2 + 0.7
    # 0.13080438340307526 + 0.12270423340307525 + 9.888144383403077 + 0.0003226181279184669
    # + 0.00032195744715549047 + 0.00012073404268330895 = 10.14241830982698477632
    "openai_costs_cookbook_buckets.json": Totals(6, 0, 0, 0, 0, D("10.14241830982698477632")),
    # completions 118 + 31 + 13 = 162 in, 35 + 12 + 9 = 56 out, 3 requests; dall-e 1 request,
    # whisper 1 request: 5 rows, 5 requests
    "openai_legacy_usage_2024.json": Totals(5, 162, 0, 56, 5, D(0)),
    # (1000 + 200 + 100 + 300) + 500 = 2100 in, 300 cached, 400 + 100 out, no request count
    "anthropic_usage.json": Totals(2, 2100, 300, 500, 0, D(0)),
    "anthropic_cost.json": Totals(3, 0, 0, 0, 0, D("11.2395")),  # (123.45 + 0.5 + 1000) / 100
    # req-1..req-4 (req-1 twice): 100 + 0 + 200 + 0 in, 50 + 0 + 100 + 0 out,
    # 0.00123 + 0 + 0.002 + 0 = 0.00323
    "litellm_spend_logs.csv": Totals(4, 300, 0, 150, 4, D("0.00323")),
    # 500 + 0 + 12 in (200 cached), 100 + 0 + 0 out, 0.00012 + 0 + 0.00000024
    "litellm_spend_logs_api.json": Totals(3, 512, 200, 100, 3, D("0.00012024")),
    "litellm_spend_logs_ui_page.json": Totals(2, 1400, 0, 250, 2, D("0.006")),  # 1000+400, 200+50
    # 500 + 12000 + 12 in, 200 + 8000 cached, 100 + 800 out, 1 + 5 + 1 requests,
    # 0.00012 + 0.0498 + 0.00000024
    "litellm_daily_team_spend.csv": Totals(3, 12512, 8200, 900, 7, D("0.04992024")),
    # 1200 + 2000 + 0 + 12 in, 300 + 500 + 0 + 0 out, 0.00036 + 0.0135 + 0 + 0.00000024
    "helicone_export_cli.csv": Totals(4, 3212, 0, 800, 4, D("0.01386024")),
    # 1000 + 0 + 500 in, 200 + 0 + 100 out, 0.0045 + 0 + 0.0008
    "helicone_export_cli_cost_usd.csv": Totals(3, 1500, 0, 300, 3, D("0.0053")),
    # 1000 + 800 in (400 cached), 100 + 200 out, 0.00018 + 0.00144
    "helicone_export_cli.jsonl": Totals(2, 1800, 400, 300, 2, D("0.00162")),
    "helicone_export_cli.json": Totals(2, 1800, 400, 300, 2, D("0.00162")),  # the same records
    # 100 + 150 + 1200 in (40 cached), 200 + 250 + 900 out, 0.01 + 0.02 + 0.00528
    "openrouter_activity.csv": Totals(3, 1450, 40, 1350, 3, D("0.03528")),
    "bedrock_invocations.jsonl": Totals(2, 1524, 1024, 49, 2, D(0)),  # 4 + 1520, 38 + 11
    # 6 buckets with an amount (2 empty lines skipped): 0.895874 + 0.56177125 + 0.569788
    # + 0.5455665 + 0.3409 + 0.072054 = 2.98595375
    "openai_dashboard_costs.csv": Totals(6, 0, 0, 0, 0, D("2.98595375")),
    # 59200 + 46264 + 5783 + 80992 + 124784 + 22688 = 339711 in; 5760 + 8192 = 13952 cached;
    # 10646 + 60000 + 16000 + 274770 + 154852 + 33191 = 549459 out;
    # 10 + 8 + 1 + 21 + 11 + 2 = 53 requests
    "openai_dashboard_usage.csv": Totals(6, 339711, 13952, 549459, 53, D(0)),
    # 1 234 567 + 1 000 + 100 in, 234 567 + 500 + 50 out, 1 200 + 10 + 5 requests,
    # 3,45 + 0,0005 + 0,01 (the totals line is skipped)
    "generic_fr.csv": Totals(3, 1235667, 0, 235117, 1215, D("3.4605")),
    # 59 200 + 52 047 + 80 992 in, 10 646 + 76 000 + 274 770 out, 10 + 9 + 21 requests,
    # 0,895874 + 0,56177125 + 0,569788
    "generic_fr_jetons.csv": Totals(3, 192239, 0, 361416, 40, D("2.02743325")),
}


# -- the reference reading ------------------------------------------------------------------
def _count(v: Any, *, optional: bool = True, text_ok: bool = False) -> int:
    """A count as the rules define it: a whole number >= 0 (JSON int; text digits when the
    format is read as text); None/empty is 0 when ``optional``."""
    if v is None or (isinstance(v, str) and v.strip() == ""):
        if optional:
            return 0
        raise RefReject("missing count")
    if isinstance(v, bool):
        raise RefReject("bool count")
    if isinstance(v, int):
        n = v
    elif isinstance(v, str | Decimal) and (text_ok or isinstance(v, Decimal)):
        if isinstance(v, Decimal) and not text_ok:
            raise RefReject("decimal count")
        d = _decimal(str(v) if isinstance(v, Decimal) else v)
        if d != d.to_integral_value():
            raise RefReject("fractional count")
        n = int(d)
    else:
        raise RefReject(f"not a count: {v!r}")
    if not 0 <= n <= MAX_COUNT:
        raise RefReject("count out of range")
    return n


def _decimal(text: str, comma: bool = False) -> Decimal:
    """A number written as text (thousands separators and ``$`` dropped)."""
    t = text.strip()
    for ch in (" ", "\u00a0", "\u202f", "'", "$"):
        t = t.replace(ch, "")
    t = t.replace(".", "").replace(",", ".") if comma else t.replace(",", "")
    try:
        d = Decimal(t)
    except InvalidOperation:
        raise RefReject(f"not a number: {text!r}") from None
    if not d.is_finite():
        raise RefReject("not finite")
    return d


def _money(v: Any, *, optional: bool = True, text_ok: bool = True, comma: bool = False) -> Decimal:
    if v is None or (isinstance(v, str) and v.strip() == ""):
        if optional:
            return D(0)
        raise RefReject("missing amount")
    if isinstance(v, bool | dict | list):
        raise RefReject("not an amount")
    if isinstance(v, str) and not text_ok:
        raise RefReject("amount as text")
    d = _decimal(str(v), comma) if isinstance(v, str) else D(str(v))
    if not d.is_finite() or abs(d) >= MAX_AMOUNT:
        raise RefReject("amount out of range")
    return d


def _obj(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise RefReject("not an object")
    return v


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise RefReject("not an array")
    return v


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


Row = tuple[str, int, int, int, int, Decimal]  # dedup key, input, cached, output, requests, money


def _sum(rows: list[Row]) -> Totals:
    """Rows with the same key are one (request ids, or identical buckets)."""
    seen: dict[str, Row] = {}
    for r in rows:
        seen.setdefault(r[0], r)
    kept = list(seen.values())
    return Totals(
        len(kept),
        sum(r[1] for r in kept),
        sum(r[2] for r in kept),
        sum(r[3] for r in kept),
        sum(r[4] for r in kept),
        sum((r[5] for r in kept), D(0)),
    )


def _buckets(docs: list[Any]) -> list[tuple[dict[str, Any], list[Any]]]:
    """(bucket, results) of saved API pages or bucket lists."""
    out = []
    for doc in docs:
        if isinstance(doc, list):
            out += _buckets(doc)
            continue
        doc = _obj(doc)
        if "results" in doc or "result" in doc:
            out.append((doc, _list(doc.get("results", doc.get("result")) or [])))
            continue
        for b in _list(doc.get("data")):
            b = _obj(b)
            out.append((b, _list(b.get("results") or [])))
    return out


def ref_openai_usage(docs: list[Any]) -> list[Row]:
    rows = []
    for b, results in _buckets(docs):
        for r in results:
            r = _obj(r)
            row = (
                _key([b.get("start_time"), b.get("end_time"), r]),
                _count(r.get("input_tokens"), optional=False),
                _count(r.get("input_cached_tokens")),
                _count(r.get("output_tokens"), optional=False),
                _count(r.get("num_model_requests"), optional=False),
                D(0),
            )
            rows.append(row)
    return rows


def ref_openai_costs(docs: list[Any]) -> list[Row]:
    rows = []
    for b, results in _buckets(docs):
        for r in results:
            amount = _obj(_obj(r).get("amount"))
            value = _money(amount.get("value"), optional=False, text_ok=False)
            rows.append((_key([b.get("start_time"), b.get("end_time"), r]), 0, 0, 0, 0, value))
    return rows


def ref_anthropic_usage(docs: list[Any]) -> list[Row]:
    rows = []
    for b, results in _buckets(docs):
        for r in results:
            r = _obj(r)
            cc = _obj(r.get("cache_creation") or {})
            read = _count(r.get("cache_read_input_tokens"))
            total = (
                _count(r.get("uncached_input_tokens"))
                + read
                + _count(cc.get("ephemeral_5m_input_tokens"))
                + _count(cc.get("ephemeral_1h_input_tokens"))
            )
            out = _count(r.get("output_tokens"))
            rows.append((_key([b.get("starting_at"), r]), total, read, out, 0, D(0)))
    return rows


def ref_anthropic_cost(docs: list[Any]) -> list[Row]:
    rows = []
    for b, results in _buckets(docs):
        for r in results:
            cents = _money(_obj(r).get("amount"), optional=False)
            rows.append((_key([b.get("starting_at"), r]), 0, 0, 0, 0, cents.scaleb(-2)))
    return rows


def ref_legacy(docs: list[Any]) -> list[Row]:
    rows = []
    for doc in docs:
        doc = _obj(doc)
        for e in _list(doc.get("data")):
            e = _obj(e)
            rows.append(
                (
                    _key(e),
                    _count(e.get("n_context_tokens_total"), optional=False),
                    _count(e.get("n_cached_context_tokens_total")),
                    _count(e.get("n_generated_tokens_total"), optional=False),
                    _count(e.get("n_requests")),
                    D(0),
                )
            )
        for key in ("dalle_api_data", "whisper_api_data", "tts_api_data"):
            for e in _list(doc.get(key) or []):
                e = _obj(e)
                rows.append((_key([key, e]), 0, 0, 0, _count(e.get("num_requests")), D(0)))
    return rows


def _records(docs: list[Any]) -> list[dict[str, Any]]:
    """Request records: a JSON array, JSON Lines, or LiteLLM UI pages (``{"data": [...]}``)."""
    out = []
    for doc in docs:
        if isinstance(doc, list):
            out += _records(doc)
        elif isinstance(doc, dict) and isinstance(doc.get("data"), list) and "total" in doc:
            out += [_obj(r) for r in doc["data"]]
        else:
            out.append(_obj(doc))
    return out


def _path(rec: dict[str, Any], *keys: str) -> Any:
    v: Any = rec
    for k in keys:
        if not isinstance(v, dict):
            return None
        v = v.get(k)
    return v


def _text_json(v: Any) -> Any:
    """A JSON object given as text (CSV cells), else the value."""
    if isinstance(v, str) and v.strip().startswith("{"):
        try:
            return json.loads(v)
        except json.JSONDecodeError:
            return None
    return v


def ref_litellm(docs: list[Any]) -> list[Row]:
    rows = []
    for rec in _records(docs):
        meta = _text_json(rec.get("metadata"))
        cached = _path(meta, "usage_object", "prompt_tokens_details", "cached_tokens")
        rid = rec.get("request_id")
        rows.append(
            (
                _key(rid) if rid not in (None, "") else _key(rec),
                _count(rec.get("prompt_tokens"), text_ok=True),
                _count(cached, text_ok=True),
                _count(rec.get("completion_tokens"), text_ok=True),
                1,
                _money(rec.get("spend")),
            )
        )
    return rows


def ref_helicone(docs: list[Any]) -> list[Row]:
    rows = []
    for rec in _records(docs):
        rid = rec.get("response_id") or rec.get("request_id")
        cost = next(
            (rec[k] for k in ("cost", "cost_usd", "costUSD") if rec.get(k) not in (None, "")),
            None,
        )
        rows.append(
            (
                _key(rid) if rid not in (None, "") else _key(rec),
                _count(rec.get("prompt_tokens"), text_ok=True),
                _count(rec.get("prompt_cache_read_tokens"), text_ok=True),
                _count(rec.get("completion_tokens"), text_ok=True),
                1,
                _money(cost),
            )
        )
    return rows


def ref_bedrock(docs: list[Any]) -> list[Row]:
    rows = []
    for rec in _records(docs):
        rid = rec.get("requestId")
        rows.append(
            (
                _key(rid) if rid not in (None, "") else _key(rec),
                _count(_path(rec, "input", "inputTokenCount"), text_ok=True),
                _count(_path(rec, "input", "cacheReadInputTokenCount"), text_ok=True),
                _count(_path(rec, "output", "outputTokenCount"), text_ok=True),
                1,
                D(0),
            )
        )
    return rows


def ref_openrouter(docs: list[Any]) -> list[Row]:
    return [
        (
            _key(rec),
            _count(rec.get("tokens_prompt"), text_ok=True),
            _count(rec.get("tokens_cached"), text_ok=True),
            _count(rec.get("tokens_completion"), text_ok=True),
            1,
            _money(rec.get("cost_total")),
        )
        for rec in _records(docs)
    ]


def ref_litellm_daily(docs: list[Any]) -> list[Row]:
    return [
        (
            _key(rec),
            _count(rec.get("prompt_tokens"), text_ok=True),
            _count(rec.get("cache_read_input_tokens"), text_ok=True),
            _count(rec.get("completion_tokens"), text_ok=True),
            _count(rec.get("api_requests"), text_ok=True),
            _money(rec.get("spend")),
        )
        for rec in _records(docs)
    ]


def _period_only(rec: dict[str, Any], period: tuple[str, ...]) -> bool:
    """A dashboard line with a period and nothing else (skipped by the importer)."""
    return all((v or "").strip() == "" for k, v in rec.items() if k not in period)


_PERIOD = ("start_time", "end_time", "start_time_iso", "end_time_iso")


def ref_dash_costs(docs: list[Any]) -> list[Row]:
    rows = []
    for rec in _records(docs):
        if _period_only(rec, _PERIOD):
            continue
        if (rec.get("amount_currency") or "").strip().upper() not in ("", "USD", "US$", "$"):
            raise RefUnsure("another currency")
        rows.append((_key(rec), 0, 0, 0, 0, _money(rec.get("amount_value"))))
    return rows


def ref_dash_usage(docs: list[Any]) -> list[Row]:
    rows = []
    for rec in _records(docs):
        if _period_only(rec, _PERIOD):
            continue
        rows.append(
            (
                _key(rec),
                _count(rec.get("input_tokens"), text_ok=True),
                _count(rec.get("input_cached_tokens"), text_ok=True),
                _count(rec.get("output_tokens"), text_ok=True),
                _count(rec.get("num_model_requests"), text_ok=True),
                D(0),
            )
        )
    return rows


def _fr_count(v: Any) -> int:
    return _count(str(_decimal(v, comma=True)) if (v or "").strip() else v, text_ok=True)


def _ref_fr(docs: list[Any], cols: tuple[str, str, str, str, str]) -> list[Row]:
    when, req, tin, tout, cost = cols
    rows = []
    for rec in _records(docs):
        first = (next(iter(rec.values()), "") or "").strip().lower()
        total = first.startswith("total") or (rec.get(when) or "").strip().lower() == "total"
        if all((v or "").strip() == "" for v in rec.values()) or total:
            continue
        if (rec.get(when) or "").strip() == "":
            raise RefReject("no date")
        rows.append(
            (
                _key(rec),
                _fr_count(rec.get(tin)),
                0,
                _fr_count(rec.get(tout)),
                _fr_count(rec.get(req)),
                _money(rec.get(cost), comma=True),
            )
        )
    return rows


def ref_generic_fr(docs: list[Any]) -> list[Row]:
    return _ref_fr(docs, ("Date", "Requêtes", "Jetons entrée", "Jetons sortie", "Coût"))


def ref_generic_fr_jetons(docs: list[Any]) -> list[Row]:
    cols = ("Date", "Requêtes", "Jetons d’entrée", "Jetons de sortie", "Coût (USD)")
    return _ref_fr(docs, cols)


REFS: dict[str, Callable[[list[Any]], list[Row]]] = {
    "openai_usage": ref_openai_usage,
    "openai_costs": ref_openai_costs,
    "legacy": ref_legacy,
    "anthropic_usage": ref_anthropic_usage,
    "anthropic_cost": ref_anthropic_cost,
    "litellm": ref_litellm,
    "litellm_daily": ref_litellm_daily,
    "helicone": ref_helicone,
    "openrouter": ref_openrouter,
    "bedrock": ref_bedrock,
    "dash_costs": ref_dash_costs,
    "dash_usage": ref_dash_usage,
    "generic_fr": ref_generic_fr,
    "generic_fr_jetons": ref_generic_fr_jetons,
}


# -- parsing and writing the variants (Python's own json and csv) ----------------------------
_TRAILING_COMMA = "\n]"  # the Helicone CLI's --format json ends with "},\n]\n"


def parse(fix: Fix, data: bytes) -> tuple[list[Any], list[str] | None]:
    """(documents, CSV header or None) of a variant, read strictly; RefReject when it is not
    a well-formed file of its syntax."""
    try:
        text = data.decode("utf-8-sig") if fix.encoding == "utf-8" else data.decode(fix.encoding)
    except UnicodeDecodeError:
        if fix.syntax != "csv":
            raise RefReject("not UTF-8") from None
        text = data.decode("latin-1")  # a spreadsheet CSV may be Latin-1
        if text.startswith("\u00ef\u00bb\u00bf"):
            raise RefReject("damaged BOM") from None
    if not text.strip():
        raise RefReject("empty")
    if fix.syntax == "csv":
        if "\x00" in text:
            raise RefReject("NUL")
        try:
            lines = list(
                csv.reader(io.StringIO(text, newline=""), delimiter=fix.delimiter, strict=True)
            )
        except csv.Error:
            raise RefReject("bad CSV") from None
        lines = [ln for ln in lines if (ln and any(c.strip() for c in ln)) or (ln and len(ln) > 1)]
        if not lines:
            raise RefReject("empty")
        header = [h.strip() for h in lines[0]]
        header[0] = header[0].lstrip("\ufeff")
        if len(set(header)) != len(header):
            raise RefReject("duplicate column")
        recs = []
        for ln in lines[1:]:
            if len(ln) != len(header):
                raise RefReject("ragged row")
            recs.append(dict(zip(header, ln, strict=True)))
        return recs, header
    loads = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant).decode
    body = text.strip()
    if fix.syntax == "helicone_json" and body.endswith(_TRAILING_COMMA):
        cut = body[: -len(_TRAILING_COMMA)].rstrip()
        if cut.endswith(","):
            body = cut[:-1] + "]"
    try:
        try:
            return [loads(body)], None
        except json.JSONDecodeError:
            docs = [loads(ln) for ln in text.splitlines() if ln.strip()]
            if len(docs) < 2 and fix.syntax != "jsonl":
                raise RefReject("bad JSON") from None
            return docs, None
    except (json.JSONDecodeError, RecursionError, ValueError):
        raise RefReject("bad JSON") from None


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: not JSON


def reference(fix: Fix, data: bytes) -> Totals:
    docs, _ = parse(fix, data)
    return _sum(REFS[fix.kind](docs))


def dump(v: Any, indent: str | None, sep: str, rng: random.Random | None, level: int = 0) -> str:
    """JSON text of ``v`` with exact decimals; ``indent`` None for one line; keys shuffled
    when ``rng`` is given."""
    nl = "" if indent is None else "\n" + indent * (level + 1)
    end = "" if indent is None else "\n" + indent * level
    if isinstance(v, dict):
        items = list(v.items())
        if rng is not None:
            rng.shuffle(items)
        if not items:
            return "{}"
        parts = [json.dumps(k) + ":" + sep + dump(x, indent, sep, rng, level + 1) for k, x in items]
        return "{" + nl + ("," + (nl or sep)).join(parts) + end + "}"
    if isinstance(v, list):
        if not v:
            return "[]"
        parts = [dump(x, indent, sep, rng, level + 1) for x in v]
        return "[" + nl + ("," + (nl or sep)).join(parts) + end + "]"
    if isinstance(v, Decimal):
        return str(v)
    return json.dumps(v, ensure_ascii=rng is not None and rng.random() < 0.3)


def write_json(fix: Fix, docs: list[Any], rng: random.Random, newline: str = "\n") -> bytes:
    """The documents written again in the fixture's syntax, whitespace and key order varied."""
    indent = rng.choice([None, "  ", "    ", "\t", ""])
    sep = rng.choice([" ", "", "  "])
    shuffle = rng if rng.random() < 0.5 else None
    if fix.syntax == "jsonl":
        text = "".join(dump(d, None, sep, shuffle) + newline for d in docs)
    elif fix.syntax == "helicone_json":  # the CLI's own layout: "[\n" + record + ",\n" … "]\n"
        (records,) = docs
        text = "[" + newline
        text += "".join(dump(r, "  ", " ", shuffle) + "," + newline for r in records)
        text += "]" + newline
    else:
        (doc,) = docs
        text = dump(doc, indent, sep, shuffle).replace("\n", newline) + newline
    return text.encode()


def write_csv(
    fix: Fix,
    header: list[str],
    recs: list[dict[str, str]],
    rng: random.Random,
    *,
    newline: str | None = None,
    bom: bool | None = None,
    encoding: str | None = None,
) -> bytes:
    out = io.StringIO()
    quoting = rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
    w = csv.writer(
        out,
        delimiter=fix.delimiter,
        quoting=quoting,
        lineterminator=newline or ("\r\n" if fix.crlf else "\n"),
    )
    w.writerow(header)
    for r in recs:
        w.writerow([r[h] for h in header])
    text = out.getvalue()
    if bom if bom is not None else fix.bom:
        text = "\ufeff" + text
    return text.encode(encoding or fix.encoding)


# -- mutations ------------------------------------------------------------------------------
@dataclass
class Variant:
    op: str
    data: bytes
    keeps_meaning: bool  # must import, with the reference's totals


def _units(fix: Fix, docs: list[Any]) -> list[tuple[list[Any], int]]:
    """Where whole records live: (list, index) pairs that may be dropped or duplicated."""
    spots: list[tuple[list[Any], int]] = []

    def walk(v: Any, depth: int) -> None:
        if isinstance(v, list) and depth > 0 and v and all(isinstance(x, dict) for x in v):
            spots.extend((v, i) for i in range(len(v)))
        if isinstance(v, dict):
            for k, x in v.items():
                if k in ("data", "results", "dalle_api_data", "whisper_api_data", "buckets"):
                    walk(x, depth + 1)
        elif isinstance(v, list):
            for x in v:
                walk(x, depth + 1)

    for d in docs:
        if isinstance(d, list):
            spots.extend((d, i) for i in range(len(d)))
            for x in d:
                walk(x, 1)
        else:
            walk(d, 0)
    if fix.syntax == "jsonl":
        spots.extend((docs, i) for i in range(len(docs)))
    return spots


BAD_NUMBERS = ["abc", "-1", "-0.5", "12.5", "NaN", "Infinity", "1e400", "-1e400", "1e30",
               "99999999999999999999999", "1" + "0" * 40, "0x10", "1_000", "true", "", "null",
               "-7", "3.00000000000000000001"]  # fmt: skip


def meaning_kept(
    fix: Fix, rng: random.Random, docs: list[Any], header: list[str] | None
) -> Variant:
    """A variant with the same meaning as the fixture, or one the reference can total."""
    ops = ["rewrite", "newlines", "bom", "drop", "duplicate", "reorder"]
    if fix.syntax in ("csv", "jsonl"):
        ops += ["cut_at_line", "blank_lines"]
    if fix.syntax == "csv":
        ops += ["columns", "latin1"]
    op = rng.choice(ops)
    newline = rng.choice(["\n", "\r\n"])
    if fix.syntax == "csv":
        assert header is not None
        recs = [dict(r) for r in docs]
        hdr = list(header)
        kw: dict[str, Any] = {}
        if op == "newlines":
            kw["newline"] = newline
        elif op == "bom":
            kw["bom"] = not fix.bom
        elif op == "drop" and len(recs) > 1:
            del recs[rng.randrange(len(recs))]
        elif op == "duplicate":
            recs.insert(rng.randrange(len(recs) + 1), rng.choice(recs))
        elif op == "reorder":
            rng.shuffle(recs)
        elif op == "cut_at_line":
            recs = recs[: rng.randint(1, len(recs))]
        elif op == "columns":
            rng.shuffle(hdr)
        elif op == "latin1":
            try:
                "".join([*hdr, *(v for r in recs for v in r.values())]).encode("latin-1")
                kw["encoding"] = "latin-1"
                kw["bom"] = False
            except UnicodeEncodeError:  # ’ has no Latin-1 byte: written as UTF-8
                op = "rewrite"
        data = write_csv(fix, hdr, recs, rng, **kw)
        if op == "blank_lines":
            lines = data.split(b"\n")
            lines.insert(rng.randrange(1, len(lines)), b"\r" if fix.crlf else b"")
            data = b"\n".join(lines)
        if op == "latin1" and not any(ord(c) > 127 for c in data.decode("latin-1")):
            op += " (ascii)"
        return Variant(op, data, True)
    docs = copy.deepcopy(docs)
    if op in ("drop", "duplicate", "reorder"):
        spots = _units(fix, docs)
        if spots:
            lst, i = rng.choice(spots)
            if op == "drop":
                del lst[i]
            elif op == "duplicate":
                lst.insert(rng.randrange(len(lst) + 1), copy.deepcopy(lst[i]))
            else:
                rng.shuffle(lst)
    if op == "cut_at_line":
        docs = docs[: rng.randint(1, len(docs))]
    data = write_json(fix, docs, rng, newline if op == "newlines" else "\n")
    if op == "bom":
        data = b"\xef\xbb\xbf" + data
    if op == "blank_lines":
        lines = data.split(b"\n")
        lines.insert(rng.randrange(0, len(lines)), b"   ")
        data = b"\n".join(lines)
    return Variant(op, data, True)


def damaged(fix: Fix, rng: random.Random, raw: bytes) -> Variant:
    """A variant damaged at the byte or value level: refused, or imported as the reference
    reads it."""
    ops = ["truncate", "delete", "duplicate_chars", "swap", "flip", "drop_line", "dup_line",
           "junk_line", "bad_number", "nested_object", "bad_utf8", "utf16", "deep_nesting",
           "empty", "header_only"]  # fmt: skip
    op = rng.choice(ops)
    data = bytearray(raw)
    if op == "truncate":
        data = data[: rng.randrange(1, len(data))]
    elif op == "delete":
        at = rng.randrange(len(data))
        del data[at : at + rng.randint(1, 4)]
    elif op == "duplicate_chars":
        at = rng.randrange(len(data))
        data[at:at] = data[at : at + rng.randint(1, 4)]
    elif op == "swap":
        at = rng.randrange(len(data) - 1)
        data[at], data[at + 1] = data[at + 1], data[at]
    elif op == "flip":
        at = rng.randrange(len(data))
        data[at] ^= 1 << rng.randrange(8)
    elif op in ("drop_line", "dup_line", "junk_line"):
        lines = bytes(data).split(b"\n")
        at = rng.randrange(len(lines))
        if op == "drop_line":
            del lines[at]
        elif op == "dup_line":
            lines.insert(at, lines[at])
        else:
            junk = rng.choice([b"garbage", b"{", b"]", b",,,,", b'"', b"null", b"#!junk;;",
                               b'{"a": 1}', b"\x00\x01", b"Total;;;", b"1,2,3"])  # fmt: skip
            lines.insert(at, junk)
        data = bytearray(b"\n".join(lines))
    elif op == "bad_number":
        data = bytearray(_replace_number(fix, bytes(data), rng))
    elif op == "nested_object":
        data = bytearray(_replace_string(fix, bytes(data), rng))
    elif op == "bad_utf8":
        at = rng.randrange(len(data) + 1)
        data[at:at] = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\xe2\x82"])
    elif op == "utf16":
        data = bytearray(raw.decode("utf-8-sig").encode(rng.choice(["utf-16", "utf-16-le"])))
    elif op == "deep_nesting":
        depth = rng.choice([50, 1000, 20000])
        text = raw.decode("utf-8-sig")
        nums = [i for i, c in enumerate(text) if c.isdigit() and not text[i - 1].isalnum()]
        at = rng.choice(nums) if nums else 0
        data = bytearray((text[:at] + "[" * depth + "1" + "]" * depth + text[at + 1 :]).encode())
    elif op == "empty":
        data = bytearray(rng.choice([b"", b"\n", b"\xef\xbb\xbf", b"   \r\n", b"[]", b"{}"]))
    elif op == "header_only":
        first = raw.split(b"\n", 1)[0] + b"\n"
        data = bytearray(first if fix.syntax == "csv" else rng.choice([b"[]\n", b'{"data": []}']))
    return Variant(op, bytes(data), False)


_NUMBER = "0123456789"


def _replace_number(fix: Fix, raw: bytes, rng: random.Random) -> bytes:
    """One number of the file (a JSON number, or a CSV cell of digits) replaced by a bad one."""
    text = raw.decode("utf-8-sig") if fix.encoding == "utf-8" else raw.decode(fix.encoding)
    spans = []
    i = 0
    while i < len(text):
        if text[i] in _NUMBER and (i == 0 or text[i - 1] in ':,;[ "\n\u00a0'):
            j = i
            while j < len(text) and (text[j] in _NUMBER + ".eE-+" or text[j] in "\u00a0,"[:1]):
                j += 1
            spans.append((i, j))
            i = j
        i += 1
    if not spans:
        return raw
    a, b = rng.choice(spans)
    bad = rng.choice(BAD_NUMBERS)
    if fix.syntax != "csv" and bad in ("abc", "", "0x10", "1_000") and rng.random() < 0.7:
        bad = json.dumps(bad)
    return (text[:a] + bad + text[b:]).encode(fix.encoding)


def _replace_string(fix: Fix, raw: bytes, rng: random.Random) -> bytes:
    """One string value replaced by a nested object (JSON) or a cell holding one (CSV)."""
    text = raw.decode("utf-8-sig") if fix.encoding == "utf-8" else raw.decode(fix.encoding)
    nested = rng.choice(['{"a": {"b": [1, 2, {"c": "d"}]}}', '[{"x": 1}]', '{"value": 12}'])
    if fix.syntax == "csv":
        lines = text.split("\n")
        at = rng.randrange(1, len(lines)) if len(lines) > 1 else 0
        cells = lines[at].split(fix.delimiter)
        k = rng.randrange(len(cells))
        cells[k] = '"' + nested.replace('"', '""') + '"'
        lines[at] = fix.delimiter.join(cells)
        return "\n".join(lines).encode(fix.encoding)
    spans = [
        (m, text.index('"', m + 1))
        for m in range(len(text))
        if text[m] == '"' and text[m - 1] in " :"
    ]
    spans = [(a, b) for a, b in spans if text[b + 1 : b + 2] in (",", "}", "\n", "]")]
    if not spans:
        return raw
    a, b = rng.choice(spans)
    return (text[:a] + nested + text[b + 1 :]).encode()


# -- the run --------------------------------------------------------------------------------
def imported_totals(store: Store, grain: str, import_id: int) -> Totals:
    if grain == "request":
        sql = """SELECT count(*), sum(input_tokens), sum(cached_input_tokens),
                 sum(output_tokens), count(*), sum(cost_usd)
                 FROM request_events WHERE import_id = ?"""
    elif grain == "usage":
        sql = """SELECT count(*), sum(input_tokens), sum(cached_input_tokens),
                 sum(output_tokens), sum(requests), sum(cost_usd)
                 FROM usage_buckets WHERE import_id = ?"""
    else:
        sql = "SELECT count(*), 0, 0, 0, 0, sum(amount) FROM cost_items WHERE import_id = ?"
    n, i, c, o, r, m = store.query(sql, [import_id])[0]
    return Totals(n, int(i or 0), int(c or 0), int(o or 0), int(r or 0), D(m or 0).normalize())


def _tolerance(grain: str, rows: int) -> Decimal:
    """Amounts are rounded where they are stored: request costs at 10 decimals (``money18``),
    buckets and cost lines at 20 (``MONEY_SCALE``); at most one unit of the last decimal each."""
    return D(rows) * (D("1e-10") if grain == "request" else D("1e-20"))


def fingerprint(store: Store) -> list[tuple]:
    """Every table's row count and a hash of all its columns (the ledger: its successful
    imports only, since a refused file is recorded as a failed one), in one query."""
    tables = [
        t
        for (t,) in store.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE' ORDER BY 1"
        )
    ]
    parts = [
        f"SELECT '{t}', count(*), sum(hash(t)) FROM \"{t}\" t"
        if t != "imports"
        else "SELECT 'imports', count(*) FILTER (WHERE status = 'ok'), NULL FROM imports"
        for t in tables
    ]
    return sorted(store.query(" UNION ALL ".join(parts)))


@pytest.mark.parametrize("fix", FIXES, ids=[f.name for f in FIXES])
def test_reference_reads_each_fixture_as_worked_out_by_hand(fix: Fix):
    assert reference(fix, (FIXTURES / fix.name).read_bytes()) == HAND_TOTALS[fix.name]


def test_fuzzed_fixtures_are_refused_cleanly_or_imported_exactly(tmp_path: Path):
    t0, cpu0 = time.perf_counter(), time.process_time()
    rng = random.Random(SEED)
    failures: list[str] = []
    outcomes: dict[str, int] = {}
    keep = tmp_path / "fuzz_failures"
    keep.mkdir()
    n = 0
    for fix in FIXES:
        raw = (FIXTURES / fix.name).read_bytes()
        docs, header = parse(fix, raw)
        with Store(str(tmp_path / f"{fix.name}.duckdb")) as store:
            before = fingerprint(store)
            for k in range(PER_FIXTURE):
                n += 1
                variant = (
                    meaning_kept(fix, rng, docs, header) if k % 3 == 0 else damaged(fix, rng, raw)
                )
                if ONLY and n != ONLY:
                    continue
                display = f"v{n:04d}_{fix.name}"
                path = tmp_path / display
                path.write_bytes(variant.data)
                what = (
                    f"seed {SEED}, variant {n} ({fix.name}, {variant.op}, "
                    f"{len(variant.data)} bytes)"
                )
                problem = _check(store, fix, header, variant, str(path), display, before)
                if ONLY:
                    print(f"{what}: {problem or 'imported exactly'}\n{variant.data!r}")
                outcome = (
                    "refused" if problem == "refused" else "imported" if not problem else "FAIL"
                )
                outcomes[f"{outcome} {'kept' if variant.keeps_meaning else 'damaged'}"] = (
                    outcomes.get(f"{outcome} {'kept' if variant.keeps_meaning else 'damaged'}", 0)
                    + 1
                )
                if problem and problem != "refused":
                    failures.append(f"{what}: {problem}")
                    (keep / display).write_bytes(variant.data)
                    before = fingerprint(store)
                path.unlink()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"{n} variants in {elapsed:.1f} s ({cpu:.1f} s of CPU): {outcomes}")
    if ONLY:
        return
    assert n >= 1000
    assert not failures, f"{len(failures)} of {n} variants failed:\n" + "\n".join(failures[:40])
    assert outcomes.get("imported kept", 0) >= PER_FIXTURE // 3 * len(FIXES) * 0.99
    assert outcomes.get("refused damaged", 0) > 300, outcomes
    assert cpu < CPU_LIMIT_S, f"{cpu:.1f} s of CPU ({elapsed:.1f} s of wall)"


def _check(
    store: Store,
    fix: Fix,
    header: list[str] | None,
    variant: Variant,
    path: str,
    display: str,
    before: dict,
) -> str | None:
    """None (imported exactly, or a CSV whose header was damaged imported without a crash),
    'refused' (cleanly), or what went wrong."""
    try:
        unsure = fix.syntax == "csv" and parse(fix, variant.data)[1] != header
    except RefReject:
        unsure = False
    try:
        expected: Totals | None = reference(fix, variant.data)
        why = ""
    except RefReject as err:
        expected, why = None, str(err)
    except RefUnsure:
        expected, why, unsure = None, "", True
    try:
        result = import_file(store, path, display=display)
    except InputError as err:
        if fingerprint(store) != before:
            return f"refused ({err}) but the database changed"
        if err.file != display or not str(err).startswith(display):
            return f"the message does not name the file: {err}"
        if variant.keeps_meaning:
            return f"refused a variant that keeps the meaning: {err}"
        return "refused"
    except TokenboardError as err:
        return f"{type(err).__name__}: {err}"
    except Exception as err:
        return f"escaped {type(err).__name__}: {err}"
    got = imported_totals(store, result.grain, result.import_id)
    undo_import(store, result.import_id)
    after = fingerprint(store)
    if after != before:
        return "undoing the import did not give the database back as it was"
    if result.grain != fix.grain and not unsure:
        return f"imported as {result.grain}, expected {fix.grain}"
    if unsure and not variant.keeps_meaning:
        return None  # the reference cannot tell what the variant means
    if expected is None:
        return f"imported {got} but the reference refuses it ({why})"
    if not got.close_to(expected, _tolerance(fix.grain, expected.rows)):
        return f"imported {got}, the reference reads {expected}"
    return None
