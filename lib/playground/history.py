"""Every playground run: stored with who, when, what and how it went, and counted in usage.

A run is one import of one request event (origin ``playground``, source "playground",
project "playground", the user as user id, request id ``playground-<run id>``) through the
import engine, like any request log: the same duplicate rules, rollups and ledger, so it shows
on the Usage and Costs pages and its ledger entry can be undone on its own. Its row of
``playground_runs`` (the prompt and answer text only when the user opts in) is written in the
same transaction, so a run is kept exactly when it is counted. Runs recorded before each had
an import of their own share one ledger entry, "Playground runs".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from lib.ingest import import_records
from lib.store import Cursor, Store

if TYPE_CHECKING:
    from lib.llm.chat import ChatRequest, ChatResult

SOURCE = "playground"
PROVIDER_NAME = {"openai": "openai", "anthropic": "anthropic", "compatible": "openai-compatible"}
_COST_STEP = Decimal("1e-10")  # request_events.cost_usd and playground_runs.cost_usd: 10 decimals


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    cost_usd: Decimal | None


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def _event(run_id: int, now: datetime, username: str, req: ChatRequest, result: ChatResult,
           cost: Decimal | None) -> dict[str, Any]:  # fmt: skip
    """The run as one canonical request row (``lib.importers.canonical.REQUEST_COLUMNS``)."""
    u, err = result.usage, result.error
    return {
        "ts": now,
        "request_id": f"playground-{run_id}",
        "provider": PROVIDER_NAME.get(req.provider, req.provider),
        "model": result.model or req.model,
        "project": "playground",
        "api_key": None,
        "user_id": username,
        "status": "error" if result.status == "error" else "success",
        "http_status": err.status if err else None,
        "error_code": None,
        "error_type": err.advice.kind if err else None,
        "error_message": err.advice.title if err else None,
        "latency_ms": _ms(result.total_s),
        "input_tokens": u.prompt_tokens or 0,
        "cached_input_tokens": u.cached_tokens or 0,
        "cache_write_tokens": u.cache_write_tokens or 0,
        "output_tokens": u.completion_tokens or 0,
        "reasoning_tokens": u.reasoning_tokens or 0,
        "client_ip": None,
        "origin": None,
        "cost_usd": cost,
        "batch": False,
        "retry_after_ms": _ms(err.retry_after) if err else None,
    }


def record_run(
    store: Store,
    username: str,
    req: ChatRequest,
    result: ChatResult,
    cost: Decimal | None,
    keep_text: bool,
    *,
    role: str | None = "admin",
) -> RunRecord:
    """Store one run and count it in usage, in one transaction, on behalf of a user whose
    ``role`` may use the playground. ``cost`` is in US dollars (None when unknown), kept to
    10 decimals (half away from zero, as the database rounds)."""
    now = datetime.now(UTC)
    u, err = result.usage, result.error
    if cost is not None:
        cost = cost.quantize(_COST_STEP, ROUND_HALF_UP)
    prompt = (
        "\n\n".join(m["content"] for m in req.messages if m["role"] == "user")[-20000:]
        if keep_text
        else None
    )
    with store.write() as cur:  # the run's id first: its request id names it
        run_id = int(cur.execute("SELECT nextval('run_id_seq')").scalar())

    def keep_run(cur: Cursor, _import_id: int) -> None:
        cur.execute(
            "INSERT INTO playground_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, now, username, req.provider, req.model, json.dumps(req.params, sort_keys=True), result.status,
             u.prompt_tokens, u.cached_tokens, u.completion_tokens, u.reasoning_tokens,
             _ms(result.ttft_s), _ms(result.total_s), cost,
             err.status if err else None, err.advice.title if err else None, prompt,
             result.text if keep_text else None],
        )  # fmt: skip

    import_records(
        store,
        [_event(run_id, now, username, req, result, cost)],
        fmt="playground",
        grain="request",
        source=SOURCE,
        display=f"Playground run #{run_id}",
        origin="playground",
        role=role,
        permission="playground",
        within=keep_run,
    )
    return RunRecord(run_id, cost)


def recent_runs(store: Store, username: str | None = None, limit: int = 50) -> pd.DataFrame:
    """The newest runs (of one user, or everyone's), newest first."""
    where, params = ("WHERE username = ?", [username]) if username else ("", [])
    with store.read() as cur:
        return cur.df(
            f"""SELECT run_id, ran_at, username, provider, model, status, prompt_tokens, cached_tokens,
                       completion_tokens, reasoning_tokens, ttft_ms, total_ms, cost_usd, error_title,
                       prompt_text, answer_text, params
                FROM playground_runs {where} ORDER BY run_id DESC LIMIT ?""",
            [*params, limit],
        )
