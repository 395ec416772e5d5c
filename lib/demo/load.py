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
from lib.store import Store


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
    sql = request_log_sql(total, days, end)
    results: list[ImportResult] = []
    with tempfile.TemporaryDirectory(prefix="tokenboard-demo-") as tmp:
        with store.read() as cur:
            say(ProgressLine("demo_generating", n=total, days=days))
            logs = litellm_files(cur, total, days, end)
        for name, spans in logs:  # written, imported and removed one at a time (disk: one file)
            path = os.path.join(tmp, name)
            with store.read() as cur:
                write_litellm_file(cur, total, days, end, path, spans)
            results.append(import_file(store, path, origin="demo", progress=say))
            os.remove(path)
        with store.read() as cur:
            # a streaming aggregate (a few thousand groups): no sort of the rows themselves
            daily = cur.execute(
                f"""SELECT provider, CAST(epoch_ms("timestamp") // 86400000 * 86400 AS BIGINT) AS day,
                           model, project, api_key,
                           count(*) AS requests, sum(input_tokens), sum(cached_input_tokens),
                           sum(output_tokens)
                    FROM ({sql}) GROUP BY ALL ORDER BY 1, 2, 3, 4, 5"""
            ).fetchall()
        for path in usage_and_cost_files(tmp, daily):
            results.append(import_file(store, path, origin="demo", progress=say))
    return results
