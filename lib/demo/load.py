"""Load the demo: generate the traffic, write it as each source's files, import them (origin
``demo``) through the import engine like any file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime

from lib.demo.exports import litellm_files, usage_and_cost_files, write_litellm_file
from lib.demo.traffic import REQUESTS_PER_SCALE, request_log_sql
from lib.ingest import ImportResult, import_file
from lib.ingest.progress import ProgressLine, quiet
from lib.store import Cursor, Store


def _daily(
    cur: Cursor, total: int, days: int, end: datetime, spans: list[tuple[int, int, int]]
) -> list[tuple]:
    """The traffic of the UTC days ``spans`` (see ``utc_days``) per provider, day (Unix
    seconds), model, project and key: requests, input, cached input and output tokens. One
    day at a time: the generator's joins hold the rows they read (over the whole log at
    100M requests, that spilled gigabytes and went past the memory limit)."""
    rows: list[tuple] = []
    for h0, h1, _ in spans:
        sql = request_log_sql(total, days, end, hours=(h0, h1))
        rows += cur.execute(
            f"""SELECT provider, CAST(epoch_ms("timestamp") // 86400000 * 86400 AS BIGINT) AS day,
                       model, project, api_key,
                       count(*) AS requests, sum(input_tokens), sum(cached_input_tokens),
                       sum(output_tokens)
                FROM ({sql}) GROUP BY ALL"""
        ).fetchall()
    return rows


def load_demo(
    store: Store,
    *,
    days: int = 90,
    scale: float = 1.0,
    end: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[ImportResult]:
    """Generate demo files for ``days`` days ending now (or ``end``) and import them: the
    request log in time order (several files of whole days above ``FILE_ROWS`` rows), then
    the usage and cost reports. Memory stays within the store's limit at any ``scale``."""
    say = progress or quiet
    end = (end or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    total = max(100, int(REQUESTS_PER_SCALE * scale * days / 90))
    results: list[ImportResult] = []
    with tempfile.TemporaryDirectory(prefix="tokenboard-demo-") as tmp:
        with store.read() as cur:
            say(ProgressLine("demo_generating", n=total, days=days))
            logs = litellm_files(cur, total, days, end)
        daily: list[tuple] = []
        for name, spans in logs:  # written, imported and removed one at a time (disk: one file)
            path = os.path.join(tmp, name)
            with store.read() as cur:
                write_litellm_file(cur, total, days, end, path, spans)
                daily += _daily(cur, total, days, end, spans)
            results.append(import_file(store, path, origin="demo", progress=say))
            os.remove(path)
        daily.sort()  # by provider, day, model, project, key (each once)
        for path in usage_and_cost_files(tmp, daily):
            results.append(import_file(store, path, origin="demo", progress=say))
    return results
