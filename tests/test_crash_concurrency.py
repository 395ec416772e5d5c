"""A crash mid-import loses nothing; readers during an import never see half of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest

from lib.demo import request_log_sql
from lib.ingest import import_file
from lib.store import Store
from lib.summary import totals
from tests.conftest import ROOT, fixture


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> str:
    """About 600k synthetic requests (≈ 75 MB): long enough to interrupt."""
    path = str(tmp_path_factory.mktemp("big") / "requests.csv")
    with Store(":memory:") as s, s.read() as cur:
        sql = request_log_sql(600_000, 30, datetime(2026, 6, 1, tzinfo=UTC))
        cur.execute(f"COPY ({sql}) TO '{path}' (HEADER)")
    return path


@pytest.mark.slow
def test_sigkill_in_the_middle_of_an_import(tmp_path, big_csv):
    db = str(tmp_path / "crash.duckdb")
    with Store(db) as s:
        import_file(s, fixture("litellm_spend_logs.csv"))
        before = totals(s).as_json()
    child = subprocess.Popen(
        [sys.executable, "-m", "lib.cli", "import", big_csv, "--db", db],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = child.stderr.readline()
    assert "recognised; importing" in line
    time.sleep(0.8)  # the insert is running now
    assert child.poll() is None, "the import finished before it could be interrupted"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with Store(db) as s:
        assert totals(s).as_json() == before
        assert s.scalar("SELECT count(*) FROM imports WHERE status = 'ok'") == 1
        # and the database still takes imports
        r = import_file(s, fixture("generic_requests.jsonl"))
        assert r.rows_new == 2


@pytest.mark.slow
def test_readers_see_before_or_after_never_in_between(tmp_path, big_csv):
    with Store(str(tmp_path / "conc.duckdb")) as s:
        import_file(s, fixture("helicone_export.csv"))
        before = totals(s).as_json()
        seen: list[dict] = []
        errors: list[BaseException] = []
        done = threading.Event()

        def reader() -> None:
            try:
                while not done.is_set():
                    seen.append(totals(s).as_json())
            except BaseException as err:  # reported by the main thread
                errors.append(err)

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        import_file(s, big_csv)
        after = totals(s).as_json()
        time.sleep(0.2)
        done.set()
        for t in threads:
            t.join()
        assert not errors
        assert len(seen) > 3
        assert before in seen
        assert all(v in (before, after) for v in seen)
        assert after["rows"] > before["rows"]
