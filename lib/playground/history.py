"""Every playground run: stored with who, when, what and how it went, and counted in usage.

A run is one row of ``playground_runs`` (the prompt and answer text only when the user opts
in) and one request event of source "playground" (project "playground", the user as user id),
rolled up like an imported request log, so it shows on the Usage and Costs pages. The events
of all runs belong to one ledger entry, "Playground runs"; undoing it removes them from usage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd

from lib.llm.chat import ChatRequest, ChatResult
from lib.store import Cursor, Store, rollups

SOURCE = "playground"
PROVIDER_NAME = {"openai": "openai", "anthropic": "anthropic", "compatible": "openai-compatible"}


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    cost_usd: Decimal | None


def _ledger(cur: Cursor, now: datetime) -> int:
    row = cur.execute(
        "SELECT import_id FROM imports WHERE source = ? AND status = 'ok' ORDER BY import_id LIMIT 1",
        [SOURCE],
    ).fetchone()
    if row:
        return int(row[0])
    iid = cur.execute("SELECT nextval('import_id_seq')").fetchone()[0]
    cur.execute(
        """INSERT INTO imports (import_id, file_name, format, source, grain, rows_read, rows_new, rows_duplicate,
                                rows_replaced, period_start, period_end, started_at, finished_at, status)
           VALUES (?, 'Playground runs', 'playground', ?, 'request', 0, 0, 0, 0, ?, ?, ?, ?, 'ok')""",
        [iid, SOURCE, now, now, now, now],
    )
    return int(iid)


def record_run(
    store: Store,
    username: str,
    req: ChatRequest,
    result: ChatResult,
    cost: Decimal | None,
    keep_text: bool,
) -> RunRecord:
    """Store one run and count it in usage, in one transaction."""
    now = datetime.now(UTC)
    u, err = result.usage, result.error
    prompt = (
        "\n\n".join(m["content"] for m in req.messages if m["role"] == "user")[-20000:]
        if keep_text
        else None
    )
    with store.write() as cur:
        run_id = int(cur.execute("SELECT nextval('run_id_seq')").fetchone()[0])
        cur.execute(
            "INSERT INTO playground_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, now, username, req.provider, req.model, json.dumps(req.params, sort_keys=True), result.status,
             u.prompt_tokens, u.cached_tokens, u.completion_tokens, u.reasoning_tokens,
             None if result.ttft_s is None else round(result.ttft_s * 1000),
             None if result.total_s is None else round(result.total_s * 1000), cost,
             err.status if err else None, err.advice.title if err else None, prompt,
             result.text if keep_text else None],
        )  # fmt: skip
        iid = _ledger(cur, now)
        key = int(cur.execute("SELECT hash(?, ?)", [SOURCE, run_id]).fetchone()[0])
        cur.execute(
            """INSERT INTO request_events (import_id, source, event_key, ts, request_id, provider, model, project,
                   api_key, user_id, status, http_status, error_code, error_type, error_message, latency_ms,
                   input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
                   cost_usd, batch)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'playground', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false)""",
            [iid, SOURCE, key, now, f"playground-{run_id}", PROVIDER_NAME.get(req.provider, req.provider),
             result.model or req.model, username, "error" if result.status == "error" else "success",
             err.status if err else None, None, err.advice.kind if err else None, err.advice.title if err else None,
             None if result.total_s is None else round(result.total_s * 1000), u.prompt_tokens or 0,
             u.cached_tokens or 0, u.cache_write_tokens or 0, u.completion_tokens or 0, u.reasoning_tokens or 0,
             cost],
        )  # fmt: skip
        rollups.add_request_events(cur, iid, SOURCE, "import_id = ? AND event_key = ?", [iid, key])
        cur.execute(
            """UPDATE imports SET rows_read = rows_read + 1, rows_new = rows_new + 1, finished_at = ?,
                      period_end = greatest(period_end, ?) WHERE import_id = ?""",
            [now, now, iid],
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
